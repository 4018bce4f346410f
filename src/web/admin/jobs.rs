//! Admin: the job console. The queues at a glance (states, the last hour,
//! pause, resume and drain), the worker processes, dead jobs with retry and
//! discard, bulk actions on a selection, the list of all jobs (filtered, by
//! keyset) and each job's page with every attempt the runner recorded. Every
//! action is audited (`job_actions`) and logged.

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};

use serde::Deserialize;

use crate::web::{
    Layout,
    confirm::{self, Question},
    flash::{self, Flash},
    render,
};
use crate::{
    auth::AdminUser,
    db::{
        self,
        jobs::{Attempt, BulkJobAction, DeadJob, JobAction, JobDetail, JobFilter, JobRow, STATES},
        queues::Process,
    },
    domain::ValidationError,
    error::AppError,
    http::extract::{Form, Path, Query},
    jobs::{self, QUEUES},
    state::AppState,
};

/// Jobs per page of the list.
const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "admin/jobs_list.html")]
struct ListPage {
    layout: Layout,
    queues: &'static [&'static str],
    states: [&'static str; 6],
    queue: String,
    state: String,
    search: String,
    from: String,
    to: String,
    /// The filter's fields, carried by the bulk form.
    kept: Vec<(&'static str, String)>,
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
    /// The time range (UTC), as a `datetime-local` field sends it.
    from: String,
    to: String,
    /// `<RFC 3339 instant>,<job id>` of the last job of the previous page.
    after: String,
}

impl ListQuery {
    fn fields(&self) -> jobs::console::Fields<'_> {
        jobs::console::Fields {
            queue: &self.queue,
            state: &self.state,
            search: &self.q,
            from: &self.from,
            to: &self.to,
            after: &self.after,
        }
    }

    /// The filter's fields as a page carries them (trimmed, no cursor).
    fn kept(&self) -> Vec<(&'static str, String)> {
        [
            ("queue", &self.queue),
            ("state", &self.state),
            ("q", &self.q),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.trim().to_owned()))
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }
}

/// `GET /admin/jobs/list`: every job, newest first, filtered, by keyset.
pub async fn list(
    State(state): State<AppState>,
    admin: AdminUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let filter = jobs::console::filter(q.fields())?;
    let jobs = db::jobs::list(&state.pool, &filter, PAGE).await?;
    let next = (jobs.len() as i64 == PAGE)
        .then(|| jobs.last())
        .flatten()
        .map(|last| {
            let mut fields = q.kept();
            fields.push(("after", jobs::console::cursor(last)));
            format!(
                "/admin/jobs/list?{}",
                serde_urlencoded::to_string(fields).unwrap_or_default()
            )
        });
    let page = ListPage {
        layout: Layout::for_user("All jobs", &admin.0),
        queues: QUEUES,
        states: STATES,
        queue: q.queue.trim().to_owned(),
        state: q.state.trim().to_owned(),
        search: q.q.trim().to_owned(),
        from: q.from.trim().to_owned(),
        to: q.to.trim().to_owned(),
        kept: q.kept(),
        jobs,
        next,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "admin/job.html")]
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

