//! Both processes' `/metrics`: valid Prometheus text (checked by
//! promtool), labelled by route template, with the queue depths.

use std::io::Write;

use reqwest::StatusCode;

use crate::support::spawn_app;

/// Runs `promtool check metrics` on an exposition and returns its complaints.
fn promtool_check(exposition: &str) -> Result<(), String> {
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed (make test installs the prometheus package)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(exposition.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool ran");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[tokio::test]
async fn web_metrics_are_valid_prometheus_text_labelled_by_route_template() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    admin.post_form("/admin/users/424242/deactivate", &[]).await;
    admin.get("/no/such/page").await;

    let r = reqwest::get(format!("{}/metrics", app.metrics_address))
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.expect("body");
    promtool_check(&text).expect("promtool accepts the exposition");
    assert!(
        text.contains(r#"route="/admin/users/{id}/deactivate",status="404""#),
        "{text}"
    );
    assert!(!text.contains("424242"), "raw paths never become labels");
    assert!(text.contains(r#"route="unmatched""#));
    assert!(text.contains("timetracker_http_request_duration_seconds_bucket"));
    assert!(text.contains("timetracker_build_info{"));
    for name in [
        "timetracker_db_pool_connections{",
        "timetracker_active_timers ",
        "timetracker_http_requests_in_flight ",
    ] {
        assert!(text.contains(name), "{name} missing");
    }
    let public = reqwest::get(format!("{}/metrics", app.address))
        .await
        .expect("GET");
    assert_ne!(
        public.status(),
        StatusCode::OK,
        "metrics are not served on the public port"
    );
}

#[tokio::test]
async fn worker_metrics_are_valid_prometheus_text_with_queue_depth() {
    let app = spawn_app().await;
    app.run_pending_jobs().await;
    // Metrics are process-wide and tests run in parallel: a queue name of this
    // test's own makes its depth sample unambiguous.
    let queue = format!("test_depth_{}", uuid::Uuid::new_v4().simple());
    let task = apalis::prelude::TaskBuilder::new(b"{}".to_vec()).build();
    apalis_postgres::queries::push_tasks(
        &mut *app.pool.acquire().await.expect("conn"),
        &queue,
        vec![task],
    )
    .await
    .expect("enqueue");
    let expected = format!(r#"timetracker_jobs{{queue="{queue}",state="pending"}} 1"#);
    let (server, addr) = timetracker_worker::internal_server(&app.config, &app.pool)
        .await
        .expect("server");
    // The sampler publishes depth every few seconds; run a worker long enough for one sample.
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(
        timetracker_worker::Worker::standard(&app.config, &app.pool).run(async move {
            let _ = rx.await;
        }),
    );
    let text = crate::support::eventually(
        "the worker's sampler publishes the queue's depth",
        std::time::Duration::from_secs(10),
        || async {
            let text = reqwest::get(format!("http://{addr}/metrics"))
                .await
                .expect("GET")
                .text()
                .await
                .expect("body");
            text.contains(&expected).then_some(text)
        },
    )
    .await;
    let ready = reqwest::get(format!("http://{addr}/health/ready"))
        .await
        .expect("GET");
    assert_eq!(ready.status(), StatusCode::OK);
    let _ = tx.send(());
    worker.await.expect("task").expect("worker");
    server.abort();
    assert!(text.contains("timetracker_jobs_oldest_ready_age_seconds"));
    assert!(text.contains(r#"timetracker_jobs_processed_total{queue="maintenance",outcome="ok"}"#));
    assert!(text.contains(r#"timetracker_job_wait_seconds_bucket{queue="maintenance",le="0.5"}"#));
    promtool_check(&text).expect("promtool accepts the exposition");
}
