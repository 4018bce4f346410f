//! Background exports over the API.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ErrorEnvelope, Json};
use crate::{
    auth::CurrentUser,
    db::exports::Export,
    error::AppError,
    http::extract::Path,
    reports::{
        ReportQuery,
        exports::{self, ExportFormat, ExportLayout, ExportRequest},
        pdf::Paper,
    },
    state::AppState,
    tracking::Actor,
};

#[derive(Serialize, ToSchema)]
pub struct ExportJson {
    id: i64,
    format: String,
    /// `entries` or `summary`.
    layout: String,
    /// `a4` or `letter` for a PDF, else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    paper: Option<String>,
    status: String,
    rows_done: i64,
    rows_total: Option<i64>,
    byte_size: Option<i64>,
    duration_ms: Option<i64>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    download_url: Option<String>,
}

impl From<Export> for ExportJson {
    fn from(e: Export) -> Self {
        Self {
            download_url: (e.status == "done")
                .then(|| format!("/api/v1/exports/{}/download", e.id)),
            id: e.id,
            format: e.format,
            layout: e.layout,
            paper: e.paper,
            status: e.status,
            rows_done: e.rows_done,
            rows_total: e.rows_total,
            byte_size: e.byte_size,
            duration_ms: e.duration_ms,
            error: e.error,
            created_at: e.created_at,
            finished_at: e.finished_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ExportBody {
    format: ExportFormat,
    /// Every matching entry (default), or the report's groups with
    /// subtotals and the total (`group` and `subgroup` choose them).
    #[serde(default)]
    layout: ExportLayout,
    /// The paper of a PDF: `a4` or `letter`; by default US Letter for
    /// month-first date formats, else A4.
    #[serde(default)]
    paper: Option<Paper>,
    #[serde(flatten)]
    query: ReportQuery,
}

/// Requests a background export with the summary report's filters.
#[utoipa::path(post, path = "/api/v1/exports", tag = "exports", request_body = ExportBody,
    responses((status = 202, body = ExportJson), (status = 403, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<ExportBody>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    let request = ExportRequest {
        format: body.format,
        layout: body.layout,
        paper: body.paper,
    };
    let id = exports::request(&state.pool, &state.config, &actor, request, &body.query).await?;
    let export = exports::own(&state.pool, &actor, id).await?;
    Ok((StatusCode::ACCEPTED, Json(ExportJson::from(export))).into_response())
}

/// An export's status and progress (your own exports only).
#[utoipa::path(get, path = "/api/v1/exports/{id}", tag = "exports", params(("id" = i64, Path)),
    responses((status = 200, body = ExportJson), (status = 404, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<ExportJson>, AppError> {
    Ok(Json(
        exports::own(&state.pool, &Actor::from(&current), id)
            .await?
            .into(),
    ))
}

/// The export's file; 409 `export_not_ready` before it is done.
#[utoipa::path(get, path = "/api/v1/exports/{id}/download", tag = "exports", params(("id" = i64, Path)),
    responses((status = 200, description = "The CSV, XLSX or PDF file, in the export's format",
               content((String = "text/csv; charset=utf-8"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "application/pdf"))),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn download(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    crate::http::download::export(&state, &Actor::from(&current), id).await
}
