//! Manual entries: create, edit, delete, with the validation and overlap rules.

use crate::observability::metrics::TIME_ENTRIES_CREATED;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::Actor;
use crate::{
    analytics::{Event, record},
    db::{
        self,
        callers::Whose,
        entries::{Entry, NamedEntry, WriteContext},
        projects::Project,
        settings::Settings,
    },
    domain::{
        ValidationError,
        tracking::{EntryTimes, parse_notes, parse_tags},
    },
    error::AppError,
};

/// Fields of a finished entry, times already resolved to UTC instants.
#[derive(Debug, Clone)]
pub struct EntryInput {
    pub project_id: i64,
    pub task_id: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub notes: String,
    pub tags: Vec<String>,
    /// `None` takes the project's billable flag.
    pub billable: Option<bool>,
}

/// The project must exist and not be archived; the task must belong to it.
pub(super) async fn check_project_and_task(
    conn: &mut PgConnection,
    project_id: i64,
    task_id: Option<i64>,
) -> Result<Project, AppError> {
    let project = db::projects::get(conn, project_id).await?;
    let task_project_id = match task_id {
        Some(task_id) => db::tasks::get(conn, task_id).await?.map(|t| t.project_id),
        None => None,
    };
    active_project(project, task_id, task_project_id)
}

/// [`check_project_and_task`] on what [`lock_for_write`] read: the settings,
/// and the project the write may use.
pub(super) fn checked(
    context: WriteContext,
    task_id: Option<i64>,
) -> Result<(Settings, Project), AppError> {
    let project = active_project(context.project, task_id, context.task_project_id)?;
    Ok((context.settings, project))
}

/// The project must exist and not be archived; the task (whose project is
/// `task_project_id`, `None` if it does not exist) must belong to it.
fn active_project(
    project: Option<Project>,
    task_id: Option<i64>,
    task_project_id: Option<i64>,
) -> Result<Project, AppError> {
    let project = project
        .filter(|p| !p.archived)
        .ok_or_else(|| ValidationError::new("project_id", "Choose an active project."))?;
    if task_id.is_some() && task_project_id != Some(project.id) {
        return Err(
            ValidationError::new("task_id", "Choose a task of the selected project.").into(),
        );
    }
    Ok(project)
}

