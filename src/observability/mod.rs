//! Logs, metrics and request tracing.
//!
//! Rules: one `init_tracing` per process (JSON lines to stdout and a daily-rotated
//! file, RFC 3339 UTC timestamps); every request runs in a span carrying its
//! `request_id`; metric names start with `timetracker_`, use base units and
//! never carry user ids or raw paths as labels. Never log secrets, passwords,
//! notes or emails.

mod json;
pub mod metrics;
pub mod middleware;

use std::path::Path;

use tracing_appender::{non_blocking::WorkerGuard, rolling};
use tracing_subscriber::{
    EnvFilter, fmt, fmt::format::JsonFields, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::config::Config;

/// What code running inside a request may need to know about it.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The request id, for log lines and enqueued jobs.
    pub id: String,
    /// The client sent `Sec-GPC: 1` or `DNT: 1`: no product event for this request.
    pub do_not_track: bool,
}

tokio::task_local! {
    /// The request being served.
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

/// Installs the global subscriber. Keep the returned guard alive: dropping it
/// flushes and closes the log file.
pub fn init_tracing(config: &Config) -> anyhow::Result<Option<WorkerGuard>> {
    let filter = EnvFilter::try_new(&config.log_level).map_err(|e| {
        anyhow::anyhow!(
            "LOG_LEVEL is not a valid filter ({}): {e}",
            config.log_level
        )
    })?;
    let stdout = fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(json::FlatJson);
    let (file, guard) = match &config.log_file {
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
                .with_writer(writer);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(stdout)
        .with(file)
        .try_init()
        .map_err(|e| anyhow::anyhow!("tracing already initialised: {e}"))?;
    Ok(guard)
}
