//! Test harness: a fresh database per test, the real app on port 0, HTTP
//! clients with their own cookie jars, and the real worker to run jobs.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use reqwest::{StatusCode, header};
use sqlx::{Connection, PgConnection, PgPool};
use timetracker::{config::Config, db, startup::Application};
use tokio::{net::TcpListener, sync::oneshot};

/// The base `DATABASE_URL` from the environment (set by `make test`).
fn base_url() -> String {
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL server (make test sets it)")
}

/// The `user[:password]` part of the base `DATABASE_URL`, if any.
fn database_credentials() -> Option<String> {
    let url = base_url();
    let tail = url.split_once("://").map(|(_, t)| t).unwrap_or(&url);
    tail.split_once('@').map(|(creds, _)| creds.to_owned())
}

/// The user of the base `DATABASE_URL` (`postgres` when it names none).
pub fn database_user() -> String {
    database_credentials()
        .map(|creds| creds.split(':').next().unwrap_or_default().to_owned())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres".into())
}

/// The password of the base `DATABASE_URL` (empty when it names none, as
/// with `make test`'s private cluster; CI's service container has one).
pub fn database_password() -> String {
    database_credentials()
        .and_then(|creds| creds.split_once(':').map(|(_, p)| p.to_owned()))
        .unwrap_or_default()
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let (head, tail) = url.split_once("://").expect("a URL");
    let (authority, rest) = tail.split_once('/').unwrap_or((tail, ""));
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{head}://{authority}/{name}{query}")
}

/// A freshly created and migrated database, dropped when this value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("tt_test_{}", uuid::Uuid::new_v4().simple());
        let admin_url = with_database(&base_url(), "postgres");
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .expect("connect to the postgres database");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let url = with_database(&base_url(), &name);
        let pool = PgPool::connect(&url)
            .await
            .expect("connect to test database");
        db::migrator()
            .run(&pool)
            .await
            .expect("migrate test database");
        pool.close().await;
        Self { name, url }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = with_database(&base_url(), "postgres");
        let name = self.name.clone();
        // Async drop does not exist; a short-lived runtime on another thread does the work.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

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
                    ("timezone", "Europe/Berlin"),
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

/// A worker process (the real runtime, in this test's process) and its stop switch.
pub struct RunningWorker {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningWorker {
    pub fn start(worker: timetracker_worker::Worker) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(worker.run(async move {
            let _ = stopped.await;
        }));
        Self {
            stop: Some(stop),
            task,
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task
            .await
            .expect("join")
            .expect("worker stopped cleanly");
    }
}

/// Runs `worker` (the real runtime) until no job of `queues` is due or running.
pub async fn run_worker_until_idle(
    worker: timetracker_worker::Worker,
    pool: &PgPool,
    queues: &[&str],
) {
    let (tx, rx) = oneshot::channel::<()>();
    let worker = tokio::spawn(worker.run(async move {
        let _ = rx.await;
    }));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    // Let the worker register and take its first batch before judging idleness.
    tokio::time::sleep(Duration::from_millis(200)).await;
    loop {
        let outstanding = db::jobs::outstanding(pool, queues)
            .await
            .expect("count jobs");
        if outstanding == 0 {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            let jobs: Vec<(String, String, i32, Option<serde_json::Value>)> =
                sqlx::query_as("SELECT job_type, status, attempts, last_result FROM apalis.jobs")
                    .fetch_all(pool)
                    .await
                    .unwrap_or_default();
            panic!("jobs still outstanding after 30 s: {outstanding}: {jobs:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = tx.send(());
    worker.await.expect("worker task").expect("worker ran");
}

fn http_client() -> reqwest::Client {
    // Cargo unifies reqwest's features: the tests' client uses the worker's TLS set-up.
    timetracker::outbound::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// An HTTP client that keeps cookies like a browser and finds CSRF tokens in pages.
#[derive(Clone)]
pub struct TestClient {
    pub base: String,
    http: reqwest::Client,
    jar: Arc<Mutex<HashMap<String, String>>>,
    /// Sent with every request (e.g. `DNT: 1`, `X-Forwarded-For`).
    headers: reqwest::header::HeaderMap,
}

impl TestClient {
    /// A client with an empty cookie jar for the app at `base`.
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: http_client(),
            jar: Arc::new(Mutex::new(HashMap::new())),
            headers: reqwest::header::HeaderMap::new(),
        }
    }

    /// The same client (sharing its cookies) that also sends `name: value`
    /// with every request.
    pub fn with_header(&self, name: &'static str, value: &str) -> Self {
        let mut client = self.clone();
        client.headers.insert(
            name,
            reqwest::header::HeaderValue::from_str(value).expect("header value"),
        );
        client
    }

    fn cookie_header(&self) -> String {
        let jar = self.jar.lock().expect("jar");
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, response: &reqwest::Response) {
        let mut jar = self.jar.lock().expect("jar");
        for value in response.headers().get_all(header::SET_COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            let Some((name, rest)) = value.split_once('=') else {
                continue;
            };
            let cookie_value = rest.split(';').next().unwrap_or_default();
            if cookie_value.is_empty() || value.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), cookie_value.to_owned());
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().expect("jar").get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .lock()
            .expect("jar")
            .insert(name.to_owned(), value.to_owned());
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .headers(self.headers.clone())
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.keep_cookies(&r);
        r
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .headers(self.headers.clone())
            .header(header::COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("POST");
        self.keep_cookies(&r);
        r
    }

    /// The CSRF token a page rendered for this client.
    pub async fn csrf_token(&self, page: &str) -> String {
        let html = self.get(page).await.text().await.expect("body");
        csrf_in(&html).unwrap_or_else(|| panic!("no CSRF token on {page}"))
    }

    /// Posts a form with the CSRF token taken from `/profile` (signed in) or `/login`.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let page = if self.cookie("tt_session").is_some() {
            "/profile"
        } else {
            "/login"
        };
        let token = self.csrf_token(page).await;
        let mut fields = form.to_vec();
        fields.push(("csrf_token", &token));
        self.post_raw(path, &fields).await
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        let token = self.csrf_token("/login").await;
        self.post_raw(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", &token),
            ],
        )
        .await
    }

