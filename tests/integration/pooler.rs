//! A real PgBouncer between the app and PostgreSQL, as docs/scaling.md
//! describes it. In session mode the web process and the worker binary both
//! reach the database only through it (the worker by `WORKER_DATABASE_URL`,
//! its `DATABASE_URL` pointing nowhere). In transaction mode the web shares
//! three server connections among its pool's ten, with sqlx's named
//! prepared statements carried across them by PgBouncer (1.21 and later,
//! `max_prepared_statements`; `make test` builds 1.24, scripts/tools.sh),
//! and the worker, which needs a session, goes through a session-mode pool
//! of the same PgBouncer.

use std::{
    collections::HashMap,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;

use crate::support::eventually;
use crate::{
    process::Process,
    support::{
        FakePostHog, SETUP_TOKEN, TestDb, database_socket, spawn_on, test_config, via_port,
        with_database,
    },
};

/// The session-mode pool's name in the transaction-mode PgBouncer.
const SESSION_POOL: &str = "tt_session";

/// A PgBouncer process on a free port of 127.0.0.1, killed on drop.
struct PgBouncer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl PgBouncer {
    /// Starts PgBouncer in front of the test cluster, trusting its user (the
    /// cluster's own authentication still applies upstream): every database
    /// in `mode` with at most `servers` server connections each, and
    /// [`SESSION_POOL`] a session-mode pool of `db` with 20 (the worker holds
    /// a connection per queue for its wake-ups, and its pool is 10).
    async fn start(db: &TestDb, mode: &str, servers: u32) -> Self {
        Self::start_waiting(db, mode, servers, 10).await
    }

    /// As [`PgBouncer::start`], a client waiting at most `wait` seconds for
    /// a server connection (`query_wait_timeout`) before PgBouncer refuses it.
    async fn start_waiting(db: &TestDb, mode: &str, servers: u32, wait: u32) -> Self {
        let upstream = database_socket().await;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("tt-pgbouncer-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let user = crate::support::database_user();
        // Clients are trusted; the password here is the one PgBouncer gives
        // the server (CI's PostgreSQL service asks for one).
        let password = crate::support::database_password();
        std::fs::write(
            dir.join("users.txt"),
            format!("\"{user}\" \"{password}\"\n"),
        )
        .expect("users");
        let (host, upstream_port) = (upstream.ip(), upstream.port());
        std::fs::write(
            dir.join("pgbouncer.ini"),
            format!(
                "[databases]\n{SESSION_POOL} = host={host} port={upstream_port} dbname={} pool_mode=session pool_size=20\n\
                 * = host={host} port={upstream_port}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\n\
                 listen_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {}\n\
                 pool_mode = {mode}\ndefault_pool_size = {servers}\nmax_client_conn = 200\n\
                 max_prepared_statements = 200\nquery_wait_timeout = {wait}\nadmin_users = {user}\n\
                 ignore_startup_parameters = extra_float_digits\nlogfile = {}\n",
                db.name,
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
        let binary = std::env::var("TT_PGBOUNCER")
            .expect("TT_PGBOUNCER names a PgBouncer 1.21 or later (make test builds one)");
        let mut command = Command::new(binary);
        if root {
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(dir.join("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("TT_PGBOUNCER runs");
        eventually("pgbouncer listens", Duration::from_secs(10), || async {
            match std::net::TcpStream::connect(("127.0.0.1", port)) {
                Ok(_) => Ok(()),
                Err(_) => {
                    Err(std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default())
                }
            }
        })
        .await;
        Self { child, dir, port }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The rows of an admin console command (`SHOW CLIENTS`, …) that
    /// `keep` keeps, as column → value.
    fn show(
        &self,
        command: &str,
        keep: impl Fn(&HashMap<String, String>) -> bool,
    ) -> Vec<HashMap<String, String>> {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U"])
            .arg(crate::support::database_user())
            .args([
                "-A",
                "-F",
                "|",
                "--pset=footer=off",
                "-c",
                command,
                "pgbouncer",
            ])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split('|').collect();
        lines
            .map(|l| {
                header
                    .iter()
                    .zip(l.split('|'))
                    .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
                    .collect()
            })
            .filter(|row| keep(row))
            .collect()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Web requests (timer cycles over the API, 40 reads at once), a background
/// export and analytics delivery: the web process on `web_url`, the worker
/// binary on `worker_url` with its `DATABASE_URL` pointing nowhere, so every
/// query it makes goes through the pooler.
async fn exercise(db: TestDb, web_url: &str, worker_url: &str) -> crate::support::TestApp {
    let fake = FakePostHog::start().await;
    let direct = db.url.clone();
    let config = test_config(
        web_url,
        &[
            ("SETUP_TOKEN", SETUP_TOKEN),
            ("POSTHOG_API_KEY", "phc_pooled"),
            ("POSTHOG_HOST", &fake.url),
        ],
    );
    let app = spawn_on(db, config).await;
    let admin = app.setup_admin_with_analytics().await;
    app.exec("INSERT INTO projects (name) VALUES ('Pooled')")
        .await;

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
            ("WORKER_DATABASE_URL", worker_url),
            ("POSTHOG_API_KEY", "phc_pooled"),
            ("POSTHOG_HOST", &fake.url),
            ("WORKER_METRICS_ADDR", "127.0.0.1:0"),
            ("WORKER_HEARTBEAT_SECONDS", "1"),
            ("LOG_FILE", ""),
        ],
    );
    worker.wait_for_log("worker starting").await;
    eventually(
        "the export is built and every event sent",
        Duration::from_secs(30),
        || async {
            let (exports, unsent): (String, i64) = sqlx::query_as(
                "SELECT (SELECT status FROM exports),
                        (SELECT count(*) FROM analytics_events WHERE status <> 'sent')",
            )
            .fetch_one(&app.pool)
            .await
            .expect("state");
            if exports == "done" && unsent == 0 {
                Ok(())
            } else {
                Err(format!(
                    "export {exports}, {unsent} events unsent:\n{}",
                    worker.output()
                ))
            }
        },
    )
    .await;
    let delivered = fake.accepted_events();
    let starts = delivered
        .iter()
        .filter(|e| e["event"] == "timer.started")
        .count();
    assert_eq!(starts, 5, "every start delivered once");
    let id: i64 = app.scalar("SELECT id FROM exports").await;
    let file = admin.get(&format!("/exports/{id}/download")).await;
    assert_eq!(file.status(), StatusCode::OK);
    let csv = file.text().await.expect("csv");
    assert_eq!(csv.lines().count(), 1 + 5, "a header and the five entries");
    worker.terminate();
    app
}

#[tokio::test]
async fn web_exports_and_analytics_delivery_work_through_pgbouncer_in_session_mode() {
    let db = TestDb::new().await;
    let mut bouncer = PgBouncer::start(&db, "session", 40).await;
    let pooled = via_port(&db.url, bouncer.port);
    let app = exercise(db, &pooled, &pooled).await;

    // The pooler is the only way in: without it the web is not ready.
    bouncer.stop();
    let ready = format!("{}/health/ready", app.metrics_address);
    eventually(
        "not ready without the pooler",
        Duration::from_secs(15),
        || async {
            let status = reqwest::get(&ready).await.expect("ready").status();
            (status == StatusCode::SERVICE_UNAVAILABLE).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn the_web_shares_three_server_connections_in_transaction_mode_and_the_worker_keeps_a_session()
 {
    let db = TestDb::new().await;
    let bouncer = PgBouncer::start(&db, "transaction", 3).await;
    let web = via_port(&db.url, bouncer.port);
    let worker = with_database(&web, SESSION_POOL);
    let name = db.name.clone();
    let app = exercise(db, &web, &worker).await;

    // Transaction pooling really happened: the web's pool opened more
    // client connections than the three server connections PgBouncer may
    // open for it (in session mode the fourth would have waited, and
    // query_wait_timeout failed the reads), and its named statements ran
    // on servers that had not prepared them (PgBouncer prepared them again).
    let ours = |what: &str| bouncer.show(what, |row| row["database"] == name);
    let (clients, servers) = (ours("SHOW CLIENTS"), ours("SHOW SERVERS"));
    assert!(
        clients.len() > 3 && servers.len() <= 3,
        "{} client and {} server connections\n{}",
        clients.len(),
        servers.len(),
        bouncer.log()
    );
    let stats = ours("SHOW STATS");
    let count = |column: &str| -> u64 { stats[0][column].parse().expect("a count") };
    assert!(
        count("total_server_parse_count") > 0 && count("total_client_parse_count") > 0,
        "PgBouncer carried no prepared statement: {stats:?}"
    );
    assert_eq!(
        reqwest::get(format!("{}/health/ready", app.metrics_address))
            .await
            .expect("ready")
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_request_the_pooler_has_no_server_for_is_a_503_and_the_next_one_works() {
    use sqlx::{Connection, Executor};
    let db = TestDb::new().await;
    // One server connection in transaction mode, a client waiting at most
    // a second for it before PgBouncer refuses it (08P01).
    let bouncer = PgBouncer::start_waiting(&db, "transaction", 1, 1).await;
    let pooled = via_port(&db.url, bouncer.port);
    let config = test_config(&pooled, &[("SETUP_TOKEN", SETUP_TOKEN)]);
    let app = spawn_on(db, config).await;
    let admin = app.setup_admin().await;
    let token = admin.api_token("refused", "30").await;
    let entries = |token: String| {
        let url = format!("{}/api/v1/time-entries", app.address);
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("request")
        }
    };
    // Someone else's transaction holds the only server connection.
    let mut hog = sqlx::PgConnection::connect(&pooled).await.expect("connect");
    hog.execute("BEGIN").await.expect("begin");
    hog.execute("SELECT 1").await.expect("select");
    let refused = entries(token.clone()).await;
    assert_eq!(
        refused.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        bouncer.log()
    );
    let body: serde_json::Value = refused.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("database is not reachable")),
        "{body}"
    );
    hog.execute("COMMIT").await.expect("commit");
    assert_eq!(entries(token).await.status(), StatusCode::OK);
}
