//! Clients, projects and tasks: everyone reads them; administrators and managers create,
//! change, archive and delete them through the same `tracking::catalog`
//! functions as the pages (so the same checks and product events). Writes
//! take `CatalogManager` first, so a plain user gets 403 before the body is read.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ErrorEnvelope, Json, Private};
use crate::{
    auth::{CatalogManager, CurrentUser},
    db::{self, clients::Client, projects::Project, tasks::Task, users::User},
    error::AppError,
    http::extract::{Path, Query},
    state::AppState,
    tracking::{
        Actor,
        catalog::{
            self, ClientInput, Clients, MAX_CENTS, ProjectInput, Projects, TaskInput, TaskPriority,
            Tasks,
        },
    },
};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ArchivedQuery {
    include_archived: bool,
}

// ---- clients ----

#[derive(Serialize, ToSchema)]
pub struct ClientJson {
    id: i64,
    name: String,
    contact_name: String,
    email: String,
    phone: String,
    /// Only for administrators and managers: absent for a plain user.
    #[serde(skip_serializing_if = "Private::is_hidden")]
    #[schema(value_type = Option<i64>, required = false)]
    default_hourly_rate_cents: Private<Option<i64>>,
    archived: bool,
}

impl ClientJson {
    /// `c` as `viewer` may read it.
    fn seen_by(c: Client, viewer: &User) -> Self {
        Self {
            id: c.id,
            name: c.name,
            contact_name: c.contact_name,
            email: c.email,
            phone: c.phone,
            default_hourly_rate_cents: Private::for_rates(viewer, c.default_hourly_rate_cents),
            archived: c.archived,
        }
    }
}

/// A client as written: `name` is required (1–200 characters, unique
/// ignoring case); the rest may be left out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    #[schema(pattern = r"\S", max_length = 200)]
    name: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    contact_name: String,
    /// An email address, or empty.
    #[serde(default)]
    #[schema(
        pattern = r"^\s*([^@\s]+@[^@\s.][^@\s]*\.[^@\s]*[^@\s.])?\s*$",
        max_length = 254
    )]
    email: String,
    #[serde(default)]
    #[schema(max_length = 50)]
    phone: String,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    default_hourly_rate_cents: Option<i64>,
}

impl From<ClientBody> for ClientInput {
    fn from(b: ClientBody) -> Self {
        Self {
            name: b.name,
            contact_name: b.contact_name,
            email: b.email,
            phone: b.phone,
            default_hourly_rate_cents: b.default_hourly_rate_cents,
        }
    }
}

async fn client(state: &AppState, id: i64, viewer: &User) -> Result<ClientJson, AppError> {
    let c = db::clients::get(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(ClientJson::seen_by(c, viewer))
}

/// Clients (active ones unless `include_archived=true`).
#[utoipa::path(get, path = "/api/v1/clients", tag = "catalog", params(ArchivedQuery),
    responses((status = 200, body = Vec<ClientJson>)))]
pub async fn clients(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(q): Query<ArchivedQuery>,
) -> Result<Json<Vec<ClientJson>>, AppError> {
    let list = db::clients::list(&state.pool, q.include_archived).await?;
    Ok(Json(
        list.into_iter()
            .map(|c| ClientJson::seen_by(c, &current.user))
            .collect(),
    ))
}

/// Creates a client (managers and administrators).
#[utoipa::path(post, path = "/api/v1/clients", tag = "catalog", request_body = ClientBody,
    responses((status = 201, body = ClientJson), (status = 403, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope, description = "`name_taken`"), (status = 422, body = ErrorEnvelope)))]
pub async fn create_client(
    State(state): State<AppState>,
    editor: CatalogManager,
    Json(body): Json<ClientBody>,
) -> Result<Response, AppError> {
    let id = catalog::create::<Clients>(&state.pool, &Actor::from(&editor.0), &body.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(client(&state, id, &editor.0.user).await?),
    )
        .into_response())
}

