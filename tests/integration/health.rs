//! The health endpoints: readiness follows the database and the
//! migrations, request ids, and the container's healthcheck command.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::{
    DbProxy, TestDb, database_socket, eventually, spawn_on, test_config, via_port,
};

/// `/health/ready` once it answers `status`; the verdict may be up to a second
/// old (it is cached), so this asks for up to three seconds.
async fn readiness(url: &str, status: StatusCode) -> reqwest::Response {
    eventually(
        &format!("{url} answers {status}"),
        Duration::from_secs(3),
        || async {
            let r = reqwest::get(url).await.expect("GET");
            (r.status() == status).then_some(r)
        },
    )
    .await
}

#[tokio::test]
async fn readiness_reports_a_lost_database_and_recovers_without_a_restart() {
    let db = TestDb::new().await;
    let proxy = DbProxy::start(database_socket().await).await;
    let config = test_config(&via_port(&db.url, proxy.port), &[]);
    let app = spawn_on(db, config).await;
    let http = reqwest::Client::new();

    let ready = format!("{}/health/ready", app.address);
    assert_eq!(
        http.get(&ready).send().await.expect("GET").status(),
        StatusCode::OK
    );

    proxy.take_down();
    let r = readiness(&ready, StatusCode::SERVICE_UNAVAILABLE).await;
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["status"], "unavailable");
    assert!(
        body["reason"]
            .as_str()
            .expect("reason")
            .starts_with("database"),
        "{body}"
    );
    let live = http
        .get(format!("{}/health/live", app.address))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        live.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );
    // A page that needs the database answers a clean 503, not a 500.
    let page = http
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);

    proxy.bring_up();
    eventually(
        "readiness recovers once the database is back",
        Duration::from_secs(5),
        || async {
            (http.get(&ready).send().await.expect("GET").status() == StatusCode::OK).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn readiness_is_503_while_migrations_are_missing() {
    let db = TestDb::new().await;
    let config = test_config(&db.url, &[]);
    let app = spawn_on(db, config).await;
    app.exec(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .await;
    let r = readiness(
        &format!("{}/health/ready", app.address),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert!(r.text().await.expect("body").contains("migrate"));
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated_and_never_injected() {
    let app = crate::support::spawn_app().await;
    let http = reqwest::Client::new();
    let url = format!("{}/health/live", app.address);
    let r = http
        .get(&url)
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("GET");
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let r = http
        .get(&url)
        .header("x-request-id", "bad id\"}{")
        .send()
        .await
        .expect("GET");
    let generated = r.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
}

#[tokio::test]
async fn the_healthcheck_command_follows_readiness() {
    let db = TestDb::new().await;
    let proxy = DbProxy::start(database_socket().await).await;
    let config = test_config(&via_port(&db.url, proxy.port), &[]);
    let app = spawn_on(db, config).await;
    let internal = app.metrics_address.trim_start_matches("http://").to_owned();
    let check = |addr: String| async move {
        tokio::process::Command::new(crate::process::binary("timetracker"))
            .args(["healthcheck", &addr])
            .output()
            .await
            .expect("run healthcheck")
    };
    assert!(check(internal.clone()).await.status.success());
    proxy.take_down();
    readiness(
        &format!("{}/health/ready", app.metrics_address),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    let down = check(internal.clone()).await;
    assert!(!down.status.success());
    assert!(String::from_utf8_lossy(&down.stderr).contains("503"));
    proxy.bring_up();
    readiness(
        &format!("{}/health/ready", app.metrics_address),
        StatusCode::OK,
    )
    .await;
    assert!(check(internal).await.status.success());
    // Nothing listening: a failure, not a hang.
    assert!(!check("127.0.0.1:1".into()).await.status.success());
}
