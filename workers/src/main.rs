//! `timetracker-worker`: runs background jobs. Thin: config, telemetry, run.

use std::process::ExitCode;

use timetracker::{config::Config, db, observability};

/// mimalloc rather than glibc's malloc: allocation was 14 % of the web's CPU
/// per request under load (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    // Logs and Sentry start before the runtime, so that its threads see them.
    let _telemetry = match observability::init(&config, "worker") {
        Ok(t) => t,
        Err(e) => {
            eprintln!("logging error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "worker stopped with an error");
            ExitCode::FAILURE
        }
    }
}

async fn run(mut config: Config) -> anyhow::Result<()> {
    // Behind a transaction pooler the worker needs a session of its own.
    if let Some(url) = config.database.worker_url.take() {
        config.database.url = url;
    }
    let pool = db::connect_lazy(&config, db::Ping::EveryAcquire)?;
    let (internal, metrics_addr) = timetracker_worker::internal_server(&config, &pool).await?;
    tracing::info!(%metrics_addr, "worker starting");
    let result = timetracker_worker::Worker::standard(&config, &pool)
        .run(timetracker::runtime::shutdown_signal())
        .await;
    internal.abort();
    result
}
