//! Clients, projects and tasks: admins create, edit, archive and delete them;
//! everyone picks from the active ones. Archiving hides an item from pickers
//! and keeps its entries; deleting is refused while entries depend on it.

use chrono::NaiveDate;
use sqlx::PgPool;

use super::Actor;
use crate::{
    analytics::{Event, record},
    db::{self, clients::ClientFields, projects::ProjectFields, tasks::TaskFields},
    domain::{
        Email, ValidationError,
        tracking::{parse_cents, parse_date, parse_name},
    },
    error::AppError,
};

/// Raw client form or API fields.
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub default_hourly_rate: String,
}

fn client_fields(input: &ClientInput) -> Result<ClientFields, ValidationError> {
    let email = input.email.trim();
    if !email.is_empty() {
        Email::parse(email)?;
    }
    let short = |field: &'static str, v: &str, max: usize| {
        let v = v.trim();
        if v.chars().count() > max {
            Err(ValidationError::new(
                field,
                format!("At most {max} characters."),
            ))
        } else {
            Ok(v.to_owned())
        }
    };
    Ok(ClientFields {
        name: parse_name(&input.name)?,
        contact_name: short("contact_name", &input.contact_name, 200)?,
        email: email.to_owned(),
        phone: short("phone", &input.phone, 50)?,
        default_hourly_rate_cents: parse_cents("default_hourly_rate", &input.default_hourly_rate)?,
    })
}

fn name_taken(what: &str) -> AppError {
    AppError::Conflict {
        code: "name_taken",
        message: format!("A {what} with this name exists already."),
    }
}

