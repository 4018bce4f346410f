//! Clients, projects and tasks: managers and administrators create, edit,
//! archive and delete them;
//! everyone picks from the active ones. Archiving hides an item from pickers
//! and keeps its entries; deleting is refused while something depends on it.
//!
//! The three share one shape, kept here once: a [`Resource`] says how to
//! check its input and store it and which product event each write emits, and
//! [`create`], [`update`], [`archive`] and [`delete`] do the rest the same way
//! for all of them (authorise first, validate, one transaction with the event,
//! name clashes and references mapped to clear 409s). The web pages and the
//! JSON API call these, so both emit the same events.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

use super::Actor;
use crate::{
    analytics::{Event, record},
    db::{self, clients::ClientFields, projects::ProjectFields, tasks::TaskFields},
    domain::{Email, Permission, ValidationError, tracking::parse_name},
    error::AppError,
};

/// Largest amount of money a rate may be, in cents (ten million a hour).
pub const MAX_CENTS: i64 = 1_000_000_000;
/// Largest project estimate, in seconds (a million hours).
pub const MAX_ESTIMATE_SECONDS: i64 = 3_600_000_000;

/// What the shared writes need to know about one kind of catalogue item.
pub trait Resource {
    /// The item's kind, for messages ("client").
    const NOUN: &'static str;
    /// Input as the web form and the API give it, typed but not yet checked.
    type Input: Sync;
    /// Checked fields, ready to store.
    type Fields: Send + Sync;

    /// Checks `input`; may look at the database (e.g. that a client exists).
    fn validate(
        conn: &mut PgConnection,
        input: &Self::Input,
    ) -> impl Future<Output = Result<Self::Fields, AppError>> + Send;
    fn insert(
        conn: &mut PgConnection,
        fields: &Self::Fields,
    ) -> impl Future<Output = Result<i64, sqlx::Error>> + Send;
    /// False when there is no such item.
    fn update(
        conn: &mut PgConnection,
        id: i64,
        fields: &Self::Fields,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
    /// False when there is no such item.
    fn delete(
        conn: &mut PgConnection,
        id: i64,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;

    fn created(fields: &Self::Fields) -> Event;
    fn updated() -> Event;
    fn deleted() -> Event;
    /// The answer when a delete is refused because something still refers to the item.
    fn in_use() -> AppError;
}

/// A [`Resource`] that can be archived and restored.
pub trait Archivable: Resource {
    fn set_archived(
        conn: &mut PgConnection,
        id: i64,
        archived: bool,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
    fn archived(archived: bool) -> Event;
}

fn name_taken(noun: &str) -> AppError {
    AppError::Conflict {
        code: "name_taken",
        message: format!("A {noun} with this name exists already."),
    }
}

fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23503"))
}

/// Creates an item; returns its id.
pub async fn create<R: Resource>(
    pool: &PgPool,
    actor: &Actor,
    input: &R::Input,
) -> Result<i64, AppError> {
    actor.require(Permission::ManageCatalog)?;
    let mut tx = pool.begin().await?;
    let fields = R::validate(&mut tx, input).await?;
    match R::insert(&mut tx, &fields).await {
        Ok(id) => {
            record(&mut tx, Some(actor.user_id), &R::created(&fields)).await?;
            tx.commit().await?;
            Ok(id)
        }
        Err(e) if db::is_unique_violation(&e) => Err(name_taken(R::NOUN)),
        Err(e) => Err(e.into()),
    }
}

/// Replaces an item's fields.
pub async fn update<R: Resource>(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    input: &R::Input,
) -> Result<(), AppError> {
    actor.require(Permission::ManageCatalog)?;
    let mut tx = pool.begin().await?;
    let fields = R::validate(&mut tx, input).await?;
    match R::update(&mut tx, id, &fields).await {
        Ok(true) => {
            record(&mut tx, Some(actor.user_id), &R::updated()).await?;
            tx.commit().await?;
            Ok(())
        }
        Ok(false) => Err(AppError::NotFound),
        Err(e) if db::is_unique_violation(&e) => Err(name_taken(R::NOUN)),
        Err(e) => Err(e.into()),
    }
}

/// Archives (or restores) an item.
pub async fn archive<R: Archivable>(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    archived: bool,
) -> Result<(), AppError> {
    actor.require(Permission::ManageCatalog)?;
    let mut tx = pool.begin().await?;
    if !R::set_archived(&mut tx, id, archived).await? {
        return Err(AppError::NotFound);
    }
    record(&mut tx, Some(actor.user_id), &R::archived(archived)).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes an item, unless something still refers to it.
pub async fn delete<R: Resource>(pool: &PgPool, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Permission::ManageCatalog)?;
    let mut tx = pool.begin().await?;
    match R::delete(&mut tx, id).await {
        Ok(true) => {
            record(&mut tx, Some(actor.user_id), &R::deleted()).await?;
            tx.commit().await?;
            Ok(())
        }
        Ok(false) => Err(AppError::NotFound),
        Err(e) if is_foreign_key_violation(&e) => Err(R::in_use()),
        Err(e) => Err(e.into()),
    }
}

fn cents(field: &'static str, value: Option<i64>) -> Result<Option<i64>, ValidationError> {
    match value {
        Some(c) if !(0..=MAX_CENTS).contains(&c) => Err(ValidationError::new(
            field,
            "Enter an amount from 0 to 10,000,000.",
        )),
        v => Ok(v),
    }
}

fn short(field: &'static str, v: &str, max: usize) -> Result<String, ValidationError> {
    let v = v.trim();
    if v.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("At most {max} characters."),
        ));
    }
    crate::domain::text::visible(field, v)?;
    Ok(v.to_owned())
}

