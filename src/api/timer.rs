//! The running timer.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ErrorEnvelope, Json, entries::EntryJson, unless_unauthorized};
use crate::{
    auth::{Credential, CurrentUser},
    error::AppError,
    state::AppState,
    tracking::{Actor, Who, timer},
};

/// The running entry, or `null` when no timer runs.
#[utoipa::path(get, path = "/api/v1/timer", tag = "timer",
    responses((status = 200, body = Option<EntryJson>, description = "The running entry, or null")))]
pub async fn active(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Option<EntryJson>>, AppError> {
    let running = timer::active(&state.pool, &Actor::from(&current)).await?;
    Ok(Json(running.map(|r| r.entry.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    project_id: i64,
    task_id: Option<i64>,
    #[serde(default)]
    notes: String,
    /// At most 20 tags of at most 50 characters, none with a comma; blank
    /// ones and repeats (ignoring letter case) are dropped.
    #[serde(default)]
    #[schema(max_items = 20)]
    tags: Vec<String>,
}

/// Starts a timer. A running one is stopped at the same instant, unless the
/// admin policy refuses (409 `timer_already_running`).
#[utoipa::path(post, path = "/api/v1/timer/start", tag = "timer", request_body = StartBody,
    responses((status = 201, body = EntryJson), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn start(
    State(state): State<AppState>,
    credential: Credential,
    body: Result<Json<StartBody>, AppError>,
) -> Result<Response, AppError> {
    let body = match body {
        Ok(Json(body)) => body,
        Err(e) => return Err(unless_unauthorized(&state, &credential, e).await),
    };
    let input = timer::StartTimer {
        project_id: body.project_id,
        task_id: body.task_id,
        notes: body.notes,
        tags: body.tags,
    };
    // The credential is checked by the start's first statement.
    let entry = timer::start(&state.pool, Who::Credential(&credential), &input).await?;
    Ok((StatusCode::CREATED, Json(EntryJson::from(entry))).into_response())
}

/// Stops the running timer; 409 `no_timer_running` when none runs.
#[utoipa::path(post, path = "/api/v1/timer/stop", tag = "timer",
    responses((status = 200, body = EntryJson), (status = 409, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn stop(
    State(state): State<AppState>,
    credential: Credential,
) -> Result<Json<EntryJson>, AppError> {
    // The credential is checked by the stop's first statement.
    Ok(Json(
        timer::stop(&state.pool, Who::Credential(&credential))
            .await?
            .into(),
    ))
}

/// What the running timer becomes; a start left out is kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    project_id: i64,
    task_id: Option<i64>,
    #[serde(default)]
    notes: String,
    /// At most 20 tags of at most 50 characters, none with a comma; blank
    /// ones and repeats (ignoring letter case) are dropped.
    #[serde(default)]
    #[schema(max_items = 20)]
    tags: Vec<String>,
    /// RFC 3339; not in the future, at most 24 hours ago.
    start: Option<chrono::DateTime<chrono::Utc>>,
}

/// Changes the running timer in place; 409 `no_timer_running` when none runs.
#[utoipa::path(put, path = "/api/v1/timer", tag = "timer", request_body = EditBody,
    responses((status = 200, body = EntryJson), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn edit(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<EditBody>,
) -> Result<Json<EntryJson>, AppError> {
    let input = timer::EditTimer {
        project_id: body.project_id,
        task_id: body.task_id,
        notes: body.notes,
        tags: body.tags,
        started_at: body.start,
    };
    Ok(Json(
        timer::edit(&state.pool, &Actor::from(&current), &input)
            .await?
            .into(),
    ))
}
