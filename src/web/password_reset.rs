//! Setting a new password with a one-time link an administrator made
//! (`/reset-password?token=…`). The link works once and for a day; using it
//! ends every session of the account. The token travels only in this URL and
//! the form; the database keeps its SHA-256.

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::Deserialize;

use super::{FieldErrors, Layout, LinkToken, flash, page_with_cookie, render};
use crate::{
    auth::{csrf, keys::sha256, password},
    db,
    domain::{Password, ValidationError},
    error::AppError,
    http::extract::{Form, Query},
    state::AppState,
};

#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPage {
    layout: Layout,
    token: String,
    username: Option<String>,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetForm {
    token: String,
    password: String,
    password_confirm: String,
}

async fn respond(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    token: String,
    errors: Vec<ValidationError>,
) -> Result<Response, AppError> {
    let username =
        db::users::password_reset_user(&mut *state.pool.acquire().await?, &sha256(&token))
            .await?
            .map(|u| u.username);
    let (csrf, cookie) = csrf::ensure_token(state, headers);
    // An unknown, used or expired link is answered alike.
    let status = if username.is_none() {
        StatusCode::NOT_FOUND
    } else {
        status
    };
    let page = ResetPage {
        layout: Layout::anonymous("Set a new password", csrf),
        token: if username.is_some() {
            token
        } else {
            String::new()
        },
        username,
        errors: errors.into(),
    };
    Ok(page_with_cookie(status, render(&page)?, cookie))
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LinkToken>,
) -> Result<Response, AppError> {
    respond(&state, &headers, StatusCode::OK, q.token, Vec::new()).await
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Result<Response, AppError> {
    let new_password = match Password::parse_new(&form.password, &form.password_confirm) {
        Ok(p) => p,
        Err(e) => {
            return respond(
                &state,
                &headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                form.token,
                vec![e],
            )
            .await;
        }
    };
    let hash = password::hash(&new_password).await?;
    let token_hash = sha256(&form.token);
    let mut tx = state.pool.begin().await?;
    let Some(user) = db::users::password_reset_user(&mut tx, &token_hash).await? else {
        return respond(
            &state,
            &headers,
            StatusCode::NOT_FOUND,
            String::new(),
            Vec::new(),
        )
        .await;
    };
    if !db::users::use_password_reset(&mut tx, &token_hash, user.id).await? {
        return respond(
            &state,
            &headers,
            StatusCode::NOT_FOUND,
            String::new(),
            Vec::new(),
        )
        .await;
    }
    db::users::set_password_hash(&mut tx, user.id, &hash).await?;
    db::sessions::delete_for_user(&mut tx, user.id, None).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "password set with a reset link");
    Ok(flash::redirect(
        &state,
        "/login",
        "Your new password is set. Sign in with it.",
    ))
}
