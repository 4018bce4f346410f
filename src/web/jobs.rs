//! Admin: the job queue at a glance, dead jobs with retry and discard, the
//! list of all jobs (filtered, by keyset) and each job's page with every
//! attempt the runner recorded.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};

use serde::Deserialize;

use super::{
    Layout,
    confirm::{self, Question},
    extract::{Form, Path, Query},
    flash::{self, Flash},
    render,
};
use crate::{
    auth::AdminUser,
    db::{
        self,
        jobs::{Attempt, BulkJobAction, DeadJob, JobAction, JobDetail, JobRow, STATES, WorkerRow},
    },
    domain::ValidationError,
    error::AppError,
    jobs::{self, QUEUES},
    startup::AppState,
};

/// Jobs per page of the list.
const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "admin_jobs_list.html")]
struct ListPage {
    layout: Layout,
    queues: &'static [&'static str],
    states: [&'static str; 6],
    queue: String,
    state: String,
    search: String,
    jobs: Vec<JobRow>,
    /// The next page's link, when this page is full.
    next: Option<String>,
}

/// The list's filters and keyset cursor, as in its address.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    queue: String,
    state: String,
    /// A job id or a request id.
    q: String,
    /// `<RFC 3339 instant>,<job id>` of the last job of the previous page.
    after: String,
}

/// `GET /admin/jobs/list`: every job, newest first, filtered, by keyset.
pub async fn list(
    State(state): State<AppState>,
    admin: AdminUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let filter = jobs::console::filter(&q.queue, &q.state, &q.q, &q.after)?;
    let jobs = db::jobs::list(&state.pool, &filter, PAGE).await?;
    let next = (jobs.len() as i64 == PAGE)
        .then(|| jobs.last())
        .flatten()
        .map(|last| {
            let fields = [
                ("queue", q.queue.trim().to_owned()),
                ("state", q.state.trim().to_owned()),
                ("q", q.q.trim().to_owned()),
                ("after", jobs::console::cursor(last)),
            ];
            let kept: Vec<(&str, String)> =
                fields.into_iter().filter(|(_, v)| !v.is_empty()).collect();
            format!(
                "/admin/jobs/list?{}",
                serde_urlencoded::to_string(kept).unwrap_or_default()
            )
        });
    let page = ListPage {
        layout: Layout::for_user("All jobs", &admin.0),
        queues: QUEUES,
        states: STATES,
        queue: q.queue.trim().to_owned(),
        state: q.state.trim().to_owned(),
        search: q.q.trim().to_owned(),
        jobs,
        next,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "admin_job.html")]
struct DetailPage {
    layout: Layout,
    job: JobDetail,
    /// The payload, indented.
    payload: String,
    attempts: Vec<Attempt>,
    /// The LogQL query that finds the enqueuing request's log lines.
    loki_query: Option<String>,
}

/// `GET /admin/jobs/{id}`: a job, its payload and metadata, and every attempt.
pub async fn detail(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let job = db::jobs::get(&state.pool, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let payload = serde_json::from_str::<serde_json::Value>(&job.payload)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| job.payload.clone());
    let loki_query = job
        .request_id
        .as_ref()
        .map(|r| format!("{{service_name=~\"web|worker\"}} | request_id = \"{r}\""));
    let page = DetailPage {
        layout: Layout::for_user("Job", &admin.0),
        attempts: db::jobs::attempts(&state.pool, &id).await?,
        payload,
        loki_query,
        job,
    };
    Ok(render(&page)?.into_response())
}

struct QueueRow {
    name: String,
    counts: Vec<i64>,
    oldest_ready: String,
    /// Attempts of the last hour: done, retried, dead.
    hour: (i64, i64, i64),
    /// "p50 / p95" in seconds, or a dash.
    wait: String,
    run: String,
}

#[derive(Template)]
#[template(path = "admin_jobs.html")]
struct JobsPage {
    layout: Layout,
    states: [&'static str; 6],
    queues: Vec<QueueRow>,
    workers: Vec<WorkerRow>,
    /// Silence after which a worker counts as dead (its jobs are rescued).
    dead_after: u64,
    dead: Vec<DeadJob>,
    /// The latest administrator actions.
    actions: Vec<JobAction>,
    all_queues: &'static [&'static str],
}