pub async fn create_client(
    pool: &PgPool,
    actor: &Actor,
    input: &ClientInput,
) -> Result<i64, AppError> {
    actor.require_admin()?;
    let fields = client_fields(input)?;
    let mut tx = pool.begin().await?;
    match db::clients::insert(&mut tx, &fields).await {
        Ok(id) => {
            record(
                &mut tx,
                Some(actor.user_id),
                &Event::ClientCreated {
                    has_rate: fields.default_hourly_rate_cents.is_some(),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(id)
        }
        Err(e) if db::is_unique_violation(&e) => Err(name_taken("client")),
        Err(e) => Err(e.into()),
    }
}

pub async fn update_client(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    input: &ClientInput,
) -> Result<(), AppError> {
    actor.require_admin()?;
    let fields = client_fields(input)?;
    let mut tx = pool.begin().await?;
    match db::clients::update(&mut tx, id, &fields).await {
        Ok(true) => {
            record(&mut tx, Some(actor.user_id), &Event::ClientUpdated).await?;
            tx.commit().await?;
            Ok(())
        }
        Ok(false) => Err(AppError::NotFound),
        Err(e) if db::is_unique_violation(&e) => Err(name_taken("client")),
        Err(e) => Err(e.into()),
    }
}

pub async fn archive_client(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    archived: bool,
) -> Result<(), AppError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    if !db::clients::set_archived(&mut tx, id, archived).await? {
        return Err(AppError::NotFound);
    }
    record(
        &mut tx,
        Some(actor.user_id),
        &Event::ClientArchived { archived },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_client(pool: &PgPool, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    match db::clients::delete(&mut tx, id).await {
        Ok(true) => {
            record(&mut tx, Some(actor.user_id), &Event::ClientDeleted).await?;
            tx.commit().await?;
            Ok(())
        }
        Ok(false) => Err(AppError::NotFound),
        Err(e) if is_foreign_key_violation(&e) => Err(AppError::Conflict {
            code: "client_in_use",
            message:
                "This client still has projects. Archive it instead, or delete its projects first."
                    .into(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Raw project form or API fields.
#[derive(Debug, Clone, Default)]
pub struct ProjectInput {
    pub name: String,
    pub client_id: Option<i64>,
    pub billable: bool,
    pub hourly_rate: String,
    pub estimated_hours: String,
}

async fn project_fields(pool: &PgPool, input: &ProjectInput) -> Result<ProjectFields, AppError> {
    if let Some(client_id) = input.client_id
        && db::clients::get(pool, client_id).await?.is_none()
    {
        return Err(ValidationError::new("client_id", "Choose an existing client.").into());
    }
    let estimated = input.estimated_hours.trim().replace(',', ".");
    let estimated_seconds = if estimated.is_empty() {
        None
    } else {
        let hours: f64 = estimated
            .parse()
            .ok()
            .filter(|h: &f64| h.is_finite() && *h >= 0.0 && *h <= 1_000_000.0)
            .ok_or_else(|| {
                ValidationError::new("estimated_hours", "Enter hours like 40 or 12.5.")
            })?;
        Some((hours * 3600.0).round() as i64)
    };
    Ok(ProjectFields {
        name: parse_name(&input.name)?,
        client_id: input.client_id,
        billable: input.billable,
        hourly_rate_cents: parse_cents("hourly_rate", &input.hourly_rate)?,
        estimated_seconds,
    })
}

pub async fn create_project(
    pool: &PgPool,
    actor: &Actor,
    input: &ProjectInput,
) -> Result<i64, AppError> {
    actor.require_admin()?;
    let fields = project_fields(pool, input).await?;
    let mut tx = pool.begin().await?;
    match db::projects::insert(&mut tx, &fields).await {
        Ok(id) => {
            record(
                &mut tx,
                Some(actor.user_id),
                &Event::ProjectCreated {
                    has_client: fields.client_id.is_some(),
                    billable: fields.billable,
                },
            )
            .await?;
            tx.commit().await?;
            Ok(id)
        }
        Err(e) if db::is_unique_violation(&e) => Err(name_taken("project")),
        Err(e) => Err(e.into()),
    }
}

pub async fn update_project(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    input: &ProjectInput,
) -> Result<(), AppError> {
    actor.require_admin()?;
    let fields = project_fields(pool, input).await?;
    let mut tx = pool.begin().await?;
    match db::projects::update(&mut tx, id, &fields).await {
        Ok(true) => {
            record(&mut tx, Some(actor.user_id), &Event::ProjectUpdated).await?;
            tx.commit().await?;
            Ok(())
        }
        Ok(false) => Err(AppError::NotFound),
        Err(e) if db::is_unique_violation(&e) => Err(name_taken("project")),
        Err(e) => Err(e.into()),
    }
}

pub async fn archive_project(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    archived: bool,
) -> Result<(), AppError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    if !db::projects::set_archived(&mut tx, id, archived).await? {
        return Err(AppError::NotFound);
    }
    record(
        &mut tx,
        Some(actor.user_id),
        &Event::ProjectArchived { archived },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_project(pool: &PgPool, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    match db::projects::delete(&mut tx, id).await {
        Ok(true) => {
            record(&mut tx, Some(actor.user_id), &Event::ProjectDeleted).await?;
            tx.commit().await?;
            Ok(())
        }
        Ok(false) => Err(AppError::NotFound),
        Err(e) if is_foreign_key_violation(&e) => Err(AppError::Conflict {
            code: "project_in_use",
            message: "This project has time entries. Archive it instead to keep them.".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Raw task form or API fields.
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    pub project_id: i64,
    pub name: String,
    pub priority: String,
    pub assignee_id: Option<i64>,
    pub due_date: String,
}

pub const TASK_STATUSES: [&str; 3] = ["todo", "in_progress", "done"];
pub const TASK_PRIORITIES: [&str; 4] = ["low", "medium", "high", "urgent"];

pub async fn create_task(pool: &PgPool, actor: &Actor, input: &TaskInput) -> Result<i64, AppError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    if db::projects::get(&mut tx, input.project_id)
        .await?
        .is_none_or(|p| p.archived)
    {
        return Err(ValidationError::new("project_id", "Choose an active project.").into());
    }
    let priority = if input.priority.trim().is_empty() {
        "medium"
    } else {
        input.priority.trim()
    };
    if !TASK_PRIORITIES.contains(&priority) {
        return Err(ValidationError::new("priority", "Choose low, medium, high or urgent.").into());
    }
    let due_date: Option<NaiveDate> = if input.due_date.trim().is_empty() {
        None
    } else {
        Some(parse_date("due_date", &input.due_date)?)
    };
    let fields = TaskFields {
        project_id: input.project_id,
        name: parse_name(&input.name)?,
        status: "todo".into(),
        priority: priority.into(),
        assignee_id: input.assignee_id,
        due_date,
    };
    match db::tasks::insert(&mut tx, &fields).await {
        Ok(id) => {
            record(
                &mut tx,
                Some(actor.user_id),
                &Event::TaskCreated {
                    priority: TASK_PRIORITIES
                        .into_iter()
                        .find(|p| *p == fields.priority)
                        .unwrap_or("medium"),
                    has_assignee: fields.assignee_id.is_some(),
                    has_due_date: fields.due_date.is_some(),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(id)
        }
        Err(e) if is_foreign_key_violation(&e) => {
            Err(ValidationError::new("assignee_id", "Choose an existing user.").into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Admins and the task's assignee may move a task between statuses.
pub async fn set_task_status(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    status: &str,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let task = db::tasks::get(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Authorisation before validation: others learn nothing from the input.
    if !actor.is_admin && task.assignee_id != Some(actor.user_id) {
        return Err(AppError::Forbidden(
            "Only administrators and the assignee can change this task.".into(),
        ));
    }
    if !TASK_STATUSES.contains(&status) {
        return Err(ValidationError::new("status", "Choose todo, in_progress or done.").into());
    }
    db::tasks::set_status(&mut tx, id, status).await?;
    let known = |s: &str| {
        TASK_STATUSES
            .into_iter()
            .find(|k| *k == s)
            .unwrap_or("todo")
    };
    record(
        &mut tx,
        Some(actor.user_id),
        &Event::TaskStatusChanged {
            from: known(&task.status),
            to: known(status),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_task(pool: &PgPool, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    if !db::tasks::delete(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    record(&mut tx, Some(actor.user_id), &Event::TaskDeleted).await?;
    tx.commit().await?;
    Ok(())
}

fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23503"))
}
