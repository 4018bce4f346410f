//! Request extractors that authenticate the caller.

use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, header, request::Parts},
};

use super::{csrf, keys::sha256, session};
use crate::{db, db::users::User, error::AppError, state::AppState};

/// The signed-in, active user, with the CSRF token for this session's forms.
/// A request with an `Authorization: Bearer` header is authenticated by that
/// API token alone (never by its cookies). Rejects with 401 (a redirect to the
/// login page for HTML requests).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub csrf: String,
}

impl CurrentUser {
    /// The user an `Authorization: Bearer` header authenticates, or 401.
    pub async fn by_api_token(state: &AppState, value: &HeaderValue) -> Result<Self, AppError> {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(AppError::Unauthorized)?;
        let user = db::api_tokens::user_for(&state.pool, &sha256(token))
            .await?
            .ok_or(AppError::Unauthorized)?;
        Ok(CurrentUser {
            user,
            csrf: String::new(),
        })
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let current = CurrentUser::by_api_token(state, value).await?;
            parts.extensions.insert(current.clone());
            return Ok(current);
        }
        let token = session::cookie(&parts.headers, session::SESSION_COOKIE)
            .ok_or(AppError::Unauthorized)?;
        let user = db::sessions::user_for(&state.pool, &sha256(token))
            .await?
            .ok_or(AppError::Unauthorized)?;
        let csrf = csrf::token_for(state, &parts.headers).unwrap_or_default();
        let current = CurrentUser { user, csrf };
        parts.extensions.insert(current.clone());
        Ok(current)
    }
}

/// A signed-in admin; a plain user gets 403.
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        if !current.user.is_admin() {
            return Err(AppError::Forbidden(
                "This page is for administrators.".into(),
            ));
        }
        Ok(AdminUser(current))
    }
}