/// A queue's row of the overview.
struct QueueRow {
    q: jobs::console::QueueOverview,
    oldest_ready: String,
    /// "p50 / p95" in seconds, or a dash.
    wait: String,
    run: String,
    spark: jobs::console::Spark,
}

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct JobsPage {
    layout: Layout,
    states: [&'static str; 6],
    queues: Vec<QueueRow>,
    processes: Vec<Process>,
    /// Silence after which a worker process counts as dead (its jobs are rescued).
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

/// `GET /admin/jobs`: the queues, the worker processes, the audit trail and
/// the dead jobs. Its numbers refresh from `GET /api/v1/admin/queues`.
pub async fn show(
    State(state): State<AppState>,
    admin: AdminUser,
    Flash(notice): Flash,
) -> Result<Response, AppError> {
    let overview = jobs::console::overview(&state.pool, state.config.worker.heartbeat).await?;
    let queues = overview
        .queues
        .into_iter()
        .map(|q| QueueRow {
            oldest_ready: q
                .oldest_ready
                .map_or_else(|| "–".into(), |a| format!("{a:.0} s")),
            wait: q
                .hour
                .as_ref()
                .map_or_else(|| "–".into(), |h| percentiles(h.wait_p50, h.wait_p95)),
            run: q
                .hour
                .as_ref()
                .map_or_else(|| "–".into(), |h| percentiles(h.run_p50, h.run_p95)),
            spark: jobs::console::spark(&q.minutes),
            q,
        })
        .collect();
    let page = JobsPage {
        layout: Layout::for_user("Jobs", &admin.0).with_notice(notice),
        states: STATES,
        queues,
        processes: overview.processes,
        dead_after: overview.dead_after_seconds,
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
    /// `retry` or `discard` (dead jobs), `cancel` (waiting jobs).
    action: String,
    confirm: String,
    /// The selection: the job list's filter (empty fields mean any).
    #[serde(flatten)]
    selection: ListQuery,
}

/// What a selection holds, in words: "dead jobs of report_export, state
/// dead, from 2026-12-01T09:00".
fn describe(which: &str, f: &JobFilter) -> String {
    let mut words = match &f.queue {
        Some(q) => format!("{which} jobs of {q}"),
        None => format!("{which} jobs of every queue"),
    };
    if let Some(s) = f.state {
        words.push_str(&format!(", state {s}"));
    }
    if let Some(q) = &f.search {
        words.push_str(&format!(", matching {q}"));
    }
    if let Some(t) = f.from {
        words.push_str(&format!(", from {}", t.format("%Y-%m-%d %H:%M UTC")));
    }
    if let Some(t) = f.to {
        words.push_str(&format!(", before {}", t.format("%Y-%m-%d %H:%M UTC")));
    }
    words
}

/// `POST /admin/jobs/bulk`: one action on every job of a selection (a queue
/// from the overview, or the job list's filter) it applies to, after a
/// confirmation that says how many.
pub async fn bulk(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<BulkForm>,
) -> Result<Response, AppError> {
    let action = BulkJobAction::parse(form.action.trim())
        .ok_or_else(|| ValidationError::new("action", "Choose retry, discard or cancel."))?;
    let mut fields = form.selection.fields();
    fields.after = "";
    let filter = jobs::console::filter(fields)?;
    let which = match action {
        BulkJobAction::Retry | BulkJobAction::Discard => "dead",
        BulkJobAction::Cancel => "waiting",
    };
    let target = describe(which, &filter);
    if form.confirm != "yes" {
        let n = db::jobs::bulk_count(&state.pool, &filter, action).await?;
        let verb = match action {
            BulkJobAction::Retry => "Retry",
            BulkJobAction::Discard => "Discard",
            BulkJobAction::Cancel => "Cancel",
        };
        let mut carry = form.selection.kept();
        carry.push(("action", action.as_str().to_owned()));
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
                // Only a discard cannot be undone (a cancelled job can be retried).
                danger: action == BulkJobAction::Discard,
                cancel: "/admin/jobs",
                carry: &carry,
            },
        );
    }
    let n = db::jobs::bulk(&state.pool, &filter, action).await?;
    audit(&state, &admin, action.as_str(), &target, n).await?;
    Ok(flash::redirect(
        &state,
        "/admin/jobs",
        &format!("{}: {n} {target}.", action.as_str()),
    ))
}

/// One of the app's queues named in an address; any other is not found.
fn known_queue(raw: &str) -> Result<&'static str, AppError> {
    jobs::console::queue(raw)
        .ok()
        .flatten()
        .ok_or(AppError::NotFound)
}

/// `POST /admin/jobs/queues/{queue}/pause`: no new job of the queue starts
/// (the fetch skips it from the commit on); new jobs still queue.
pub async fn pause(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(queue): Path<String>,
) -> Result<Response, AppError> {
    let queue = known_queue(&queue)?;
    let notice = if db::queues::pause(&state.pool, queue, admin.0.user.id).await? {
        audit(&state, &admin, "pause", &format!("queue {queue}"), 0).await?;
        format!("{queue} is paused: jobs already running finish, no new one starts.")
    } else {
        format!("{queue} was paused already.")
    };
    Ok(flash::redirect(&state, "/admin/jobs", &notice))
}

/// `POST /admin/jobs/queues/{queue}/resume`.
pub async fn resume(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(queue): Path<String>,
) -> Result<Response, AppError> {
    let queue = known_queue(&queue)?;
    let notice = if db::queues::resume(&state.pool, queue).await? {
        audit(&state, &admin, "resume", &format!("queue {queue}"), 0).await?;
        format!("{queue} runs again.")
    } else {
        format!("{queue} was not paused.")
    };
    Ok(flash::redirect(&state, "/admin/jobs", &notice))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DrainForm {
    confirm: String,
}

/// `POST /admin/jobs/queues/{queue}/drain`: cancels every waiting job of the
/// queue, after a confirmation that says how many (running jobs finish).
pub async fn drain(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(queue): Path<String>,
    Form(form): Form<DrainForm>,
) -> Result<Response, AppError> {
    let queue = known_queue(&queue)?;
    let filter = JobFilter {
        queue: Some(queue.to_owned()),
        ..JobFilter::default()
    };
    let action = format!("/admin/jobs/queues/{queue}/drain");
    if form.confirm != "yes" {
        let n = db::jobs::bulk_count(&state.pool, &filter, BulkJobAction::Cancel).await?;
        return confirm::page(
            &admin.0,
            Question {
                question: &format!("Drain {queue}: cancel its {n} waiting jobs?"),
                consequence: "They will not run; they are listed as dead and can be retried. \
                              Jobs already running finish.",
                action: &action,
                button: "Drain",
                // Reversible: the cancelled jobs can be retried.
                danger: false,
                cancel: "/admin/jobs",
                carry: &[],
            },
        );
    }
    let n = db::jobs::bulk(&state.pool, &filter, BulkJobAction::Cancel).await?;
    audit(&state, &admin, "drain", &format!("queue {queue}"), n).await?;
    Ok(flash::redirect(
        &state,
        "/admin/jobs",
        &format!("{queue} drained: {n} waiting jobs cancelled."),
    ))
}
