//! The metric catalogue (each metric declared once, below), the Prometheus
//! recorder and the internal `/metrics` listener. Code records a metric by
//! its constant (`metrics::counter!(LOGINS, …)`), never by a string.

use std::sync::OnceLock;

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use metrics::Unit;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::layer::{Context, Layer};

/// Histogram buckets in seconds, from 1 ms to 10 s (request and job run
/// time): the default for a histogram that names none.
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Connection acquire time: usually microseconds, seconds when the pool is exhausted.
const ACQUIRE_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1.0, 5.0,
];
/// Wait from a job's due time to its start: seconds to an hour.
const WAIT_BUCKETS: &[f64] = &[
    0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0,
];
/// Events per PostHog batch (the worker sends up to 1,000).
const BATCH_BUCKETS: &[f64] = &[1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

/// Declares every metric once: a constant holding its name (what the code
/// records with), its kind, unit and buckets, and its doc comment, which is
/// also its Prometheus `HELP` text. [`ALL`], the descriptions and the bucket
/// settings derive from it; dashboards and alert rules are checked against
/// [`ALL`] by a test.
macro_rules! declare_metrics {
    ($(
        #[doc = $help:literal]
        $kind:ident $constant:ident = $name:literal $(, unit $unit:ident)? $(, buckets $buckets:ident)?;
    )*) => {
        $(
            #[doc = $help]
            pub const $constant: &str = $name;
        )*

        /// Every metric the two processes export.
        pub const ALL: &[&str] = &[$($name),*];

        fn describe() {
            $(declare_metrics!(@describe $kind $name, $help $(, $unit)?);)*
        }

        /// The histograms with buckets of their own.
        const BUCKETS: &[(&str, &[f64])] = &[$($(($name, $buckets),)?)*];
    };
    (@describe $kind:ident $name:literal, $help:literal, $unit:ident) => {
        declare_metrics!(@call $kind $name, Unit::$unit, $help.trim())
    };
    (@describe $kind:ident $name:literal, $help:literal) => {
        declare_metrics!(@call $kind $name, $help.trim())
    };
    (@call counter $($args:tt)*) => { metrics::describe_counter!($($args)*) };
    (@call gauge $($args:tt)*) => { metrics::describe_gauge!($($args)*) };
    (@call histogram $($args:tt)*) => { metrics::describe_histogram!($($args)*) };
}

declare_metrics! {
    /// Database pool connections by state (in_use, idle).
    gauge DB_POOL_CONNECTIONS = "timetracker_db_pool_connections";
    /// Database pool size limit.
    gauge DB_POOL_MAX_CONNECTIONS = "timetracker_db_pool_max_connections";
    /// Time to get a connection from the database pool.
    histogram DB_POOL_ACQUIRE_SECONDS = "timetracker_db_pool_acquire_seconds", unit Seconds, buckets ACQUIRE_BUCKETS;
    /// Timers running now, across all users.
    gauge ACTIVE_TIMERS = "timetracker_active_timers";
    /// Time entries created, by source (timer, manual).
    counter TIME_ENTRIES_CREATED = "timetracker_time_entries_created_total";
    /// Background exports requested, by format.
    counter EXPORTS_REQUESTED = "timetracker_exports_requested_total";
    /// Version and commit of the running build (always 1).
    gauge BUILD_INFO = "timetracker_build_info";
    /// HTTP requests by method, route template and status.
    counter HTTP_REQUESTS = "timetracker_http_requests_total";
    /// HTTP request latency by method, route template and status class.
    histogram HTTP_REQUEST_DURATION_SECONDS = "timetracker_http_request_duration_seconds", unit Seconds;
    /// HTTP requests being served now.
    gauge HTTP_REQUESTS_IN_FLIGHT = "timetracker_http_requests_in_flight";
    /// Login attempts by outcome (succeeded, failed, throttled).
    counter LOGINS = "timetracker_logins_total";
    /// Jobs by queue and state, sampled by the worker.
    gauge JOBS = "timetracker_jobs";
    /// Age of the oldest due job not yet picked up, by queue.
    gauge JOBS_OLDEST_READY_AGE_SECONDS = "timetracker_jobs_oldest_ready_age_seconds", unit Seconds;
    /// Job runs by queue and outcome (ok, retried, dead).
    counter JOBS_PROCESSED = "timetracker_jobs_processed_total";
    /// Time from a job's due time to its start, by queue (whole-second resolution).
    histogram JOB_WAIT_SECONDS = "timetracker_job_wait_seconds", unit Seconds, buckets WAIT_BUCKETS;
    /// Job run time by queue.
    histogram JOB_DURATION_SECONDS = "timetracker_job_duration_seconds", unit Seconds;
    /// Jobs deleted by retention, by kind (done, dead).
    counter JOBS_PRUNED = "timetracker_jobs_pruned_total";
    /// Background exports finished, by format and outcome.
    counter EXPORTS_COMPLETED = "timetracker_exports_completed_total";
    /// Rows written by background exports, by format.
    counter EXPORT_ROWS = "timetracker_export_rows_total";
    /// Bytes written by background exports, by format.
    counter EXPORT_BYTES = "timetracker_export_bytes_total", unit Bytes;
    /// Product events by outcome (delivered, dead, discarded).
    counter ANALYTICS_EVENTS = "timetracker_analytics_events_total";
    /// Requests to PostHog by channel and status class.
    counter POSTHOG_REQUESTS = "timetracker_posthog_requests_total";
    /// PostHog request duration by channel.
    histogram POSTHOG_REQUEST_DURATION_SECONDS = "timetracker_posthog_request_duration_seconds", unit Seconds;
    /// Events per delivered PostHog batch.
    histogram POSTHOG_BATCH_EVENTS = "timetracker_posthog_batch_events", buckets BATCH_BUCKETS;
    /// Deliveries refused because PostHog rejected the API key, by channel.
    counter POSTHOG_MISCONFIGURED = "timetracker_posthog_misconfigured_total";
    /// 1 while an administrator has paused the queue, else 0 (sampled by each web process).
    gauge QUEUE_PAUSED = "timetracker_queue_paused";
    /// Worker processes serving the queue whose heartbeat is recent (sampled by each web process).
    gauge QUEUE_WORKERS_ALIVE = "timetracker_queue_workers_alive";
    /// Jobs of the queue that are due and not yet started (sampled by each web process).
    gauge QUEUE_READY_JOBS = "timetracker_queue_ready_jobs";
}

/// The target of sqlx's per-acquire event, which carries `acquired_after_secs`.
pub const POOL_ACQUIRE_TARGET: &str = "sqlx::pool::acquire";

/// Installs the global recorder once per process and returns its handle.
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let mut builder = PrometheusBuilder::new().set_buckets(SECONDS_BUCKETS);
            for (name, buckets) in BUCKETS {
                builder = builder
                    .and_then(|b| b.set_buckets_for_metric(Matcher::Full((*name).into()), buckets));
            }
            let handle = builder
                .and_then(|b| b.install_recorder())
                .unwrap_or_else(|e| panic!("installing the metrics recorder failed: {e}"));
            describe();
            metrics::gauge!(BUILD_INFO, "version" => crate::build_info::VERSION, "commit" => crate::build_info::COMMIT)
                .set(1.0);
            handle
        })
        .clone()
}

