//! `timetracker-worker`: runs background jobs. Thin: config, telemetry, run.

use std::process::ExitCode;

use timetracker::{config::Config, db, observability};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let _guard = match observability::init_tracing(&config) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("logging error: {e:#}");
            return ExitCode::from(2);
        }
    };
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "worker stopped with an error");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let pool = db::connect_lazy(&config)?;
    let (internal, metrics_addr) = timetracker_worker::internal_server(&config, &pool).await?;
    tracing::info!(%metrics_addr, "worker starting");
    let result =
        timetracker_worker::run(config, pool, timetracker::startup::shutdown_signal()).await;
    internal.abort();
    result
}
