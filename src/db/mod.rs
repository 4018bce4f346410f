//! SQL as plain functions: one query per function, taking a connection or a
//! transaction, so callers decide what commits together. Handlers never build SQL.
//! Each function is a span, `#[tracing::instrument(level = "debug", skip_all)]`:
//! no arguments recorded (they hold user data), and `debug` so that the logs at
//! the default `info` do not build one per query; Sentry's traces take them
//! (`observability::sentry::layers`).

pub mod analytics;
pub mod api_tokens;
pub mod callers;
pub mod clients;
pub mod entries;
pub mod exports;
pub mod installation;
pub mod invitations;
pub mod invoices;
pub mod jobs;
pub mod projects;
pub mod queues;
pub mod reports;
pub mod saved_reports;
pub mod sessions;
pub mod settings;
pub mod sso;
pub mod tasks;
pub mod throttle;
pub mod timer_page;
pub mod timesheet;
pub mod two_factor;
pub mod users;

use std::time::Duration;

use sqlx::{
    Connection, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::Config;

/// When a pool tests a connection (a `Sync` round trip) before handing it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ping {
    /// Every time, sqlx's default: the worker. With [`Ping::WhenIdle`] the
    /// worker did not resume after a database outage (`faults.rs`,
    /// `the_worker_rides_out…`): dead connections were handed to its apalis
    /// workers, their listeners' `UNLISTEN *` took 39 s to fail and the pool
    /// ran dry. Why they took that long was not found.
    EveryAcquire,
    /// Only a connection idle for a second or more (across a database
    /// restart, say): the web, where the ping was a round trip per query
    /// (13 % of the entries API's throughput in make bench). One in steady
    /// use has just answered, and sqlx pings each on its return anyway.
    WhenIdle,
}

/// A pooled connection idle this long is pinged under [`Ping::WhenIdle`].
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Opens the pool lazily: the process starts even while PostgreSQL is down and
/// readiness reports it until the database comes back.
pub fn connect_lazy(config: &Config, ping: Ping) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = config
        .database
        .url
        .expose()
        .parse()
        .map_err(|e| anyhow::anyhow!("DATABASE_URL is not a valid PostgreSQL URL: {e}"))?;
    let pool = PgPoolOptions::new()
        .max_connections(config.database.max_connections)
        .acquire_timeout(config.database.acquire_timeout)
        .idle_timeout(Some(Duration::from_secs(300)));
    let pool = match ping {
        Ping::EveryAcquire => pool,
        Ping::WhenIdle => pool
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            }),
    };
    Ok(pool
        // An event per acquire, at TRACE: the acquire-time histogram reads it
        // (observability::metrics::PoolAcquireTimes); the logs filter it out.
        .acquire_time_level(log::LevelFilter::Trace)
        .connect_lazy_with(options.application_name("timetracker")))
}

/// Every migration the app needs, ours and apalis-postgres's, in one migrator
/// with one history table, so `timetracker migrate` is the only schema step.
pub fn migrator() -> Migrator {
    let ours = sqlx::migrate!("./migrations");
    let mut all: Vec<_> = apalis_postgres::PostgresStorage::<()>::migrations()
        .iter()
        .chain(ours.iter())
        .cloned()
        .collect();
    all.sort_by_key(|m| m.version);
    let mut migrator = Migrator::with_migrations(all);
    migrator.create_schema("apalis");
    migrator
}

/// True when every embedded migration has been applied.
pub async fn migrations_current(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let latest = migrator()
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or_default();
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    Ok(applied == Some(latest))
}

/// Waits until the database answers, then says whether its schema is
/// current ([`migrations_current`]; a database never migrated is not),
/// retrying with backoff (1 s doubling to 15 s) for up to `patience`: a
/// process started before PostgreSQL, or while it restarts, waits for it
/// instead of exiting, and so does one whose database goes away between
/// answering and being asked for its schema (once a worker's start-up check,
/// seen to fail a test on a loaded machine). Logs each failed attempt.
pub async fn wait_for_schema(pool: &PgPool, patience: Duration) -> anyhow::Result<bool> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut pause = Duration::from_secs(1);
    loop {
        match migrations_current(pool).await {
            Ok(current) => return Ok(current),
            // No migration history at all: reachable, and not migrated.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => {
                return Ok(false);
            }
            Err(e) if tokio::time::Instant::now() + pause < deadline => {
                tracing::warn!(error = %e, retry_in_seconds = pause.as_secs(), "the database is not reachable yet");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(15));
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "the database is not reachable (waited {} s)",
                    patience.as_secs()
                )));
            }
        }
    }
}

/// True when `err` is a unique-constraint violation (SQLSTATE 23505).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}
