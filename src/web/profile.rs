//! The signed-in user's profile: password and timezone.

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Layout, Notice,
    extract::{Form, Query},
    field_error, render, with_notice,
};
use crate::{
    auth::{CurrentUser, keys::sha256, password, session},
    db,
    domain::{Password, Timezone, ValidationError},
    error::AppError,
    startup::AppState,
};

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    layout: Layout,
    username: String,
    role: String,
    timezone: String,
    timezones: Vec<&'static str>,
    errors: Vec<ValidationError>,
}

impl ProfilePage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

fn page(
    current: &CurrentUser,
    notice: Option<String>,
    errors: Vec<ValidationError>,
) -> ProfilePage {
    ProfilePage {
        layout: Layout::for_user("Profile", current).with_notice(notice),
        username: current.user.username.clone(),
        role: current.user.role.clone(),
        timezone: current.user.timezone.clone(),
        timezones: Timezone::all_names().collect(),
        errors,
    }
}

pub async fn show(
    current: CurrentUser,
    Query(notice): Query<Notice>,
) -> Result<Response, AppError> {
    Ok(render(&page(&current, notice.notice, Vec::new()))?.into_response())
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
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&page(&current, None, vec![error]))?,
        )
            .into_response());
    }
    let new_password = match Password::parse_new(&form.password, &form.password_confirm) {
        Ok(p) => p,
        Err(error) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&page(&current, None, vec![error]))?,
            )
                .into_response());
        }
    };
    let hash = password::hash(&new_password).await?;
    let keep = session::cookie(&headers, session::SESSION_COOKIE).map(sha256);
    let mut tx = state.pool.begin().await?;
    db::users::set_password_hash(&mut tx, current.user.id, &hash).await?;
    // Other sessions may belong to whoever knew the old password.
    db::sessions::delete_for_user(&mut tx, current.user.id, keep.as_deref()).await?;
    tx.commit().await?;
    Ok(Redirect::to(&with_notice(
        "/profile",
        "Password changed. Your other sessions were signed out.",
    ))
    .into_response())
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
            Ok(Redirect::to(&with_notice("/profile", "Timezone saved.")).into_response())
        }
        Err(error) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&page(&current, None, vec![error]))?,
        )
            .into_response()),
    }
}
