//! Enqueues periodic jobs. Every worker process runs this loop:
//! - maintenance, once per tick: the tick's start time is the idempotency key,
//!   so each tick's job is enqueued once however many workers there are;
//! - an analytics delivery run whenever due events wait without one (a safety
//!   net: recording an event normally enqueues it);
//! - with install-telemetry consent: one `telemetry.update` ping per new
//!   version, and one daily heartbeat after the installation's own minute of
//!   the day (keyed by date, so once a day however many workers there are);
//! - every 5 minutes, the PostHog evaluation of the feature flags.

use std::time::Duration;

use sqlx::PgPool;
use timetracker::{
    analytics::install_ping::{PingKind, heartbeat_minute},
    build_info::VERSION,
    config::Config,
    db,
    jobs::{self, AnalyticsFlush, Job, Maintenance, SendInstallPing},
};
use tokio::sync::watch;

/// How often the PostHog evaluation of the feature flags is refreshed.
const FLAGS_EVERY: Duration = Duration::from_secs(300);

pub async fn run(pool: PgPool, config: Config, mut stop: watch::Receiver<bool>) {
    let interval = config.worker.maintenance_interval;
    let telemetry_active =
        config.analytics.telemetry_key.is_some() && !config.analytics.telemetry_forced_off;
    let http = crate::handlers::analytics::http_client();
    let mut last_flags: Option<std::time::Instant> = None;
    // Check a few times per interval so a tick is not missed by much after a restart.
    let mut check = tokio::time::interval(
        (interval / 4).clamp(Duration::from_secs(1), Duration::from_secs(60)),
    );
    loop {
        tokio::select! {
            _ = check.tick() => {}
            _ = stop.changed() => return,
        }
        let now = chrono::Utc::now().timestamp();
        let period = interval.as_secs().max(1) as i64;
        let tick = now - now.rem_euclid(period);
        if let Err(e) = enqueue(&pool, tick).await {
            tracing::warn!(error = format!("{e:#}"), "could not enqueue maintenance");
        }
        if let Err(e) = enqueue_analytics(&pool).await {
            tracing::warn!(
                error = format!("{e:#}"),
                "could not enqueue analytics delivery"
            );
        }
        if last_flags.is_none_or(|t| t.elapsed() >= FLAGS_EVERY) {
            last_flags = Some(std::time::Instant::now());
            if let Err(e) = crate::handlers::flags::refresh(&pool, &config, &http).await {
                tracing::warn!(error = format!("{e:#}"), "feature flag refresh failed");
            }
        }
        if telemetry_active && let Err(e) = enqueue_pings(&pool, chrono::Utc::now()).await {
            tracing::warn!(error = format!("{e:#}"), "could not enqueue install ping");
        }
    }
}

async fn enqueue(pool: &PgPool, tick: i64) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    if jobs::enqueue_unique(
        &mut conn,
        &Maintenance { tick },
        &format!("maintenance:{tick}"),
    )
    .await?
    {
        tracing::info!(tick, "maintenance enqueued");
    }
    Ok(())
}

async fn enqueue_analytics(pool: &PgPool) -> anyhow::Result<()> {
    // Seconds until the earliest pending event may go: at most 0 means due.
    if db::analytics::next_attempt_in(pool)
        .await?
        .is_some_and(|s| s <= 0.0)
    {
        let mut conn = pool.acquire().await?;
        jobs::enqueue_unique(&mut conn, &AnalyticsFlush::default(), AnalyticsFlush::KEY).await?;
    }
    Ok(())
}

/// Enqueues the pings due at `now`: an update after a version change, the
/// daily heartbeat once the installation's minute of the day has passed.
pub async fn enqueue_pings(
    pool: &PgPool,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use chrono::Timelike;
    let installation = db::installation::get(pool).await?;
    // While a ping is on its way, wait for it: it may be the day's (or the
    // version's) ping already, and it records itself when it leaves.
    if !installation.telemetry_consent
        || db::jobs::outstanding(pool, &[SendInstallPing::QUEUE]).await? > 0
    {
        return Ok(());
    }
    let mut conn = pool.acquire().await?;
    if let Some(version) = installation.last_ping_version.as_deref()
        && version != VERSION
    {
        let job = SendInstallPing {
            kind: PingKind::Update,
        };
        jobs::enqueue_unique(&mut conn, &job, &format!("ping-update-{VERSION}")).await?;
        return Ok(());
    }
    let minute = now.hour() * 60 + now.minute();
    let sent_today = installation
        .last_ping_at
        .is_some_and(|t| t.date_naive() == now.date_naive());
    if minute >= heartbeat_minute(installation.install_id) && !sent_today {
        let job = SendInstallPing {
            kind: PingKind::Heartbeat,
        };
        jobs::enqueue_unique(
            &mut conn,
            &job,
            &format!("ping-heartbeat-{}", now.date_naive()),
        )
        .await?;
    }
    Ok(())
}
