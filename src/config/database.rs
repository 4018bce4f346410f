//! Where PostgreSQL is and how each process uses it.

use std::time::Duration;

use anyhow::anyhow;

use super::{Secret, Vars};

#[derive(Debug, Clone)]
pub struct Database {
    /// PostgreSQL connection string (`DATABASE_URL`).
    pub url: Secret<String>,
    /// The worker's own connection string (`WORKER_DATABASE_URL`), when the
    /// web goes through a pooler the worker cannot use (LISTEN/NOTIFY,
    /// advisory locks and long transactions need a session); the worker
    /// uses `DATABASE_URL` when it is unset.
    pub worker_url: Option<Secret<String>>,
    /// Pool size per process (`DATABASE_MAX_CONNECTIONS`).
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before a 503 (`DATABASE_ACQUIRE_TIMEOUT_SECONDS`).
    pub acquire_timeout: Duration,
}

impl Database {
    pub fn from_vars(vars: &Vars) -> anyhow::Result<Self> {
        let url = vars.get("DATABASE_URL").ok_or_else(|| {
            anyhow!("DATABASE_URL is not set (e.g. postgres://user:pass@localhost/timetracker)")
        })?;
        Ok(Self {
            url: Secret::new(url),
            worker_url: vars.get("WORKER_DATABASE_URL").map(Secret::new),
            max_connections: vars.positive("DATABASE_MAX_CONNECTIONS", "10")?,
            acquire_timeout: vars.seconds("DATABASE_ACQUIRE_TIMEOUT_SECONDS", "5")?,
        })
    }
}
