//! The running timer: start, stop, restart. At most one runs per user; the
//! partial unique index `time_entries_one_running_per_user` enforces it even
//! if this code were bypassed.

use crate::observability::metrics::TIME_ENTRIES_CREATED;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use super::{
    Actor, Who,
    entries::{checked, lock_for_write, refuse_overlap},
};
use crate::{
    analytics::{Event, record},
    db::{
        self,
        entries::{Entry, NamedEntry},
    },
    domain::{
        ValidationError,
        tracking::{EntryTimes, MAX_ENTRY_SECONDS, parse_notes, parse_tags},
    },
    error::AppError,
};

/// What to start a timer on.
#[derive(Debug, Clone, Default)]
pub struct StartTimer {
    pub project_id: i64,
    pub task_id: Option<i64>,
    pub notes: String,
    pub tags: Vec<String>,
}

fn already_running() -> AppError {
    AppError::Conflict {
        code: "timer_already_running",
        message: "A timer is already running. Stop it first.".into(),
    }
}

/// Starts a timer. A running one is stopped at the same instant, in the same
/// transaction, unless the admin setting says to refuse (409 `timer_already_running`).
pub async fn start(pool: &PgPool, who: Who<'_>, input: &StartTimer) -> Result<Entry, AppError> {
    let mut tx = pool.begin().await?;
    let context =
        db::entries::lock_for_write(&mut tx, who.whose(), input.project_id, input.task_id)
            .await?
            .ok_or_else(|| who.nobody())?;
    // Checked after the caller, so that bad input from nobody is a 401.
    let notes = parse_notes(&input.notes)?;
    let tags = parse_tags(&input.tags)?;
    let (user_id, touch) = (context.user_id, context.touch);
    let (settings, project) = checked(context, input.task_id)?;
    let now = Utc::now();
    if settings.timer_policy == "refuse" && db::entries::running(&mut tx, user_id).await?.is_some()
    {
        return Err(already_running());
    }
    // The running entry, if any, stops where the new one starts.
    let stopped = db::entries::stop_running(&mut tx, user_id, now).await?;
    let fields = db::entries::EntryFields {
        user_id,
        project_id: project.id,
        task_id: input.task_id,
        started_at: now,
        ended_at: None,
        notes: &notes,
        tags: &tags,
        billable: project.billable,
        source: "timer",
    };
    let entry = match db::entries::insert(&mut tx, &fields).await {
        Ok(entry) => entry,
        Err(e) if db::is_unique_violation(&e) => return Err(already_running()),
        Err(e) => return Err(e.into()),
    };
    if let Some(previous) = &stopped {
        let duration_seconds = previous.duration_seconds.unwrap_or_default();
        record(
            &mut tx,
            Some(user_id),
            &Event::TimerStopped { duration_seconds },
        )
        .await?;
    }
    let started = Event::TimerStarted {
        has_task: entry.task_id.is_some(),
        has_notes: !entry.notes.is_empty(),
        tag_count: entry.tags.len(),
        stopped_previous: stopped.is_some(),
    };
    record(&mut tx, Some(user_id), &started).await?;
    tx.commit().await?;
    who.record_use(pool, touch).await?;
    metrics::counter!(TIME_ENTRIES_CREATED, "source" => "timer").increment(1);
    Ok(entry)
}

/// What the running timer becomes; `started_at: None` keeps its start.
#[derive(Debug, Clone, Default)]
pub struct EditTimer {
    pub project_id: i64,
    pub task_id: Option<i64>,
    pub notes: String,
    pub tags: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
}

fn no_timer() -> AppError {
    AppError::Conflict {
        code: "no_timer_running",
        message: "No timer is running.".into(),
    }
}

/// Changes the running timer in place: project, task, notes, tags, and its
/// start ("I started 20 minutes ago"): not in the future, at most 24 hours
/// ago, and not over another entry unless overlaps are allowed.
pub async fn edit(pool: &PgPool, actor: &Actor, input: &EditTimer) -> Result<Entry, AppError> {
    let notes = parse_notes(&input.notes)?;
    let tags = parse_tags(&input.tags)?;
    let mut tx = pool.begin().await?;
    let context = lock_for_write(&mut tx, actor.user_id, input.project_id, input.task_id).await?;
    let running = db::entries::running(&mut tx, actor.user_id)
        .await?
        .ok_or_else(no_timer)?
        .entry;
    let (settings, project) = checked(context, input.task_id)?;
    let now = Utc::now();
    let start = input.started_at.unwrap_or(running.started_at);
    if start > now {
        return Err(ValidationError::new("start", "The start cannot be in the future.").into());
    }
    if start < now - Duration::seconds(MAX_ENTRY_SECONDS) {
        return Err(ValidationError::new(
            "start",
            "A timer runs at most 24 hours: start it at most 24 hours ago.",
        )
        .into());
    }
    if start < running.started_at
        && let Ok(times) = EntryTimes::new(start, now, now)
    {
        refuse_overlap(&mut tx, &settings, actor.user_id, &times, Some(running.id)).await?;
    }
    let changed_project = project.id != running.project_id;
    let fields = db::entries::EntryFields {
        user_id: actor.user_id,
        project_id: project.id,
        task_id: input.task_id,
        started_at: start,
        ended_at: None,
        notes: &notes,
        tags: &tags,
        billable: if changed_project {
            project.billable
        } else {
            running.billable
        },
        source: &running.source,
    };
    let entry = db::entries::update(&mut tx, running.id, &fields)
        .await?
        .ok_or_else(no_timer)?;
    record(
        &mut tx,
        Some(actor.user_id),
        &Event::TimerEdited {
            changed_start: start != running.started_at,
            changed_project,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(entry)
}

/// Stops the caller's running timer (409 `no_timer_running` when none runs).
/// A timer left running for more than 24 hours is stopped at 24 hours.
pub async fn stop(pool: &PgPool, who: Who<'_>) -> Result<Entry, AppError> {
    let mut tx = pool.begin().await?;
    let (user_id, touch) = db::entries::lock_user(&mut tx, who.whose())
        .await?
        .ok_or_else(|| who.nobody())?;
    let Some(entry) = db::entries::stop_running(&mut tx, user_id, Utc::now()).await? else {
        return Err(no_timer());
    };
    let duration_seconds = entry.duration_seconds.unwrap_or_default();
    record(
        &mut tx,
        Some(user_id),
        &Event::TimerStopped { duration_seconds },
    )
    .await?;
    tx.commit().await?;
    who.record_use(pool, touch).await?;
    Ok(entry)
}

/// Starts a new timer with the project, task, notes and tags of one of the caller's entries.
pub async fn restart(pool: &PgPool, actor: &Actor, entry_id: i64) -> Result<Entry, AppError> {
    let source = {
        let mut conn = pool.acquire().await?;
        db::entries::get(&mut conn, entry_id)
            .await?
            .ok_or(AppError::NotFound)?
            .entry
    };
    if source.user_id != actor.user_id {
        return Err(AppError::NotFound);
    }
    let input = StartTimer {
        project_id: source.project_id,
        task_id: source.task_id,
        notes: source.notes,
        tags: source.tags,
    };
    start(pool, Who::Checked(actor), &input).await
}

/// The caller's running timer, if any.
pub async fn active(pool: &PgPool, actor: &Actor) -> Result<Option<NamedEntry>, AppError> {
    let mut conn = pool.acquire().await?;
    Ok(db::entries::running(&mut conn, actor.user_id).await?)
}
