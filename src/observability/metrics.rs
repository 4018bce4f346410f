//! The Prometheus recorder and the internal `/metrics` listener.

use std::sync::OnceLock;

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::layer::{Context, Layer};

/// Histogram buckets in seconds, from 1 ms to 10 s (request and job run time).
const SECONDS_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Connection acquire time: usually microseconds, seconds when the pool is exhausted.
const ACQUIRE_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1.0, 5.0,
];
/// Wait from a job's due time to its start: seconds to an hour.
const WAIT_BUCKETS: [f64; 11] = [
    0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0,
];
/// Events per PostHog batch (the worker sends up to 1,000).
const BATCH_BUCKETS: [f64; 9] = [1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

/// The target of sqlx's per-acquire event, which carries `acquired_after_secs`.
pub const POOL_ACQUIRE_TARGET: &str = "sqlx::pool::acquire";

/// Installs the global recorder once per process and returns its handle.
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&SECONDS_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("timetracker_db_pool_acquire_seconds".into()),
                        &ACQUIRE_BUCKETS,
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("timetracker_job_wait_seconds".into()),
                        &WAIT_BUCKETS,
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("timetracker_posthog_batch_events".into()),
                        &BATCH_BUCKETS,
                    )
                })
                .and_then(|b| b.install_recorder())
                .unwrap_or_else(|e| panic!("installing the metrics recorder failed: {e}"));
            describe();
            metrics::gauge!("timetracker_build_info", "version" => crate::build_info::VERSION, "commit" => crate::build_info::COMMIT)
                .set(1.0);
            handle
        })
        .clone()
}

fn describe() {
    describe_gauge!(
        "timetracker_db_pool_connections",
        "Database pool connections by state (in_use, idle)."
    );
    describe_gauge!(
        "timetracker_db_pool_max_connections",
        "Database pool size limit."
    );
    describe_histogram!(
        "timetracker_db_pool_acquire_seconds",
        Unit::Seconds,
        "Time to get a connection from the database pool."
    );
    describe_gauge!(
        "timetracker_active_timers",
        "Timers running now, across all users."
    );
    describe_counter!(
        "timetracker_time_entries_created_total",
        "Time entries created, by source (timer, manual)."
    );
    describe_counter!(
        "timetracker_exports_requested_total",
        "Background exports requested, by format."
    );
    describe_gauge!(
        "timetracker_build_info",
        "Version and commit of the running build (always 1)."
    );
    describe_counter!(
        "timetracker_http_requests_total",
        "HTTP requests by method, route template and status."
    );
    describe_histogram!(
        "timetracker_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by method, route template and status class."
    );
    describe_gauge!(
        "timetracker_http_requests_in_flight",
        "HTTP requests being served now."
    );
    describe_counter!(
        "timetracker_logins_total",
        "Login attempts by outcome (succeeded, failed, throttled)."
    );
    describe_gauge!(
        "timetracker_jobs",
        "Jobs by queue and state, sampled by the worker."
    );
    describe_gauge!(
        "timetracker_jobs_oldest_ready_age_seconds",
        Unit::Seconds,
        "Age of the oldest due job not yet picked up, by queue."
    );
    describe_counter!(
        "timetracker_jobs_processed_total",
        "Job runs by queue and outcome (ok, retried, dead)."
    );
    describe_histogram!(
        "timetracker_job_wait_seconds",
        Unit::Seconds,
        "Time from a job's due time to its start, by queue (whole-second resolution)."
    );
    describe_histogram!(
        "timetracker_job_duration_seconds",
        Unit::Seconds,
        "Job run time by queue."
    );
    describe_counter!(
        "timetracker_jobs_pruned_total",
        "Jobs deleted by retention, by kind (done, dead)."
    );
    describe_counter!(
        "timetracker_exports_completed_total",
        "Background exports finished, by format and outcome."
    );
    describe_counter!(
        "timetracker_export_rows_total",
        "Rows written by background exports, by format."
    );
    describe_counter!(
        "timetracker_export_bytes_total",
        Unit::Bytes,
        "Bytes written by background exports, by format."
    );
    describe_counter!(
        "timetracker_analytics_events_total",
        "Product events by outcome (delivered, dead, discarded)."
    );
    describe_counter!(
        "timetracker_posthog_requests_total",
        "Requests to PostHog by channel and status class."
    );
    describe_histogram!(
        "timetracker_posthog_request_duration_seconds",
        Unit::Seconds,
        "PostHog request duration by channel."
    );
    describe_histogram!(
        "timetracker_posthog_batch_events",
        "Events per delivered PostHog batch."
    );
    describe_counter!(
        "timetracker_posthog_misconfigured_total",
        "Deliveries refused because PostHog rejected the API key, by channel."
    );
    describe_gauge!(
        "timetracker_queue_paused",
        "1 while an administrator has paused the queue, else 0 (sampled by each web process)."
    );
    describe_gauge!(
        "timetracker_queue_workers_alive",
        "Worker processes serving the queue whose heartbeat is recent (sampled by each web process)."
    );
    describe_gauge!(
        "timetracker_queue_ready_jobs",
        "Jobs of the queue that are due and not yet started (sampled by each web process)."
    );
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
            Ok(n) => metrics::gauge!("timetracker_active_timers").set(n as f64),
            Err(e) => tracing::debug!(error = %e, "active timer sampling failed"),
        }
        // Sampled here, not in the worker: "no worker alive" must be said by
        // a process that is not a worker.
        let alive_within = crate::jobs::console::presumed_dead_after(worker_heartbeat) as f64;
        match crate::db::queues::watch(&pool, crate::jobs::QUEUES, alive_within).await {
            Ok(rows) => {
                for w in rows {
                    let queue = w.queue;
                    metrics::gauge!("timetracker_queue_paused", "queue" => queue.clone())
                        .set(if w.paused { 1.0 } else { 0.0 });
                    metrics::gauge!("timetracker_queue_workers_alive", "queue" => queue.clone())
                        .set(w.workers_alive as f64);
                    metrics::gauge!("timetracker_queue_ready_jobs", "queue" => queue)
                        .set(w.ready as f64);
                }
            }
            Err(e) => tracing::debug!(error = %e, "queue sampling failed"),
        }
    }
}

/// The connection pool's use and limit, sampled by both processes.
pub fn sample_pool(pool: &sqlx::PgPool) {
    let (size, idle) = (pool.size(), pool.num_idle() as u32);
    metrics::gauge!("timetracker_db_pool_connections", "state" => "in_use")
        .set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!("timetracker_db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("timetracker_db_pool_max_connections")
        .set(f64::from(pool.options().get_max_connections()));
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
            metrics::histogram!("timetracker_db_pool_acquire_seconds").record(s);
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