/// One client.
#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 200, body = ClientJson), (status = 404, body = ErrorEnvelope)))]
pub async fn show_client(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<ClientJson>, AppError> {
    Ok(Json(client(&state, id, &current.user).await?))
}

/// Replaces a client's fields (managers and administrators).
#[utoipa::path(put, path = "/api/v1/clients/{id}", tag = "catalog", params(("id" = i64, Path)), request_body = ClientBody,
    responses((status = 200, body = ClientJson), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope, description = "`name_taken`"), (status = 422, body = ErrorEnvelope)))]
pub async fn update_client(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
    Json(body): Json<ClientBody>,
) -> Result<Json<ClientJson>, AppError> {
    catalog::update::<Clients>(&state.pool, &Actor::from(&editor.0), id, &body.into()).await?;
    Ok(Json(client(&state, id, &editor.0.user).await?))
}

/// Deletes a client without projects (managers and administrators); 409 `client_in_use` otherwise.
#[utoipa::path(delete, path = "/api/v1/clients/{id}", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope, description = "`client_in_use`")))]
pub async fn delete_client(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    catalog::delete::<Clients>(&state.pool, &Actor::from(&editor.0), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether to archive or restore.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveBody {
    /// `true` archives (hidden from pickers, entries kept), `false` restores.
    archived: bool,
}

/// Archives or restores a client (managers and administrators).
#[utoipa::path(put, path = "/api/v1/clients/{id}/archived", tag = "catalog", params(("id" = i64, Path)), request_body = ArchiveBody,
    responses((status = 200, body = ClientJson), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn archive_client(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
    Json(body): Json<ArchiveBody>,
) -> Result<Json<ClientJson>, AppError> {
    catalog::archive::<Clients>(&state.pool, &Actor::from(&editor.0), id, body.archived).await?;
    Ok(Json(client(&state, id, &editor.0.user).await?))
}

// ---- projects ----

#[derive(Serialize, ToSchema)]
pub struct ProjectJson {
    id: i64,
    name: String,
    client_id: Option<i64>,
    billable: bool,
    /// Only for administrators and managers: absent for a plain user.
    #[serde(skip_serializing_if = "Private::is_hidden")]
    #[schema(value_type = Option<i64>, required = false)]
    hourly_rate_cents: Private<Option<i64>>,
    estimated_seconds: Option<i64>,
    archived: bool,
}

impl ProjectJson {
    /// `p` as `viewer` may read it.
    fn seen_by(p: Project, viewer: &User) -> Self {
        Self {
            id: p.id,
            name: p.name,
            client_id: p.client_id,
            billable: p.billable,
            hourly_rate_cents: Private::for_rates(viewer, p.hourly_rate_cents),
            estimated_seconds: p.estimated_seconds,
            archived: p.archived,
        }
    }
}

fn billable_by_default() -> bool {
    true
}

/// A project as written: `name` is required; `billable` defaults to true.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectBody {
    #[schema(pattern = r"\S", max_length = 200)]
    name: String,
    /// An existing client, or none.
    client_id: Option<i64>,
    #[serde(default = "billable_by_default")]
    #[schema(default = true)]
    billable: bool,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    hourly_rate_cents: Option<i64>,
    /// The time budget, at most a million hours.
    #[schema(minimum = 0, maximum = 3_600_000_000i64)]
    estimated_seconds: Option<i64>,
}

impl From<ProjectBody> for ProjectInput {
    fn from(b: ProjectBody) -> Self {
        Self {
            name: b.name,
            client_id: b.client_id,
            billable: b.billable,
            hourly_rate_cents: b.hourly_rate_cents,
            estimated_seconds: b.estimated_seconds,
        }
    }
}

async fn project(state: &AppState, id: i64, viewer: &User) -> Result<ProjectJson, AppError> {
    let p = db::projects::get(&mut *state.pool.acquire().await?, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(ProjectJson::seen_by(p, viewer))
}

/// Projects (active ones unless `include_archived=true`).
#[utoipa::path(get, path = "/api/v1/projects", tag = "catalog", params(ArchivedQuery),
    responses((status = 200, body = Vec<ProjectJson>)))]
pub async fn projects(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(q): Query<ArchivedQuery>,
) -> Result<Json<Vec<ProjectJson>>, AppError> {
    let list = db::projects::list(&state.pool, q.include_archived).await?;
    Ok(Json(
        list.into_iter()
            .map(|p| ProjectJson::seen_by(p, &current.user))
            .collect(),
    ))
}

/// Creates a project (managers and administrators).
#[utoipa::path(post, path = "/api/v1/projects", tag = "catalog", request_body = ProjectBody,
    responses((status = 201, body = ProjectJson), (status = 403, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope, description = "`name_taken`"), (status = 422, body = ErrorEnvelope)))]
