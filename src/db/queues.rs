//! Queue controls and worker processes: which queues are paused
//! (`queue_pauses`; the fetch in the database skips their jobs, see the
//! migration `queue_pause_at_fetch`) and which worker processes are alive
//! (`worker_processes`, beaten by each process every heartbeat).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// What a worker process says of itself every heartbeat.
#[derive(Debug, Clone)]
pub struct Beat<'a> {
    pub name: &'a str,
    pub host: &'a str,
    pub pid: i32,
    pub queues: &'a [&'a str],
}

/// Records a worker process's heartbeat.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn beat(pool: &PgPool, beat: &Beat<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO worker_processes (name, host, pid, queues) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET last_seen = now(), queues = EXCLUDED.queues",
    )
    .bind(beat.name)
    .bind(beat.host)
    .bind(beat.pid)
    .bind(beat.queues)
    .execute(pool)
    .await?;
    Ok(())
}

/// A worker process that stopped cleanly leaves the list.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn depart(pool: &PgPool, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM worker_processes WHERE name = $1")
        .bind(name)
        .execute(pool)
        .await?;
    Ok(())
}

/// Pauses `queue`. False if it was paused already.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn pause(pool: &PgPool, queue: &str, admin_id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO queue_pauses (queue, paused_by) VALUES ($1, $2) ON CONFLICT (queue) DO NOTHING",
    )
    .bind(queue)
    .bind(admin_id)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Resumes `queue`. False if it was not paused.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn resume(pool: &PgPool, queue: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM queue_pauses WHERE queue = $1")
        .bind(queue)
        .execute(pool)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A paused queue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pause {
    pub queue: String,
    pub paused_at: DateTime<Utc>,
    /// The administrator's username (none once that account is deleted).
    pub paused_by: Option<String>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn paused(pool: &PgPool) -> Result<Vec<Pause>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.queue, p.paused_at, u.username AS paused_by
         FROM queue_pauses p LEFT JOIN users u ON u.id = p.paused_by ORDER BY p.queue",
    )
    .fetch_all(pool)
    .await
}

/// Whether an administrator has paused `queue` (a job that runs in steps
/// asks between steps).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn is_paused(pool: &PgPool, queue: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = $1)")
        .bind(queue)
        .fetch_one(pool)
        .await
}

/// A worker process as the console shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Process {
    pub name: String,
    pub host: String,
    pub pid: i32,
    pub queues: Vec<String>,
    pub started_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Jobs its workers hold now (claimed or running).
    pub held: i64,
    /// Silent for longer than the orphan threshold: its jobs are about to be
    /// rescued by another worker.
    pub presumed_dead: bool,
}

/// Worker processes seen in the last hour, the silent ones first, with the
/// jobs their workers (named `<process>/<queue>…`) hold.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn processes(
    pool: &PgPool,
    dead_after_seconds: f64,
) -> Result<Vec<Process>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.name, p.host, p.pid, p.queues, p.started_at, p.last_seen,
                (SELECT count(*) FROM apalis.jobs j
                 WHERE j.status IN ('Queued', 'Running') AND starts_with(j.lock_by, p.name || '/')) AS held,
                p.last_seen < now() - make_interval(secs => $1) AS presumed_dead
         FROM worker_processes p WHERE p.last_seen > now() - interval '1 hour'
         ORDER BY presumed_dead DESC, p.started_at, p.name",
    )
    .bind(dead_after_seconds)
    .fetch_all(pool)
    .await
}

/// Deletes processes silent since `before`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn prune_processes(pool: &PgPool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM worker_processes WHERE last_seen < $1")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(r.rows_affected())
}

/// What the web process exports about a queue for alerting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Watch {
    pub queue: String,
    pub paused: bool,
    /// Worker processes serving the queue whose heartbeat is recent.
    pub workers_alive: i64,
    /// Jobs due and not yet started.
    pub ready: i64,
}

/// Paused flag, live workers and due jobs of each of `queues`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn watch(
    pool: &PgPool,
    queues: &[&str],
    alive_within_seconds: f64,
) -> Result<Vec<Watch>, sqlx::Error> {
    sqlx::query_as(
        "SELECT q AS queue,
                EXISTS (SELECT 1 FROM queue_pauses p WHERE p.queue = q) AS paused,
                (SELECT count(*) FROM worker_processes w
                 WHERE q = ANY(w.queues) AND w.last_seen > now() - make_interval(secs => $2)) AS workers_alive,
                (SELECT count(*) FROM apalis.jobs j
                 WHERE j.job_type = q AND j.run_at <= now()
                   AND (j.status = 'Pending' OR (j.status = 'Failed' AND j.attempts < j.max_attempts))) AS ready
         FROM unnest($1::text[]) AS q",
    )
    .bind(queues)
    .bind(alive_within_seconds)
    .fetch_all(pool)
    .await
}
