//! The first-run setup wizard: creates the first admin and records the
//! install-telemetry choice. Guarded by the one-time setup token; only one
//! setup can ever complete.

use std::sync::atomic::Ordering;

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{FieldErrors, Layout, page_with_cookie, redirect_with_cookie, render};
use crate::{
    analytics::install_ping,
    analytics::{Event, record},
    auth::{csrf, keys::constant_time_eq, password, session},
    db,
    domain::{Email, LocalPath, Password, Role, Timezone, Username, ValidationError},
    error::AppError,
    http::extract::{Form, Query},
    jobs::{self, SendInstallPing},
    state::AppState,
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetupForm {
    token: String,
    username: String,
    email: String,
    password: String,
    password_confirm: String,
    timezone: String,
    telemetry: String,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    form: SetupForm,
    errors: FieldErrors,
    timezones: Vec<&'static str>,
    ping_json: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

async fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    mut form: SetupForm,
    errors: Vec<ValidationError>,
) -> Result<Response, AppError> {
    let installation = db::installation::get(&state.pool).await?;
    let users = db::users::count(&state.pool).await?;
    let ping = install_ping::build(
        install_ping::PingKind::Install,
        installation.install_id,
        installation.created_at,
        users + 1,
    );
    let (csrf, cookie) = csrf::ensure_token(state, headers);
    if form.timezone.is_empty() {
        form.timezone = "UTC".into();
    }
    // Passwords are never echoed back into the page.
    form.password.clear();
    form.password_confirm.clear();
    let html = render(&SetupPage {
        layout: Layout::anonymous("Setup", csrf),
        form,
        errors: errors.into(),
        timezones: Timezone::all_names().collect(),
        ping_json: serde_json::to_string_pretty(&ping).map_err(anyhow::Error::from)?,
    })?;
    Ok(page_with_cookie(status, html, cookie))
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
) -> Result<Response, AppError> {
    if state.setup_complete().await? {
        return Ok(Redirect::to("/login").into_response());
    }
    let form = SetupForm {
        token: query.token.unwrap_or_default(),
        ..SetupForm::default()
    };
    page(&state, &headers, StatusCode::OK, form, Vec::new()).await
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Result<Response, AppError> {
    if state.setup_complete().await? {
        return Err(setup_already_done());
    }
    let expected = match &state.config.auth.setup_token {
        Some(token) => Some(token.expose().clone()),
        None => {
            db::installation::pending_setup_token(&state.pool, &crate::auth::keys::random_token())
                .await?
        }
    };
    if !expected.is_some_and(|t| constant_time_eq(form.token.trim(), &t)) {
        let error = ValidationError::new(
            "token",
            "This setup token is not valid. Use the one the server printed.",
        );
        return page(&state, &headers, StatusCode::FORBIDDEN, form, vec![error]).await;
    }

    let username = Username::parse(&form.username);
    let email = Email::parse(&form.email);
    let new_password = Password::parse_new(&form.password, &form.password_confirm);
    let timezone = Timezone::parse(&form.timezone);
    let telemetry = match form.telemetry.as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(ValidationError::new(
            "telemetry",
            "Choose whether to send anonymous pings.",
        )),
    };
    let (username, email, new_password, timezone, telemetry) =
        match (username, email, new_password, timezone, telemetry) {
            (Ok(u), Ok(e), Ok(p), Ok(t), Ok(c)) => (u, e, p, t, c),
            (u, e, p, t, c) => {
                let errors = [u.err(), e.err(), p.err(), t.err(), c.err()]
                    .into_iter()
                    .flatten()
                    .collect();
                return page(
                    &state,
                    &headers,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    form,
                    errors,
                )
                .await;
            }
        };

    let password_hash = password::hash(&new_password).await?;
    let mut tx = state.pool.begin().await?;
    if !db::installation::complete_setup(&mut tx, telemetry).await? {
        return Err(setup_already_done());
    }
    let user_id = db::users::insert(
        &mut tx,
        &db::users::NewUser {
            username: &username,
            email: email.as_str(),
            password_hash: &password_hash,
            role: Role::Admin,
            timezone: timezone.name(),
        },
    )
    .await?;
    if telemetry {
        jobs::enqueue(
            &mut tx,
            &SendInstallPing {
                kind: install_ping::PingKind::Install,
            },
        )
        .await?;
    }
    let event = Event::SetupCompleted {
        telemetry_enabled: telemetry,
    };
    record(&mut tx, Some(user_id), &event).await?;
    tx.commit().await?;
    state.setup_done.store(true, Ordering::Release);
    tracing::info!(telemetry_consent = telemetry, "setup completed");

    let cookie = session::start(&state, user_id).await?;
    Ok(redirect_with_cookie(&LocalPath::or_root("/"), cookie))
}

fn setup_already_done() -> AppError {
    AppError::Conflict {
        code: "setup_already_completed",
        message: "Setup has already been completed. Sign in instead.".into(),
    }
}
