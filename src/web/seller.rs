//! The seller's page (`/invoices/seller`, administrators): the details
//! and numbering printed on invoices, the paper, and the logo (uploaded as
//! a multipart form whose first part is the CSRF token, see
//! `auth::csrf`). The actions are `billing::seller`'s functions.

use askama::Template;
use axum::{
    extract::{Multipart, State, multipart::MultipartError},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    auth::AdminUser,
    billing::seller::{self, MAX_LOGO_BYTES, SellerInput},
    db,
    domain::ValidationError,
    error::AppError,
    http::extract::Form,
    state::AppState,
    tracking::Actor,
    web::{
        FieldErrors, Layout,
        flash::{self, Flash},
        render,
    },
};

/// The largest upload the logo form reads (a photo straight from a camera
/// is refused with a message beside the field, not a bare 413).
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

#[derive(Template)]
#[template(path = "seller.html")]
struct SellerPage {
    layout: Layout,
    form: SellerInput,
    /// The current logo's size in pixels, if there is one.
    logo: Option<(i32, i32)>,
    /// Bumped with the logo, so the browser shows the new one.
    logo_id: i64,
    max_logo_kib: usize,
    errors: FieldErrors,
}

async fn page(
    state: &AppState,
    admin: &AdminUser,
    notice: Option<String>,
    form: Option<SellerInput>,
    errors: Vec<ValidationError>,
) -> Result<Response, AppError> {
    let s = db::invoices::seller(&mut *state.pool.acquire().await?).await?;
    let logo = db::invoices::current_logo_size(&state.pool).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = SellerPage {
        layout: Layout::for_user("Seller", &admin.0).with_notice(notice),
        form: form.unwrap_or(SellerInput {
            seller_name: s.seller_name,
            seller_address: s.seller_address,
            seller_tax_id: s.seller_tax_id,
            seller_bank: s.seller_bank,
            invoice_number_pattern: s.invoice_number_pattern,
            invoice_paper: s.invoice_paper,
        }),
        logo: logo.map(|l| (l.width, l.height)),
        logo_id: logo.map_or(0, |l| l.id),
        max_logo_kib: MAX_LOGO_BYTES / 1024,
        errors: errors.into(),
    };
    Ok((status, render(&page)?).into_response())
}

/// `GET /invoices/seller`.
pub async fn form(
    State(state): State<AppState>,
    admin: AdminUser,
    Flash(notice): Flash,
) -> Result<Response, AppError> {
    page(&state, &admin, notice, None, Vec::new()).await
}

/// `POST /invoices/seller`.
pub async fn save(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<SellerInput>,
) -> Result<Response, AppError> {
    match seller::update(&state.pool, &Actor::from(&admin.0), &form).await {
        Ok(()) => Ok(flash::redirect(
            &state,
            "/invoices/seller",
            "Seller details saved.",
        )),
        Err(AppError::Validation(e)) => page(&state, &admin, None, Some(form), vec![e]).await,
        Err(e) => Err(e),
    }
}

/// `GET /invoices/seller/logo`: the current logo, as it was uploaded.
pub async fn logo(State(state): State<AppState>, _admin: AdminUser) -> Result<Response, AppError> {
    let (content_type, bytes) = db::invoices::current_logo(&state.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((
        [
            // One of pdf::IMAGE_TYPES, told by the file's first bytes.
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, no-cache".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /invoices/seller/logo` (multipart: `csrf_token`, then `logo`).
pub async fn upload_logo(
    State(state): State<AppState>,
    admin: AdminUser,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let file = match read_logo(&mut multipart).await {
        Ok(file) => file,
        Err(e) => return page(&state, &admin, None, None, vec![e]).await,
    };
    match seller::set_logo(&state.pool, &Actor::from(&admin.0), file).await {
        Ok(()) => Ok(flash::redirect(
            &state,
            "/invoices/seller",
            "Logo saved: invoices issued from now on print it.",
        )),
        Err(AppError::Validation(e)) => page(&state, &admin, None, None, vec![e]).await,
        Err(e) => Err(e),
    }
}

/// The `logo` part's bytes. Past [`MAX_LOGO_BYTES`] the rest is read and
/// dropped (so the browser gets the answer rather than a reset
/// connection) and the message says the file's size.
async fn read_logo(multipart: &mut Multipart) -> Result<Vec<u8>, ValidationError> {
    let too_large = || {
        ValidationError::new(
            "logo",
            format!(
                "The file is larger than {} MiB; a logo may have {} KiB.",
                MAX_UPLOAD_BYTES / (1024 * 1024),
                MAX_LOGO_BYTES / 1024
            ),
        )
    };
    let refused = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ValidationError::new("logo", "The upload could not be read; try again.")
        }
    };
    let mut kept = Vec::new();
    let mut size = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(refused)? {
        if field.name() != Some("logo") {
            continue;
        }
        while let Some(chunk) = field.chunk().await.map_err(refused)? {
            size += chunk.len();
            if size <= MAX_LOGO_BYTES {
                kept.extend_from_slice(&chunk);
            }
        }
    }
    if size > MAX_LOGO_BYTES {
        return Err(seller::logo_too_large(size));
    }
    Ok(kept)
}

/// `POST /invoices/seller/logo/remove`.
pub async fn remove_logo(
    State(state): State<AppState>,
    admin: AdminUser,
) -> Result<Response, AppError> {
    seller::remove_logo(&state.pool, &Actor::from(&admin.0)).await?;
    Ok(flash::redirect(
        &state,
        "/invoices/seller",
        "Logo removed: invoices issued from now on print none (issued ones keep theirs).",
    ))
}
