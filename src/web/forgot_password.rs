//! "Forgot your password?": a person asks for a link to set a new password
//! by mail. The answer is the same whether or not an account uses the
//! address, so the form cannot be used to find accounts; asking is limited
//! per address asked for and per client address. The message itself is a
//! job on the `mail` queue, enqueued in the request's transaction; the
//! worker makes the one-time link when it sends. Without mail configured
//! the page says so and sends people to their administrator.

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::Deserialize;

use super::{FieldErrors, Layout, flash, page_with_cookie, render};
use crate::{
    auth::{csrf, throttle},
    db,
    domain::Email,
    error::AppError,
    http::extract::{ClientAddr, Form},
    jobs::{self, MailMessage, SendMail},
    mail::RESET_LINK_MINUTES,
    state::AppState,
};

/// At most this many accounts sharing one address get a message.
const ACCOUNTS_PER_ADDRESS: i64 = 5;

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPage {
    layout: Layout,
    mail_configured: bool,
    email: String,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ForgotForm {
    email: String,
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: String,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let (csrf, cookie) = csrf::ensure_token(state, headers);
    let page = ForgotPage {
        layout: Layout::anonymous("Forgot your password?", csrf),
        mail_configured: state.config.mail.smtp.is_some(),
        email,
        errors,
    };
    Ok(page_with_cookie(status, render(&page)?, cookie))
}

pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    page(
        &state,
        &headers,
        StatusCode::OK,
        String::new(),
        FieldErrors::default(),
    )
}

pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Result<Response, AppError> {
    if state.config.mail.smtp.is_none() {
        return page(
            &state,
            &headers,
            StatusCode::CONFLICT,
            form.email,
            FieldErrors::default(),
        );
    }
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(e) => {
            return page(
                &state,
                &headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                form.email,
                vec![e].into(),
            );
        }
    };
    throttle::count_reset_request(&state, email.as_str(), address).await?;
    let mut tx = state.pool.begin().await?;
    let users =
        db::users::active_ids_with_email(&mut tx, email.as_str(), ACCOUNTS_PER_ADDRESS).await?;
    for user_id in &users {
        jobs::enqueue(
            &mut tx,
            &SendMail {
                message: MailMessage::PasswordReset { user_id: *user_id },
            },
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(accounts = users.len(), "password link asked for by mail");
    Ok(flash::redirect(
        &state,
        "/login",
        &format!(
            "If an account uses that address, a link to set a new password is on its way. It works for {RESET_LINK_MINUTES} minutes."
        ),
    ))
}
