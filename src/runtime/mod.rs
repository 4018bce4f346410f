//! What both binaries run with, and nothing of either: the start-up wait
//! for PostgreSQL, the secret keys, the health endpoints and the shutdown
//! signal. The web's routes live in `startup` and `web`, the worker's in
//! `workers/`; neither imports the other's start-up, both import this.

pub mod health;

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;

use crate::{
    auth::{Keys, keys::random_token},
    config::Config,
    db,
};

pub use health::{health_router, probe_ready};

/// How long the web process and the worker wait for PostgreSQL at start.
pub const STARTUP_PATIENCE: Duration = Duration::from_secs(300);

/// The secret key: `SECRET_KEY`, or the one generated into the database on first start.
pub async fn load_keys(config: &Config, pool: &PgPool) -> anyhow::Result<Keys> {
    if !db::migrations_current(pool)
        .await
        .context("the database is not reachable")?
    {
        anyhow::bail!("the database schema is not current: run `timetracker migrate` first");
    }
    db::installation::ensure(pool, uuid::Uuid::new_v4(), &random_token()).await?;
    Ok(match &config.auth.secret_key {
        Some(key) => Keys::new(key.expose()),
        None => Keys::new(&db::installation::stored_secret_key(pool).await?),
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM; both binaries stop gracefully on it.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutdown signal received");
}
