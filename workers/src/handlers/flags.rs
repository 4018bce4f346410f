//! Refreshes the PostHog evaluation of the feature flags into the database.
//!
//! Only while product analytics is on (it is an outbound call carrying the
//! install id, so the same consent governs it). A failed, quota-limited or
//! partial answer keeps the last good values.

use std::time::Duration;
use timetracker::observability::metrics::POSTHOG_REQUESTS;

use serde_json::{Value, json};
use sqlx::PgPool;
use timetracker::{config::Config, db, flags};

pub async fn refresh(pool: &PgPool, config: &Config, http: &reqwest::Client) -> anyhow::Result<()> {
    let Some(key) = config.analytics.posthog_api_key.as_ref() else {
        return Ok(());
    };
    if !db::analytics::enabled(pool).await? {
        return Ok(());
    }
    let install_id = db::installation::get(pool).await?.install_id;
    let names: Vec<&str> = flags::FLAGS.iter().map(|f| f.name).collect();
    let body = json!({
        "api_key": key.expose(),
        "distinct_id": format!("install:{install_id}"),
        "groups": { "installation": install_id.to_string() },
        "flag_keys_to_evaluate": names,
        "disable_geoip": true,
    });
    let response = http
        .post(format!("{}/flags?v=2", config.analytics.posthog_host))
        .timeout(Duration::from_secs(3))
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    metrics::counter!(POSTHOG_REQUESTS, "channel" => "flags",
        "status_class" => format!("{}xx", status.as_u16() / 100))
    .increment(1);
    if !status.is_success() {
        anyhow::bail!("PostHog flags answered {status}; keeping the last values");
    }
    let answer: Value = response.json().await?;
    let quota_limited = answer["quotaLimited"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    if quota_limited || answer["errorsWhileComputingFlags"] == true {
        tracing::warn!(
            quota_limited,
            "PostHog flags answer incomplete; keeping the last values"
        );
        return Ok(());
    }
    for name in names {
        if let Some(enabled) = answer["flags"][name]["enabled"].as_bool() {
            flags::set_remote(pool, name, enabled).await?;
        }
    }
    Ok(())
}
