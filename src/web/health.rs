//! Liveness and readiness probes (never redirected to setup, never authenticated).

use std::time::Duration;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use sqlx::PgPool;

use crate::db;

/// The process is up.
pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "live" }))
}

/// The database answers and its schema is current; 503 with a reason otherwise.
pub async fn ready(State(pool): State<PgPool>) -> impl IntoResponse {
    let check = async {
        sqlx::query("SELECT 1").execute(&pool).await?;
        db::migrations_current(&pool).await
    };
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(true)) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(Ok(false)) => {
            unavailable("database migrations are not current; run `timetracker migrate`")
        }
        Ok(Err(e)) => unavailable(&format!("database unreachable: {}", kind(&e))),
        Err(_) => unavailable("database did not answer within 2 s"),
    }
}

fn unavailable(reason: &str) -> (StatusCode, Json<serde_json::Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "reason": reason })),
    )
}

/// A short description of a database error that cannot contain credentials.
fn kind(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::PoolTimedOut => "connection pool timed out",
        sqlx::Error::Io(_) => "connection failed",
        sqlx::Error::Tls(_) => "TLS failed",
        sqlx::Error::Database(_) => "query failed",
        _ => "database error",
    }
}
