//! Delivers product events from the outbox to the operator's PostHog.
//!
//! - The consent gate is checked again here: with the admin switch off, or no
//!   PostHog key, pending events are discarded (and counted), never sent; so
//!   are the pending events of users who opted out.
//! - Events leave in batches of at most 500 (and about 900 KB) to `/batch/`,
//!   without `sent_at`, each with the UUIDv7 and timestamp fixed at enqueue, so
//!   a resend after a crash is deduplicated by PostHog. The rows stay locked in
//!   one transaction while their batch is in flight.
//! - 2xx: sent. 413: the batch is split. 400: the batch is bisected until the
//!   poison event is alone; it alone is dead. 401/403: the channel is marked
//!   misconfigured, events are kept. 408, 429, 5xx, network errors: the events
//!   wait (exponential backoff, or `Retry-After`), and a delayed run is
//!   enqueued, so the wait survives restarts.
//! - `distinct_id` is a keyed hash of the install secret and the user id.

use std::time::{Duration, Instant};
use timetracker::observability::metrics::{
    ANALYTICS_EVENTS, POSTHOG_BATCH_EVENTS, POSTHOG_MISCONFIGURED,
    POSTHOG_REQUEST_DURATION_SECONDS, POSTHOG_REQUESTS,
};

use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use timetracker::{
    analytics::{distinct_id, install_ping::deployment},
    auth::Keys,
    build_info::VERSION,
    config::Config,
    db::{self, analytics::PendingEvent},
    jobs::{self, AnalyticsFlush, Job, backoff},
    runtime::load_keys,
};

use crate::{JobContext, JobError, JobHandler};

// PostHog takes 20 MB per /batch/ request; SDKs send 100 events. 500 (within
// the 900 KB cap) delivered 5,300 events/s here where 100 managed 3,500.
const BATCH_EVENTS: i64 = 500;
const BATCH_BYTES: usize = 900 * 1024;
const MAX_DELAY: Duration = Duration::from_secs(3600);
/// How long a run waits for more events before its first batch. Without it
/// every few events were a run of their own (about 12 per run, 100 runs a
/// second under make bench S2), each a job, a dozen statements and a POST;
/// PostHog's own SDKs batch for seconds, this adds at most a fifth of one.
const GATHER: Duration = Duration::from_millis(200);
const MISCONFIGURED_DELAY: Duration = Duration::from_secs(600);
pub const CHANNEL: &str = "product";

#[derive(Clone)]
pub struct DeliverAnalytics {
    pool: PgPool,
    config: Config,
    http: reqwest::Client,
}

impl DeliverAnalytics {
    pub fn new(config: &Config, pool: &PgPool) -> Self {
        Self {
            pool: pool.clone(),
            config: config.clone(),
            http: http_client(),
        }
    }
}

