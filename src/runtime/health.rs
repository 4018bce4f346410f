//! Liveness and readiness probes (never redirected to setup, never
//! authenticated), served by the web on both its listeners and by the worker
//! on its metrics listener; and the container health check that asks them.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::db;

/// How long a readiness verdict is reused. Probes and load balancers may ask
/// thousands of times a second; the database is asked at most once per period,
/// by one request while the others wait for its answer.
const READINESS_TTL: Duration = Duration::from_secs(1);

/// The readiness check of one listener, with its last verdict.
pub struct Readiness {
    pool: PgPool,
    last: Mutex<Option<(Instant, StatusCode, Value)>>,
}

impl Readiness {
    pub fn new(pool: PgPool) -> Arc<Self> {
        Arc::new(Self {
            pool,
            last: Mutex::new(None),
        })
    }
}

/// The process is up.
pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "live" }))
}

/// The database answers and its schema is current; 503 with a reason
/// otherwise. The verdict is at most a second old.
pub async fn ready(State(readiness): State<Arc<Readiness>>) -> impl IntoResponse {
    let mut last = readiness.last.lock().await;
    if let Some((at, status, body)) = last.as_ref()
        && at.elapsed() < READINESS_TTL
    {
        return (*status, Json(body.clone()));
    }
    let (status, body) = check(&readiness.pool).await;
    *last = Some((Instant::now(), status, body.clone()));
    (status, Json(body))
}

async fn check(pool: &PgPool) -> (StatusCode, Value) {
    let check = async {
        sqlx::query("SELECT 1").execute(pool).await?;
        db::migrations_current(pool).await
    };
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(true)) => (StatusCode::OK, json!({ "status": "ready" })),
        Ok(Ok(false)) => {
            unavailable("database migrations are not current; run `timetracker migrate`")
        }
        Ok(Err(e)) => unavailable(&format!("database unreachable: {}", kind(&e))),
        Err(_) => unavailable("database did not answer within 2 s"),
    }
}

fn unavailable(reason: &str) -> (StatusCode, Value) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        json!({ "status": "unavailable", "reason": reason }),
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

/// `/health/live` and `/health/ready`, for the public and the internal listeners.
pub fn health_router(pool: PgPool) -> Router {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .with_state(Readiness::new(pool))
}

/// Asks `/health/ready` on `addr` (an internal listener) and succeeds on 200:
/// the container health check, without curl in the image. Plain HTTP/1.0
/// over a socket, with a 3 s budget per step.
pub fn probe_ready(addr: &str) -> anyhow::Result<()> {
    use std::{
        io::{Read, Write},
        net::{TcpStream, ToSocketAddrs},
    };
    let timeout = Duration::from_secs(3);
    let socket = addr
        .to_socket_addrs()
        .with_context(|| format!("{addr} is not an address"))?
        .next()
        .with_context(|| format!("{addr} resolves to nothing"))?;
    let mut stream = TcpStream::connect_timeout(&socket, timeout)
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(b"GET /health/ready HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    match &head[9..12] {
        b"200" => Ok(()),
        status => anyhow::bail!("/health/ready answered {}", String::from_utf8_lossy(status)),
    }
}
