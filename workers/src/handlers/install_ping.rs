//! Sends one anonymous install ping to the makers' PostHog, only with consent.
//!
//! The gate is checked here again: consent recorded, not forced off by
//! `DO_NOT_TRACK`/`TIMETRACKER_TELEMETRY=0`, and a key to send with. Otherwise
//! nothing is sent, and no "opted out" ping either. The payload is built by
//! `analytics::install_ping::build`, the same function the setup and Telemetry
//! pages use for their preview, so what they show is what leaves.

use serde_json::json;
use sqlx::PgPool;
use timetracker::observability::metrics::POSTHOG_MISCONFIGURED;
use timetracker::{
    analytics::install_ping, build_info::VERSION, config::Config, db, jobs::SendInstallPing,
};

use super::analytics::{http_client, post_batch};
use crate::{JobContext, JobError, JobHandler};

pub const CHANNEL: &str = "install";

#[derive(Clone)]
pub struct SendPing {
    pool: PgPool,
    config: Config,
    http: reqwest::Client,
}

impl SendPing {
    pub fn new(config: &Config, pool: &PgPool) -> Self {
        Self {
            pool: pool.clone(),
            config: config.clone(),
            http: http_client(),
        }
    }
}

impl JobHandler<SendInstallPing> for SendPing {
    async fn handle(&self, job: SendInstallPing, _ctx: JobContext) -> Result<(), JobError> {
        let installation = db::installation::get(&self.pool)
            .await
            .map_err(JobError::retry)?;
        let Some(key) = self
            .config
            .analytics
            .telemetry_key
            .as_ref()
            .map(|k| k.expose().clone())
        else {
            return Ok(());
        };
        if !installation.telemetry_consent || self.config.analytics.telemetry_forced_off {
            return Ok(());
        }
        let users = db::users::count(&self.pool)
            .await
            .map_err(JobError::retry)?;
        let ping = install_ping::build(
            job.kind,
            installation.install_id,
            installation.created_at,
            users,
        );
        let event = json!({
            "event": ping.event,
            "distinct_id": ping.distinct_id,
            "uuid": uuid::Uuid::now_v7(),
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "properties": ping.properties,
        });
        let payload = json!({ "api_key": key, "historical_migration": false, "batch": [event] });
        let url = format!("{}/batch/", self.config.analytics.telemetry_host);
        let (status, retry_after, body) = post_batch(&self.http, &url, &payload, CHANNEL)
            .await
            .map_err(|e| JobError::Retry {
                error: anyhow::anyhow!(e),
                after: None,
            })?;
        let logged = json!({ "batch": [payload["batch"][0].clone()] });
        match status {
            200..=299 => {
                db::installation::record_ping(&self.pool, VERSION)
                    .await
                    .map_err(JobError::retry)?;
                let mut conn = self.pool.acquire().await.map_err(JobError::retry)?;
                db::analytics::log_delivery(&mut conn, CHANNEL, Some(status), 1, "sent", &logged)
                    .await
                    .map_err(JobError::retry)?;
                tracing::info!(event = ping.event, "install ping sent");
                Ok(())
            }
            400 | 401 | 403 => {
                if status != 400 {
                    metrics::counter!(POSTHOG_MISCONFIGURED, "channel" => CHANNEL).increment(1);
                }
                Err(JobError::Permanent(anyhow::anyhow!(
                    "install ping refused ({status}): {body}"
                )))
            }
            _ => Err(JobError::Retry {
                error: anyhow::anyhow!("install ping failed ({status}): {body}"),
                after: retry_after,
            }),
        }
    }
}
