//! A real PgBouncer (Debian's) between the app and PostgreSQL, as
//! docs/scaling.md describes it: the web process and the worker binary both
//! reach the database only through it (the worker by `WORKER_DATABASE_URL`,
//! its `DATABASE_URL` pointing nowhere), in session mode. Transaction mode
//! is not tested: PgBouncer 1.18 keeps no prepared statements across
//! server connections and sqlx 0.9 names them, so the first query fails
//! with "prepared statement sqlx_s_1 already exists" (docs/scaling.md).

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;

use crate::{
    helpers::{FakePostHog, SETUP_TOKEN, TestDb, database_socket, spawn_on, test_config, via_port},
    process::Process,
};

/// A PgBouncer process on a free port of 127.0.0.1, killed on drop.
struct PgBouncer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl PgBouncer {
    /// Starts PgBouncer in `mode` in front of the test cluster, trusting its
    /// user (the cluster's own authentication still applies upstream).
    async fn start(mode: &str) -> Self {
        let upstream = database_socket().await;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("tt-pgbouncer-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let user = crate::helpers::database_user();
        std::fs::write(dir.join("users.txt"), format!("\"{user}\" \"\"\n")).expect("users");
        std::fs::write(
            dir.join("pgbouncer.ini"),
            format!(
                "[databases]\n* = host={} port={}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\n\
                 listen_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {}\n\
                 pool_mode = {mode}\ndefault_pool_size = 40\nmax_client_conn = 200\n\
                 ignore_startup_parameters = extra_float_digits\nlogfile = {}\n",
                upstream.ip(),
                upstream.port(),
                dir.join("users.txt").display(),
                dir.join("pgbouncer.log").display(),
            ),
        )
        .expect("ini");
        // PgBouncer refuses to run as root: it switches to postgres then,
        // which must be able to read and write its folder.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0"))
            .unwrap_or(false);
        let _ = Command::new("chmod")
            .args(["-R", "a+rwX"])
            .arg(&dir)
            .status();
        let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("pgbouncer");
        let mut command = Command::new(binary);
        if root {
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(dir.join("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pgbouncer is installed (make test installs Debian's pgbouncer)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "pgbouncer did not listen: {}",
                std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, dir, port }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn web_exports_and_analytics_delivery_work_through_pgbouncer() {
    let mut bouncer = PgBouncer::start("session").await;
    let fake = FakePostHog::start().await;
    let db = TestDb::new().await;
    let direct = db.url.clone();
    let pooled = via_port(&db.url, bouncer.port);
    let config = test_config(
        &pooled,
        &[
            ("SETUP_TOKEN", SETUP_TOKEN),
            ("POSTHOG_API_KEY", "phc_pooled"),
            ("POSTHOG_HOST", &fake.url),
        ],
    );
    let app = spawn_on(db, config).await;
    let admin = app.setup_admin().await;
    let r = admin
        .post_form("/admin/telemetry/analytics", &[("enabled", "on")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    sqlx::query("INSERT INTO projects (name) VALUES ('Pooled')")
        .execute(&app.pool)
        .await
        .expect("project");

    // Web requests: timer cycles over the API and many reads at once.
    let token = admin.api_token("pooled", "30").await;
    let http = reqwest::Client::new();
    for _ in 0..5 {
        for path in ["/api/v1/timer/start", "/api/v1/timer/stop"] {
            let r = http
                .post(format!("{}{path}", app.address))
                .bearer_auth(&token)
                .json(&serde_json::json!({"project_id": 1}))
                .send()
                .await
                .expect("timer");
            assert!(r.status().is_success(), "{path}: {}", r.status());
        }
    }
    let mut reads = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (http, url, token) = (
            http.clone(),
            format!("{}/api/v1/time-entries?per_page=5", app.address),
            token.clone(),
        );
        reads.spawn(async move { http.get(url).bearer_auth(token).send().await });
    }
    while let Some(r) = reads.join_next().await {
        assert_eq!(r.expect("join").expect("read").status(), StatusCode::OK);
    }
    let today = chrono::Utc::now().date_naive();
    let r = admin
        .post_form(
            "/exports",
            &[
                ("format", "csv"),
                ("from", &(today - chrono::Days::new(1)).to_string()),
                ("to", &(today + chrono::Days::new(1)).to_string()),
            ],
        )
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());

    // The worker binary: DATABASE_URL leads nowhere, WORKER_DATABASE_URL to
    // the pooler, so every query it makes goes through PgBouncer.
    let nowhere = via_port(&direct, 9);
    let mut worker = Process::start(
        "timetracker-worker",
        &[],
        &[
            ("DATABASE_URL", nowhere.as_str()),
            ("WORKER_DATABASE_URL", pooled.as_str()),
            ("POSTHOG_API_KEY", "phc_pooled"),
            ("POSTHOG_HOST", &fake.url),
            ("WORKER_METRICS_ADDR", "127.0.0.1:0"),
            ("WORKER_HEARTBEAT_SECONDS", "1"),
            ("LOG_FILE", ""),
        ],
    );
    worker.wait_for_log("worker starting").await;
    let started = Instant::now();
    loop {
        let (exports, unsent): (String, i64) = sqlx::query_as(
            "SELECT (SELECT status FROM exports),
                    (SELECT count(*) FROM analytics_events WHERE status <> 'sent')",
        )
        .fetch_one(&app.pool)
        .await
        .expect("state");
        if exports == "done" && unsent == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "export {exports}, {unsent} events unsent:\n{}",
            worker.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered = fake.accepted_events();
    let starts = delivered
        .iter()
        .filter(|e| e["event"] == "timer.started")
        .count();
    assert_eq!(starts, 5, "every start delivered once");
    let id: i64 = sqlx::query_scalar("SELECT id FROM exports")
        .fetch_one(&app.pool)
        .await
        .expect("export");
    let file = admin.get(&format!("/exports/{id}/download")).await;
    assert_eq!(file.status(), StatusCode::OK);
    let csv = file.text().await.expect("csv");
    assert_eq!(csv.lines().count(), 1 + 5, "a header and the five entries");
    worker.terminate();

    // The pooler is the only way in: without it the web is not ready.
    bouncer.stop();
    let started = Instant::now();
    loop {
        let ready = reqwest::get(format!("{}/health/ready", app.metrics_address))
            .await
            .expect("ready")
            .status();
        if ready == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still ready without the pooler"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
