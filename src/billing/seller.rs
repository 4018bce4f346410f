//! The seller printed on invoices (administrators): the typed details, the
//! number pattern, the paper, and the logo. An issued invoice keeps the
//! seller it was issued with (a snapshot naming its logo's row), so changes
//! here reach only invoices issued after them.

use sqlx::PgPool;

use crate::{
    db::{self, invoices::Seller},
    domain::{Permission, ValidationError, invoice::NumberPattern, text},
    error::AppError,
    pdf::{self, Paper},
    tracking::Actor,
};

/// The largest logo file accepted, in bytes (the `seller_logos` check).
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

/// The seller's details as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SellerInput {
    pub seller_name: String,
    pub seller_address: String,
    pub seller_tax_id: String,
    pub seller_bank: String,
    pub invoice_number_pattern: String,
    pub invoice_paper: String,
}

/// Saves the seller's details, the number pattern and the paper.
pub async fn update(pool: &PgPool, actor: &Actor, input: &SellerInput) -> Result<(), AppError> {
    actor.require(Permission::Administer)?;
    let paper = Paper::parse(&input.invoice_paper)
        .ok_or_else(|| ValidationError::new("invoice_paper", "Choose A4 or US Letter."))?;
    let seller = Seller {
        seller_name: text::limited("seller_name", &input.seller_name, 200)?,
        seller_address: text::limited("seller_address", &input.seller_address, 1000)?,
        seller_tax_id: text::limited("seller_tax_id", &input.seller_tax_id, 100)?,
        seller_bank: text::limited("seller_bank", &input.seller_bank, 500)?,
        invoice_number_pattern: NumberPattern::parse(&input.invoice_number_pattern)?
            .as_str()
            .to_owned(),
        seller_logo_id: None, // not written here
        invoice_paper: paper.as_str().to_owned(),
    };
    db::invoices::update_seller(pool, &seller).await?;
    Ok(())
}

/// Makes an uploaded file the seller's logo: a PNG or JPEG of at most
/// [`MAX_LOGO_BYTES`] and [`pdf::MAX_IMAGE_SIDE`] pixels a side, read whole
/// before it is kept (so printing never meets a file it cannot read).
/// Errors are on the `logo` field.
pub async fn set_logo(pool: &PgPool, actor: &Actor, bytes: Vec<u8>) -> Result<(), AppError> {
    actor.require(Permission::Administer)?;
    if bytes.is_empty() {
        return Err(ValidationError::new("logo", "Choose an image file.").into());
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(logo_too_large(bytes.len()).into());
    }
    // Shared with the check, not copied.
    let bytes = std::sync::Arc::new(bytes);
    let file = krilla::Data::from(std::sync::Arc::clone(&bytes));
    let (kind, w, h) = tokio::task::spawn_blocking(move || pdf::check_image(file))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(|message| ValidationError::new("logo", message))?;
    let (w, h) = (i32::try_from(w), i32::try_from(h));
    let (Ok(w), Ok(h)) = (w, h) else {
        return Err(ValidationError::new("logo", "The image is too large.").into());
    };
    db::invoices::set_logo(pool, Some((kind, &bytes, w, h))).await?;
    Ok(())
}

/// The message for a logo file of `size` bytes, past [`MAX_LOGO_BYTES`].
pub fn logo_too_large(size: usize) -> ValidationError {
    ValidationError::new(
        "logo",
        format!(
            "The image is {} KiB; a logo may have at most {} KiB.",
            size.div_ceil(1024),
            MAX_LOGO_BYTES / 1024
        ),
    )
}

/// Takes the logo off invoices issued from now on.
pub async fn remove_logo(pool: &PgPool, actor: &Actor) -> Result<(), AppError> {
    actor.require(Permission::Administer)?;
    db::invoices::set_logo(pool, None).await?;
    Ok(())
}
