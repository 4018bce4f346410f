//! Read-only lists of clients, projects and tasks (changes are made in the UI).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ErrorEnvelope, Json};
use crate::{auth::CurrentUser, db, error::AppError, startup::AppState, web::extract::Query};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ArchivedQuery {
    include_archived: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ClientJson {
    id: i64,
    name: String,
    default_hourly_rate_cents: Option<i64>,
    archived: bool,
}

/// Clients (active ones unless `include_archived=true`).
#[utoipa::path(get, path = "/api/v1/clients", tag = "catalog", params(ArchivedQuery),
    responses((status = 200, body = Vec<ClientJson>), (status = 401, body = ErrorEnvelope)))]
pub async fn clients(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(q): Query<ArchivedQuery>,
) -> Result<Json<Vec<ClientJson>>, AppError> {
    let list = db::clients::list(&state.pool, q.include_archived).await?;
    Ok(Json(
        list.into_iter()
            .map(|c| ClientJson {
                id: c.id,
                name: c.name,
                default_hourly_rate_cents: c.default_hourly_rate_cents,
                archived: c.archived,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ProjectJson {
    id: i64,
    name: String,
    client_id: Option<i64>,
    billable: bool,
    hourly_rate_cents: Option<i64>,
    estimated_seconds: Option<i64>,
    archived: bool,
}

/// Projects (active ones unless `include_archived=true`).
#[utoipa::path(get, path = "/api/v1/projects", tag = "catalog", params(ArchivedQuery),
    responses((status = 200, body = Vec<ProjectJson>), (status = 401, body = ErrorEnvelope)))]
pub async fn projects(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(q): Query<ArchivedQuery>,
) -> Result<Json<Vec<ProjectJson>>, AppError> {
    let list = db::projects::list(&state.pool, q.include_archived).await?;
    Ok(Json(
        list.into_iter()
            .map(|p| ProjectJson {
                id: p.id,
                name: p.name,
                client_id: p.client_id,
                billable: p.billable,
                hourly_rate_cents: p.hourly_rate_cents,
                estimated_seconds: p.estimated_seconds,
                archived: p.archived,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct TaskJson {
    id: i64,
    project_id: i64,
    name: String,
    status: String,
    priority: String,
    assignee_id: Option<i64>,
    due_date: Option<chrono::NaiveDate>,
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
              (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn tasks(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(q): Query<TaskQuery>,
) -> Result<(axum::http::HeaderMap, Json<Vec<TaskJson>>), AppError> {
    let (limit, offset) = super::entries::pagination(q.page, q.per_page)?;
    let (list, total) = db::tasks::list(&state.pool, q.project_id, limit, offset).await?;
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("x-total-count", axum::http::HeaderValue::from(total));
    Ok((
        headers,
        Json(
            list.into_iter()
                .map(|t| TaskJson {
                    id: t.id,
                    project_id: t.project_id,
                    name: t.name,
                    status: t.status,
                    priority: t.priority,
                    assignee_id: t.assignee_id,
                    due_date: t.due_date,
                })
                .collect(),
        ),
    ))
}
