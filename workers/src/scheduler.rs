//! Enqueues periodic jobs. Every worker process runs this loop:
//! - maintenance, once per tick: the tick's start time is the idempotency key,
//!   so each tick's job is enqueued once however many workers there are;
//! - an analytics delivery run whenever due events wait without one (a safety
//!   net: recording an event normally enqueues it).

use std::time::Duration;

use sqlx::PgPool;
use timetracker::jobs::{self, AnalyticsFlush, Maintenance};
use tokio::sync::watch;

pub async fn run(pool: PgPool, interval: Duration, mut stop: watch::Receiver<bool>) {
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
    let due: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM analytics_events WHERE status = 'pending' AND next_attempt_at <= now())",
    )
    .fetch_one(pool)
    .await?;
    if due {
        let mut conn = pool.acquire().await?;
        jobs::enqueue_unique(&mut conn, &AnalyticsFlush::default(), AnalyticsFlush::KEY).await?;
    }
    Ok(())
}
