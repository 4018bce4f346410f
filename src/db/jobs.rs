//! Read and repair the apalis job table: depth by state, dead jobs, retry,
//! discard and retention. Enqueueing lives in `crate::jobs`.
//!
//! Job states as this app names them (apalis stores `status`, `attempts`,
//! `max_attempts` and `run_at`):
//! - `pending`: Pending and due; `scheduled`: Pending with `run_at` in the future;
//! - `running`: Queued or Running (claimed by a worker);
//! - `retrying`: Failed with attempts left (our backoff moved `run_at`);
//! - `done`; `dead`: Killed (permanent failure) or Failed with no attempts left.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres, postgres::PgArguments};

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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn counts(pool: &PgPool) -> Result<Vec<StateCount>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT job_type AS queue, {STATE} AS state, count(*) AS count
         FROM apalis.jobs GROUP BY 1, 2 ORDER BY 1, 2"
    )))
    .fetch_all(pool)
    .await
}

/// Age in seconds of the oldest job that is due but not yet claimed, per queue.
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn discard_dead(pool: &PgPool, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM apalis.jobs WHERE id = $1 AND {DEAD}"
    )))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Cancels a job that has not started (pending, scheduled or retrying): it
/// becomes dead with that reason, so it can still be retried. False if it
/// was not waiting.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn cancel_waiting(pool: &PgPool, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(AssertSqlSafe(format!(
        "UPDATE apalis.jobs SET status = 'Killed', done_at = now(), lock_by = NULL, lock_at = NULL,
                last_result = '{{\"Err\": \"Cancelled by an administrator\"}}'
         WHERE id = $1 AND {WAITING}"
    )))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// SQL condition for a job that waits to start.
const WAITING: &str = "(status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts))";

/// What a bulk action does, and to which of the selected jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkJobAction {
    /// Dead jobs get a fresh set of attempts.
    Retry,
    /// Dead jobs are deleted.
    Discard,
    /// Waiting jobs become dead ("cancelled").
    Cancel,
}

impl BulkJobAction {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "retry" => Some(Self::Retry),
            "discard" => Some(Self::Discard),
            "cancel" => Some(Self::Cancel),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retry => "retry",
            Self::Discard => "discard",
            Self::Cancel => "cancel",
        }
    }

    fn applies_to(self) -> &'static str {
        match self {
            Self::Retry | Self::Discard => DEAD,
            Self::Cancel => WAITING,
        }
    }
}

/// How many jobs of `queue` (all queues when none) the action would touch.
/// How many of the jobs `f` selects `action` would touch (the cursor is ignored).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn bulk_count(
    pool: &PgPool,
    f: &JobFilter,
    action: BulkJobAction,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM apalis.jobs WHERE {} AND {}",
        selected(f),
        action.applies_to()
    )))
    .bind(f.queue.as_deref())
    .bind(f.search.as_deref())
    .bind(f.from)
    .bind(f.to)
    .fetch_one(pool)
    .await
}

/// Does `action` to the jobs `f` selects that it applies to; returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn bulk(pool: &PgPool, f: &JobFilter, action: BulkJobAction) -> Result<u64, sqlx::Error> {
    let set = match action {
        BulkJobAction::Retry => {
            "UPDATE apalis.jobs SET status = 'Pending', attempts = 0, run_at = now(),
                    lock_by = NULL, lock_at = NULL, done_at = NULL, last_result = NULL"
        }
        BulkJobAction::Discard => "DELETE FROM apalis.jobs",
        BulkJobAction::Cancel => {
            "UPDATE apalis.jobs SET status = 'Killed', done_at = now(), lock_by = NULL, lock_at = NULL,
                    last_result = '{\"Err\": \"Cancelled by an administrator\"}'"
        }
    };
    let r = sqlx::query(AssertSqlSafe(format!(
        "{set} WHERE {} AND {}",
        selected(f),
        action.applies_to()
    )))
    .bind(f.queue.as_deref())
    .bind(f.search.as_deref())
    .bind(f.from)
    .bind(f.to)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobAction {
    pub admin: Option<String>,
    pub action: String,
    pub target: String,
    pub jobs: i64,
    pub at: DateTime<Utc>,
}