/// `p50 / p95` seconds, for the overview.
fn percentiles(p50: Option<f64>, p95: Option<f64>) -> String {
    match (p50, p95) {
        (Some(a), Some(b)) => format!("{a:.1} / {b:.1} s"),
        _ => "–".into(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    admin: AdminUser,
    Flash(notice): Flash,
) -> Result<Response, AppError> {
    let mut queues: BTreeMap<String, QueueRow> = BTreeMap::new();
    for c in db::jobs::counts(&state.pool).await? {
        let row = queues.entry(c.queue.clone()).or_insert_with(|| QueueRow {
            name: c.queue.clone(),
            counts: vec![0; STATES.len()],
            oldest_ready: "–".into(),
            hour: (0, 0, 0),
            wait: "–".into(),
            run: "–".into(),
        });
        if let Some(i) = STATES.iter().position(|s| *s == c.state) {
            row.counts[i] = c.count;
        }
    }
    for (queue, age) in db::jobs::oldest_ready_age(&state.pool).await? {
        if let Some(row) = queues.get_mut(&queue) {
            row.oldest_ready = format!("{age:.0} s");
        }
    }
    for h in db::jobs::hour_stats(&state.pool).await? {
        if let Some(row) = queues.get_mut(&h.queue) {
            row.hour = (h.ok, h.retried, h.dead);
            row.wait = percentiles(h.wait_p50, h.wait_p95);
            row.run = percentiles(h.run_p50, h.run_p95);
        }
    }
    // apalis rescues a worker's jobs after three missed heartbeats.
    let dead_after = state.config.worker_heartbeat.as_secs() * 3;
    let page = JobsPage {
        layout: Layout::for_user("Jobs", &admin.0).with_notice(notice),
        states: STATES,
        queues: queues.into_values().collect(),
        workers: db::jobs::workers(&state.pool, dead_after as f64).await?,
        dead_after,
        actions: db::jobs::recent_actions(&state.pool, 10).await?,
        all_queues: QUEUES,
        dead: db::jobs::dead(&state.pool, 100).await?,
    };
    Ok(render(&page)?.into_response())
}

/// Records an administrator's action on jobs and logs it.
async fn audit(
    state: &AppState,
    admin: &AdminUser,
    action: &str,
    target: &str,
    jobs: u64,
) -> Result<(), AppError> {
    db::jobs::record_action(&state.pool, admin.0.user.id, action, target, jobs as i64).await?;
    tracing::info!(
        admin_id = admin.0.user.id,
        action,
        target,
        jobs,
        "job action by an administrator"
    );
    Ok(())
}

pub async fn retry(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    if !db::jobs::retry_dead(&state.pool, &id).await? {
        return Err(AppError::NotFound);
    }
    audit(&state, &admin, "retry", &format!("job {id}"), 1).await?;
    Ok(flash::redirect(
        &state,
        "/admin/jobs",
        "The job will run again shortly.",
    ))
}

pub async fn discard(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    if !db::jobs::discard_dead(&state.pool, &id).await? {
        return Err(AppError::NotFound);
    }
    audit(&state, &admin, "discard", &format!("job {id}"), 1).await?;
    Ok(flash::redirect(
        &state,
        "/admin/jobs",
        "The job was discarded.",
    ))
}

/// `POST /admin/jobs/{id}/cancel`: a job that has not started will not run
/// (it becomes dead, "cancelled", and can be retried).
pub async fn cancel(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    if !db::jobs::cancel_waiting(&state.pool, &id).await? {
        return Err(AppError::NotFound);
    }
    audit(&state, &admin, "cancel", &format!("job {id}"), 1).await?;
    Ok(flash::redirect(
        &state,
        "/admin/jobs",
        "The job was cancelled; it is listed with the dead jobs.",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BulkForm {
    /// A queue, or empty for all.
    queue: String,
    /// `retry` or `discard` (dead jobs), `cancel` (waiting jobs).
    action: String,
    confirm: String,
}

/// `POST /admin/jobs/bulk`: one action on every job of a queue it applies
/// to, after a confirmation that says how many.
pub async fn bulk(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<BulkForm>,
) -> Result<Response, AppError> {
    let action = BulkJobAction::parse(form.action.trim())
        .ok_or_else(|| ValidationError::new("action", "Choose retry, discard or cancel."))?;
    let queue = jobs::console::queue(&form.queue)?;
    let which = match action {
        BulkJobAction::Retry | BulkJobAction::Discard => "dead",
        BulkJobAction::Cancel => "waiting",
    };
    let target = match queue {
        Some(q) => format!("{which} jobs of {q}"),
        None => format!("{which} jobs of every queue"),
    };
    if form.confirm != "yes" {
        let n = db::jobs::bulk_count(&state.pool, queue, action).await?;
        let verb = match action {
            BulkJobAction::Retry => "Retry",
            BulkJobAction::Discard => "Discard",
            BulkJobAction::Cancel => "Cancel",
        };
        return confirm::page(
            &admin.0,
            Question {
                question: &format!("{verb} {n} {target}?"),
                consequence: match action {
                    BulkJobAction::Retry => "Each gets a fresh set of attempts and runs soon.",
                    BulkJobAction::Discard => "They are deleted. This cannot be undone.",
                    BulkJobAction::Cancel => {
                        "They will not run; they are listed as dead and can be retried."
                    }
                },
                action: "/admin/jobs/bulk",
                button: verb,
                cancel: "/admin/jobs",
                carry: &[
                    ("queue", form.queue.trim().to_owned()),
                    ("action", action.as_str().to_owned()),
                ],
            },
        );
    }
    let n = db::jobs::bulk(&state.pool, queue, action).await?;
    audit(&state, &admin, action.as_str(), &target, n).await?;
    Ok(flash::redirect(
        &state,
        "/admin/jobs",
        &format!("{}: {n} {target}.", action.as_str()),
    ))
}
