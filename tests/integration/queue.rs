//! The job queue: enqueued with the domain change, retried with backoff,
//! unique keys, pauses, the console's actions and the worker's own
//! behaviour (outages, locks, processes), against the real worker.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use timetracker::{
    jobs::{self, Job, Maintenance},
    observability::{REQUEST, RequestContext},
};
use timetracker_worker::{JobContext, JobError, JobHandler, Worker, handlers::maintenance::Prune};

const CTX: JobContext = JobContext {
    job_id: String::new(),
    attempt: 1,
    last_attempt: false,
};

use crate::support::{
    DbProxy, FakePostHog, RunningWorker, TestApp, TestDb, assert_is_redirect, database_socket,
    eventually, run_worker_until_idle, spawn_app, spawn_app_with_analytics, test_config, via_port,
};

/// A job whose effect is a row in `test_effects`; it fails while `failing` is set.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    marker: String,
}

impl Job for Record {
    const QUEUE: &'static str = "test_record";
    const MAX_ATTEMPTS: usize = 3;
}

#[derive(Clone)]
struct RecordHandler {
    pool: PgPool,
    failing: Arc<AtomicBool>,
    permanent: bool,
}

impl JobHandler<Record> for RecordHandler {
    async fn handle(&self, job: Record, _ctx: JobContext) -> Result<(), JobError> {
        if self.failing.load(Ordering::SeqCst) {
            let error = anyhow::anyhow!("remote unavailable");
            return Err(if self.permanent {
                JobError::Permanent(error)
            } else {
                JobError::retry(error)
            });
        }
        sqlx::query("INSERT INTO test_effects (marker) VALUES ($1)")
            .bind(&job.marker)
            .execute(&self.pool)
            .await
            .map_err(JobError::retry)?;
        Ok(())
    }
}

async fn prepare(app: &TestApp) {
    app.exec("CREATE TABLE test_effects (marker text NOT NULL)")
        .await;
}

fn handler(app: &TestApp, failing: bool, permanent: bool) -> (RecordHandler, Arc<AtomicBool>) {
    let flag = Arc::new(AtomicBool::new(failing));
    (
        RecordHandler {
            pool: app.pool.clone(),
            failing: flag.clone(),
            permanent,
        },
        flag,
    )
}

async fn run_records(app: &TestApp, handler: RecordHandler) {
    let worker = Worker::new(&app.config, &app.pool).register(handler);
    run_worker_until_idle(worker, &app.pool, &[Record::QUEUE]).await;
}

async fn effects(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT marker FROM test_effects ORDER BY marker")
        .fetch_all(&app.pool)
        .await
        .expect("effects")
}

async fn job_count(app: &TestApp, queue: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = $1")
        .bind(queue)
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

async fn insert_domain_row(conn: &mut sqlx::PgConnection, username: &str) {
    sqlx::query("INSERT INTO users (username, email, password_hash, role) VALUES ($1, 'x@example.org', 'x', 'user')")
        .bind(username)
        .execute(conn)
        .await
        .expect("domain row");
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_job_and_a_committed_one_is_run() {
    let app = spawn_app().await;
    prepare(&app).await;

    let mut tx = app.pool.begin().await.expect("tx");
    insert_domain_row(&mut tx, "ghost").await;
    jobs::enqueue(
        &mut tx,
        &Record {
            marker: "rolled-back".into(),
        },
    )
    .await
    .expect("enqueue");
    tx.rollback().await.expect("rollback");
    assert_eq!(job_count(&app, Record::QUEUE).await, 0);
    assert_eq!(app.user_id_opt("ghost").await, None);

    let mut tx = app.pool.begin().await.expect("tx");
    insert_domain_row(&mut tx, "real").await;
    jobs::enqueue(
        &mut tx,
        &Record {
            marker: "committed".into(),
        },
    )
    .await
    .expect("enqueue");
    tx.commit().await.expect("commit");

    run_records(&app, handler(&app, false, false).0).await;
    assert_eq!(effects(&app).await, ["committed"]);
    let status: String = sqlx::query_scalar("SELECT status FROM apalis.jobs WHERE job_type = $1")
        .bind(Record::QUEUE)
        .fetch_one(&app.pool)
        .await
        .expect("row");
    assert_eq!(status, "Done");
}

#[tokio::test]
async fn a_duplicate_idempotent_enqueue_keeps_the_callers_domain_row() {
    let app = spawn_app().await;
    let mut tx = app.pool.begin().await.expect("tx");
    assert!(
        jobs::enqueue_unique(&mut tx, &Record { marker: "a".into() }, "export-42")
            .await
            .expect("enqueue")
    );
    tx.commit().await.expect("commit");

    let mut tx = app.pool.begin().await.expect("tx");
    insert_domain_row(&mut tx, "kept").await;
    let added = jobs::enqueue_unique(&mut tx, &Record { marker: "b".into() }, "export-42")
        .await
        .expect("enqueue");
    assert!(!added, "the duplicate is reported, not inserted");
    tx.commit().await.expect("commit");

    assert!(
        app.user_id_opt("kept").await.is_some(),
        "the domain row survived the duplicate"
    );
    assert_eq!(job_count(&app, Record::QUEUE).await, 1);
}

#[tokio::test]
async fn a_failing_job_backs_off_then_dies_and_an_admin_can_retry_it() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    prepare(&app).await;
    let mut conn = app.pool.acquire().await.expect("conn");
    jobs::enqueue(
        &mut conn,
        &Record {
            marker: "eventually".into(),
        },
    )
    .await
    .expect("enqueue");
    let (handler, failing) = handler(&app, true, false);

    let mut previous_delay = 0.0;
    for attempt in 1..=Record::MAX_ATTEMPTS as i32 {
        run_records(&app, handler.clone()).await;
        let (status, attempts, delay): (String, i32, f64) = sqlx::query_as(
            "SELECT status, attempts, extract(epoch FROM run_at - now())::float8 FROM apalis.jobs WHERE job_type = $1",
        )
        .bind(Record::QUEUE)
        .fetch_one(&app.pool)
        .await
        .expect("row");
        assert_eq!(
            (status.as_str(), attempts),
            ("Failed", attempt),
            "after attempt {attempt}"
        );
        if attempt < Record::MAX_ATTEMPTS as i32 {
            // The backoff is 2^attempt s plus jitter; apalis acknowledges a job a
            // little after it ran, so up to ~1.5 s of that may have passed already.
            let floor = 2f64.powi(attempt) - 1.5;
            assert!(
                delay >= floor && delay > previous_delay,
                "attempt {attempt}: retry in {delay} s"
            );
            previous_delay = delay;
            // Travel forward in time instead of sleeping through the backoff.
            sqlx::query("UPDATE apalis.jobs SET run_at = now() WHERE job_type = $1")
                .bind(Record::QUEUE)
                .execute(&app.pool)
                .await
                .expect("advance");
        }
    }
    assert!(effects(&app).await.is_empty());

    let page = admin.get_text("/admin/jobs").await;
    assert!(
        page.contains("remote unavailable"),
        "the dead job and its last error are listed"
    );
    let id: String = sqlx::query_scalar("SELECT id FROM apalis.jobs WHERE job_type = $1")
        .bind(Record::QUEUE)
        .fetch_one(&app.pool)
        .await
        .expect("id");
    admin.submit(&format!("/admin/jobs/{id}/retry"), &[]).await;
    failing.store(false, Ordering::SeqCst);
    run_records(&app, handler).await;
    assert_eq!(effects(&app).await, ["eventually"]);
    let r = admin
        .post_form(&format!("/admin/jobs/{id}/retry"), &[])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "only dead jobs can be retried"
    );
}

