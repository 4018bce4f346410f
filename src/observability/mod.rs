//! Logs, metrics and request tracing.
//!
//! Rules: one [`init`] per process, before its async runtime starts (JSON
//! lines to stdout and a daily-rotated file, RFC 3339 UTC timestamps; Sentry
//! when `SENTRY_DSN` is set); every request and job runs in a span carrying its
//! `request_id`; metric names start with `timetracker_`, use base units and
//! never carry user ids or raw paths as labels. Never log secrets, passwords,
//! notes or emails: `error!` events become Sentry events and `info!`/`warn!`
//! lines their breadcrumbs.

mod json;
pub mod metrics;
pub mod middleware;
pub mod sentry;

use std::path::Path;

use tracing_appender::{non_blocking::WorkerGuard, rolling};
use tracing_subscriber::{
    EnvFilter, Layer, filter::Targets, fmt, fmt::format::JsonFields, layer::SubscriberExt,
    util::SubscriberInitExt,
};

use crate::config::Config;

/// What code running inside a request may need to know about it. The worker
/// sets it too, from a job's metadata, while it runs a job on behalf of the
/// request that enqueued it.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The request id, for log lines and enqueued jobs.
    pub id: String,
    /// The client sent `Sec-GPC: 1` or `DNT: 1`: no product event for this
    /// request, nor for any job it enqueued.
    pub do_not_track: bool,
}

tokio::task_local! {
    /// The request being served (or on whose behalf a job runs).
    pub static REQUEST: RequestContext;
}

/// The current request's id, if this code runs inside a request.
pub fn current_request_id() -> Option<String> {
    REQUEST.try_with(|r| r.id.clone()).ok()
}

/// Whether the current request asked not to be tracked.
pub fn do_not_track() -> bool {
    REQUEST.try_with(|r| r.do_not_track).unwrap_or(false)
}

/// What must live until the process exits: dropping it flushes the log file
/// and sends the Sentry events still queued.
pub struct Telemetry {
    _log_file: Option<WorkerGuard>,
    _sentry: Option<::sentry::ClientInitGuard>,
}

/// Sets up logging, error reporting and the pool acquire-time metric for a
/// process named `service` (`web` or `worker`). Call it once, before the
/// async runtime starts, so every runtime thread sees the Sentry client.
pub fn init(config: &Config, service: &'static str) -> anyhow::Result<Telemetry> {
    let sentry = sentry::init(config, service);
    let log_file = init_tracing(config)?;
    Ok(Telemetry {
        _log_file: log_file,
        _sentry: sentry,
    })
}

/// Installs the global subscriber: JSON logs filtered by `LOG_LEVEL`, the
/// Sentry layer under the same filter, and the pool acquire-time metric fed
/// by sqlx's own `sqlx::pool::acquire` events. Keep the returned guard alive:
/// dropping it flushes and closes the log file.
pub fn init_tracing(config: &Config) -> anyhow::Result<Option<WorkerGuard>> {
    // Each layer gets its own copy of the filter, so that the acquire-time
    // events (TRACE) reach the metric without reaching the logs.
    let filter = || {
        EnvFilter::try_new(&config.observability.log_level).map_err(|e| {
            anyhow::anyhow!(
                "LOG_LEVEL is not a valid filter ({}): {e}",
                config.observability.log_level
            )
        })
    };
    let stdout = fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(json::FlatJson)
        .with_filter(filter()?);
    let (file, guard) = match &config.observability.log_file {
        Some(path) => {
            let path = Path::new(path);
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!(
                    "LOG_FILE directory {} cannot be created: {e}",
                    dir.display()
                )
            })?;
            let appender = rolling::RollingFileAppender::builder()
                .rotation(rolling::Rotation::DAILY)
                .filename_prefix(path.file_stem().and_then(|s| s.to_str()).unwrap_or("app"))
                .filename_suffix(path.extension().and_then(|s| s.to_str()).unwrap_or("jsonl"))
                .build(dir)
                .map_err(|e| {
                    anyhow::anyhow!("LOG_FILE {} cannot be opened: {e}", path.display())
                })?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = fmt::layer()
                .fmt_fields(JsonFields::new())
                .event_format(json::FlatJson)
                .with_writer(writer)
                .with_filter(filter()?);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let acquire_times = metrics::PoolAcquireTimes.with_filter(
        Targets::new().with_target(metrics::POOL_ACQUIRE_TARGET, tracing::Level::TRACE),
    );
    tracing_subscriber::registry()
        .with(stdout)
        .with(file)
        .with(sentry::layers(config))
        .with(acquire_times)
        .try_init()
        .map_err(|e| anyhow::anyhow!("tracing already initialised: {e}"))?;
    Ok(guard)
}
