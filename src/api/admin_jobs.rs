//! The job console as JSON for operators' scripts (administrators' tokens):
//! the list of jobs by keyset and one job with every attempt.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ErrorEnvelope, Json};
use crate::{
    auth::AdminUser,
    db::{self, jobs::JobRow},
    error::AppError,
    jobs::console,
    startup::AppState,
    web::extract::{Path, Query},
};

/// Jobs per page.
const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// One of the app's queues.
    #[param(pattern = r"^(maintenance|report_export|analytics_delivery|install_ping)?$")]
    queue: String,
    #[param(pattern = r"^(pending|scheduled|running|retrying|done|dead)?$")]
    state: String,
    /// A job id, or the id of the request that enqueued jobs.
    #[param(max_length = 200)]
    q: String,
    /// `next_after` of the previous page (an instant and a job id).
    #[param(
        max_length = 300,
        pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2}),.+)?$"
    )]
    after: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminJob {
    id: String,
    queue: String,
    /// `pending`, `scheduled`, `running`, `retrying`, `done` or `dead`.
    #[schema(pattern = "^(pending|scheduled|running|retrying|done|dead)$")]
    state: String,
    attempts: i32,
    max_attempts: i32,
    /// When it finished, else when it is due: the list's order, newest first.
    at: DateTime<Utc>,
    request_id: Option<String>,
}

impl From<JobRow> for AdminJob {
    fn from(j: JobRow) -> Self {
        Self {
            id: j.id,
            queue: j.queue,
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            at: j.at,
            request_id: j.request_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminJobPage {
    jobs: Vec<AdminJob>,
    /// Pass as `after` for the next page; null on the last one.
    next_after: Option<String>,
}

/// Jobs newest first, filtered, 50 a page by keyset (administrators).
#[utoipa::path(get, path = "/api/v1/admin/jobs", tag = "admin", params(JobsQuery),
    responses((status = 200, body = AdminJobPage), (status = 403, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<JobsQuery>,
) -> Result<Json<AdminJobPage>, AppError> {
    let filter = console::filter(&q.queue, &q.state, &q.q, &q.after)?;
    let rows = db::jobs::list(&state.pool, &filter, PAGE).await?;
    let next_after = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(console::cursor))
        .flatten();
    Ok(Json(AdminJobPage {
        jobs: rows.into_iter().map(AdminJob::from).collect(),
        next_after,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminJobAttempt {
    attempt: i32,
    worker: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    /// `ok`, `retried`, `dead`, or null when its worker died during it.
    outcome: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminJobDetail {
    id: String,
    queue: String,
    #[schema(pattern = "^(pending|scheduled|running|retrying|done|dead)$")]
    state: String,
    attempts: i32,
    max_attempts: i32,
    run_at: DateTime<Utc>,
    lock_by: Option<String>,
    lock_at: Option<DateTime<Utc>>,
    done_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    /// The payload, parsed (null when it is not JSON).
    payload: Option<serde_json::Value>,
    request_id: Option<String>,
    do_not_track: bool,
    /// Every recorded run, first first.
    history: Vec<AdminJobAttempt>,
}

/// One job with every attempt (administrators).
#[utoipa::path(get, path = "/api/v1/admin/jobs/{id}", tag = "admin",
    params(("id" = String, Path, description = "The job id")),
    responses((status = 200, body = AdminJobDetail), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn show(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Json<AdminJobDetail>, AppError> {
    let j = db::jobs::get(&state.pool, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let history = db::jobs::attempts(&state.pool, &id)
        .await?
        .into_iter()
        .map(|a| AdminJobAttempt {
            attempt: a.attempt,
            worker: a.worker,
            started_at: a.started_at,
            finished_at: a.finished_at,
            outcome: a.outcome,
            error: a.error,
        })
        .collect();
    Ok(Json(AdminJobDetail {
        payload: serde_json::from_str(&j.payload).ok(),
        id: j.id,
        queue: j.queue,
        state: j.state,
        attempts: j.attempts,
        max_attempts: j.max_attempts,
        run_at: j.run_at,
        lock_by: j.lock_by,
        lock_at: j.lock_at,
        done_at: j.done_at,
        last_error: j.last_error,
        request_id: j.request_id,
        do_not_track: j.do_not_track,
        history,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_documented_queue_pattern_names_exactly_the_apps_queues() {
        let doc: serde_json::Value =
            serde_json::from_str(&crate::api::openapi().to_json().expect("json")).expect("doc");
        let params = doc["paths"]["/api/v1/admin/jobs"]["get"]["parameters"]
            .as_array()
            .expect("parameters");
        let pattern = params
            .iter()
            .find(|p| p["name"] == "queue")
            .and_then(|p| p["schema"]["pattern"].as_str())
            .expect("the queue's pattern");
        let inner = pattern.trim_start_matches("^(").trim_end_matches(")?$");
        let mut listed: Vec<&str> = inner.split('|').collect();
        let mut queues = crate::jobs::QUEUES.to_vec();
        listed.sort_unstable();
        queues.sort_unstable();
        assert_eq!(listed, queues);
    }
}