/// Locks the user's entries for the rest of the transaction and reads what
/// the write checks (404 when there is no such user).
pub(super) async fn lock_for_write(
    conn: &mut PgConnection,
    user_id: i64,
    project_id: i64,
    task_id: Option<i64>,
) -> Result<WriteContext, AppError> {
    db::entries::lock_for_write(conn, Whose::User(user_id), project_id, task_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// 409 `overlapping_time_entry` when `times` overlap another of the user's
/// entries (but `except`), unless the settings allow overlaps.
pub(super) async fn refuse_overlap(
    conn: &mut PgConnection,
    settings: &Settings,
    user_id: i64,
    times: &EntryTimes,
    except: Option<i64>,
) -> Result<(), AppError> {
    if settings.allow_overlaps {
        return Ok(());
    }
    if db::entries::overlaps(conn, user_id, times.start, times.end, except).await? {
        return Err(AppError::Conflict {
            code: "overlapping_time_entry",
            message: "This overlaps another of your entries. Change the times or that entry."
                .into(),
        });
    }
    Ok(())
}

/// Creates a finished entry for `owner_id` (the caller, or anyone for a
/// manager or administrator).
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    owner_id: i64,
    input: &EntryInput,
) -> Result<Entry, AppError> {
    actor.require_owner(owner_id)?;
    let times = EntryTimes::new(input.start, input.end, Utc::now())?;
    let notes = parse_notes(&input.notes)?;
    let tags = parse_tags(&input.tags)?;
    let mut tx = pool.begin().await?;
    let (settings, project) = checked(
        lock_for_write(&mut tx, owner_id, input.project_id, input.task_id).await?,
        input.task_id,
    )?;
    refuse_overlap(&mut tx, &settings, owner_id, &times, None).await?;
    let fields = db::entries::EntryFields {
        user_id: owner_id,
        project_id: project.id,
        task_id: input.task_id,
        started_at: times.start,
        ended_at: Some(times.end),
        notes: &notes,
        tags: &tags,
        billable: input.billable.unwrap_or(project.billable),
        source: "manual",
    };
    let entry = db::entries::insert(&mut tx, &fields).await?;
    record(
        &mut tx,
        Some(actor.user_id),
        &Event::EntryCreated {
            duration_seconds: entry.duration_seconds.unwrap_or_default(),
            has_task: entry.task_id.is_some(),
            billable: entry.billable,
        },
    )
    .await?;
    tx.commit().await?;
    metrics::counter!(TIME_ENTRIES_CREATED, "source" => "manual").increment(1);
    Ok(entry)
}

/// An entry the caller may see (their own, or any for a manager or administrator).
pub async fn get(pool: &PgPool, actor: &Actor, id: i64) -> Result<NamedEntry, AppError> {
    let mut conn = pool.acquire().await?;
    let named = db::entries::get(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    actor.require_owner(named.entry.user_id)?;
    Ok(named)
}

/// Edits a finished entry. A running timer is stopped, not edited.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    input: &EntryInput,
) -> Result<Entry, AppError> {
    let times = EntryTimes::new(input.start, input.end, Utc::now())?;
    let notes = parse_notes(&input.notes)?;
    let tags = parse_tags(&input.tags)?;
    let mut tx = pool.begin().await?;
    let existing = db::entries::get(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?
        .entry;
    actor.require_owner(existing.user_id)?;
    if existing.ended_at.is_none() {
        return Err(AppError::Conflict {
            code: "timer_running",
            message: "Stop the timer before editing this entry.".into(),
        });
    }
    let (settings, project) = checked(
        lock_for_write(&mut tx, existing.user_id, input.project_id, input.task_id).await?,
        input.task_id,
    )?;
    refuse_overlap(&mut tx, &settings, existing.user_id, &times, Some(id)).await?;
    let fields = db::entries::EntryFields {
        user_id: existing.user_id,
        project_id: project.id,
        task_id: input.task_id,
        started_at: times.start,
        ended_at: Some(times.end),
        notes: &notes,
        tags: &tags,
        billable: input.billable.unwrap_or(project.billable),
        source: &existing.source,
    };
    let entry = db::entries::update(&mut tx, id, &fields)
        .await?
        .ok_or(AppError::NotFound)?;
    record(
        &mut tx,
        Some(actor.user_id),
        &Event::EntryUpdated {
            duration_seconds: entry.duration_seconds.unwrap_or_default(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(entry)
}

pub async fn delete(pool: &PgPool, actor: &Actor, id: i64) -> Result<Entry, AppError> {
    let mut tx = pool.begin().await?;
    let existing = db::entries::get(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?
        .entry;
    actor.require_owner(existing.user_id)?;
    db::entries::delete(&mut tx, id).await?;
    record(&mut tx, Some(actor.user_id), &Event::EntryDeleted).await?;
    tx.commit().await?;
    Ok(existing)
}

/// Most entries one bulk action may touch.
pub const MAX_BULK: usize = 500;

/// What a bulk action does to each entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    Delete,
    /// Moves the entries to this project (a task of another project is dropped).
    MoveToProject(i64),
    SetBillable(bool),
}

/// Applies `action` to each of `ids` on its own (one entry's failure leaves
/// the others done), with the same rules and events as the single actions.
/// Returns each id with its outcome, in the order given.
pub async fn bulk(
    pool: &PgPool,
    actor: &Actor,
    ids: &[i64],
    action: BulkAction,
) -> Result<Vec<(i64, Result<(), AppError>)>, AppError> {
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(ValidationError::new("ids", "Choose 1 to 500 entries.").into());
    }
    let mut outcomes = Vec::with_capacity(ids.len());
    for &id in ids {
        let outcome = match action {
            BulkAction::Delete => delete(pool, actor, id).await.map(|_| ()),
            BulkAction::MoveToProject(project_id) => {
                change(pool, actor, id, |e, input| {
                    if input.project_id != project_id {
                        input.task_id = None;
                    }
                    input.project_id = project_id;
                    input.billable = Some(e.billable);
                })
                .await
            }
            BulkAction::SetBillable(billable) => {
                change(pool, actor, id, |_, input| input.billable = Some(billable)).await
            }
        };
        outcomes.push((id, outcome));
    }
    Ok(outcomes)
}

/// Edits one finished entry through [`update`], starting from what it holds.
async fn change(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    edit: impl FnOnce(&Entry, &mut EntryInput),
) -> Result<(), AppError> {
    let entry = get(pool, actor, id).await?.entry;
    let Some(end) = entry.ended_at else {
        return Err(AppError::Conflict {
            code: "timer_running",
            message: "Stop the timer before editing this entry.".into(),
        });
    };
    let mut input = EntryInput {
        project_id: entry.project_id,
        task_id: entry.task_id,
        start: entry.started_at,
        end,
        notes: entry.notes.clone(),
        tags: entry.tags.clone(),
        billable: Some(entry.billable),
    };
    edit(&entry, &mut input);
    update(pool, actor, id, &input).await.map(|_| ())
}
