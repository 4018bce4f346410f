//! Samples queue depth by queue and state, and the oldest ready job's age,
//! every few seconds with two cheap grouped queries (apalis's own metrics
//! queries take ~1 s at 200k rows), and the worker's connection pool.

use std::{collections::BTreeSet, time::Duration};
use timetracker::observability::metrics::{JOBS, JOBS_OLDEST_READY_AGE_SECONDS};

use sqlx::PgPool;
use timetracker::db::{self, jobs::STATES};
use tokio::sync::watch;

const INTERVAL: Duration = Duration::from_secs(5);

pub async fn run(pool: PgPool, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = sample(&pool).await {
            tracing::warn!(error = %e, "queue depth sampling failed");
        }
    }
}

async fn sample(pool: &PgPool) -> Result<(), sqlx::Error> {
    timetracker::observability::metrics::sample_pool(pool);
    let counts = db::jobs::counts(pool).await?;
    let ages = db::jobs::oldest_ready_age(pool).await?;
    let queues: BTreeSet<String> = crate::QUEUES
        .iter()
        .map(|q| (*q).to_owned())
        .chain(counts.iter().map(|c| c.queue.clone()))
        .collect();
    for queue in &queues {
        for state in STATES {
            let n = counts
                .iter()
                .find(|c| &c.queue == queue && c.state == state)
                .map_or(0, |c| c.count);
            metrics::gauge!(JOBS, "queue" => queue.clone(), "state" => state).set(n as f64);
        }
        let age = ages
            .iter()
            .find(|(q, _)| q == queue)
            .map_or(0.0, |(_, a)| *a);
        metrics::gauge!(JOBS_OLDEST_READY_AGE_SECONDS, "queue" => queue.clone()).set(age);
    }
    Ok(())
}
