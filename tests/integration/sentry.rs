//! Sentry: the real binaries with `SENTRY_DSN` pointing at a fake Sentry on
//! 127.0.0.1. One error, one event, tagged with its request id and service,
//! and nothing identifying in it.

use reqwest::StatusCode;

use crate::support::assert_is_redirect;
use crate::{
    process::{FakeSentry, Process},
    support::{ADMIN_PASSWORD, SETUP_TOKEN, TestClient, TestDb, spawn_app},
};

fn base_env<'a>(database_url: &'a str, dsn: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("DATABASE_URL", database_url),
        ("SENTRY_DSN", dsn),
        ("APP_ENV", "sentry-test"),
        ("HTTP_ADDR", "127.0.0.1:0"),
        ("WEB_METRICS_ADDR", "127.0.0.1:0"),
        ("WORKER_METRICS_ADDR", "127.0.0.1:0"),
        ("LOG_FILE", ""),
        ("WORKER_HEARTBEAT_SECONDS", "1"),
    ]
}

/// The web process reporting to `sentry`, set up with an admin signed in.
async fn web_with_admin(
    db: &TestDb,
    sentry: &FakeSentry,
    extra: &[(&str, &str)],
) -> (Process, TestClient) {
    let mut env = base_env(&db.url, &sentry.dsn);
    env.push(("SETUP_TOKEN", SETUP_TOKEN));
    env.extend_from_slice(extra);
    let mut web = Process::start("timetracker", &["serve"], &env);
    let port = web.wait_for_log("web server listening").await["port"]
        .as_u64()
        .expect("port");
    let admin = TestClient::new(&format!("http://127.0.0.1:{port}"));
    assert_eq!(
        admin.submit_setup("adeline", "off").await.status(),
        StatusCode::SEE_OTHER
    );
    (web, admin)
}

#[tokio::test]
async fn a_failing_request_is_reported_once_without_cookies_or_identity() {
    let db = TestDb::new().await;
    let sentry = FakeSentry::start().await;
    let (mut web, admin) = web_with_admin(&db, &sentry, &[]).await;
    let session = admin.cookie("tt_session").expect("signed in");
    assert!(sentry.events().is_empty(), "no error yet, no event");

    // Break the schema under the running app: the dashboard query fails.
    let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
    sqlx::query("ALTER TABLE time_entries RENAME TO time_entries_moved")
        .execute(&pool)
        .await
        .expect("rename");
    let response = admin.get("/").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();

    let events = sentry.wait_for_events(1).await;
    assert_eq!(events.len(), 1, "one error, one event: {events:#?}");
    let event = &events[0];
    assert_eq!(event["tags"]["request_id"], request_id.as_str());
    assert_eq!(event["tags"]["service"], "web");
    assert_eq!(event["environment"], "sentry-test");
    assert!(event.get("server_name").is_none(), "{event}");
    assert!(
        event["release"]
            .as_str()
            .is_some_and(|r| r.starts_with("timetracker@")),
        "{event}"
    );
    let everything = sentry.envelopes().concat();
    for secret in [
        session.as_str(),
        "adeline",
        "admin@example.org",
        ADMIN_PASSWORD,
        "tt_session",
    ] {
        assert!(!everything.contains(secret), "{secret} was sent to Sentry");
    }
    web.terminate();
}

#[tokio::test]
async fn a_dead_job_is_reported_once_with_its_queue_and_request() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let response = admin.request_export("csv", &[]).await;
    assert_is_redirect(&response);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    // An export request no build can read: the job fails permanently.
    app.exec("UPDATE exports SET params = '\"unreadable\"'::jsonb")
        .await;

    let sentry = FakeSentry::start().await;
    let database_url = app.config.database.url.expose().clone();
    let mut worker = Process::start(
        "timetracker-worker",
        &[],
        &base_env(&database_url, &sentry.dsn),
    );
    worker.wait_for_log("worker starting").await;
    let events = sentry.wait_for_events(1).await;
    assert_eq!(events.len(), 1, "one dead job, one event: {events:#?}");
    let event = &events[0];
    assert_eq!(event["tags"]["service"], "worker");
    assert_eq!(event["tags"]["job.queue"], "report_export");
    assert_eq!(event["tags"]["request_id"], request_id.as_str());
    let everything = sentry.envelopes().concat();
    assert!(!everything.contains("admin@example.org"));
    worker.terminate();
}

#[tokio::test]
async fn a_sampled_request_is_traced_with_a_span_per_query() {
    let db = TestDb::new().await;
    let sentry = FakeSentry::start().await;
    let traced = [("SENTRY_TRACES_SAMPLE_RATE", "1"), ("LOG_LEVEL", "info")];
    let (mut web, admin) = web_with_admin(&db, &sentry, &traced).await;
    assert_eq!(admin.get_status("/").await, StatusCode::OK);

    // The db functions' spans are `debug` (not built for the logs at
    // `info`), but the trace of the request that ran them has them: here
    // the timer page's one statement (which checks the session too).
    const LOOKUP: &str = "timetracker::db::timer_page::load";
    crate::support::eventually(
        "the page's statement is a span of a trace",
        std::time::Duration::from_secs(15),
        || async {
            let ops: Vec<String> = sentry
                .transactions()
                .iter()
                .flat_map(|t| t["spans"].as_array().cloned().unwrap_or_default())
                .filter_map(|span| span["op"].as_str().map(str::to_owned))
                .collect();
            ops.iter().any(|op| op == LOOKUP).then_some(())
        },
    )
    .await;
    web.terminate();
}
