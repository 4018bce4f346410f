//! Background exports: request, follow progress, download your own files.

use askama::Template;
use axum::{
    body::Body,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    Layout,
    extract::{Form, Path},
    flash::{self, Flash},
    render,
};
use crate::{
    auth::CurrentUser,
    db,
    error::AppError,
    reports::{ReportQuery, exports},
    startup::AppState,
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
            format: e.format,
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
        retention_days: state.config.export_retention.as_secs() / 86_400,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportForm {
    format: String,
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
        exports::ExportFormat::parse(&form.format)?,
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
    download_response(&state, &Actor::from(&current), id).await
}

/// The download response shared with the API.
pub async fn download_response(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<Response, AppError> {
    let export = exports::own(&state.pool, actor, id).await?;
    if export.status != "done" {
        return Err(AppError::Conflict {
            code: "export_not_ready",
            message: format!("This export is {}.", export.status),
        });
    }
    let pool = state.pool.clone();
    let body = chunk_stream(pool, id);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                exports::content_type(&export.format).to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", exports::file_name(&export)),
            ),
            (
                header::CONTENT_LENGTH,
                export.byte_size.unwrap_or_default().to_string(),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// The stored chunks as a body stream that owns its pool handle: one small
/// query per 1 MiB chunk, so a download holds one chunk in memory at a time.
fn chunk_stream(
    pool: sqlx::PgPool,
    id: i64,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, sqlx::Error>> + Send {
    futures_util::stream::unfold((pool, 0i32), move |(pool, seq)| async move {
        let chunk: Result<Option<Vec<u8>>, sqlx::Error> =
            sqlx::query_scalar("SELECT data FROM export_chunks WHERE export_id = $1 AND seq = $2")
                .bind(id)
                .bind(seq)
                .fetch_optional(&pool)
                .await;
        match chunk {
            Ok(Some(data)) => Some((Ok(data), (pool, seq + 1))),
            Ok(None) => None,
            Err(e) => Some((Err(e), (pool, i32::MAX))),
        }
    })
}