/// Records an administrator's action.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_action(
    pool: &PgPool,
    admin_id: i64,
    action: &str,
    target: &str,
    jobs: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO job_actions (admin_id, action, target, jobs) VALUES ($1, $2, $3, $4)")
        .bind(admin_id)
        .bind(action)
        .bind(target)
        .bind(jobs)
        .execute(pool)
        .await?;
    Ok(())
}

/// The latest administrator actions, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn recent_actions(pool: &PgPool, limit: i64) -> Result<Vec<JobAction>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.username AS admin, a.action, a.target, a.jobs, a.at
         FROM job_actions a LEFT JOIN users u ON u.id = a.admin_id
         ORDER BY a.at DESC, a.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A job row to insert unless its key is taken.
pub struct NewUniqueJob {
    pub id: String,
    pub queue: &'static str,
    /// The JSON payload, as apalis stores it.
    pub payload: Vec<u8>,
    pub max_attempts: i32,
    /// Due at, in Unix seconds (apalis stores whole seconds).
    pub run_at: i64,
    pub metadata: sqlx::postgres::types::PgHstore,
    pub idempotency_key: String,
}

/// The insert of a [`NewUniqueJob`], as apalis-postgres's own insert does
/// it (`queries/task/sink.sql`: pending, no attempts, the same columns), but
/// with `ON CONFLICT DO NOTHING` on its unique `(job_type, idempotency_key)`
/// index, so a duplicate neither fails nor aborts the caller's transaction;
/// the row goes in only `WHERE condition`. Its seven parameters are numbered
/// from `$first`, bound by [`bind_unique`]. The `notify_workers` trigger
/// fires only for an inserted row.
pub(crate) fn insert_unique_sql(first: usize, condition: &str) -> String {
    let [id, queue, payload, max_attempts, run_at, metadata, key] =
        std::array::from_fn::<_, 7, _>(|i| format!("${}", first + i));
    format!(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority, metadata, idempotency_key)
         SELECT {id}, {queue}, {payload}, 'Pending', 0, {max_attempts}, to_timestamp({run_at}), 0, {metadata}, {key}
         WHERE {condition}
         ON CONFLICT (job_type, idempotency_key) DO NOTHING"
    )
}

/// Binds a job's values in the order of [`insert_unique_sql`].
pub(crate) fn bind_unique<'q>(
    q: sqlx::query::Query<'q, Postgres, PgArguments>,
    j: &'q NewUniqueJob,
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    q.bind(&j.id)
        .bind(j.queue)
        .bind(&j.payload)
        .bind(j.max_attempts)
        .bind(j.run_at)
        .bind(&j.metadata)
        .bind(&j.idempotency_key)
}

/// Inserts a job unless its key is taken: one statement. Returns whether it
/// was inserted.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_unique(conn: &mut PgConnection, j: &NewUniqueJob) -> Result<bool, sqlx::Error> {
    static SQL: LazyLock<String> = LazyLock::new(|| insert_unique_sql(1, "true"));
    let r = bind_unique(sqlx::query(AssertSqlSafe(SQL.as_str())), j)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Frees a running job's unique key, so that the next insert under the same
/// key queues a new run instead of folding into this one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn release_key(pool: &PgPool, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE apalis.jobs SET idempotency_key = NULL WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Moves a job's next run to `delay_seconds` from now: our durable backoff,
/// because apalis-postgres retries a failed job immediately otherwise.
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
    // The history of the jobs that are gone goes with them.
    loop {
        let r = sqlx::query(
            "DELETE FROM job_attempts WHERE id IN (
                 SELECT a.id FROM job_attempts a
                 WHERE NOT EXISTS (SELECT 1 FROM apalis.jobs j WHERE j.id = a.job_id) LIMIT 5000)",
        )
        .execute(pool)
        .await?;
        if r.rows_affected() < 5000 {
            break;
        }
    }
    Ok(totals)
}

