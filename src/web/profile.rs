//! The signed-in user's profile: password and timezone.

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    FieldErrors, Layout,
    confirm::{self, ConfirmForm, Question},
    flash::{self, Flash, Reveal},
    render,
};
use crate::{
    analytics::{Event, record},
    auth::{
        CurrentUser,
        keys::{random_token, sha256},
        password, session,
    },
    db::{self, api_tokens::ApiToken},
    domain::{
        Email, Password, Timezone, ValidationError,
        formats::{Clock, DateOrder},
    },
    error::AppError,
    flags,
    http::extract::{Form, Path},
    state::AppState,
};

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    layout: Layout,
    username: String,
    display_name: String,
    email: String,
    date_format: String,
    clock: String,
    week_start: String,
    date_orders: [DateOrder; 3],
    role: String,
    timezone: String,
    timezones: Vec<&'static str>,
    errors: FieldErrors,
    tokens: Vec<ApiToken>,
    new_token: Option<String>,
    opted_out: bool,
    tokens_allowed: bool,
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    notice: Option<String>,
    errors: Vec<ValidationError>,
) -> Result<ProfilePage, AppError> {
    Ok(ProfilePage {
        layout: Layout::for_user("Profile", current).with_notice(notice),
        username: current.user.username.clone(),
        display_name: current.user.display_name.clone(),
        email: current.user.email.clone(),
        date_format: current.user.date_format.clone(),
        clock: current.user.clock.clone(),
        week_start: current.user.week_start.clone(),
        date_orders: DateOrder::ALL,
        role: current.user.role.clone(),
        timezone: current.user.timezone.clone(),
        timezones: Timezone::all_names().collect(),
        errors: errors.into(),
        tokens: db::api_tokens::list(&state.pool, current.user.id).await?,
        new_token: None,
        opted_out: db::analytics::opted_out(&state.pool, current.user.id).await?,
        tokens_allowed: flags::enabled(&state.pool, &state.config, flags::API_TOKEN_CREATION)
            .await?,
    })
}