#[tokio::test]
async fn a_permanent_failure_is_dead_at_once_and_can_be_discarded() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    prepare(&app).await;
    let mut conn = app.pool.acquire().await.expect("conn");
    jobs::enqueue(
        &mut conn,
        &Record {
            marker: "never".into(),
        },
    )
    .await
    .expect("enqueue");
    run_records(&app, handler(&app, true, true).0).await;
    let (status, id): (String, String) =
        sqlx::query_as("SELECT status, id FROM apalis.jobs WHERE job_type = $1")
            .bind(Record::QUEUE)
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(status, "Killed");
    admin
        .submit(&format!("/admin/jobs/{id}/discard"), &[])
        .await;
    assert_eq!(job_count(&app, Record::QUEUE).await, 0);
}

#[tokio::test]
async fn a_job_held_by_a_worker_that_stopped_heartbeating_runs_on_another_worker() {
    let app = spawn_app().await;
    prepare(&app).await;
    let mut conn = app.pool.acquire().await.expect("conn");
    jobs::enqueue(
        &mut conn,
        &Record {
            marker: "orphan".into(),
        },
    )
    .await
    .expect("enqueue");
    // A worker that claimed the job and then died: its last heartbeat is old.
    sqlx::query(
        "INSERT INTO apalis.workers (id, worker_type, storage_name, last_seen, started_at)
         VALUES ('dead-worker', $1, 'PostgresStorage', now() - interval '1 hour', now() - interval '2 hours')",
    )
    .bind(Record::QUEUE)
    .execute(&app.pool)
    .await
    .expect("dead worker");
    sqlx::query("UPDATE apalis.jobs SET status = 'Running', lock_by = 'dead-worker', lock_at = now() WHERE job_type = $1")
        .bind(Record::QUEUE)
        .execute(&app.pool)
        .await
        .expect("claim");

    run_records(&app, handler(&app, false, false).0).await;
    assert_eq!(effects(&app).await, ["orphan"]);
}

