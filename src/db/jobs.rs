//! Read and repair the apalis job table: depth by state, dead jobs, retry,
//! discard and retention. Enqueueing lives in `crate::jobs`.
//!
//! Job states as this app names them (apalis stores `status`, `attempts`,
//! `max_attempts` and `run_at`):
//! - `pending`: Pending and due; `scheduled`: Pending with `run_at` in the future;
//! - `running`: Queued or Running (claimed by a worker);
//! - `retrying`: Failed with attempts left (our backoff moved `run_at`);
//! - `done`; `dead`: Killed (permanent failure) or Failed with no attempts left.

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, PgPool};

/// SQL condition for a dead job.
const DEAD: &str = "(status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts))";

/// Every state a job can be in, in display order.
pub const STATES: [&str; 6] = [
    "pending",
    "scheduled",
    "running",
    "retrying",
    "done",
    "dead",
];

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StateCount {
    pub queue: String,
    pub state: String,
    pub count: i64,
}

/// Jobs per queue and state, one cheap grouped scan.
#[tracing::instrument(skip_all)]
pub async fn counts(pool: &PgPool) -> Result<Vec<StateCount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT job_type AS queue,
                CASE WHEN status = 'Pending' AND run_at > now() THEN 'scheduled'
                     WHEN status = 'Pending' THEN 'pending'
                     WHEN status IN ('Queued', 'Running') THEN 'running'
                     WHEN status = 'Failed' AND attempts < max_attempts THEN 'retrying'
                     WHEN status = 'Done' THEN 'done'
                     ELSE 'dead' END AS state,
                count(*) AS count
         FROM apalis.jobs GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
}

/// Age in seconds of the oldest job that is due but not yet claimed, per queue.
#[tracing::instrument(skip_all)]
pub async fn oldest_ready_age(pool: &PgPool) -> Result<Vec<(String, f64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT job_type, extract(epoch FROM now() - min(run_at))::float8
         FROM apalis.jobs
         WHERE (status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts)) AND run_at <= now()
         GROUP BY 1",
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeadJob {
    pub id: String,
    pub queue: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// The most recent dead jobs with their last error.
#[tracing::instrument(skip_all)]
pub async fn dead(pool: &PgPool, limit: i64) -> Result<Vec<DeadJob>, sqlx::Error> {
    // Only constants are formatted into these statements.
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, job_type AS queue, attempts,
                coalesce(last_result ->> 'Err', last_result::text) AS last_error,
                done_at AS failed_at
         FROM apalis.jobs WHERE {DEAD} ORDER BY done_at DESC NULLS LAST LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Gives a dead job a fresh set of attempts, due now. False if it is not dead.
#[tracing::instrument(skip_all)]
pub async fn retry_dead(pool: &PgPool, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(AssertSqlSafe(format!(
        "UPDATE apalis.jobs SET status = 'Pending', attempts = 0, run_at = now(),
                lock_by = NULL, lock_at = NULL, done_at = NULL, last_result = NULL
         WHERE id = $1 AND {DEAD}"
    )))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes a dead job. False if it is not dead.
#[tracing::instrument(skip_all)]
pub async fn discard_dead(pool: &PgPool, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM apalis.jobs WHERE id = $1 AND {DEAD}"
    )))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Moves a job's next run to `delay_seconds` from now: our durable backoff,
/// because apalis-postgres retries a failed job immediately otherwise.
#[tracing::instrument(skip_all)]
pub async fn reschedule(pool: &PgPool, id: &str, delay_seconds: f64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE apalis.jobs SET run_at = now() + make_interval(secs => $2) WHERE id = $1")
        .bind(id)
        .bind(delay_seconds)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes, in batches, done jobs finished before `done_before` and dead jobs
/// that failed before `dead_before`. Returns (done, dead) deleted.
#[tracing::instrument(skip_all)]
pub async fn prune(
    pool: &PgPool,
    done_before: DateTime<Utc>,
    dead_before: DateTime<Utc>,
) -> Result<(u64, u64), sqlx::Error> {
    let mut totals = (0, 0);
    for (condition, cutoff, total) in [
        ("status = 'Done'", done_before, &mut totals.0),
        (DEAD, dead_before, &mut totals.1),
    ] {
        loop {
            let r = sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM apalis.jobs WHERE id IN (
                     SELECT id FROM apalis.jobs WHERE {condition} AND done_at < $1 LIMIT 5000)"
            )))
            .bind(cutoff)
            .execute(pool)
            .await?;
            *total += r.rows_affected();
            if r.rows_affected() < 5000 {
                break;
            }
        }
    }
    Ok(totals)
}

/// Deletes worker registrations silent since `before` that no job references.
/// Every worker process registers a unique name, so these rows would pile up.
#[tracing::instrument(skip_all)]
pub async fn prune_workers(pool: &PgPool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM apalis.workers w WHERE w.last_seen < $1
         AND NOT EXISTS (SELECT 1 FROM apalis.jobs j WHERE j.lock_by = w.id)",
    )
    .bind(before)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

/// Jobs of the given queues that are due or being worked on.
#[tracing::instrument(skip_all)]
pub async fn outstanding(pool: &PgPool, queues: &[&str]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE job_type = ANY($1) AND (
             status IN ('Queued', 'Running')
             OR ((status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts)) AND run_at <= now()))",
    )
    .bind(queues)
    .fetch_one(pool)
    .await
}