    /// Creates an API token on the profile page (`expires` in days, or empty
    /// for none) and returns the secret shown once.
    pub async fn api_token(&self, name: &str, expires: &str) -> String {
        let r = self
            .post_form(
                "/profile/tokens",
                &[("name", name), ("expires_in_days", expires)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "post, redirect, get");
        let r = self.get(&location(&r)).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let page = r.text().await.expect("page");
        let marker = r#"<code id="new-token">"#;
        let start = page.find(marker).expect("token shown") + marker.len();
        let end = page[start..].find('<').expect("end") + start;
        page[start..end].to_owned()
    }

    /// Requests a background export of November 2026 in `format`, with
    /// `extra` form fields.
    pub async fn request_export(&self, format: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![
            ("format", format),
            ("from", "2026-11-01"),
            ("to", "2026-11-30"),
        ];
        form.extend_from_slice(extra);
        self.post_form("/exports", &form).await
    }

    pub async fn submit_setup(&self, username: &str, telemetry: &str) -> reqwest::Response {
        let token = self.csrf_token("/setup").await;
        self.post_setup(&token, username, telemetry).await
    }

    /// Posts the setup form with a CSRF token this client already has.
    pub async fn post_setup(
        &self,
        token: &str,
        username: &str,
        telemetry: &str,
    ) -> reqwest::Response {
        self.post_raw(
            "/setup",
            &[
                ("csrf_token", token),
                ("token", SETUP_TOKEN),
                ("username", username),
                ("email", "admin@example.org"),
                ("password", ADMIN_PASSWORD),
                ("password_confirm", ADMIN_PASSWORD),
                ("timezone", "Europe/Berlin"),
                ("telemetry", telemetry),
            ],
        )
        .await
    }
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The first export download link (`/exports/{id}/download`) in a page.
pub fn download_link(page: &str) -> Option<String> {
    page.match_indices("/exports/").find_map(|(at, _)| {
        let link = &page[at..at + page[at..].find('"')?];
        link.ends_with("/download").then(|| link.to_owned())
    })
}

/// The `Location` header of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A TCP proxy to PostgreSQL that a test can take down and bring back, to
/// simulate a database outage without touching the shared server.
pub struct DbProxy {
    pub port: u16,
    down: Arc<AtomicBool>,
    generation: Arc<tokio::sync::watch::Sender<u64>>,
}

impl DbProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let down = Arc::new(AtomicBool::new(false));
        let (tx, _) = tokio::sync::watch::channel(0u64);
        let generation = Arc::new(tx);
        let (down2, generation2) = (down.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if down2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = generation2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self {
            port,
            down,
            generation,
        }
    }

    /// Closes every proxied connection and refuses new ones.
    pub fn take_down(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn bring_up(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// Host and port of the PostgreSQL server behind `DATABASE_URL`.
pub async fn database_socket() -> SocketAddr {
    let url = base_url();
    let tail = url.split_once("://").map(|(_, t)| t).unwrap_or(&url);
    let authority = tail.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    tokio::net::lookup_host(host_port)
        .await
        .expect("resolve database host")
        .next()
        .expect("an address")
}

/// `url` pointing at 127.0.0.1:`port` instead of its own host.
pub fn via_port(url: &str, port: u16) -> String {
    let (scheme, tail) = url.split_once("://").expect("a URL");
    let (authority, rest) = tail.split_once('/').unwrap_or((tail, ""));
    let creds = authority
        .rsplit_once('@')
        .map(|(c, _)| format!("{c}@"))
        .unwrap_or_default();
    format!("{scheme}://{creds}127.0.0.1:{port}/{rest}")
}

/// The repository's root folder.
pub fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_owned()
}

/// Asks `check` every 250 ms until it gives `Some`, and returns that; fails
/// the test, saying what never happened, once `within` has passed.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// How the fake PostHog answers one request: a status and an optional `Retry-After`.
pub type Answer = (u16, Option<u64>);
type Rule = Box<dyn Fn(&serde_json::Value) -> Answer + Send + Sync>;

/// A real HTTP server on 127.0.0.1 that speaks PostHog's `/batch/` API, records
/// every request body, and answers as the test tells it (200 by default).
#[derive(Clone)]
pub struct FakePostHog {
    pub url: String,
    received: Arc<Mutex<Vec<(u16, serde_json::Value)>>>,
    rule: Arc<Mutex<Rule>>,
    flags: Arc<Mutex<serde_json::Value>>,
    delay: Arc<Mutex<Duration>>,
}

impl FakePostHog {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// Listens on `addr` (for containers, which reach the host through their
    /// network's gateway); `url` still names the port on 127.0.0.1.
    pub async fn start_on(addr: &str) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind fake PostHog");
        let port = listener.local_addr().expect("addr").port();
        let url = format!("http://127.0.0.1:{port}");
        let fake = Self {
            url,
            received: Arc::new(Mutex::new(Vec::new())),
            rule: Arc::new(Mutex::new(Box::new(|_| (200, None)))),
            flags: Arc::new(Mutex::new(serde_json::json!({ "flags": {} }))),
            delay: Arc::new(Mutex::new(Duration::ZERO)),
        };
        let flags = fake.flags.clone();
        let state = fake.clone();
        let app = axum::Router::new()
            .route(
                "/flags",
                axum::routing::post(move || {
                    let flags = flags.clone();
                    async move { axum::Json(flags.lock().expect("flags").clone()) }
                }),
            )
            .route(
                "/batch/",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let state = state.clone();
                    async move {
                        let json: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        let (status, retry_after) = (state.rule.lock().expect("rule"))(&json);
                        state
                            .received
                            .lock()
                            .expect("received")
                            .push((status, json));
                        let delay = *state.delay.lock().expect("delay");
                        tokio::time::sleep(delay).await;
                        let mut response = axum::response::IntoResponse::into_response((
                            axum::http::StatusCode::from_u16(status).expect("status"),
                            r#"{"status":1}"#,
                        ));
                        if let Some(seconds) = retry_after {
                            response.headers_mut().insert("retry-after", seconds.into());
                        }
                        response
                    }
                }),
            );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    /// Answers every following request with `rule(body)`.
    pub fn answer(&self, rule: impl Fn(&serde_json::Value) -> Answer + Send + Sync + 'static) {
        *self.rule.lock().expect("rule") = Box::new(rule);
    }

    /// Holds every following answer this long (the body is recorded first).
    pub fn delay(&self, delay: Duration) {
        *self.delay.lock().expect("delay") = delay;
    }

    /// What `/flags?v=2` answers from now on.
    pub fn flags_answer(&self, answer: serde_json::Value) {
        *self.flags.lock().expect("flags") = answer;
    }

    /// Every request body received, with the status it was answered.
    pub fn requests(&self) -> Vec<(u16, serde_json::Value)> {
        self.received.lock().expect("received").clone()
    }

    /// The events PostHog accepted (2xx answers).
    pub fn accepted_events(&self) -> Vec<serde_json::Value> {
        self.requests()
            .into_iter()
            .filter(|(status, _)| (200..300).contains(status))
            .flat_map(|(_, body)| body["batch"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}