pub async fn create_project(
    State(state): State<AppState>,
    editor: CatalogManager,
    Json(body): Json<ProjectBody>,
) -> Result<Response, AppError> {
    let id =
        catalog::create::<Projects>(&state.pool, &Actor::from(&editor.0), &body.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(project(&state, id, &editor.0.user).await?),
    )
        .into_response())
}

/// One project.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 200, body = ProjectJson), (status = 404, body = ErrorEnvelope)))]
pub async fn show_project(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<ProjectJson>, AppError> {
    Ok(Json(project(&state, id, &current.user).await?))
}

/// Replaces a project's fields (managers and administrators).
#[utoipa::path(put, path = "/api/v1/projects/{id}", tag = "catalog", params(("id" = i64, Path)), request_body = ProjectBody,
    responses((status = 200, body = ProjectJson), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope, description = "`name_taken`"), (status = 422, body = ErrorEnvelope)))]
pub async fn update_project(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
    Json(body): Json<ProjectBody>,
) -> Result<Json<ProjectJson>, AppError> {
    catalog::update::<Projects>(&state.pool, &Actor::from(&editor.0), id, &body.into()).await?;
    Ok(Json(project(&state, id, &editor.0.user).await?))
}

/// Deletes a project without time entries (managers and administrators); 409 `project_in_use` otherwise.
#[utoipa::path(delete, path = "/api/v1/projects/{id}", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope, description = "`project_in_use`")))]
pub async fn delete_project(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    catalog::delete::<Projects>(&state.pool, &Actor::from(&editor.0), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Archives or restores a project (managers and administrators).
#[utoipa::path(put, path = "/api/v1/projects/{id}/archived", tag = "catalog", params(("id" = i64, Path)), request_body = ArchiveBody,
    responses((status = 200, body = ProjectJson), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn archive_project(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
    Json(body): Json<ArchiveBody>,
) -> Result<Json<ProjectJson>, AppError> {
    catalog::archive::<Projects>(&state.pool, &Actor::from(&editor.0), id, body.archived).await?;
    Ok(Json(project(&state, id, &editor.0.user).await?))
}

// ---- tasks ----

#[derive(Serialize, ToSchema)]
pub struct TaskJson {
    id: i64,
    project_id: i64,
    name: String,
    status: String,
    priority: String,
    assignee_id: Option<i64>,
    due_date: Option<NaiveDate>,
}

impl From<Task> for TaskJson {
    fn from(t: Task) -> Self {
        Self {
            id: t.id,
            project_id: t.project_id,
            name: t.name,
            status: t.status,
            priority: t.priority,
            assignee_id: t.assignee_id,
            due_date: t.due_date,
        }
    }
}

/// A task as written: `project_id` (an active project) and `name` are required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskBody {
    project_id: i64,
    #[schema(pattern = r"\S", max_length = 200)]
    name: String,
    #[serde(default)]
    priority: TaskPriority,
    /// An existing user, or nobody.
    assignee_id: Option<i64>,
    due_date: Option<NaiveDate>,
}

impl From<TaskBody> for TaskInput {
    fn from(b: TaskBody) -> Self {
        Self {
            project_id: b.project_id,
            name: b.name,
            priority: b.priority,
            assignee_id: b.assignee_id,
            due_date: b.due_date,
        }
    }
}

async fn task(state: &AppState, id: i64) -> Result<TaskJson, AppError> {
    Ok(db::tasks::get(&mut *state.pool.acquire().await?, id)
        .await?
        .ok_or(AppError::NotFound)?
        .into())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    project_id: Option<i64>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<i64>,
    /// Tasks per page (default 50).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<i64>,
}

/// Tasks, optionally of one project, paginated.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "catalog", params(TaskQuery),
    responses((status = 200, body = Vec<TaskJson>, headers(("X-Total-Count" = i64, description = "Matching tasks"))),
              (status = 422, body = ErrorEnvelope)))]