/// The profile page again with `error` by its field (422).
/// The page again with `error` beside its field; `keep` puts back what was
/// typed into the refused form, so nothing is lost.
async fn rejected(
    state: &AppState,
    current: &CurrentUser,
    error: ValidationError,
    keep: impl FnOnce(&mut ProfilePage),
) -> Result<Response, AppError> {
    let mut profile = page(state, current, None, vec![error]).await?;
    keep(&mut profile);
    let body = render(&profile)?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Flash(notice): Flash,
    Reveal(new_token): Reveal,
) -> Result<Response, AppError> {
    let mut profile = page(&state, &current, notice, Vec::new()).await?;
    profile.new_token = new_token;
    // Like every dynamic response it is `no-store` (startup::router), which
    // keeps the one-time secret out of caches and history.
    Ok(render(&profile)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    password: String,
    password_confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let stored = db::users::password_hash(&state.pool, current.user.id).await?;
    if !password::verify(&form.current_password, Some(stored)).await? {
        let error = ValidationError::new("current_password", "Your current password is wrong.");
        return rejected(&state, &current, error, |_| {}).await;
    }
    let new_password = match Password::parse_new(&form.password, &form.password_confirm) {
        Ok(p) => p,
        Err(error) => {
            return rejected(&state, &current, error, |_| {}).await;
        }
    };
    let hash = password::hash(&new_password).await?;
    let keep = session::cookie(&headers, session::SESSION_COOKIE).map(sha256);
    let mut tx = state.pool.begin().await?;
    db::users::set_password_hash(&mut tx, current.user.id, &hash).await?;
    // Other sessions may belong to whoever knew the old password.
    db::sessions::delete_for_user(&mut tx, current.user.id, keep.as_deref()).await?;
    tx.commit().await?;
    Ok(flash::redirect(
        &state,
        "/profile",
        "Password changed. Your other sessions were signed out.",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NameForm {
    display_name: String,
}

/// Longest display name.
pub const MAX_DISPLAY_NAME: usize = 100;

/// A display name as typed: trimmed, at most [`MAX_DISPLAY_NAME`] characters, may be empty.
pub fn parse_display_name(raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim();
    if name.chars().count() > MAX_DISPLAY_NAME {
        return Err(ValidationError::new(
            "display_name",
            "A name has at most 100 characters.",
        ));
    }
    crate::domain::text::visible("display_name", name)?;
    Ok(name.to_owned())
}

/// Your own display name (empty: the username is shown).
pub async fn change_name(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<NameForm>,
) -> Result<Response, AppError> {
    let name = match parse_display_name(&form.display_name) {
        Ok(name) => name,
        Err(error) => {
            return rejected(&state, &current, error, |p| {
                p.display_name = form.display_name
            })
            .await;
        }
    };
    db::users::set_display_name(&mut *state.pool.acquire().await?, current.user.id, &name).await?;
    Ok(flash::redirect(&state, "/profile", "Name saved."))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EmailForm {
    email: String,
    email_password: String,
}

/// Your own email address, confirmed with your password.
pub async fn change_email(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<EmailForm>,
) -> Result<Response, AppError> {
    let stored = db::users::password_hash(&state.pool, current.user.id).await?;
    let checked = if !password::verify(&form.email_password, Some(stored)).await? {
        Err(ValidationError::new(
            "email_password",
            "Your password is wrong.",
        ))
    } else {
        Email::parse(&form.email)
    };
    let email = match checked {
        Ok(email) => email,
        Err(error) => {
            return rejected(&state, &current, error, |p| p.email = form.email).await;
        }
    };
    db::users::set_email(
        &mut *state.pool.acquire().await?,
        current.user.id,
        email.as_str(),
    )
    .await?;
    tracing::info!(user_id = current.user.id, "email changed by its owner");
    Ok(flash::redirect(&state, "/profile", "Email changed."))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FormatsForm {
    date_format: String,
    clock: String,
    week_start: String,
}

/// Your date order, clock and first day of the week.
pub async fn change_formats(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<FormatsForm>,
) -> Result<Response, AppError> {
    let week_start = match form.week_start.trim() {
        w @ ("" | "monday" | "sunday") => Ok(w),
        _ => Err(ValidationError::new(
            "week_start",
            "Choose Monday, Sunday or the installation's setting.",
        )),
    };
    let parsed = (|| -> Result<_, ValidationError> {
        Ok((
            DateOrder::parse(&form.date_format)?,
            Clock::parse(&form.clock)?,
            week_start?,
        ))
    })();
    let (date, clock, week_start) = match parsed {
        Ok(p) => p,
        Err(error) => {
            return rejected(&state, &current, error, |_| {}).await;
        }
    };
    db::users::set_formats(
        &mut *state.pool.acquire().await?,
        current.user.id,
        date.as_str(),
        clock.as_str(),
        week_start,
    )
    .await?;
    Ok(flash::redirect(&state, "/profile", "Formats saved."))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TimezoneForm {
    timezone: String,
}

pub async fn change_timezone(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<TimezoneForm>,
) -> Result<Response, AppError> {
    match Timezone::parse(&form.timezone) {
        Ok(tz) => {
            db::users::set_timezone(&state.pool, current.user.id, tz.name()).await?;
            Ok(flash::redirect(&state, "/profile", "Timezone saved."))
        }
        Err(error) => rejected(&state, &current, error, |_| {}).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    name: String,
    expires_in_days: String,
}

/// Creates an API token and shows it once, on the page this redirects to.
pub async fn create_token(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    if !flags::enabled(&state.pool, &state.config, flags::API_TOKEN_CREATION).await? {
        return Err(AppError::Forbidden(
            "Creating API tokens is switched off on this installation.".into(),
        ));
    }
    let name = form.name.trim();
    let expires = form.expires_in_days.trim();
    let error = if name.is_empty() || name.chars().count() > 100 {
        Some(ValidationError::new(
            "name",
            "Give the token a name of at most 100 characters.",
        ))
    } else if !expires.is_empty()
        && expires
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .is_none()
    {
        Some(ValidationError::new(
            "expires_in_days",
            "Enter a number of days from 1 to 3650, or nothing.",
        ))
    } else {
        None
    };
    if let Some(error) = error {
        return rejected(&state, &current, error, |_| {}).await;
    }
    let expires_at = expires
        .parse::<i64>()
        .ok()
        .map(|days| chrono::Utc::now() + chrono::Duration::days(days));
    let token = format!("tt_{}", random_token());
    db::api_tokens::insert(
        &state.pool,
        current.user.id,
        name,
        &sha256(&token),
        &token[..10],
        expires_at,
    )
    .await?;
    tracing::info!(user_id = current.user.id, "API token created");
    let event = Event::ApiTokenCreated {
        has_expiry: expires_at.is_some(),
    };
    record(
        &mut *state.pool.acquire().await?,
        Some(current.user.id),
        &event,
    )
    .await?;
    // Post, redirect, get: the token is shown once on the profile page, and
    // reloading that page neither shows it again nor creates another.
    Ok(flash::redirect_revealing(
        &state,
        "/profile",
        "Token created. Copy it now: it is shown only this once.",
        &token,
    ))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    if !confirm.confirmed() {
        let token = db::api_tokens::list(&state.pool, current.user.id)
            .await?
            .into_iter()
            .find(|t| t.id == id && t.revoked_at.is_none())
            .ok_or(AppError::NotFound)?;
        return confirm::page(
            &current,
            Question {
                question: &format!("Revoke the token “{}”?", token.name),
                consequence: "Scripts and apps that use it are refused from the next request on. This cannot be undone.",
                action: &format!("/profile/tokens/{id}/revoke"),
                button: "Revoke token",
                danger: true,
                cancel: "/profile",
                carry: &[],
            },
        );
    }
    if !db::api_tokens::revoke(&state.pool, current.user.id, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(
        user_id = current.user.id,
        token_id = id,
        "API token revoked"
    );
    record(
        &mut *state.pool.acquire().await?,
        Some(current.user.id),
        &Event::ApiTokenRevoked,
    )
    .await?;
    Ok(flash::redirect(&state, "/profile", "Token revoked."))
}
