//! The operator documentation that concerns what leaves the server, served by
//! the app itself (compiled in, so it always matches the running version).

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

use super::extract::Path;
use crate::error::AppError;

/// `GET /docs/{page}`: `privacy`, `telemetry`, `analytics` or `events`, as Markdown text.
pub async fn page(Path(page): Path<String>) -> Result<Response, AppError> {
    let text = match page.as_str() {
        "privacy" => include_str!("../../docs/privacy.md"),
        "telemetry" => include_str!("../../docs/telemetry.md"),
        "analytics" => include_str!("../../docs/analytics.md"),
        "events" => include_str!("../../docs/events.md"),
        _ => return Err(AppError::NotFound),
    };
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        text,
    )
        .into_response())
}
