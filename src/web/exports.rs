//! Background exports: request, follow progress, download your own files.

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    Layout,
    flash::{self, Flash},
    render,
};
use crate::{
    auth::CurrentUser,
    db,
    error::AppError,
    http::extract::{Form, Path},
    reports::{ReportQuery, exports},
    state::AppState,
    tracking::Actor,
};

struct Row {
    id: i64,
    created: String,
    format: String,
    status: String,
    percent: Option<i64>,
    error: Option<String>,
    rows: String,
    size: String,
}

#[derive(Template)]
#[template(path = "exports.html")]
struct ExportsPage {
    layout: Layout,
    exports: Vec<Row>,
    has_unfinished: bool,
    retention_days: u64,
}

pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Flash(n): Flash,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    let list = db::exports::list_for_user(&state.pool, actor.user_id, 100).await?;
    let rows: Vec<Row> = list
        .into_iter()
        .map(|e| Row {
            id: e.id,
            created: actor.format.instant(e.created_at),
            percent: (e.status == "running")
                .then(|| {
                    e.rows_total
                        .filter(|t| *t > 0)
                        .map(|t| e.rows_done * 100 / t)
                })
                .flatten(),
            rows: match e.rows_total {
                Some(t) if e.status == "running" => format!("{} of {t}", e.rows_done),
                _ => e.rows_done.to_string(),
            },
            size: e
                .byte_size
                .map(|b| format!("{:.1} KiB", b as f64 / 1024.0))
                .unwrap_or_default(),
            format: exports::describe(&e),
            status: e.status,
            error: e.error,
        })
        .collect();
    let page = ExportsPage {
        layout: Layout::for_user("Exports", &current).with_notice(n),
        has_unfinished: rows
            .iter()
            .any(|r| r.status == "pending" || r.status == "running"),
        exports: rows,
        retention_days: state.config.worker.export_retention.as_secs() / 86_400,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportForm {
    format: String,
    layout: String,
    paper: String,
    #[serde(flatten)]
    query: ReportQuery,
}

pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<ExportForm>,
) -> Result<Response, AppError> {
    exports::request(
        &state.pool,
        &state.config,
        &Actor::from(&current),
        exports::ExportRequest::parse(&form.format, &form.layout, &form.paper)?,
        &form.query,
    )
    .await?;
    Ok(flash::redirect(
        &state,
        "/exports",
        "Export requested. It is being built in the background.",
    ))
}

/// Streams a finished export, chunk by chunk, to its owner only.
pub async fn download(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    crate::http::download::export(&state, &Actor::from(&current), id).await
}
