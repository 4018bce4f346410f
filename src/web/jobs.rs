//! Admin: the job queue at a glance, and dead jobs with retry and discard.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};

use super::{
    Layout,
    extract::Path,
    flash::{self, Flash},
    render,
};
use crate::{
    auth::AdminUser,
    db::{
        self,
        jobs::{DeadJob, STATES},
    },
    error::AppError,
    startup::AppState,
};

struct QueueRow {
    name: String,
    counts: Vec<i64>,
    oldest_ready: String,
}

#[derive(Template)]
#[template(path = "admin_jobs.html")]
struct JobsPage {
    layout: Layout,
    states: [&'static str; 6],
    queues: Vec<QueueRow>,
    dead: Vec<DeadJob>,
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
    let page = JobsPage {
        layout: Layout::for_user("Jobs", &admin.0).with_notice(notice),
        states: STATES,
        queues: queues.into_values().collect(),
        dead: db::jobs::dead(&state.pool, 100).await?,
    };
    Ok(render(&page)?.into_response())
}

pub async fn retry(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    if !db::jobs::retry_dead(&state.pool, &id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(job_id = %id, "dead job retried by admin");
    Ok(flash::redirect(
        &state,
        "/admin/jobs",
        "The job will run again shortly.",
    ))
}

pub async fn discard(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    if !db::jobs::discard_dead(&state.pool, &id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(job_id = %id, "dead job discarded by admin");
    Ok(flash::redirect(
        &state,
        "/admin/jobs",
        "The job was discarded.",
    ))
}
