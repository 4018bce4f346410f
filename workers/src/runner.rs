//! Runs jobs of one queue with durable retries.
//!
//! apalis-postgres retries a failed job immediately (it never moves `run_at`),
//! and its in-process backoff is lost on a crash. So on a transient failure the
//! runner moves the job's own `run_at` forward by a capped exponential backoff
//! (or the remote's `Retry-After`) before reporting the failure: the delay lives
//! in the database and survives restarts. A permanent failure, or a transient
//! one on the last attempt, leaves the job dead, visible on the admin Jobs page.

use std::{
    panic::AssertUnwindSafe,
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use timetracker::observability::metrics::{JOB_DURATION_SECONDS, JOB_WAIT_SECONDS, JOBS_PROCESSED};

use apalis::prelude::*;
use apalis_postgres::{Config as QueueConfig, PostgresStorage};
use futures_util::FutureExt;
use sentry::{Hub, SentryFutureExt};
use sqlx::PgPool;
use timetracker::{
    config::Config,
    db,
    jobs::{DO_NOT_TRACK_KEY, Job, REQUEST_ID_KEY, backoff},
    observability::{REQUEST, RequestContext, sentry::PANIC_TARGET},
};
use tracing::Instrument;

use crate::process::Process;

/// Longest delay between two attempts unless the remote asks for more.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// How a job failed.
#[derive(Debug)]
pub enum JobError {
    /// Worth another attempt later, optionally after the delay the remote asked for.
    Retry {
        error: anyhow::Error,
        after: Option<Duration>,
    },
    /// No retry can succeed; the job is dead at once.
    Permanent(anyhow::Error),
}

impl JobError {
    pub fn retry(error: impl Into<anyhow::Error>) -> Self {
        Self::Retry {
            error: error.into(),
            after: None,
        }
    }
}

/// What a handler knows about the run.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The apalis job id.
    pub job_id: String,
    /// 1 for the first run.
    pub attempt: usize,
    /// No retry follows a failure of this run.
    pub last_attempt: bool,
}

/// The code that runs one job. Implementations must be idempotent: a job can
/// run again after a crash between its effect and its acknowledgement.
pub trait JobHandler<J: Job>: Clone + Send + Sync + 'static {
    fn handle(&self, job: J, ctx: JobContext) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// What the runner needs besides the handler.
#[derive(Clone)]
struct Runner<H> {
    handler: H,
    pool: PgPool,
}

/// Adds a worker for `J`'s queue, running `handler`, to `monitor`.
pub(crate) fn register<J, H>(
    monitor: Monitor,
    config: &Config,
    pool: &PgPool,
    process: &Process,
    handler: H,
) -> Monitor
where
    J: Job,
    H: JobHandler<J>,
{
    let queue_config = QueueConfig::default()
        .queue(J::QUEUE)
        .batch_size(10)
        .heartbeat_interval(config.worker.heartbeat)
        .missed_heartbeats(3);
    let concurrency = J::CONCURRENCY.unwrap_or(config.worker.concurrency);
    let runner = Arc::new(Runner {
        handler,
        pool: pool.clone(),
    });
    let pool = pool.clone();
    let process = process.clone();
    // The storage's type differs with LISTEN/NOTIFY (a connection of the
    // pool held for the queue's listener) and without (polling at each
    // heartbeat), so the worker is built by one macro for either.
    macro_rules! worker_on {
        ($storage:expr) => {
            monitor.register(move |restarts| {
                WorkerBuilder::new(process.worker_name(J::QUEUE, restarts))
                    .backend($storage)
                    .data(runner.clone())
                    .catch_panic()
                    .concurrency(concurrency)
                    .build(execute::<J, H>)
            })
        };
    }
    if J::WAKE_ON_INSERT {
        worker_on!(
            PostgresStorage::<J>::new(&pool)
                .with_config(queue_config.clone())
                .with_pubsub()
        )
    } else {
        worker_on!(PostgresStorage::<J>::new(&pool).with_config(queue_config.clone()))
    }
}

/// When the job was due, in whole Unix seconds (apalis stores no finer).
struct DueAt(Option<u64>);

impl<Args: Sync> FromRequest<Task<Args>> for DueAt {
    type Error = std::convert::Infallible;
    async fn from_request(task: &Task<Args>) -> Result<Self, Self::Error> {
        Ok(Self(task.ctx().run_at()))
    }
}

