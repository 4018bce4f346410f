//! Periodic upkeep. Retention: deletes finished jobs after `JOB_RETENTION_DAYS`,
//! dead jobs after `DEAD_JOB_RETENTION_DAYS`, expired sessions, stale login
//! counters, old worker registrations, export files older than
//! `EXPORT_RETENTION_DAYS`, and product events sent or discarded longer ago
//! than `JOB_RETENTION_DAYS` (dead ones stay until an admin acts on them). And, when the admin turned it on,
//! stops timers left running longer than the configured limit. Every step is
//! idempotent, so a re-run is harmless.

use std::time::Duration;
use timetracker::observability::metrics::JOBS_PRUNED;

use chrono::Utc;
use sqlx::PgPool;
use timetracker::{auth::throttle, config::Config, db, jobs::Maintenance};

use crate::{JobContext, JobError, JobHandler};

/// Worker registrations silent this long are removed once no job references them.
const WORKER_ROW_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Clone)]
pub struct Prune {
    pool: PgPool,
    job_retention: Duration,
    dead_job_retention: Duration,
    export_retention: Duration,
}

impl Prune {
    pub fn new(config: &Config, pool: &PgPool) -> Self {
        Self {
            pool: pool.clone(),
            job_retention: config.worker.job_retention,
            dead_job_retention: config.worker.dead_job_retention,
            export_retention: config.worker.export_retention,
        }
    }
}

fn before(age: Duration) -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::days(3650))
}

impl JobHandler<Maintenance> for Prune {
    async fn handle(&self, _job: Maintenance, _ctx: JobContext) -> Result<(), JobError> {
        let (done, dead) = db::jobs::prune(
            &self.pool,
            before(self.job_retention),
            before(self.dead_job_retention),
        )
        .await
        .map_err(JobError::retry)?;
        let workers = db::jobs::prune_workers(&self.pool, before(WORKER_ROW_RETENTION))
            .await
            .map_err(JobError::retry)?
            + db::queues::prune_processes(&self.pool, before(WORKER_ROW_RETENTION))
                .await
                .map_err(JobError::retry)?;
        let sessions = db::sessions::delete_expired(&self.pool)
            .await
            .map_err(JobError::retry)?;
        let counters = db::throttle::delete_expired(&self.pool, throttle::WINDOW_SECONDS)
            .await
            .map_err(JobError::retry)?;
        let settings = db::settings::load(&self.pool)
            .await
            .map_err(JobError::retry)?;
        let stopped_timers = if settings.auto_stop_long_timers {
            db::entries::stop_long_running(&self.pool, settings.long_timer_hours)
                .await
                .map_err(JobError::retry)?
        } else {
            0
        };
        let analytics_events = db::analytics::prune(&self.pool, before(self.job_retention))
            .await
            .map_err(JobError::retry)?;
        let expired_exports = db::exports::expire(&self.pool, before(self.export_retention))
            .await
            .map_err(JobError::retry)?;
        metrics::counter!(JOBS_PRUNED, "kind" => "done").increment(done);
        metrics::counter!(JOBS_PRUNED, "kind" => "dead").increment(dead);
        tracing::info!(
            done,
            dead,
            workers,
            sessions,
            counters,
            stopped_timers,
            expired_exports,
            analytics_events,
            "maintenance finished"
        );
        Ok(())
    }
}