pub async fn tasks(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(q): Query<TaskQuery>,
) -> Result<(HeaderMap, Json<Vec<TaskJson>>), AppError> {
    let (limit, offset) = super::entries::pagination(q.page, q.per_page)?;
    let (list, total) = db::tasks::list(&state.pool, q.project_id, limit, offset).await?;
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    Ok((headers, Json(list.into_iter().map(Into::into).collect())))
}

/// Creates a task (managers and administrators).
#[utoipa::path(post, path = "/api/v1/tasks", tag = "catalog", request_body = TaskBody,
    responses((status = 201, body = TaskJson), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_task(
    State(state): State<AppState>,
    editor: CatalogManager,
    Json(body): Json<TaskBody>,
) -> Result<Response, AppError> {
    let id = catalog::create::<Tasks>(&state.pool, &Actor::from(&editor.0), &body.into()).await?;
    Ok((StatusCode::CREATED, Json(task(&state, id).await?)).into_response())
}

/// One task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 200, body = TaskJson), (status = 404, body = ErrorEnvelope)))]
pub async fn show_task(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<TaskJson>, AppError> {
    Ok(Json(task(&state, id).await?))
}

/// Replaces a task's fields, not its status (managers and administrators).
#[utoipa::path(put, path = "/api/v1/tasks/{id}", tag = "catalog", params(("id" = i64, Path)), request_body = TaskBody,
    responses((status = 200, body = TaskJson), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn update_task(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
    Json(body): Json<TaskBody>,
) -> Result<Json<TaskJson>, AppError> {
    catalog::update::<Tasks>(&state.pool, &Actor::from(&editor.0), id, &body.into()).await?;
    Ok(Json(task(&state, id).await?))
}

/// Deletes a task (managers and administrators); its entries keep their time and lose the task.
#[utoipa::path(delete, path = "/api/v1/tasks/{id}", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete_task(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    catalog::delete::<Tasks>(&state.pool, &Actor::from(&editor.0), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatusValue {
    Todo,
    InProgress,
    Done,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    status: TaskStatusValue,
}

/// Moves a task to another status (managers, administrators and the task's assignee).
#[utoipa::path(put, path = "/api/v1/tasks/{id}/status", tag = "catalog", params(("id" = i64, Path)), request_body = StatusBody,
    responses((status = 200, body = TaskJson), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn set_task_status(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<StatusBody>,
) -> Result<Json<TaskJson>, AppError> {
    let status = match body.status {
        TaskStatusValue::Todo => "todo",
        TaskStatusValue::InProgress => "in_progress",
        TaskStatusValue::Done => "done",
    };
    catalog::set_task_status(&state.pool, &Actor::from(&current), id, status).await?;
    Ok(Json(task(&state, id).await?))
}

// The schema attributes above need literals: the build fails if the
// service's limit moves without them.
const _: () = assert!(
    MAX_CENTS == 1_000_000_000,
    "update `maximum` of the rate fields"
);