#[allow(clippy::too_many_arguments)]
async fn execute<J: Job, H: JobHandler<J>>(
    job: J,
    id: TaskId,
    attempt: Attempt,
    metadata: MetadataStore,
    due_at: DueAt,
    worker: WorkerContext,
    runner: Data<Arc<Runner<H>>>,
) -> Result<(), BoxDynError> {
    let attempt = attempt.current().max(1);
    let request_id = metadata.get(REQUEST_ID_KEY).unwrap_or("none");
    if let (Some(due), Ok(now)) = (due_at.0, SystemTime::now().duration_since(UNIX_EPOCH)) {
        metrics::histogram!(JOB_WAIT_SECONDS, "queue" => J::QUEUE)
            .record((now.as_secs_f64() - due as f64).max(0.0));
    }
    let span = tracing::info_span!(
        "job",
        job.id = %id,
        job.queue = J::QUEUE,
        job.attempt = attempt,
        request_id = request_id,
    );
    // The job's own Sentry hub: its error events carry the queue and the
    // request that enqueued it, and no other job's breadcrumbs.
    let hub = Arc::new(Hub::new_from_top(Hub::current()));
    hub.configure_scope(|scope| {
        scope.set_tag("job.queue", J::QUEUE);
        scope.set_tag("job.attempt", attempt);
        scope.set_tag("request_id", request_id);
    });
    let ctx = JobContext {
        job_id: id.to_string(),
        attempt,
        last_attempt: attempt >= J::MAX_ATTEMPTS,
    };
    let due = due_at
        .0
        .and_then(|s| chrono::DateTime::from_timestamp(s as i64, 0));
    let run = run_once(job, ctx, worker.name(), due, &runner)
        .instrument(span)
        .bind_hub(hub);
    // On the enqueuing request's behalf: its id goes on the jobs this job
    // enqueues, and its consent decision gates every event it records.
    let do_not_track = metadata.get(DO_NOT_TRACK_KEY).is_some();
    match metadata.get(REQUEST_ID_KEY) {
        None if !do_not_track => run.await,
        id => {
            let context = RequestContext {
                id: id.unwrap_or("none").to_owned(),
                do_not_track,
            };
            REQUEST.scope(context, run).await
        }
    }
}

/// Runs the handler once, records the outcome and turns a failure into what
/// apalis expects: a plain error (attempts left, `run_at` moved by our
/// backoff) or an abort (dead at once).
async fn run_once<J: Job, H: JobHandler<J>>(
    job: J,
    ctx: JobContext,
    worker: &str,
    due_at: Option<chrono::DateTime<chrono::Utc>>,
    runner: &Runner<H>,
) -> Result<(), BoxDynError> {
    let (attempt, id) = (ctx.attempt, ctx.job_id.clone());
    // Every run goes into the job's history (apalis keeps only the last
    // result); a failure to write it costs the history, not the job.
    let history =
        db::jobs::attempt_started(&runner.pool, &id, J::QUEUE, attempt as i32, worker, due_at)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "could not record the job's attempt"))
            .ok();
    let outcome = async |o: &'static str, error: Option<String>| {
        metrics::counter!(JOBS_PROCESSED, "queue" => J::QUEUE, "outcome" => o).increment(1);
        if let Some(row) = history
            && let Err(e) = db::jobs::attempt_finished(&runner.pool, row, o, error.as_deref()).await
        {
            tracing::warn!(error = %e, "could not record the job's outcome");
        }
    };
    let started = Instant::now();
    // A panic is caught here (not only by apalis) so that it counts as a dead
    // job; the panic hook has already reported it to Sentry.
    let result = AssertUnwindSafe(runner.handler.handle(job, ctx))
        .catch_unwind()
        .await;
    metrics::histogram!(JOB_DURATION_SECONDS, "queue" => J::QUEUE)
        .record(started.elapsed().as_secs_f64());
    let Ok(result) = result else {
        outcome("dead", Some("the job panicked".into())).await;
        tracing::error!(target: PANIC_TARGET, "job panicked; it is dead");
        return Err(AbortError::new(anyhow::anyhow!("the job panicked")).into());
    };
    match result {
        Ok(()) => {
            outcome("ok", None).await;
            tracing::info!("job done");
            Ok(())
        }
        Err(JobError::Retry { error, after }) if attempt < J::MAX_ATTEMPTS => {
            let delay = after.unwrap_or_else(|| backoff(attempt, MAX_BACKOFF));
            if let Err(e) = db::jobs::reschedule(&runner.pool, &id, delay.as_secs_f64()).await {
                tracing::warn!(error = %e, "could not delay the retry; it will run at once");
            }
            outcome("retried", Some(format!("{error:#}"))).await;
            tracing::warn!(
                error = format!("{error:#}"),
                retry_in_seconds = delay.as_secs_f64(),
                "job failed; will retry"
            );
            Err(error.into())
        }
        Err(JobError::Retry { error, .. }) => {
            outcome("dead", Some(format!("{error:#}"))).await;
            tracing::error!(
                error = format!("{error:#}"),
                "job failed on its last attempt; it is dead"
            );
            Err(error.into())
        }
        Err(JobError::Permanent(error)) => {
            outcome("dead", Some(format!("{error:#}"))).await;
            tracing::error!(
                error = format!("{error:#}"),
                "job failed permanently; it is dead"
            );
            Err(AbortError::new(error).into())
        }
    }
}
