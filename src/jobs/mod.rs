//! Job payloads, queue names and enqueue helpers shared by web and worker.
//!
//! Rules:
//! - a job is a small serde struct implementing [`Job`], whose queue name is a
//!   stable snake_case constant (never the Rust type name: renaming a type must
//!   not orphan queued rows);
//! - jobs are enqueued with [`enqueue`] inside the caller's transaction, so the
//!   domain change and its side effects commit or roll back together;
//! - [`enqueue_unique`] inserts with `ON CONFLICT DO NOTHING` on the queue's
//!   idempotency key (our own statement, `db::jobs::insert_unique`: apalis's
//!   insert would fail on a duplicate key and abort the caller's transaction,
//!   which a savepoint had to absorb at three round trips and a logged
//!   server error per duplicate, on almost every product event);
//! - handlers are idempotent: delivery is at least once;
//! - a job carries the consent decision of the request that enqueued it
//!   ([`DO_NOT_TRACK_KEY`] in its metadata); the worker runs its handler in
//!   that request's context, so an event the handler records on the request's
//!   behalf passes the same consent gate the request did.

mod analytics;
mod export;
mod install_ping;
mod mail;
mod maintenance;

use std::time::Duration;

use apalis::prelude::{MetadataStore, TaskBuilder};
use serde::{Serialize, de::DeserializeOwned};
use sqlx::PgConnection;

pub mod console;

pub use analytics::AnalyticsFlush;
pub use export::{InvoiceDocument, ReportExport};
pub use install_ping::SendInstallPing;
pub use mail::{MailMessage, SendMail};
pub use maintenance::Maintenance;

use crate::{
    db,
    observability::{current_request_id, do_not_track},
};

/// A job payload and where it goes.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static {
    /// The queue (apalis `job_type`); stable across releases.
    const QUEUE: &'static str;
    /// Runs before the job is dead. Retries wait with capped exponential backoff.
    const MAX_ATTEMPTS: usize = 8;
    /// Most jobs of this queue one worker process runs at once; `None` means
    /// `WORKER_CONCURRENCY`.
    const CONCURRENCY: Option<usize> = None;
    /// Started the moment one is enqueued (LISTEN/NOTIFY), which holds one
    /// connection of the worker's pool for the queue's listener; `false`:
    /// found by the poll at each heartbeat (`WORKER_HEARTBEAT_SECONDS`),
    /// holding none, for work where a second or two does not matter.
    const WAKE_ON_INSERT: bool = true;
}

/// Every queue of this app, in the order the console lists them.
pub const QUEUES: &[&str] = &[
    Maintenance::QUEUE,
    ReportExport::QUEUE,
    AnalyticsFlush::QUEUE,
    SendInstallPing::QUEUE,
    SendMail::QUEUE,
    InvoiceDocument::QUEUE,
];

/// Metadata key holding the id of the request that enqueued a job.
pub const REQUEST_ID_KEY: &str = "request_id";
/// Metadata key present (value `1`) when the enqueuing request said no to
/// tracking (`DNT: 1`, `Sec-GPC: 1`).
pub const DO_NOT_TRACK_KEY: &str = "do_not_track";

/// The metadata a job carries for the request that enqueues it.
fn request_metadata() -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    if let Some(id) = current_request_id() {
        pairs.push((REQUEST_ID_KEY, id));
    }
    if do_not_track() {
        pairs.push((DO_NOT_TRACK_KEY, "1".to_owned()));
    }
    pairs
}

fn task<J: Job>(job: &J) -> anyhow::Result<apalis_postgres::PgTask> {
    let mut metadata = MetadataStore::new();
    for (key, value) in request_metadata() {
        metadata
            .insert(key, value)
            .map_err(|e| anyhow::anyhow!("job metadata: {e:?}"))?;
    }
    Ok(TaskBuilder::new(serde_json::to_vec(job)?)
        .max_attempts(J::MAX_ATTEMPTS)
        .with_metadata(metadata)
        .build())
}

/// Adds `job` to its queue in the caller's transaction (or connection).
pub async fn enqueue<J: Job>(conn: &mut PgConnection, job: &J) -> anyhow::Result<()> {
    apalis_postgres::queries::push_tasks(conn, J::QUEUE, vec![task(job)?]).await?;
    Ok(())
}

/// Adds `job` unless a job with the same key exists in its queue (keys stay
/// taken until the job row is pruned, its handler frees the key, or it dies:
/// the trigger `dead_jobs_free_their_key` frees a cancelled or dead job's).
/// Returns whether it was added. The caller's transaction survives a
/// duplicate.
pub async fn enqueue_unique<J: Job>(
    conn: &mut PgConnection,
    job: &J,
    key: &str,
) -> anyhow::Result<bool> {
    insert_unique::<J>(conn, job, key, Duration::ZERO).await
}

/// Like [`enqueue_unique`], but the job becomes due only after `delay`.
pub async fn enqueue_unique_after<J: Job>(
    conn: &mut PgConnection,
    job: &J,
    key: &str,
    delay: Duration,
) -> anyhow::Result<bool> {
    insert_unique::<J>(conn, job, key, delay).await
}

async fn insert_unique<J: Job>(
    conn: &mut PgConnection,
    job: &J,
    key: &str,
    delay: Duration,
) -> anyhow::Result<bool> {
    Ok(db::jobs::insert_unique(conn, &unique(job, key, delay)?).await?)
}

/// The row of `job` under `key`, due after `delay`, with the request's
/// metadata: for [`enqueue_unique`] and for statements that insert it along
/// with something else (the outbox's wake-up).
pub fn unique<J: Job>(
    job: &J,
    key: &str,
    delay: Duration,
) -> anyhow::Result<db::jobs::NewUniqueJob> {
    let metadata = request_metadata()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Some(v)))
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(db::jobs::NewUniqueJob {
        id: ulid::Ulid::generate().to_string(),
        queue: J::QUEUE,
        payload: serde_json::to_vec(job)?,
        max_attempts: i32::try_from(J::MAX_ATTEMPTS).unwrap_or(i32::MAX),
        run_at: i64::try_from((now + delay).as_secs()).unwrap_or(i64::MAX),
        metadata,
        idempotency_key: key.to_owned(),
    })
}

/// Delay before retry number `attempt` (1 = first retry): 2^attempt seconds
/// from a 2 s base, capped at `cap`, with up to 25 % random jitter added so
/// retries of many jobs do not arrive together.
pub fn backoff(attempt: usize, cap: Duration) -> Duration {
    let exp = 2f64.powi(attempt.min(30) as i32);
    let base = exp.min(cap.as_secs_f64());
    let mut byte = [0u8; 1];
    let jitter = match getrandom::fill(&mut byte) {
        Ok(()) => f64::from(byte[0]) / 255.0 * 0.25,
        Err(_) => 0.0,
    };
    Duration::from_secs_f64((base * (1.0 + jitter)).min(cap.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let cap = Duration::from_secs(3600);
        let delays: Vec<_> = (1..=6).map(|a| backoff(a, cap).as_secs_f64()).collect();
        for (i, d) in delays.iter().enumerate() {
            let floor = 2f64.powi(i as i32 + 1);
            assert!(
                *d >= floor && *d <= floor * 1.25,
                "attempt {} gave {d}",
                i + 1
            );
        }
        assert!(backoff(40, cap) <= cap);
    }
}
