//! The running timer.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{Json, entries::EntryJson};
use crate::{
    auth::CurrentUser,
    error::AppError,
    startup::AppState,
    tracking::{Actor, timer},
};

/// `GET /api/v1/timer`: the running entry, or 404 when none runs.
pub async fn active(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<EntryJson>, AppError> {
    let entry = timer::active(&state.pool, &Actor::from(&current))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(entry.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    project_id: i64,
    task_id: Option<i64>,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    tags: Vec<String>,
}

/// `POST /api/v1/timer/start` (201): stops a running timer first, unless the
/// admin policy refuses (409 `timer_already_running`).
pub async fn start(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<StartBody>,
) -> Result<Response, AppError> {
    let input = timer::StartTimer {
        project_id: body.project_id,
        task_id: body.task_id,
        notes: body.notes,
        tags: body.tags.join(","),
    };
    let entry = timer::start(&state.pool, &Actor::from(&current), &input).await?;
    Ok((StatusCode::CREATED, Json(EntryJson::from(entry))).into_response())
}

/// `POST /api/v1/timer/stop`: 409 `no_timer_running` when none runs.
pub async fn stop(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<EntryJson>, AppError> {
    Ok(Json(
        timer::stop(&state.pool, &Actor::from(&current))
            .await?
            .into(),
    ))
}
