//! One error type at the edge. Inside, functions use `anyhow` with context;
//! handlers return [`AppError`], which maps to a status and a clear message.
//! Unexpected errors become an opaque 500 that is logged once, here, with the
//! request id. The body is JSON; `web::error_pages::render` turns it into an
//! HTML page (or a login redirect) for browser requests.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{domain::ValidationError, observability::current_request_id};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("missing or invalid CSRF token")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Well-formed input with a wrong shape (e.g. a JSON field of the wrong type).
    #[error("{0}")]
    Unprocessable(String),
    #[error("too many attempts")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(anyhow::Error),
    /// A handler panicked; the panic itself was already reported.
    #[error("a request handler panicked")]
    Panicked,
}

/// A connection-level failure: the database is down or unreachable, or it
/// (or a pooler in front of it) refused the connection for now.
fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| is_unavailable_sqlstate(&c)),
        _ => false,
    }
}

/// SQLSTATEs that say "not now" rather than "wrong": class 08, connection
/// exceptions (PgBouncer's `query_wait_timeout` and its other refusals are
/// 08P01), shutdowns and start-up (57P01–57P03), too many connections.
fn is_unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

const DATABASE_AWAY: &str = "The database is not reachable right now. Try again in a moment.";

/// A failure of a step that reports `anyhow` errors (recording an event,
/// enqueueing a job) is a 503 too when its cause is a lost database
/// connection (seen as a 500 in the failover chaos test), else a 500.
impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        let lost = e
            .chain()
            .filter_map(|c| c.downcast_ref::<sqlx::Error>())
            .any(is_connection_lost);
        if lost {
            Self::Unavailable(DATABASE_AWAY.into())
        } else {
            Self::Internal(e)
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            e if is_connection_lost(&e) => Self::Unavailable(DATABASE_AWAY.into()),
            // Class 22, data exceptions: input that passed our checks but not
            // the database's (a NUL character in text, a number or date out
            // of the column's range). The client's fault, not the server's.
            sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("22")) => {
                Self::Unprocessable(if db.code().as_deref() == Some("22021") {
                    "Text may not contain NUL characters.".into()
                } else {
                    "A value is outside what this field can hold.".into()
                })
            }
            // An entry on an issued invoice (the trigger in migration 8).
            sqlx::Error::Database(db) if db.code().as_deref() == Some("TT001") => {
                let number = db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .and_then(|pg| pg.detail())
                    .unwrap_or("an issued invoice")
                    .to_owned();
                Self::Conflict {
                    code: "entry_invoiced",
                    message: format!(
                        "This entry is on invoice {number}, so it cannot change. Cancel the invoice to change it."
                    ),
                }
            }
            other => Self::Internal(other.into()),
        }
    }
}

/// What the client is told about an error; kept in the response extensions so
/// the error renderer can re-render it as HTML.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    pub field: Option<&'static str>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: &'a ErrorBody,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Csrf => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Validation(_) | Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) | Self::Panicked => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told: code, message and field.
    pub fn body(&self) -> ErrorBody {
        let (code, message, field) = match self {
            Self::BadRequest(m) => ("bad_request", m.clone(), None),
            Self::Unauthorized => ("unauthorized", "Sign in to continue.".to_owned(), None),
            Self::Forbidden(m) => ("forbidden", m.clone(), None),
            Self::Csrf => (
                "csrf_failed",
                "The form expired or came from another site. Reload the page and try again."
                    .to_owned(),
                None,
            ),
            Self::NotFound => ("not_found", "There is nothing here.".to_owned(), None),
            Self::Conflict { code, message } => (*code, message.clone(), None),
            Self::PayloadTooLarge => (
                "payload_too_large",
                "The request is too large.".to_owned(),
                None,
            ),
            Self::Validation(v) => ("validation_failed", v.message.clone(), Some(v.field)),
            Self::Unprocessable(m) => ("validation_failed", m.clone(), None),
            Self::TooManyRequests {
                retry_after_seconds,
            } => (
                "too_many_requests",
                match retry_after_seconds {
                    0..=1 => "Too many attempts. Try again in a second.".to_owned(),
                    2..=90 => {
                        format!("Too many attempts. Try again in {retry_after_seconds} seconds.")
                    }
                    _ => format!(
                        "Too many attempts. Try again in {} minutes.",
                        retry_after_seconds.div_ceil(60)
                    ),
                },
                None,
            ),
            Self::Unavailable(m) => ("unavailable", m.clone(), None),
            Self::Internal(_) | Self::Panicked => (
                "internal_error",
                format!(
                    "Something went wrong on our side. Reference: {}",
                    current_request_id().unwrap_or_else(|| "none".into())
                ),
                None,
            ),
        };
        ErrorBody {
            code,
            message,
            field,
        }
    }
}

/// Marks a 5xx response whose cause was already logged at ERROR, so the
/// request middleware does not log it a second time.
#[derive(Debug, Clone, Copy)]
pub struct ErrorLogged;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // Every 5xx is logged once at ERROR, here when we know its cause;
        // the request span carries the request id.
        match &self {
            Self::Internal(e) => tracing::error!(error = format!("{e:#}"), "request failed"),
            Self::Panicked => {
                tracing::error!(target: crate::observability::sentry::PANIC_TARGET, "request handler panicked")
            }
            Self::Unavailable(m) => tracing::error!(reason = %m, "service unavailable"),
            _ => {}
        }
        let body = self.body();
        let mut response = (self.status(), Json(Envelope { error: &body })).into_response();
        if let Self::TooManyRequests {
            retry_after_seconds,
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        if response.status().is_server_error() {
            response.extensions_mut().insert(ErrorLogged);
        }
        response.extensions_mut().insert(body);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_is_a_503_also_behind_anyhow_and_context() {
        let direct: AppError = sqlx::Error::PoolTimedOut.into();
        assert!(matches!(direct, AppError::Unavailable(_)));
        let wrapped: AppError =
            anyhow::Error::from(sqlx::Error::Io(std::io::Error::other("reset")))
                .context("recording the event")
                .into();
        assert!(matches!(wrapped, AppError::Unavailable(_)));
        let other: AppError = anyhow::anyhow!("a bug").into();
        assert!(matches!(other, AppError::Internal(_)));
        let query: AppError = anyhow::Error::from(sqlx::Error::RowNotFound).into();
        assert!(matches!(query, AppError::Internal(_)));
    }

    #[test]
    fn refusals_for_now_are_told_from_errors_in_the_query() {
        for code in ["08P01", "08006", "57P01", "57P03", "53300"] {
            assert!(is_unavailable_sqlstate(code), "{code}");
        }
        for code in ["23505", "42P01", "22021", "40001", "57014"] {
            assert!(!is_unavailable_sqlstate(code), "{code}");
        }
    }
}