/// Starts the history row of one run of a job; returns its id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn attempt_started(
    pool: &PgPool,
    job_id: &str,
    queue: &str,
    attempt: i32,
    worker: &str,
    due_at: Option<DateTime<Utc>>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO job_attempts (job_id, queue, attempt, worker, due_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(job_id)
    .bind(queue)
    .bind(attempt)
    .bind(worker)
    .bind(due_at)
    .fetch_one(pool)
    .await
}

/// Ends a run's history row: `ok`, `retried` or `dead`, and the error (cut to 2,000 characters).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn attempt_finished(
    pool: &PgPool,
    id: i64,
    outcome: &str,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    let error = error.map(|e| e.chars().take(2000).collect::<String>());
    sqlx::query(
        "UPDATE job_attempts SET finished_at = now(), outcome = $2, error = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(outcome)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// A queue's last hour, from the attempts recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HourStats {
    pub queue: String,
    pub ok: i64,
    pub retried: i64,
    pub dead: i64,
    /// Seconds from due to started, median and 95th percentile.
    pub wait_p50: Option<f64>,
    pub wait_p95: Option<f64>,
    /// Seconds from started to finished.
    pub run_p50: Option<f64>,
    pub run_p95: Option<f64>,
}

/// Outcomes and timings per queue of the attempts started in the last hour.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn hour_stats(pool: &PgPool) -> Result<Vec<HourStats>, sqlx::Error> {
    sqlx::query_as(
        "SELECT queue,
                count(*) FILTER (WHERE outcome = 'ok') AS ok,
                count(*) FILTER (WHERE outcome = 'retried') AS retried,
                count(*) FILTER (WHERE outcome = 'dead') AS dead,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - due_at)::float8) AS wait_p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - due_at)::float8) AS wait_p95,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at)::float8) AS run_p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at)::float8) AS run_p95
         FROM job_attempts WHERE started_at > now() - interval '1 hour'
         GROUP BY queue ORDER BY queue",
    )
    .fetch_all(pool)
    .await
}

/// Attempts of a queue that finished in one minute of the last hour.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MinuteCount {
    pub queue: String,
    /// Whole minutes before now: 0 is the current minute, 59 the oldest.
    pub ago: i32,
    pub ok: i64,
    pub retried: i64,
    pub dead: i64,
}

/// Finished attempts per queue and minute over the last hour.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn minutes(pool: &PgPool) -> Result<Vec<MinuteCount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT queue, floor(extract(epoch FROM now() - finished_at) / 60)::int AS ago,
                count(*) FILTER (WHERE outcome = 'ok') AS ok,
                count(*) FILTER (WHERE outcome = 'retried') AS retried,
                count(*) FILTER (WHERE outcome = 'dead') AS dead
         FROM job_attempts
         WHERE started_at > now() - interval '2 hours' AND finished_at > now() - interval '1 hour'
         GROUP BY 1, 2",
    )
    .fetch_all(pool)
    .await
}

/// One run of a job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attempt {
    pub attempt: i32,
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `None` while it runs (or when its worker died during it).
    pub outcome: Option<String>,
    pub error: Option<String>,
}

/// Every recorded run of a job, first first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn attempts(pool: &PgPool, job_id: &str) -> Result<Vec<Attempt>, sqlx::Error> {
    sqlx::query_as(
        "SELECT attempt, worker, started_at, finished_at, outcome, error
         FROM job_attempts WHERE job_id = $1 ORDER BY started_at, id",
    )
    .bind(job_id)
    .fetch_all(pool)
    .await
}

/// A job as its page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobDetail {
    pub id: String,
    pub queue: String,
    /// One of [`STATES`].
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub lock_by: Option<String>,
    pub lock_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The payload as stored (JSON text).
    pub payload: String,
    pub request_id: Option<String>,
    pub do_not_track: bool,
}