#[tokio::test]
async fn pruning_removes_only_old_finished_and_old_dead_jobs() {
    let app = spawn_app().await;
    let mut conn = app.pool.acquire().await.expect("conn");
    let rows = [
        ("done-old", "Done", 0, "20 days"),
        ("done-new", "Done", 0, "1 day"),
        ("dead-old", "Killed", 1, "100 days"),
        ("dead-new", "Killed", 1, "20 days"),
        ("exhausted-old", "Failed", 3, "100 days"),
        ("retrying-old", "Failed", 1, "100 days"),
        ("pending-old", "Pending", 0, "100 days"),
    ];
    for (marker, status, attempts, age) in rows {
        jobs::enqueue(
            &mut conn,
            &Record {
                marker: marker.into(),
            },
        )
        .await
        .expect("enqueue");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE apalis.jobs SET status = $1, attempts = $2, done_at = now() - interval '{age}',
                    run_at = now() - interval '{age}'
             WHERE convert_from(job, 'UTF8')::jsonb ->> 'marker' = $3"
        )))
        .bind(status)
        .bind(attempts)
        .bind(marker)
        .execute(&mut *conn)
        .await
        .expect("age the job");
    }
    Prune::new(&app.config, &app.pool)
        .handle(Maintenance { tick: 0 }, CTX)
        .await
        .expect("prune");
    let mut left: Vec<String> = sqlx::query_scalar(
        "SELECT convert_from(job, 'UTF8')::jsonb ->> 'marker' FROM apalis.jobs WHERE job_type = $1",
    )
    .bind(Record::QUEUE)
    .fetch_all(&app.pool)
    .await
    .expect("left");
    left.sort();
    assert_eq!(
        left,
        ["dead-new", "done-new", "pending-old", "retrying-old"]
    );
}

#[tokio::test]
async fn two_workers_enqueue_maintenance_once_per_tick_and_run_it_once() {
    let app = spawn_app().await;
    // Both run until the tick's job is done. (Running each "until idle"
    // raced the schedulers: with no job outstanding yet, a loaded machine
    // stopped both workers before either had enqueued the tick.)
    let workers = [
        RunningWorker::start(Worker::standard(&app.config, &app.pool)),
        RunningWorker::start(Worker::standard(&app.config, &app.pool)),
    ];
    let statuses = || async {
        sqlx::query_scalar::<_, String>("SELECT status FROM apalis.jobs WHERE job_type = $1")
            .bind(Maintenance::QUEUE)
            .fetch_all(&app.pool)
            .await
            .expect("rows")
    };
    crate::support::eventually("the tick's job done", Duration::from_secs(30), || async {
        statuses().await.contains(&"Done".to_owned()).then_some(())
    })
    .await;
    // Both schedulers have had their first pass by now (each enqueues at
    // start); a second row would be a tick enqueued twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for worker in workers {
        worker.stop().await;
    }
    assert_eq!(statuses().await, ["Done"]);
}