/// An HTTP client for PostHog: rustls with the ring provider, 10 s timeout.
pub fn http_client() -> reqwest::Client {
    timetracker::outbound::install_tls_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("timetracker/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// What PostHog said about a batch.
enum Verdict {
    Sent,
    TooLarge,
    Rejected(String),
    Misconfigured(String),
    Retry {
        after: Option<Duration>,
        error: String,
    },
}

/// What one run did, for the follow-up.
#[derive(Default)]
struct Run {
    misconfigured: bool,
}

impl JobHandler<AnalyticsFlush> for DeliverAnalytics {
    async fn handle(&self, _job: AnalyticsFlush, ctx: JobContext) -> Result<(), JobError> {
        // Gather first, key still held: the events of a burst find this run
        // queued (no job of their own) and leave in its batches.
        tokio::time::sleep(GATHER).await;
        // Then free the key, before the first batch is read: an event
        // recorded from now on enqueues the next run.
        db::jobs::release_key(&self.pool, &ctx.job_id)
            .await
            .map_err(JobError::retry)?;
        let enabled = db::analytics::enabled(&self.pool)
            .await
            .map_err(JobError::retry)?;
        let key = self
            .config
            .analytics
            .posthog_api_key
            .as_ref()
            .map(|k| k.expose().clone());
        if !enabled || (key.is_none() && !self.config.analytics.debug) {
            let n = db::analytics::discard_pending(&self.pool)
                .await
                .map_err(JobError::retry)?;
            if n > 0 {
                metrics::counter!(ANALYTICS_EVENTS, "outcome" => "discarded").increment(n);
                tracing::info!(
                    discarded = n,
                    "product analytics is off or not configured; pending events discarded"
                );
            }
            return Ok(());
        }
        // And per user: an event that slipped in while its user was opting
        // out (a request racing the opt-out's commit) is discarded, not sent.
        let n = db::analytics::discard_pending_of_opted_out(&self.pool)
            .await
            .map_err(JobError::retry)?;
        if n > 0 {
            metrics::counter!(ANALYTICS_EVENTS, "outcome" => "discarded").increment(n);
            tracing::info!(discarded = n, "events of opted-out users discarded");
        }
        let keys = load_keys(&self.config, &self.pool)
            .await
            .map_err(JobError::retry)?;
        let install_id = db::installation::get(&self.pool)
            .await
            .map_err(JobError::retry)?
            .install_id;
        let mut run = Run::default();
        loop {
            // A pause holds back the next batch, not only the next run: the
            // rest waits for the run queued below, which waits for the resume.
            if db::queues::is_paused(&self.pool, AnalyticsFlush::QUEUE)
                .await
                .map_err(JobError::retry)?
            {
                tracing::info!("analytics delivery paused between batches");
                break;
            }
            let mut tx = self.pool.begin().await.map_err(JobError::retry)?;
            let due = db::analytics::lock_due(&mut tx, BATCH_EVENTS)
                .await
                .map_err(JobError::retry)?;
            if due.is_empty() {
                break;
            }
            let prepared = self
                .prepare(&mut tx, &due, &keys, install_id)
                .await
                .map_err(JobError::retry)?;
            self.deliver(
                &mut tx,
                &due,
                &prepared,
                key.as_deref().unwrap_or(""),
                &mut run,
            )
            .await
            .map_err(JobError::retry)?;
            tx.commit().await.map_err(JobError::retry)?;
            // A short batch drained the outbox: what came in meanwhile found
            // the key free and queued the next run, which gathers first.
            // Looping on would send a batch per few events under load.
            if run.misconfigured || (due.len() as i64) < BATCH_EVENTS {
                break;
            }
        }
        // Events still waiting get a run when they are due. If a run is
        // already queued (the key is taken), that run ends with this same
        // step, so whichever run holds the key, the chain never breaks.
        if let Some(wait) = db::analytics::next_attempt_in(&self.pool)
            .await
            .map_err(JobError::retry)?
        {
            let mut conn = self.pool.acquire().await.map_err(JobError::retry)?;
            jobs::enqueue_unique_after(
                &mut conn,
                &AnalyticsFlush::default(),
                AnalyticsFlush::KEY,
                // At least a second: events locked by a concurrent run are
                // "due" too, and must not spin this into a hot loop.
                Duration::from_secs_f64(wait.max(1.0)),
            )
            .await
            .map_err(JobError::retry)?;
        }
        Ok(())
    }
}

impl DeliverAnalytics {
    /// The wire form of each event: only catalogue properties plus fixed context.
    async fn prepare(
        &self,
        conn: &mut PgConnection,
        events: &[PendingEvent],
        keys: &Keys,
        install_id: uuid::Uuid,
    ) -> Result<Vec<Value>, sqlx::Error> {
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            let distinct_id = match e.user_id {
                Some(id) => distinct_id(keys, id),
                None => install_id.to_string(),
            };
            let mut properties = e.properties.as_object().cloned().unwrap_or_default();
            properties.insert("$geoip_disable".into(), json!(true));
            properties.insert("$lib".into(), json!("timetracker"));
            properties.insert("$lib_version".into(), json!(VERSION));
            properties.insert("app_version".into(), json!(VERSION));
            properties.insert("deployment_method".into(), json!(deployment()));
            properties.insert(
                "environment".into(),
                json!(self.config.observability.environment),
            );
            properties.insert(
                "$groups".into(),
                json!({ "installation": install_id.to_string() }),
            );
            if e.event == "auth.login"
                && let Some(user_id) = e.user_id
                && let Some(role) = db::analytics::role(&mut *conn, user_id).await?
            {
                properties.insert(
                    "$set".into(),
                    json!({ "role": role, "auth_method": "password" }),
                );
            }
            out.push(json!({
                "event": e.event,
                "distinct_id": distinct_id,
                "uuid": e.uuid,
                "timestamp": e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "properties": properties,
            }));
        }
        Ok(out)
    }

    /// Sends `events` (rows `due`, same order), splitting on 413 and bisecting on 400.
    async fn deliver(
        &self,
        tx: &mut PgConnection,
        due: &[PendingEvent],
        events: &[Value],
        key: &str,
        run: &mut Run,
    ) -> anyhow::Result<()> {
        // Keep requests under the body size PostHog accepts comfortably.
        let size: usize = events.iter().map(|e| e.to_string().len()).sum();
        if size > BATCH_BYTES && events.len() > 1 {
            let mid = events.len() / 2;
            Box::pin(self.deliver(tx, &due[..mid], &events[..mid], key, run)).await?;
            return Box::pin(self.deliver(tx, &due[mid..], &events[mid..], key, run)).await;
        }
        let ids: Vec<i64> = due.iter().map(|e| e.id).collect();
        let payload = json!({ "api_key": key, "historical_migration": false, "batch": events });
        let (status, verdict) = self.post(&payload).await;
        let logged = json!({ "batch": events });
        match verdict {
            Verdict::Sent => {
                db::analytics::mark_sent(tx, &ids).await?;
                db::analytics::set_error(tx, None).await?;
                metrics::counter!(ANALYTICS_EVENTS, "outcome" => "delivered")
                    .increment(ids.len() as u64);
                metrics::histogram!(POSTHOG_BATCH_EVENTS).record(ids.len() as f64);
                db::analytics::log_delivery(tx, CHANNEL, status, ids.len(), "sent", &logged)
                    .await?;
            }
            Verdict::TooLarge | Verdict::Rejected(_) if events.len() > 1 => {
                let mid = events.len() / 2;
                Box::pin(self.deliver(tx, &due[..mid], &events[..mid], key, run)).await?;
                Box::pin(self.deliver(tx, &due[mid..], &events[mid..], key, run)).await?;
            }
            Verdict::TooLarge | Verdict::Rejected(_) => {
                let error = match verdict {
                    Verdict::Rejected(e) => e,
                    _ => "event too large".into(),
                };
                db::analytics::mark_dead(tx, &ids, &error).await?;
                metrics::counter!(ANALYTICS_EVENTS, "outcome" => "dead")
                    .increment(ids.len() as u64);
                tracing::warn!(event = due[0].event, uuid = %due[0].uuid, error, "PostHog refused an event; it is dead");
                db::analytics::log_delivery(tx, CHANNEL, status, ids.len(), "rejected", &logged)
                    .await?;
            }
            Verdict::Misconfigured(error) => {
                db::analytics::postpone(tx, &ids, MISCONFIGURED_DELAY.as_secs_f64(), &error)
                    .await?;
                db::analytics::set_error(tx, Some(&error)).await?;
                metrics::counter!(POSTHOG_MISCONFIGURED, "channel" => CHANNEL).increment(1);
                tracing::error!(
                    error,
                    "PostHog refused the API key; events are kept until the configuration is fixed"
                );
                run.misconfigured = true;
            }
            Verdict::Retry { after, error } => {
                let attempts = due.iter().map(|e| e.attempts).max().unwrap_or(0) as usize;
                let delay = after.unwrap_or_else(|| backoff(attempts + 1, MAX_DELAY));
                db::analytics::postpone(tx, &ids, delay.as_secs_f64(), &error).await?;
                tracing::warn!(
                    error,
                    retry_in_seconds = delay.as_secs_f64(),
                    events = ids.len(),
                    "PostHog delivery failed; will retry"
                );
            }
        }
        Ok(())
    }

    /// One POST to `/batch/` (or, in print-only mode, one log line).
    async fn post(&self, payload: &Value) -> (Option<u16>, Verdict) {
        if self.config.analytics.debug {
            tracing::info!(payload = %payload["batch"], "analytics debug mode: payload printed, not sent");
            return (None, Verdict::Sent);
        }
        let url = format!("{}/batch/", self.config.analytics.posthog_host);
        let (status, retry_after, body) = match post_batch(&self.http, &url, payload, CHANNEL).await
        {
            Ok(answer) => answer,
            Err(error) => return (None, Verdict::Retry { after: None, error }),
        };
        let verdict = match status {
            200..=299 => Verdict::Sent,
            413 => Verdict::TooLarge,
            400 => Verdict::Rejected(format!("400: {body}")),
            401 | 403 => {
                Verdict::Misconfigured(format!("{status}: PostHog refused the project API key"))
            }
            _ => Verdict::Retry {
                after: retry_after,
                error: format!("{status}: {body}"),
            },
        };
        (Some(status), verdict)
    }
}

/// POSTs a batch to PostHog and records the request metrics. Returns the
/// status, a `Retry-After` in seconds if given, and the start of the body; or
/// the network error.
pub async fn post_batch(
    http: &reqwest::Client,
    url: &str,
    payload: &Value,
    channel: &'static str,
) -> Result<(u16, Option<Duration>, String), String> {
    let started = Instant::now();
    let result = http.post(url).json(payload).send().await;
    metrics::histogram!(POSTHOG_REQUEST_DURATION_SECONDS, "channel" => channel)
        .record(started.elapsed().as_secs_f64());
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            metrics::counter!(POSTHOG_REQUESTS, "channel" => channel, "status_class" => "error")
                .increment(1);
            return Err(format!("network error: {e}"));
        }
    };
    let status = response.status().as_u16();
    let class = format!("{}xx", status / 100);
    metrics::counter!(POSTHOG_REQUESTS, "channel" => channel, "status_class" => class).increment(1);
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(24 * 3600)));
    let body: String = response
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    Ok((status, retry_after, body))
}
