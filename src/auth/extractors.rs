//! Request extractors that authenticate the caller.

use std::marker::PhantomData;

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
    domain::Permission,
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

/// A permission an extractor demands, with what a caller without it reads.
pub trait Demand: Send + Sync + 'static {
    const PERMISSION: Permission;
    const REFUSAL: &'static str;
}

/// A signed-in user whose role has `D`'s permission; anyone else signed in
/// gets 403.
#[derive(Debug, Clone)]
pub struct Allowed<D: Demand>(pub CurrentUser, PhantomData<D>);

impl<D: Demand> FromRequestParts<AppState> for Allowed<D> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        if !current.user.can(D::PERMISSION) {
            return Err(AppError::Forbidden(D::REFUSAL.into()));
        }
        Ok(Allowed(current, PhantomData))
    }
}

/// Settings, people, the job console, telemetry.
#[derive(Debug, Clone)]
pub struct Administer;
impl Demand for Administer {
    const PERMISSION: Permission = Permission::Administer;
    const REFUSAL: &'static str = "This page is for administrators.";
}

/// Clients, projects and tasks.
#[derive(Debug, Clone)]
pub struct ManageCatalog;
impl Demand for ManageCatalog {
    const PERMISSION: Permission = Permission::ManageCatalog;
    const REFUSAL: &'static str =
        "Only administrators and managers change clients, projects and tasks.";
}

/// Invitations by email.
#[derive(Debug, Clone)]
pub struct Invite;
impl Demand for Invite {
    const PERMISSION: Permission = Permission::Invite;
    const REFUSAL: &'static str = "Only administrators and managers invite people.";
}

/// Invoices.
#[derive(Debug, Clone)]
pub struct Bill;
impl Demand for Bill {
    const PERMISSION: Permission = Permission::Bill;
    const REFUSAL: &'static str = "Only administrators and managers make invoices.";
}

/// A signed-in administrator.
pub type AdminUser = Allowed<Administer>;
/// A signed-in administrator or manager: may change the catalogue.
pub type CatalogManager = Allowed<ManageCatalog>;
/// A signed-in administrator or manager: may invite (see `Role::invitable`).
pub type Inviter = Allowed<Invite>;
/// A signed-in administrator or manager: may make invoices.
pub type Biller = Allowed<Bill>;
