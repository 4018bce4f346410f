//! The job console as JSON for operators' scripts (administrators' tokens):
//! the overview of queues and worker processes (which the console page also
//! polls), the list of jobs by keyset and one job with every attempt.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ErrorEnvelope, Json};
use crate::{
    auth::AdminUser,
    db::{self, jobs::JobRow},
    error::AppError,
    http::extract::{Path, Query},
    jobs::console,
    state::AppState,
};

/// Jobs per page.
const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// One of the app's queues.
    #[param(
        pattern = r"^(maintenance|report_export|analytics_delivery|install_ping|mail|invoice_document)?$"
    )]
    queue: String,
    #[param(pattern = r"^(pending|scheduled|running|retrying|done|dead)?$")]
    state: String,
    /// A job id, or the id of the request that enqueued jobs.
    #[param(max_length = 200)]
    q: String,
    /// Jobs finished (else due) at or after this instant: RFC 3339, or
    /// `YYYY-MM-DDTHH:MM[:SS]` read as UTC.
    #[param(
        max_length = 40,
        pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
    )]
    from: String,
    /// Jobs finished (else due) before this instant; after `from`.
    #[param(
        max_length = 40,
        pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
    )]
    to: String,
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
    let filter = console::filter(console::Fields {
        queue: &q.queue,
        state: &q.state,
        search: &q.q,
        from: &q.from,
        to: &q.to,
        after: &q.after,
    })?;
    let rows = db::jobs::list(&state.pool, &filter, PAGE).await?;
    let next_after = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(console::cursor))
        .flatten();
    Ok(Json(AdminJobPage {
        jobs: rows.into_iter().map(AdminJob::from).collect(),
        next_after,
    }))
}

/// Jobs of a queue per state.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminQueueCounts {
    pending: i64,
    scheduled: i64,
    running: i64,
    retrying: i64,
    done: i64,
    dead: i64,
}

/// The attempts that finished in one minute.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminQueueMinute {
    done: i64,
    retried: i64,
    dead: i64,
}

/// A queue's last hour, from the attempts recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminQueueHour {
    done: i64,
    retried: i64,
    dead: i64,
    /// Seconds from due to started.
    wait_p50_seconds: Option<f64>,
    wait_p95_seconds: Option<f64>,
    /// Seconds from started to finished.
    run_p50_seconds: Option<f64>,
    run_p95_seconds: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminQueue {
    name: String,
    paused: bool,
    paused_at: Option<DateTime<Utc>>,
    /// The administrator who paused it.
    paused_by: Option<String>,
    counts: AdminQueueCounts,
    /// Seconds the oldest due job has waited to start; null when none waits.
    oldest_ready_seconds: Option<f64>,
    last_hour: AdminQueueHour,
    /// Finished attempts per minute over the last hour, the oldest first (60).
    per_minute: Vec<AdminQueueMinute>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminWorkerProcess {
    name: String,
    host: String,
    pid: i32,
    queues: Vec<String>,
    started_at: DateTime<Utc>,
    last_heartbeat: DateTime<Utc>,
    /// Jobs its workers hold now.
    holds: i64,
    /// Silent for longer than `presumed_dead_after_seconds`: its jobs are
    /// about to be rescued by another worker.
    presumed_dead: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminQueues {
    queues: Vec<AdminQueue>,
    /// Worker processes seen in the last hour, the silent ones first.
    workers: Vec<AdminWorkerProcess>,
    presumed_dead_after_seconds: u64,
}

/// The queues (states, pauses, the last hour) and the worker processes
/// (administrators).
#[utoipa::path(get, path = "/api/v1/admin/queues", tag = "admin",
    responses((status = 200, body = AdminQueues), (status = 403, body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope)))]
pub async fn queues(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<AdminQueues>, AppError> {
    let o = console::overview(&state.pool, state.config.worker.heartbeat).await?;
    let queues = o
        .queues
        .into_iter()
        .map(|q| {
            let [pending, scheduled, running, retrying, done, dead] = q.counts;
            let h = q.hour;
            AdminQueue {
                paused: q.paused.is_some(),
                paused_at: q.paused.as_ref().map(|p| p.paused_at),
                paused_by: q.paused.and_then(|p| p.paused_by),
                counts: AdminQueueCounts {
                    pending,
                    scheduled,
                    running,
                    retrying,
                    done,
                    dead,
                },
                oldest_ready_seconds: q.oldest_ready,
                last_hour: AdminQueueHour {
                    done: h.as_ref().map_or(0, |h| h.ok),
                    retried: h.as_ref().map_or(0, |h| h.retried),
                    dead: h.as_ref().map_or(0, |h| h.dead),
                    wait_p50_seconds: h.as_ref().and_then(|h| h.wait_p50),
                    wait_p95_seconds: h.as_ref().and_then(|h| h.wait_p95),
                    run_p50_seconds: h.as_ref().and_then(|h| h.run_p50),
                    run_p95_seconds: h.as_ref().and_then(|h| h.run_p95),
                },
                per_minute: q
                    .minutes
                    .iter()
                    .map(|[done, retried, dead]| AdminQueueMinute {
                        done: *done,
                        retried: *retried,
                        dead: *dead,
                    })
                    .collect(),
                name: q.name,
            }
        })
        .collect();
    let workers = o
        .processes
        .into_iter()
        .map(|p| AdminWorkerProcess {
            name: p.name,
            host: p.host,
            pid: p.pid,
            queues: p.queues,
            started_at: p.started_at,
            last_heartbeat: p.last_seen,
            holds: p.held,
            presumed_dead: p.presumed_dead,
        })
        .collect();
    Ok(Json(AdminQueues {
        queues,
        workers,
        presumed_dead_after_seconds: o.dead_after_seconds,
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
