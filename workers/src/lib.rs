//! The TimeTracker worker: runs the PostgreSQL job queue.
//!
//! One apalis worker per queue, each with a unique name per process (a fixed
//! name would leave a killed predecessor's jobs stuck in `Running`), LISTEN/NOTIFY
//! wake-up, and a short heartbeat that also picks up delayed and retried jobs
//! and re-enqueues orphans of dead workers. Beside them run the process
//! heartbeat ([`process`]), the depth sampler, the maintenance scheduler and
//! the internal metrics/health listener. A paused queue's jobs are skipped by
//! the fetch in the database, not here.

pub mod handlers;
mod process;
pub mod runner;
mod sampler;
pub mod scheduler;

use std::time::Duration;

use anyhow::Context;
use apalis::prelude::Monitor;
use sqlx::PgPool;
use timetracker::{config::Config, jobs::Job};

pub use runner::{JobContext, JobError, JobHandler};

/// Every queue this worker serves: all of the app's.
pub use timetracker::jobs::QUEUES;

/// A worker process being put together: one apalis worker per registered
/// queue.
pub struct Worker {
    monitor: Monitor,
    process: process::Process,
    config: Config,
    pool: PgPool,
}

impl Worker {
    /// A process with no queue yet.
    pub fn new(config: &Config, pool: &PgPool) -> Self {
        Self {
            monitor: Monitor::new(),
            process: process::Process::new(),
            config: config.clone(),
            pool: pool.clone(),
        }
    }

    /// The real job handlers, one queue each.
    pub fn standard(config: &Config, pool: &PgPool) -> Self {
        Self::new(config, pool)
            .register(handlers::maintenance::Prune::new(config, pool))
            .register(handlers::export::BuildExport::new(pool))
            .register(handlers::analytics::DeliverAnalytics::new(config, pool))
            .register(handlers::install_ping::SendPing::new(config, pool))
            .register(handlers::mail::SendMails::new(config, pool))
            .register(handlers::invoice::RenderInvoice::new(pool))
    }

    /// Adds a worker for `J`'s queue, running `handler`.
    pub fn register<J: Job, H: JobHandler<J>>(mut self, handler: H) -> Self {
        self.process.serve(J::QUEUE);
        self.monitor = runner::register(
            self.monitor,
            &self.config,
            &self.pool,
            &self.process,
            handler,
        );
        self
    }

    /// Runs until `shutdown` resolves, beside the process heartbeat, the
    /// depth sampler and the maintenance scheduler, restarting workers that
    /// stop on a database error. In-flight jobs then finish and
    /// fetched-but-unstarted ones return to pending.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            monitor,
            process,
            config,
            pool,
        } = self;
        if !timetracker::db::wait_for_schema(&pool, timetracker::runtime::STARTUP_PATIENCE).await? {
            anyhow::bail!("the database schema is not current: run `timetracker migrate` first");
        }
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let background = [
            tokio::spawn(process.run(pool.clone(), config.worker.heartbeat, stop_rx.clone())),
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
}

/// Serves `/metrics` and `/health/*` on `WORKER_METRICS_ADDR` in the background.
/// Returns the task and the bound address (port 0 allowed).
pub async fn internal_server(
    config: &Config,
    pool: &PgPool,
) -> anyhow::Result<(tokio::task::JoinHandle<()>, std::net::SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(config.worker.metrics_addr)
        .await
        .with_context(|| {
            format!(
                "WORKER_METRICS_ADDR {} cannot be bound",
                config.worker.metrics_addr
            )
        })?;
    let addr = listener.local_addr()?;
    let router =
        timetracker::observability::metrics::router(timetracker::observability::metrics::install())
            .merge(timetracker::runtime::health_router(pool.clone()));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "internal metrics server stopped");
        }
    });
    Ok((task, addr))
}