/// The SQL of a job's state as this app names it.
const STATE: &str = "CASE WHEN status = 'Pending' AND run_at > now() THEN 'scheduled'
                          WHEN status = 'Pending' THEN 'pending'
                          WHEN status IN ('Queued', 'Running') THEN 'running'
                          WHEN status = 'Failed' AND attempts < max_attempts THEN 'retrying'
                          WHEN status = 'Done' THEN 'done'
                          ELSE 'dead' END";

/// One job, any state.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(pool: &PgPool, id: &str) -> Result<Option<JobDetail>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, job_type AS queue, {STATE} AS state, attempts, max_attempts, run_at, lock_by, lock_at,
                done_at, coalesce(last_result ->> 'Err', last_result::text) AS last_error,
                convert_from(job, 'UTF8') AS payload,
                metadata -> 'request_id' AS request_id, coalesce(metadata ? 'do_not_track', false) AS do_not_track
         FROM apalis.jobs WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A job in the list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub queue: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    /// When it finished, else when it is (or was) due: the list's order.
    pub at: DateTime<Utc>,
    pub request_id: Option<String>,
}

/// Which jobs the list shows.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub queue: Option<String>,
    /// One of [`STATES`].
    pub state: Option<&'static str>,
    /// A job id or the id of the request that enqueued it.
    pub search: Option<String>,
    /// Jobs finished (else due) at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Jobs finished (else due) before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Keyset: jobs strictly after this (`at`, `id`) in the list's order.
    pub after: Option<(DateTime<Utc>, String)>,
}

/// The SQL condition of a state of [`STATES`], on the columns (the same
/// states as [`STATE`], written so that an index can serve them: every
/// state but `done` also says `status <> 'Done'`, the predicate of the
/// index of unfinished jobs).
fn state_condition(state: Option<&str>) -> &'static str {
    match state {
        None => "true",
        Some("pending") => "status <> 'Done' AND status = 'Pending' AND run_at <= now()",
        Some("scheduled") => "status <> 'Done' AND status = 'Pending' AND run_at > now()",
        Some("running") => "status <> 'Done' AND status IN ('Queued', 'Running')",
        Some("retrying") => "status <> 'Done' AND status = 'Failed' AND attempts < max_attempts",
        Some("done") => "status = 'Done'",
        // Dead, as in `STATE`: anything else.
        Some(_) => {
            "status <> 'Done' AND NOT (status IN ('Pending', 'Queued', 'Running')
                 OR (status = 'Failed' AND attempts < max_attempts))"
        }
    }
}

/// The SQL condition of a [`JobFilter`] without its cursor, on `$1` queue,
/// `$2` search, `$3` from, `$4` to; its state is formatted in (a constant).
fn selected(f: &JobFilter) -> String {
    format!(
        "($1::text IS NULL OR job_type = $1)
         AND ($2::text IS NULL OR id = $2 OR metadata -> 'request_id' = $2)
         AND ($3::timestamptz IS NULL OR coalesce(done_at, run_at) >= $3)
         AND ($4::timestamptz IS NULL OR coalesce(done_at, run_at) < $4)
         AND {}",
        state_condition(f.state)
    )
}

/// A page of jobs, newest first by `coalesce(done_at, run_at)`, read by
/// keyset from an index on that order (no offset, no count): the queue's
/// when one is chosen, the unfinished jobs' for a state other than done.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(pool: &PgPool, f: &JobFilter, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, job_type AS queue, {STATE} AS state, attempts, max_attempts,
                coalesce(done_at, run_at) AS at, metadata -> 'request_id' AS request_id
         FROM apalis.jobs
         WHERE {}
           AND ($5::timestamptz IS NULL OR (coalesce(done_at, run_at), id) < ($5, $6))
         ORDER BY coalesce(done_at, run_at) DESC, id DESC
         LIMIT $7",
        selected(f)
    )))
    .bind(f.queue.as_deref())
    .bind(f.search.as_deref())
    .bind(f.from)
    .bind(f.to)
    .bind(f.after.as_ref().map(|a| a.0))
    .bind(f.after.as_ref().map(|a| a.1.as_str()))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Deletes worker registrations silent since `before` that no job references.
/// Every worker process registers a unique name, so these rows would pile up.
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
