//! Request extractors that authenticate the caller.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, request::Parts},
};

use super::{Credential, csrf};
use crate::{
    db::{
        callers::{Caller, Kind},
        users::User,
    },
    error::AppError,
    state::AppState,
};

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
    /// The user `credential` stands for, checked on its own, or 401.
    pub async fn check(
        state: &AppState,
        credential: &Credential,
        headers: &HeaderMap,
    ) -> Result<Self, AppError> {
        let user = credential.check(&state.pool).await?;
        Ok(Self::signed_in(state, credential, user, headers))
    }

    /// The caller a statement found when it checked `credential` itself
    /// (`db::callers`), its use recorded when due.
    pub async fn checked(
        state: &AppState,
        credential: &Credential,
        caller: Caller,
        headers: &HeaderMap,
    ) -> Result<Self, AppError> {
        credential.record_use(&state.pool, caller.touch).await?;
        Ok(Self::signed_in(state, credential, caller.user, headers))
    }

    fn signed_in(
        state: &AppState,
        credential: &Credential,
        user: User,
        headers: &HeaderMap,
    ) -> Self {
        let csrf = match credential.kind {
            Kind::Session => csrf::token_for(state, headers).unwrap_or_default(),
            Kind::ApiToken => String::new(),
        };
        CurrentUser { user, csrf }
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
        let credential = Credential::from_headers(&parts.headers)?;
        let current = CurrentUser::check(state, &credential, &parts.headers).await?;
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
