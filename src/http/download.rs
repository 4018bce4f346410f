//! The export download: the same response for the page and the API.

use axum::{
    body::Body,
    http::header,
    response::{IntoResponse, Response},
};

use crate::{db, error::AppError, reports::exports, state::AppState, tracking::Actor};

/// The caller's export `id` as a file; 404 if it is not theirs, 409
/// `export_not_ready` before it is done.
pub async fn export(state: &AppState, actor: &Actor, id: i64) -> Result<Response, AppError> {
    let export = exports::own(&state.pool, actor, id).await?;
    if export.status != "done" {
        return Err(AppError::Conflict {
            code: "export_not_ready",
            message: format!("This export is {}.", export.status),
        });
    }
    let body = chunk_stream(state.pool.clone(), id);
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
        match db::exports::chunk(&pool, id, seq).await {
            Ok(Some(data)) => Some((Ok(data), (pool, seq + 1))),
            Ok(None) => None,
            Err(e) => Some((Err(e), (pool, i32::MAX))),
        }
    })
}
