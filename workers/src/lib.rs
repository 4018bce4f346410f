//! The TimeTracker worker: runs the PostgreSQL job queue.
//!
//! One apalis worker per queue, each with a unique name per process (a fixed
//! name would leave a killed predecessor's jobs stuck in `Running`), LISTEN/NOTIFY
//! wake-up, and a short heartbeat that also picks up delayed and retried jobs
//! and re-enqueues orphans of dead workers. Beside them run the depth sampler,
//! the maintenance scheduler and the internal metrics/health listener.

pub mod handlers;
pub mod runner;
mod sampler;
pub mod scheduler;

use std::time::Duration;

use anyhow::Context;
use apalis::prelude::Monitor;
use sqlx::PgPool;
use timetracker::config::Config;

pub use runner::{JobContext, JobError, JobHandler, register};

/// Every queue this worker serves: all of the app's.
pub use timetracker::jobs::QUEUES;

/// The real job handlers, one registration each.
pub fn monitor(config: &Config, pool: &PgPool) -> Monitor {
    let m = Monitor::new();
    let m = register(
        m,
        config,
        pool,
        handlers::maintenance::Prune::new(config, pool),
    );
    let m = register(m, config, pool, handlers::export::BuildExport::new(pool));
    let m = register(
        m,
        config,
        pool,
        handlers::analytics::DeliverAnalytics::new(config, pool),
    );
    register(
        m,
        config,
        pool,
        handlers::install_ping::SendPing::new(config, pool),
    )
}

/// Runs the worker until `shutdown` resolves; in-flight jobs then finish and
/// fetched-but-unstarted ones return to pending.
pub async fn run(
    config: Config,
    pool: PgPool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let monitor = monitor(&config, &pool);
    run_monitor(monitor, config, pool, shutdown).await
}

/// Runs `monitor` beside the depth sampler and the maintenance scheduler,
/// restarting workers that stop on a database error.
pub async fn run_monitor(
    monitor: Monitor,
    config: Config,
    pool: PgPool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    timetracker::db::wait_for_database(&pool, timetracker::startup::STARTUP_PATIENCE).await?;
    if !timetracker::db::migrations_current(&pool)
        .await
        .context("the database is not reachable")?
    {
        anyhow::bail!("the database schema is not current: run `timetracker migrate` first");
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let background = [
        tokio::spawn(sampler::run(pool.clone(), stop_rx.clone())),
        tokio::spawn(scheduler::run(
            pool.clone(),
            config.clone(),
            stop_rx.clone(),
        )),
    ];
    let monitor = monitor
        .should_restart(|ctx, error| {
            tracing::warn!(worker = %ctx.name(), error = %error, "worker stopped; restarting in 2 s");
            // The callback is synchronous: a short pause keeps a database outage
            // from turning into a hot restart loop.
            std::thread::sleep(Duration::from_secs(2));
            true
        })
        .shutdown_timeout(Duration::from_secs(30));
    let result = monitor
        .run_with_signal(async move {
            shutdown.await;
            Ok(())
        })
        .await;
    let _ = stop_tx.send(true);
    for task in background {
        let _ = task.await;
    }
    result.map_err(|e| anyhow::anyhow!("worker monitor failed: {e}"))
}

/// A process-unique worker name: queue, host and a random suffix.
pub fn worker_name(queue: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".into());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{queue}-{host}-{}", &suffix[..12])
}

/// Serves `/metrics` and `/health/*` on `WORKER_METRICS_ADDR` in the background.
/// Returns the task and the bound address (port 0 allowed).
pub async fn internal_server(
    config: &Config,
    pool: &PgPool,
) -> anyhow::Result<(tokio::task::JoinHandle<()>, std::net::SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(config.worker_metrics_addr)
        .await
        .with_context(|| {
            format!(
                "WORKER_METRICS_ADDR {} cannot be bound",
                config.worker_metrics_addr
            )
        })?;
    let addr = listener.local_addr()?;
    let router =
        timetracker::observability::metrics::router(timetracker::observability::metrics::install())
            .merge(timetracker::startup::health_router(pool.clone()));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "internal metrics server stopped");
        }
    });
    Ok((task, addr))
}
