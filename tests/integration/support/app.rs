//! The real web app on port 0 over a fresh database, and what a test asks
//! of it (its users, its setup, its jobs).

use std::collections::HashMap;

use super::*;
use reqwest::StatusCode;
use sqlx::PgPool;
use timetracker::{config::Config, db, startup::Application};
use tokio::sync::oneshot;

/// `TEST_LOG=debug cargo test …` prints the app's and worker's logs.
fn init_test_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    if let Ok(filter) = std::env::var("TEST_LOG") {
        ONCE.call_once(|| {
            let config = test_config("postgres://unused", &[("LOG_LEVEL", &filter)]);
            std::mem::forget(timetracker::observability::init_tracing(&config));
        });
    }
}

/// A configuration for tests: the given database, port 0 everywhere, no log file.
pub fn test_config(database_url: &str, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("HTTP_ADDR", "127.0.0.1:0"),
        ("WEB_METRICS_ADDR", "127.0.0.1:0"),
        ("WORKER_METRICS_ADDR", "127.0.0.1:0"),
        ("LOG_FILE", ""),
        ("WORKER_HEARTBEAT_SECONDS", "1"),
        ("DATABASE_ACQUIRE_TIMEOUT_SECONDS", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    Config::from_lookup(|name| vars.get(name).cloned()).expect("valid test config")
}

/// The running web app on a fresh database.
pub struct TestApp {
    pub address: String,
    pub metrics_address: String,
    pub pool: PgPool,
    pub config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    // Dropped last: the database outlives the server.
    _db: TestDb,
}

pub const SETUP_TOKEN: &str = "test-setup-token-0123456789";
pub const ADMIN_PASSWORD: &str = "admin password 1";
/// The time zone the harness gives everyone it creates (setup and
/// `create_user`): their "today" is Berlin's, not UTC's.
pub const PEOPLE_TIMEZONE: &str = "Europe/Berlin";

/// Today as the people the harness creates read it (see `PEOPLE_TIMEZONE`);
/// between 22:00 and 24:00 UTC it is already UTC's tomorrow.
pub fn people_today() -> chrono::NaiveDate {
    let tz: chrono_tz::Tz = PEOPLE_TIMEZONE.parse().expect("time zone");
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new().await;
    let mut vars = vec![("SETUP_TOKEN", SETUP_TOKEN)];
    vars.extend_from_slice(extra);
    let config = test_config(&db.url, &vars);
    spawn_on(db, config).await
}

/// The app with product analytics configured to send to `fake` and switched
/// on by its administrator, whose client is returned.
pub async fn spawn_app_with_analytics(fake: &FakePostHog) -> (TestApp, TestClient) {
    let app = spawn_app_with(&[
        ("POSTHOG_API_KEY", "phc_test_key"),
        ("POSTHOG_HOST", &fake.url),
    ])
    .await;
    let admin = app.setup_admin_with_analytics().await;
    (app, admin)
}

/// The app sending its mail to `smtp` (STARTTLS, trusting its certificate).
pub async fn spawn_app_with_mail(smtp: &SmtpServer) -> TestApp {
    let settings = smtp.settings();
    let vars: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_app_with(&vars).await
}

/// Starts the app on `db` with `config` (whose database URL may differ, e.g. a proxy).
pub async fn spawn_on(db: TestDb, config: Config) -> TestApp {
    init_test_logs();
    let app = Application::build(config.clone())
        .await
        .expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = format!("http://127.0.0.1:{}", app.metrics_port());
    let pool = app.state().pool.clone();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        address,
        metrics_address,
        pool,
        config,
        shutdown: Some(tx),
        _db: db,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TestApp {
    /// A new browser-like client with its own cookie jar.
    pub fn client(&self) -> TestClient {
        TestClient::new(&self.address)
    }

    /// Completes setup as `admin` and returns the admin's signed-in client.
    pub async fn setup_admin(&self) -> TestClient {
        let admin = self.client();
        let r = admin.submit_setup("admin", "off").await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "setup failed: {}",
            r.text().await.unwrap_or_default()
        );
        admin
    }

    /// [`TestApp::setup_admin`], then the admin switches product analytics
    /// on (the app must be configured with a PostHog key).
    pub async fn setup_admin_with_analytics(&self) -> TestClient {
        let admin = self.setup_admin().await;
        let r = admin
            .post_form("/admin/telemetry/analytics", &[("enabled", "on")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        admin
    }

    /// Creates a user through the admin form and returns that user's signed-in client.
    pub async fn create_user(&self, admin: &TestClient, username: &str, role: &str) -> TestClient {
        let password = format!("{username} password");
        let r = admin
            .post_form(
                "/admin/users",
                &[
                    ("username", username),
                    ("email", &format!("{username}@example.org")),
                    ("password", &password),
                    ("password_confirm", &password),
                    ("role", role),
                    ("timezone", PEOPLE_TIMEZONE),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "creating {username}: {}",
            r.text().await.unwrap_or_default()
        );
        let client = self.client();
        let r = client.login(username, &password).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login as {username}");
        client
    }

    /// Deactivates a user through the admin form, confirmed.
    pub async fn deactivate_user(&self, admin: &TestClient, user_id: i64) {
        let r = admin
            .post_form(
                &format!("/admin/users/{user_id}/deactivate"),
                &[("confirm", "yes")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "deactivating {user_id}");
    }

    pub async fn user_id_opt(&self, username: &str) -> Option<i64> {
        sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .expect("query")
    }

    pub async fn user_id(&self, username: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(&self.pool)
            .await
            .expect("user exists")
    }

    /// The one value `sql` selects (a count, a flag, an id).
    pub async fn scalar<T>(&self, sql: &str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
    {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The count `sql` selects (`SELECT count(*) …`).
    pub async fn count(&self, sql: &str) -> i64 {
        self.scalar(sql).await
    }

    /// Runs one statement (a test's own change to the data).
    pub async fn exec(&self, sql: &str) {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Runs the real worker until no job of its queues is due or running,
    /// and fails the test when a job died in the run: a test that expects
    /// a job to die says so with [`Self::try_run_pending_jobs`].
    pub async fn run_pending_jobs(&self) {
        let died = self.try_run_pending_jobs().await;
        assert!(
            died.is_empty(),
            "jobs died while the worker ran (a test that expects it calls try_run_pending_jobs): {died:#?}"
        );
    }

    /// Runs the real worker until no job of its queues is due or running;
    /// returns the jobs that died in the run.
    pub async fn try_run_pending_jobs(&self) -> Vec<db::jobs::DeadJob> {
        let dead_before: Vec<String> = self.dead_jobs().await.into_iter().map(|j| j.id).collect();
        run_worker_until_idle(
            timetracker_worker::Worker::standard(&self.config, &self.pool),
            &self.pool,
            timetracker_worker::QUEUES,
        )
        .await;
        self.dead_jobs()
            .await
            .into_iter()
            .filter(|j| !dead_before.contains(&j.id))
            .collect()
    }

    async fn dead_jobs(&self) -> Vec<db::jobs::DeadJob> {
        db::jobs::dead(&self.pool, 10_000).await.expect("dead jobs")
    }
}

/// The repository's root folder.
pub fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_owned()
}