// ---- clients ----

/// A client's fields as given.
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub default_hourly_rate_cents: Option<i64>,
}

pub struct Clients;

impl Resource for Clients {
    const NOUN: &'static str = "client";
    type Input = ClientInput;
    type Fields = ClientFields;

    async fn validate(_: &mut PgConnection, input: &ClientInput) -> Result<ClientFields, AppError> {
        let email = input.email.trim();
        if !email.is_empty() {
            Email::parse(email)?;
        }
        Ok(ClientFields {
            name: parse_name(&input.name)?,
            contact_name: short("contact_name", &input.contact_name, 200)?,
            email: email.to_owned(),
            phone: short("phone", &input.phone, 50)?,
            default_hourly_rate_cents: cents(
                "default_hourly_rate",
                input.default_hourly_rate_cents,
            )?,
        })
    }
    async fn insert(conn: &mut PgConnection, f: &ClientFields) -> Result<i64, sqlx::Error> {
        db::clients::insert(conn, f).await
    }
    async fn update(
        conn: &mut PgConnection,
        id: i64,
        f: &ClientFields,
    ) -> Result<bool, sqlx::Error> {
        db::clients::update(conn, id, f).await
    }
    async fn delete(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
        db::clients::delete(conn, id).await
    }
    fn created(f: &ClientFields) -> Event {
        Event::ClientCreated {
            has_rate: f.default_hourly_rate_cents.is_some(),
        }
    }
    fn updated() -> Event {
        Event::ClientUpdated
    }
    fn deleted() -> Event {
        Event::ClientDeleted
    }
    fn in_use() -> AppError {
        AppError::Conflict {
            code: "client_in_use",
            message:
                "This client still has projects or invoices. Archive it instead, or delete its projects first."
                    .into(),
        }
    }
}

impl Archivable for Clients {
    async fn set_archived(
        conn: &mut PgConnection,
        id: i64,
        archived: bool,
    ) -> Result<bool, sqlx::Error> {
        db::clients::set_archived(conn, id, archived).await
    }
    fn archived(archived: bool) -> Event {
        Event::ClientArchived { archived }
    }
}

// ---- projects ----

/// A project's fields as given.
#[derive(Debug, Clone, Default)]
pub struct ProjectInput {
    pub name: String,
    pub client_id: Option<i64>,
    pub billable: bool,
    pub hourly_rate_cents: Option<i64>,
    pub estimated_seconds: Option<i64>,
}

pub struct Projects;

impl Resource for Projects {
    const NOUN: &'static str = "project";
    type Input = ProjectInput;
    type Fields = ProjectFields;

    async fn validate(
        conn: &mut PgConnection,
        input: &ProjectInput,
    ) -> Result<ProjectFields, AppError> {
        if let Some(client_id) = input.client_id
            && !db::clients::exists(&mut *conn, client_id).await?
        {
            return Err(ValidationError::new("client_id", "Choose an existing client.").into());
        }
        if input
            .estimated_seconds
            .is_some_and(|s| !(0..=MAX_ESTIMATE_SECONDS).contains(&s))
        {
            return Err(ValidationError::new(
                "estimated_hours",
                "Enter an estimate from 0 to 1,000,000 hours.",
            )
            .into());
        }
        Ok(ProjectFields {
            name: parse_name(&input.name)?,
            client_id: input.client_id,
            billable: input.billable,
            hourly_rate_cents: cents("hourly_rate", input.hourly_rate_cents)?,
            estimated_seconds: input.estimated_seconds,
        })
    }
    async fn insert(conn: &mut PgConnection, f: &ProjectFields) -> Result<i64, sqlx::Error> {
        db::projects::insert(conn, f).await
    }
    async fn update(
        conn: &mut PgConnection,
        id: i64,
        f: &ProjectFields,
    ) -> Result<bool, sqlx::Error> {
        db::projects::update(conn, id, f).await
    }
    async fn delete(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
        db::projects::delete(conn, id).await
    }
    fn created(f: &ProjectFields) -> Event {
        Event::ProjectCreated {
            has_client: f.client_id.is_some(),
            billable: f.billable,
        }
    }
    fn updated() -> Event {
        Event::ProjectUpdated
    }
    fn deleted() -> Event {
        Event::ProjectDeleted
    }
    fn in_use() -> AppError {
        AppError::Conflict {
            code: "project_in_use",
            message: "This project has time entries. Archive it instead to keep them.".into(),
        }
    }
}