/// Every few seconds until `stop` fires: the connection pool's use, the
/// number of running timers, and per queue whether it is paused, its live
/// worker processes and its due jobs.
pub async fn sample_web(
    pool: sqlx::PgPool,
    worker_heartbeat: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<()>,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        sample_pool(&pool);
        match crate::db::entries::running_count(&pool).await {
            Ok(n) => metrics::gauge!(ACTIVE_TIMERS).set(n as f64),
            Err(e) => tracing::debug!(error = %e, "active timer sampling failed"),
        }
        // Sampled here, not in the worker: "no worker alive" must be said by
        // a process that is not a worker.
        let alive_within = crate::jobs::console::presumed_dead_after(worker_heartbeat) as f64;
        match crate::db::queues::watch(&pool, crate::jobs::QUEUES, alive_within).await {
            Ok(rows) => {
                for w in rows {
                    let queue = w.queue;
                    metrics::gauge!(QUEUE_PAUSED, "queue" => queue.clone()).set(if w.paused {
                        1.0
                    } else {
                        0.0
                    });
                    metrics::gauge!(QUEUE_WORKERS_ALIVE, "queue" => queue.clone())
                        .set(w.workers_alive as f64);
                    metrics::gauge!(QUEUE_READY_JOBS, "queue" => queue).set(w.ready as f64);
                }
            }
            Err(e) => tracing::debug!(error = %e, "queue sampling failed"),
        }
    }
}

/// The connection pool's use and limit, sampled by both processes.
pub fn sample_pool(pool: &sqlx::PgPool) {
    let (size, idle) = (pool.size(), pool.num_idle() as u32);
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in_use")
        .set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    metrics::gauge!(DB_POOL_MAX_CONNECTIONS).set(f64::from(pool.options().get_max_connections()));
}

/// Records `timetracker_db_pool_acquire_seconds` from the event sqlx emits
/// after every acquire (enabled by `acquire_time_level` in `db::connect_lazy`).
/// sqlx measures the wait itself, so every query's acquire is counted.
pub struct PoolAcquireTimes;

impl<S: Subscriber> Layer<S> for PoolAcquireTimes {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        struct Seconds(Option<f64>);
        impl Visit for Seconds {
            fn record_f64(&mut self, field: &Field, value: f64) {
                if field.name() == "acquired_after_secs" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut seconds = Seconds(None);
        event.record(&mut seconds);
        if let Some(s) = seconds.0 {
            metrics::histogram!(DB_POOL_ACQUIRE_SECONDS).record(s);
        }
    }
}

/// Router for the internal metrics port.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(handle)
}

async fn render(State(handle): State<PrometheusHandle>) -> impl IntoResponse {
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::ALL;

    /// The `timetracker_…` series named in `text`, histogram suffixes
    /// removed.
    fn named_in(text: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for (i, _) in text.match_indices("timetracker_") {
            if text[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|b| ALL.contains(b)))
                .map_or(name.clone(), str::to_owned);
            found.insert(base);
        }
        found
    }

    #[test]
    fn dashboards_alerts_and_docs_name_only_declared_metrics_and_the_docs_name_all() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![
            root.join("prometheus/alerts.yml"),
            root.join("prometheus/alerts.test.yml"),
            root.join("docs/monitoring.md"),
        ];
        for dashboard in std::fs::read_dir(root.join("grafana/dashboards")).expect("dashboards") {
            files.push(dashboard.expect("dashboard").path());
        }
        for file in &files {
            let text = std::fs::read_to_string(file).expect("readable");
            let unknown: Vec<_> = named_in(&text)
                .into_iter()
                .filter(|n| !ALL.contains(&n.as_str()))
                .collect();
            assert!(
                unknown.is_empty(),
                "{} names undeclared metrics: {unknown:?}",
                file.display()
            );
        }
        let documented =
            named_in(&std::fs::read_to_string(root.join("docs/monitoring.md")).expect("docs"));
        let undocumented: Vec<_> = ALL.iter().filter(|n| !documented.contains(**n)).collect();
        assert!(
            undocumented.is_empty(),
            "docs/monitoring.md does not describe {undocumented:?}"
        );
    }
}