#[tokio::test]
async fn jobs_enqueued_in_a_request_carry_its_request_id() {
    let app = spawn_app().await;
    let mut conn = app.pool.acquire().await.expect("conn");
    REQUEST
        .scope(
            RequestContext {
                id: "req-42".to_owned(),
                do_not_track: false,
            },
            jobs::enqueue(
                &mut conn,
                &Record {
                    marker: "traced".into(),
                },
            ),
        )
        .await
        .expect("enqueue");
    let id: Option<String> =
        sqlx::query_scalar("SELECT metadata -> 'request_id' FROM apalis.jobs WHERE job_type = $1")
            .bind(Record::QUEUE)
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(id.as_deref(), Some("req-42"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_reconnects_and_resumes_after_a_database_outage() {
    let db = TestDb::new().await;
    let direct = PgPool::connect(&db.url).await.expect("connect");
    sqlx::query("CREATE TABLE test_effects (marker text NOT NULL)")
        .execute(&direct)
        .await
        .expect("table");
    let proxy = DbProxy::start(database_socket().await).await;
    let config = test_config(&via_port(&db.url, proxy.port), &[]);
    let worker_pool =
        timetracker::db::connect_lazy(&config, timetracker::db::Ping::EveryAcquire).expect("pool");
    let handler = RecordHandler {
        pool: direct.clone(),
        failing: Arc::new(AtomicBool::new(false)),
        permanent: false,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(Worker::new(&config, &worker_pool).register(handler).run(
        async move {
            let _ = stopped.await;
        },
    ));

    let ran = |marker: &'static str| {
        let direct = direct.clone();
        async move {
            eventually(
                &format!("the {marker} job runs"),
                Duration::from_secs(60),
                || async {
                    let found: i64 =
                        sqlx::query_scalar("SELECT count(*) FROM test_effects WHERE marker = $1")
                            .bind(marker)
                            .fetch_one(&direct)
                            .await
                            .expect("count");
                    (found > 0).then_some(())
                },
            )
            .await;
        }
    };
    let mut conn = direct.acquire().await.expect("conn");
    jobs::enqueue(
        &mut conn,
        &Record {
            marker: "before".into(),
        },
    )
    .await
    .expect("enqueue");
    // The worker runs jobs.
    ran("before").await;

    proxy.take_down();
    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.bring_up();
    jobs::enqueue(
        &mut conn,
        &Record {
            marker: "after".into(),
        },
    )
    .await
    .expect("enqueue");
    // It resumes after the outage without a restart.
    ran("after").await;

    let _ = stop.send(());
    worker.await.expect("task").expect("worker stops cleanly");
}

/// A job that fails its first three runs and then succeeds.
#[derive(Debug, Serialize, Deserialize)]
struct Flaky {
    marker: String,
}

impl Job for Flaky {
    const QUEUE: &'static str = "test_flaky";
    const MAX_ATTEMPTS: usize = 5;
}

#[derive(Clone)]
struct FlakyHandler;

impl JobHandler<Flaky> for FlakyHandler {
    async fn handle(&self, _job: Flaky, ctx: JobContext) -> Result<(), JobError> {
        if ctx.attempt <= 3 {
            return Err(JobError::retry(anyhow::anyhow!(
                "remote unavailable on attempt {}",
                ctx.attempt
            )));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_jobs_page_shows_every_attempt_and_the_list_pages_by_keyset() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mut tx = app.pool.begin().await.expect("tx");
    REQUEST
        .scope(
            RequestContext {
                id: "req-flaky-1".into(),
                do_not_track: false,
            },
            jobs::enqueue(&mut tx, &Flaky { marker: "f".into() }),
        )
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    let id: String = sqlx::query_scalar("SELECT id FROM apalis.jobs WHERE job_type = $1")
        .bind(Flaky::QUEUE)
        .fetch_one(&app.pool)
        .await
        .expect("id");
    for _ in 0..4 {
        let worker = Worker::new(&app.config, &app.pool).register(FlakyHandler);
        run_worker_until_idle(worker, &app.pool, &[Flaky::QUEUE]).await;
        // Travel forward in time instead of sleeping through the backoff.
        sqlx::query("UPDATE apalis.jobs SET run_at = now() WHERE id = $1 AND status <> 'Done'")
            .bind(&id)
            .execute(&app.pool)
            .await
            .expect("advance");
    }
    let history: Vec<(i32, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT attempt, outcome, error FROM job_attempts WHERE job_id = $1 ORDER BY id",
    )
    .bind(&id)
    .fetch_all(&app.pool)
    .await
    .expect("history");
    assert_eq!(
        history,
        [
            (
                1,
                Some("retried".into()),
                Some("remote unavailable on attempt 1".into())
            ),
            (
                2,
                Some("retried".into()),
                Some("remote unavailable on attempt 2".into())
            ),
            (
                3,
                Some("retried".into()),
                Some("remote unavailable on attempt 3".into())
            ),
            (4, Some("ok".into()), None),
        ]
    );
    let page = admin.get_text(&format!("/admin/jobs/{id}")).await;
    for n in 1..=3 {
        assert!(
            page.contains(&format!("remote unavailable on attempt {n}")),
            "error {n}"
        );
    }
    assert_eq!(
        page.matches("<td data-label=\"#\">").count(),
        4,
        "four attempts"
    );
    assert!(page.contains("<dd>done</dd>"));
    assert!(page.contains("req-flaky-1"), "the enqueuing request");
    assert!(
        page.contains("| request_id = &#34;req-flaky-1&#34;"),
        "its Loki query"
    );
    // The overview counts the last hour's attempts of the queue.
    let overview = admin.get_text("/admin/jobs").await;
    let row = overview
        .split("<tr")
        .find(|r| r.contains("data-queue-hour=\"test_flaky\""))
        .expect("the queue's row");
    assert!(
        row.contains("<td data-live=\"hour\">1 · 3 · 0</td>"),
        "done, retried, dead: {row}"
    );
    // A worker process that stopped beating holds a job: presumed dead, its
    // job counted. (A really killed worker: faults.rs.)
    app.exec("INSERT INTO worker_processes (name, host, pid, queues, started_at, last_seen)
         VALUES ('gone-host-1', 'gone-host', 4242, '{test_flaky}', now() - interval '20 minutes', now() - interval '10 minutes')").await;
    app.exec("INSERT INTO apalis.workers (id, worker_type, storage_name, layers, last_seen)
         VALUES ('gone-host-1/test_flaky', 'test_flaky', 'PgStorage', '', now() - interval '10 minutes')").await;
    app.exec("INSERT INTO apalis.jobs (job, id, job_type, status, attempts, max_attempts, lock_by, lock_at)
         VALUES (convert_to('{}', 'UTF8'), 'held-1', 'test_flaky', 'Running', 1, 5, 'gone-host-1/test_flaky', now() - interval '10 minutes')").await;
    let overview = admin.get_text("/admin/jobs").await;
    let row = overview
        .split("<tr>")
        .find(|r| r.contains("gone-host-1"))
        .expect("the silent worker");
    assert!(
        row.contains("presumed dead") && row.contains("1 jobs"),
        "{row}"
    );
    app.exec("DELETE FROM apalis.jobs WHERE id = 'held-1'")
        .await;

    // The list finds it by its request's id; a job that is not there is a 404.
    let list = admin.get_text("/admin/jobs/list?q=req-flaky-1").await;
    assert!(list.contains(&format!("/admin/jobs/{id}")));
    assert_eq!(
        admin.get_status("/admin/jobs/nope").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin.get_status("/admin/jobs/list?state=sleeping").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // 120 finished jobs: three pages of 50, 50 and 21 (the flaky one too),
    // each job once, newest first.
    app.exec("INSERT INTO apalis.jobs (job, id, job_type, status, attempts, max_attempts, run_at, done_at)
         SELECT convert_to('{}', 'UTF8'), 'bulk-' || lpad(n::text, 3, '0'), 'maintenance', 'Done', 1, 5,
                now() - n * interval '1 minute', now() - n * interval '1 minute'
         FROM generate_series(1, 120) AS n").await;
    let (mut seen, mut all) = (Vec::new(), Vec::new());
    let mut next = Some("/admin/jobs/list?state=done".to_owned());
    while let Some(path) = next.take() {
        let page = admin.get_text(&path).await;
        let ids: Vec<String> = page
            .split("href=\"/admin/jobs/")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .filter(|s| !s.starts_with("list"))
            .map(str::to_owned)
            .collect();
        seen.push(ids.len());
        all.extend(ids);
        next = page
            .split("href=\"")
            .find(|s| s.starts_with("/admin/jobs/list?") && s.contains("after="))
            .and_then(|s| s.split('"').next())
            .map(|s| s.replace("&#38;", "&"));
    }
    assert_eq!(seen, [50, 50, 21]);
    let distinct: std::collections::BTreeSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), 121, "no job twice");
    assert_eq!(all[0], id, "the newest first");
    assert_eq!(all[120], "bulk-120");
}

#[tokio::test]
async fn bulk_actions_ask_with_a_count_touch_only_their_queue_and_leave_an_audit_trail() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.exec("INSERT INTO apalis.jobs (job, id, job_type, status, attempts, max_attempts, run_at, done_at)
         VALUES (convert_to('{}', 'UTF8'), 'dead-1', 'report_export', 'Killed', 1, 3, now(), now()),
                (convert_to('{}', 'UTF8'), 'dead-2', 'report_export', 'Failed', 3, 3, now(), now()),
                (convert_to('{}', 'UTF8'), 'dead-3', 'install_ping', 'Killed', 1, 3, now(), now()),
                (convert_to('{}', 'UTF8'), 'wait-1', 'install_ping', 'Pending', 0, 3, now() + interval '1 hour', NULL)").await;
    let status = |id: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT status FROM apalis.jobs WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .expect("status")
        }
    };
    let form = [("queue", "report_export"), ("action", "retry")];
    let r = admin.post_form("/admin/jobs/bulk", &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("Retry 2 dead jobs of report_export?"),
        "the count first"
    );
    assert_eq!(status("dead-1").await, "Killed", "nothing yet");
    admin
        .submit("/admin/jobs/bulk", &[form[0], form[1], ("confirm", "yes")])
        .await;
    assert_eq!(status("dead-1").await, "Pending");
    assert_eq!(status("dead-2").await, "Pending");
    assert_eq!(status("dead-3").await, "Killed", "another queue");
    // Cancel one waiting job: dead with the reason, retryable.
    admin.submit("/admin/jobs/wait-1/cancel", &[]).await;
    assert_eq!(status("wait-1").await, "Killed");
    let page = admin.get_text("/admin/jobs/wait-1").await;
    assert!(page.contains("Cancelled by an administrator"));
    assert_eq!(
        admin.post_status("/admin/jobs/wait-1/cancel", &[]).await,
        StatusCode::NOT_FOUND,
        "only a waiting job"
    );
    // The audit trail: who, what, on what, how many.
    let overview = admin.get_text("/admin/jobs").await;
    for text in [
        "<td data-label=\"On\">dead jobs of report_export</td><td data-label=\"Jobs\">2</td>",
        "<td data-label=\"On\">job wait-1</td><td data-label=\"Jobs\">1</td>",
    ] {
        assert!(overview.contains(text), "{text}");
    }
    assert!(overview.contains("<td data-label=\"Who\">admin</td>"));
    let bad = admin
        .post_form(
            "/admin/jobs/bulk",
            &[("queue", "nope"), ("action", "retry")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_admin_api_lists_jobs_by_keyset_and_shows_one_with_its_attempts() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let token = admin.api_token("ops", "").await;
    let bobs = bob.api_token("bob", "").await;
    app.exec("INSERT INTO apalis.jobs (job, id, job_type, status, attempts, max_attempts, run_at, done_at)
         SELECT convert_to('{\"n\": ' || n || '}', 'UTF8'), 'api-' || lpad(n::text, 3, '0'), 'report_export', 'Done', 1, 3,
                now() - n * interval '1 minute', now() - n * interval '1 minute'
         FROM generate_series(1, 60) AS n").await;
    app.exec(
        "INSERT INTO job_attempts (job_id, queue, attempt, worker, finished_at, outcome, error)
         VALUES ('api-001', 'report_export', 1, 'w1', now(), 'retried', 'disk full'),
                ('api-001', 'report_export', 2, 'w2', now(), 'ok', NULL)",
    )
    .await;
    let http = reqwest::Client::new();
    let get = |path: String, token: String| {
        let http = http.clone();
        let url = format!("{}/api/v1{path}", app.address);
        async move {
            let r = http.get(url).bearer_auth(token).send().await.expect("get");
            let status = r.status();
            (
                status,
                r.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };
    let (status, page) = get(
        "/admin/jobs?queue=report_export&state=done".into(),
        token.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["jobs"].as_array().map(Vec::len), Some(50));
    assert_eq!(page["jobs"][0]["id"], "api-001", "newest first");
    let after = page["next_after"].as_str().expect("a next page").to_owned();
    let (_, page2) = get(
        format!(
            "/admin/jobs?queue=report_export&state=done&after={}",
            urlencode(&after)
        ),
        token.clone(),
    )
    .await;
    assert_eq!(page2["jobs"].as_array().map(Vec::len), Some(10));
    assert_eq!(page2["jobs"][9]["id"], "api-060");
    assert!(page2["next_after"].is_null());
    let (status, job) = get("/admin/jobs/api-001".into(), token.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(job["payload"]["n"], 1);
    assert_eq!(job["history"][0]["error"], "disk full");
    assert_eq!(job["history"][1]["outcome"], "ok");
    assert_eq!(
        get("/admin/jobs/none".into(), token.clone()).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/admin/jobs?state=asleep".into(), token.clone())
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        get("/admin/jobs".into(), bobs).await.0,
        StatusCode::FORBIDDEN,
        "administrators only"
    );
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).expect("encode")[2..].to_owned()
}

/// Waits until `n` worker processes have beaten (and so read the pauses).
async fn wait_for_processes(app: &TestApp, n: i64) {
    let what = format!("{n} worker processes beat");
    eventually(&what, Duration::from_secs(10), || async {
        (app.count("SELECT count(*) FROM worker_processes").await == n).then_some(())
    })
    .await;
}

async fn export_status(app: &TestApp) -> String {
    app.scalar("SELECT status FROM exports").await
}

#[tokio::test]
async fn a_paused_queue_runs_nothing_even_after_a_restart_and_runs_when_resumed() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r = admin
        .post_form("/admin/jobs/queues/report_export/pause", &[])
        .await;
    assert_is_redirect(&r);
    // A paused queue still accepts jobs.
    assert!(
        admin
            .request_export("csv", &[])
            .await
            .status()
            .is_redirection()
    );
    let overview = admin.get_text("/admin/jobs").await;
    assert!(overview.contains("<strong>report_export is paused</strong>"));

    // Two heartbeats of a running worker (1 s each here): nothing ran.
    let first = RunningWorker::start(Worker::standard(&app.config, &app.pool));
    wait_for_processes(&app, 1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(export_status(&app).await, "pending");
    let overview = admin.get_text("/admin/jobs").await;
    let row = overview
        .split("<tr")
        .find(|r| r.contains("data-label=\"Process\""))
        .expect("the live worker process");
    assert!(
        row.contains("alive") && row.contains("report_export"),
        "{row}"
    );
    first.stop().await;
    wait_for_processes(&app, 0).await;

    // A new process takes none of its jobs either: the fetch skips them.
    let second = RunningWorker::start(Worker::standard(&app.config, &app.pool));
    wait_for_processes(&app, 1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(export_status(&app).await, "pending", "still paused");

    admin
        .submit("/admin/jobs/queues/report_export/resume", &[])
        .await;
    eventually(
        "the export runs within a few heartbeats of the resume",
        Duration::from_secs(10),
        || async { (export_status(&app).await == "done").then_some(()) },
    )
    .await;
    second.stop().await;

    let actions: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT action, target, jobs FROM job_actions ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .expect("audit");
    assert_eq!(
        actions,
        [
            ("pause".into(), "queue report_export".into(), 0),
            ("resume".into(), "queue report_export".into(), 0),
        ]
    );
    // Pausing twice says so and records nothing more; an unknown queue is 404.
    admin
        .post_form("/admin/jobs/queues/maintenance/pause", &[])
        .await;
    admin
        .submit("/admin/jobs/queues/maintenance/pause", &[])
        .await;
    assert_eq!(
        admin
            .post_status("/admin/jobs/queues/nope/pause", &[])
            .await,
        StatusCode::NOT_FOUND
    );
    let pauses: i64 = app
        .scalar("SELECT count(*) FROM job_actions WHERE action = 'pause'")
        .await;
    assert_eq!(pauses, 2);
}

/// A job that waits on a gate, to be running while the queue is paused.
#[derive(Debug, Serialize, Deserialize)]
struct Slow {
    marker: String,
}

impl Job for Slow {
    const QUEUE: &'static str = "test_slow";
}

#[derive(Clone)]
struct SlowHandler {
    pool: PgPool,
    release: Arc<tokio::sync::Notify>,
}

impl JobHandler<Slow> for SlowHandler {
    async fn handle(&self, job: Slow, _ctx: JobContext) -> Result<(), JobError> {
        if job.marker == "slow" {
            self.release.notified().await;
        }
        sqlx::query("INSERT INTO test_effects (marker) VALUES ($1)")
            .bind(&job.marker)
            .execute(&self.pool)
            .await
            .map_err(JobError::retry)?;
        Ok(())
    }
}

async fn enqueue_slow(app: &TestApp, marker: &str) {
    let mut conn = app.pool.acquire().await.expect("conn");
    jobs::enqueue(
        &mut conn,
        &Slow {
            marker: marker.into(),
        },
    )
    .await
    .expect("enqueue");
}

/// A worker for `Slow` jobs, with the one marked "slow" running and recorded
/// as `Running`; notify the handle to let it finish.
async fn slow_job_running(app: &TestApp) -> (RunningWorker, Arc<tokio::sync::Notify>) {
    prepare(app).await;
    let release = Arc::new(tokio::sync::Notify::new());
    let worker = RunningWorker::start(Worker::new(&app.config, &app.pool).register(SlowHandler {
        pool: app.pool.clone(),
        release: release.clone(),
    }));
    enqueue_slow(app, "slow").await;
    let status = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT status FROM apalis.jobs WHERE job_type = 'test_slow' ORDER BY run_at LIMIT 1",
        )
        .fetch_one(&app.pool)
        .await
        .expect("status")
    };
    eventually("the slow job runs", Duration::from_secs(5), || async {
        (status().await == "Running").then_some(())
    })
    .await;
    (worker, release)
}

/// Test queues are paused in the database directly: the pages know only the
/// app's queues.
async fn pause_slow(app: &TestApp) {
    app.exec("INSERT INTO queue_pauses (queue) VALUES ('test_slow')")
        .await;
}

/// With `test_slow` paused: a "next" job waits while the running one
/// finishes, and runs once the queue is resumed.
async fn next_waits_until_resumed(app: &TestApp, release: &tokio::sync::Notify) {
    enqueue_slow(app, "next").await;
    release.notify_one();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        effects(app).await,
        ["slow"],
        "the running job finished; the next waits"
    );
    app.exec("DELETE FROM queue_pauses").await;
    eventually(
        "the next job runs once resumed",
        Duration::from_secs(10),
        || async { (effects(app).await.len() == 2).then_some(()) },
    )
    .await;
    assert_eq!(effects(app).await, ["next", "slow"], "resumed");
}

#[tokio::test]
async fn a_job_running_when_its_queue_is_paused_finishes_and_the_next_waits() {
    let app = spawn_app().await;
    let (worker, release) = slow_job_running(&app).await;
    pause_slow(&app).await;
    next_waits_until_resumed(&app, &release).await;
    worker.stop().await;
}

/// The pause lands while the worker's fetch is in flight (held here by a
/// table lock): the fetch must not sit in an open transaction through the
/// pause, and the queue must not stall after the resume.
#[tokio::test]
async fn a_pause_during_a_fetch_neither_stalls_the_queue_nor_holds_a_transaction() {
    let app = spawn_app().await;
    let (worker, release) = slow_job_running(&app).await;

    // A fetch that waits on a lock: wake the worker as an insert would, with
    // the jobs table locked against writes.
    let mut lock = app.pool.begin().await.expect("lock tx");
    sqlx::query("LOCK TABLE apalis.jobs IN SHARE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock");
    app.exec(
        "SELECT pg_notify('apalis::job::insert',
                 json_build_object('job_type', job_type, 'id', id, 'run_at', run_at)::text)
         FROM apalis.jobs WHERE job_type = 'test_slow'",
    )
    .await;
    // The worker's fetches: (waiting on a lock, idle in an open transaction).
    let fetches = || async {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),
                    count(*) FILTER (WHERE state = 'idle in transaction')
             FROM pg_stat_activity
             WHERE datname = current_database() AND query LIKE '%get_jobs%'
               AND query NOT LIKE '%pg_stat_activity%'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("activity")
    };
    let waiting = eventually(
        "the worker's fetch waits on the lock",
        Duration::from_secs(2),
        || async { Some(fetches().await.0).filter(|&n| n > 0) },
    )
    .await;
    assert_eq!(waiting, 1, "one fetch waits on the lock");
    pause_slow(&app).await;
    lock.commit().await.expect("unlock");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        fetches().await.1,
        0,
        "no fetch sits in an open transaction while paused"
    );

    next_waits_until_resumed(&app, &release).await;
    worker.stop().await;
}

#[tokio::test]
async fn drain_cancels_only_the_waiting_jobs_of_that_queue_after_saying_how_many() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    for _ in 0..3 {
        assert!(
            admin
                .request_export("csv", &[])
                .await
                .status()
                .is_redirection()
        );
    }
    // One export job already finished, a maintenance job waiting elsewhere.
    app.exec(
        "UPDATE apalis.jobs SET status = 'Done', done_at = now()
         WHERE id = (SELECT min(id) FROM apalis.jobs WHERE job_type = 'report_export')",
    )
    .await;
    let mut conn = app.pool.acquire().await.expect("conn");
    jobs::enqueue(&mut conn, &Maintenance { tick: 1 })
        .await
        .expect("maintenance");
    let page = admin
        .post_form("/admin/jobs/queues/report_export/drain", &[])
        .await
        .text()
        .await
        .expect("confirmation");
    assert!(
        page.contains("Drain report_export: cancel its 2 waiting jobs?"),
        "{page}"
    );
    let states = || async {
        sqlx::query_as::<_, (String, String, i64)>(
            "SELECT job_type, status, count(*) FROM apalis.jobs GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .fetch_all(&app.pool)
        .await
        .expect("states")
    };
    let before = states().await;
    assert!(before.contains(&("report_export".into(), "Pending".into(), 2)));
    admin
        .submit(
            "/admin/jobs/queues/report_export/drain",
            &[("confirm", "yes")],
        )
        .await;
    let after = states().await;
    assert!(
        after.contains(&("report_export".into(), "Killed".into(), 2)),
        "{after:?}"
    );
    assert!(after.contains(&("report_export".into(), "Done".into(), 1)));
    assert!(
        after.contains(&("maintenance".into(), "Pending".into(), 1)),
        "another queue's job waits on: {after:?}"
    );
    let action: (String, String, i64) =
        sqlx::query_as("SELECT action, target, jobs FROM job_actions")
            .fetch_one(&app.pool)
            .await
            .expect("audit");
    assert_eq!(action, ("drain".into(), "queue report_export".into(), 2));
}

#[tokio::test]
async fn the_list_reads_each_state_as_the_overview_counts_it() {
    let app = spawn_app().await;
    // One job of every state, and one more of each in another queue.
    app.exec("INSERT INTO apalis.jobs (job, id, job_type, status, attempts, max_attempts, run_at, done_at)
         SELECT convert_to('{}', 'UTF8'), q || '-' || s, q, st, a, 3, now() + d * interval '1 hour', dn
         FROM (VALUES ('pending', 'Pending', 0, -1, NULL::timestamptz),
                      ('scheduled', 'Pending', 0, 1, NULL),
                      ('running', 'Running', 1, -1, NULL),
                      ('retrying', 'Failed', 1, -1, NULL),
                      ('done', 'Done', 1, -1, now()),
                      ('dead-killed', 'Killed', 1, -1, now()),
                      ('dead-exhausted', 'Failed', 3, -1, now())) AS v (s, st, a, d, dn),
              (VALUES ('maintenance'), ('install_ping')) AS w (q)").await;
    let counts = timetracker::db::jobs::counts(&app.pool)
        .await
        .expect("counts");
    for state in timetracker::db::jobs::STATES {
        for queue in [None, Some("maintenance")] {
            let filter = timetracker::db::jobs::JobFilter {
                queue: queue.map(str::to_owned),
                state: Some(state),
                ..Default::default()
            };
            let rows = timetracker::db::jobs::list(&app.pool, &filter, 50)
                .await
                .expect("list");
            assert!(rows.iter().all(|r| r.state == state), "{state}: {rows:?}");
            let counted: i64 = counts
                .iter()
                .filter(|c| c.state == state && queue.is_none_or(|q| c.queue == q))
                .map(|c| c.count)
                .sum();
            assert_eq!(rows.len() as i64, counted, "{state} in {queue:?}");
            assert!(counted > 0, "{state} is seeded");
        }
    }
}

/// The `project.created` events PostHog has accepted.
fn projects_delivered(fake: &FakePostHog) -> usize {
    fake.accepted_events()
        .iter()
        .filter(|e| e["event"] == "project.created")
        .count()
}

#[tokio::test]
async fn delivery_resumes_by_itself_after_its_waiting_job_is_cancelled_or_drained() {
    let fake = FakePostHog::start().await;
    let (app, admin) = spawn_app_with_analytics(&fake).await;
    let queue = "/admin/jobs/queues/analytics_delivery";
    for (round, action) in ["cancel", "drain"].into_iter().enumerate() {
        admin.submit(&format!("{queue}/pause"), &[]).await;
        admin
            .submit("/projects", &[("name", &format!("{action} before"))])
            .await;
        let waiting: String = app.scalar("SELECT id FROM apalis.jobs WHERE job_type = 'analytics_delivery' AND status = 'Pending'").await;
        let r = match action {
            "cancel" => {
                admin
                    .post_form(&format!("/admin/jobs/{waiting}/cancel"), &[])
                    .await
            }
            _ => {
                admin
                    .post_form(&format!("{queue}/drain"), &[("confirm", "yes")])
                    .await
            }
        };
        assert_is_redirect(&r);
        admin.submit(&format!("{queue}/resume"), &[]).await;
        // The next event's delivery job must not fold into the dead one.
        admin
            .submit("/projects", &[("name", &format!("{action} after"))])
            .await;
        app.run_pending_jobs().await;
        assert_eq!(
            projects_delivered(&fake),
            2 * (round + 1),
            "after {action}, both events delivered without an administrator's retry"
        );
    }
}

#[tokio::test]
async fn a_unique_job_that_dies_lets_go_of_its_key() {
    let app = spawn_app().await;
    let mut conn = app.pool.acquire().await.expect("conn");
    assert!(
        jobs::enqueue_unique(&mut conn, &Maintenance { tick: 7 }, "tick-7")
            .await
            .expect("first")
    );
    // Failed for good, as apalis marks a job whose last attempt failed.
    sqlx::query(
        "UPDATE apalis.jobs SET status = 'Failed', attempts = max_attempts WHERE job_type = 'maintenance'",
    )
    .execute(&mut *conn)
    .await
    .expect("dead");
    assert!(
        jobs::enqueue_unique(&mut conn, &Maintenance { tick: 7 }, "tick-7")
            .await
            .expect("again"),
        "a dead job's key is free"
    );
    sqlx::query("UPDATE apalis.jobs SET status = 'Done' WHERE status = 'Pending'")
        .execute(&mut *conn)
        .await
        .expect("done");
    assert!(
        !jobs::enqueue_unique(&mut conn, &Maintenance { tick: 7 }, "tick-7")
            .await
            .expect("once more"),
        "a finished job keeps its key: the tick runs once"
    );
}