impl Archivable for Projects {
    async fn set_archived(
        conn: &mut PgConnection,
        id: i64,
        archived: bool,
    ) -> Result<bool, sqlx::Error> {
        db::projects::set_archived(conn, id, archived).await
    }
    fn archived(archived: bool) -> Event {
        Event::ProjectArchived { archived }
    }
}

// ---- tasks ----

/// How urgent a task is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskPriority {
    Low,
    #[default]
    Medium,
    High,
    Urgent,
}

impl TaskPriority {
    pub const ALL: [Self; 4] = [Self::Low, Self::Medium, Self::High, Self::Urgent];

    /// A form value (empty means medium), or a message for the field.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim() {
            "" => Ok(Self::Medium),
            v => Self::ALL
                .into_iter()
                .find(|p| p.as_str() == v)
                .ok_or_else(|| {
                    ValidationError::new("priority", "Choose low, medium, high or urgent.")
                }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }
}

/// A task's fields as given.
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    pub project_id: i64,
    pub name: String,
    pub priority: TaskPriority,
    pub assignee_id: Option<i64>,
    pub due_date: Option<NaiveDate>,
}

pub const TASK_STATUSES: [&str; 3] = ["todo", "in_progress", "done"];

pub struct Tasks;

impl Resource for Tasks {
    const NOUN: &'static str = "task";
    type Input = TaskInput;
    type Fields = TaskFields;

    async fn validate(conn: &mut PgConnection, input: &TaskInput) -> Result<TaskFields, AppError> {
        if db::projects::get(&mut *conn, input.project_id)
            .await?
            .is_none_or(|p| p.archived)
        {
            return Err(ValidationError::new("project_id", "Choose an active project.").into());
        }
        if let Some(user) = input.assignee_id
            && !db::users::exists(&mut *conn, user).await?
        {
            return Err(ValidationError::new("assignee_id", "Choose an existing user.").into());
        }
        if input.due_date.is_some_and(|d| {
            !crate::domain::tracking::SANE_YEARS.contains(&chrono::Datelike::year(&d))
        }) {
            return Err(
                ValidationError::new("due_date", "Enter a year between 1900 and 9999.").into(),
            );
        }
        Ok(TaskFields {
            project_id: input.project_id,
            name: parse_name(&input.name)?,
            priority: input.priority.as_str().to_owned(),
            assignee_id: input.assignee_id,
            due_date: input.due_date,
        })
    }
    async fn insert(conn: &mut PgConnection, f: &TaskFields) -> Result<i64, sqlx::Error> {
        db::tasks::insert(conn, f).await
    }
    async fn update(conn: &mut PgConnection, id: i64, f: &TaskFields) -> Result<bool, sqlx::Error> {
        db::tasks::update(conn, id, f).await
    }
    async fn delete(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
        db::tasks::delete(conn, id).await
    }
    fn created(f: &TaskFields) -> Event {
        Event::TaskCreated {
            priority: TaskPriority::parse(&f.priority)
                .unwrap_or_default()
                .as_str(),
            has_assignee: f.assignee_id.is_some(),
            has_due_date: f.due_date.is_some(),
        }
    }
    fn updated() -> Event {
        Event::TaskUpdated
    }
    fn deleted() -> Event {
        Event::TaskDeleted
    }
    fn in_use() -> AppError {
        // Entries keep their time when their task goes (the reference is set to null).
        AppError::Conflict {
            code: "task_in_use",
            message: "This task is still referred to.".into(),
        }
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
    if !actor.can(Permission::ManageCatalog) && task.assignee_id != Some(actor.user_id) {
        return Err(AppError::Forbidden(
            "Only administrators, managers and the assignee can change this task.".into(),
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
