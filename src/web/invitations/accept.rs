//! Accepting an invitation (`/invitation?token=…`, the link the mail
//! brought): the invitee chooses a username, a name, a password and a
//! timezone, gets an account with the invited address and role, is signed
//! in and lands on the timer. The link works once and until the invitation
//! expires; an unknown, used, revoked or expired link is answered alike.

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::Deserialize;

use crate::web::{
    FieldErrors, Layout, LinkToken, flash, page_with_cookie, profile::parse_display_name, render,
};
use crate::{
    analytics::{Event, record},
    auth::{csrf, keys::sha256, password, session},
    db,
    domain::{Password, Role, Timezone, Username, ValidationError},
    error::AppError,
    http::extract::{Form, Query},
    state::AppState,
};

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    layout: Layout,
    token: String,
    /// The invited address; `None` when the link does not work.
    email: Option<String>,
    role: &'static str,
    form: AcceptForm,
    errors: FieldErrors,
    timezones: Vec<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AcceptForm {
    token: String,
    username: String,
    display_name: String,
    password: String,
    password_confirm: String,
    timezone: String,
}

async fn respond(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    mut form: AcceptForm,
    errors: Vec<ValidationError>,
) -> Result<Response, AppError> {
    let invitation = db::invitations::by_token(&state.pool, &sha256(&form.token)).await?;
    let (csrf, cookie) = csrf::ensure_token(state, headers);
    let status = if invitation.is_none() {
        StatusCode::NOT_FOUND
    } else {
        status
    };
    let token = if invitation.is_some() {
        std::mem::take(&mut form.token)
    } else {
        String::new()
    };
    form.password.clear();
    form.password_confirm.clear();
    if form.timezone.is_empty() {
        form.timezone = "UTC".to_owned();
    }
    let page = InvitationPage {
        layout: Layout::anonymous("Accept the invitation", csrf),
        token,
        role: invitation
            .as_ref()
            .map_or(Role::User, |i| Role::from_stored(&i.role))
            .with_article(),
        email: invitation.map(|i| i.email),
        form,
        errors: errors.into(),
        timezones: Timezone::all_names().collect(),
    };
    Ok(page_with_cookie(status, render(&page)?, cookie))
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LinkToken>,
) -> Result<Response, AppError> {
    let form = AcceptForm {
        token: q.token,
        ..AcceptForm::default()
    };
    respond(&state, &headers, StatusCode::OK, form, Vec::new()).await
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<AcceptForm>,
) -> Result<Response, AppError> {
    let parsed = (
        Username::parse(&form.username),
        parse_display_name(&form.display_name),
        Password::parse_new(&form.password, &form.password_confirm),
        Timezone::parse(&form.timezone),
    );
    let (username, display_name, new_password, timezone) = match parsed {
        (Ok(u), Ok(d), Ok(p), Ok(t)) => (u, d, p, t),
        (u, d, p, t) => {
            let errors = [u.err(), d.err(), p.err(), t.err()]
                .into_iter()
                .flatten()
                .collect();
            return respond(
                &state,
                &headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
            )
            .await;
        }
    };
    let hash = password::hash(&new_password).await?;
    let mut tx = state.pool.begin().await?;
    // Locked: two tabs accepting at once make one account.
    let Some(invitation) = db::invitations::lock_by_token(&mut tx, &sha256(&form.token)).await?
    else {
        drop(tx);
        return respond(&state, &headers, StatusCode::NOT_FOUND, form, Vec::new()).await;
    };
    if db::invitations::email_has_account(&mut tx, &invitation.email).await? {
        drop(tx);
        let errors = vec![ValidationError::new(
            "form",
            "An account already uses this address: sign in, or ask for a new password.",
        )];
        return respond(&state, &headers, StatusCode::CONFLICT, form, errors).await;
    }
    let role = Role::from_stored(&invitation.role);
    let new_user = db::users::NewUser {
        username: &username,
        email: &invitation.email,
        password_hash: &hash,
        role,
        timezone: timezone.name(),
    };
    let user_id = match db::users::insert(&mut tx, &new_user).await {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => {
            drop(tx);
            let errors = vec![ValidationError::new("username", "This username is taken.")];
            return respond(&state, &headers, StatusCode::CONFLICT, form, errors).await;
        }
        Err(e) => return Err(e.into()),
    };
    if !display_name.is_empty() {
        db::users::set_display_name(&mut tx, user_id, &display_name).await?;
    }
    db::invitations::accept(&mut tx, invitation.id, user_id).await?;
    record(
        &mut tx,
        Some(user_id),
        &Event::InvitationAccepted {
            role: role.as_str(),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        user_id,
        invitation_id = invitation.id,
        role = role.as_str(),
        "invitation accepted"
    );
    let cookie = session::start(&state, user_id).await?;
    let mut response = flash::redirect(
        &state,
        "/",
        &format!("Welcome, {}: your account is ready.", username.as_str()),
    );
    response
        .headers_mut()
        .append(axum::http::header::SET_COOKIE, cookie);
    Ok(response)
}
