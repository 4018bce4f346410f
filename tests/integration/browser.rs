//! End to end in a real browser: headless Chromium driven through ChromeDriver
//! (Debian's `chromium` and `chromium-driver`, installed by `make test`).

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::support::{ADMIN_PASSWORD, RunningWorker, TestApp, TestClient, spawn_app};

/// A ChromeDriver process on a free local port, killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (make test installs chromium-driver)");
        // Owned by the guard from here on, so every exit path kills and reaps it.
        let driver = Self { child, port };
        for _ in 0..100 {
            if reqwest::get(format!("http://127.0.0.1:{port}/status"))
                .await
                .is_ok()
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(
    driver: &Driver,
    downloads: &std::path::Path,
    profile: &std::path::Path,
) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.display()), "--window-size=1200,900"
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false
            }
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session")
}

/// A headless Chromium session with its own ChromeDriver, profile and
/// download folder. The folders and the driver go away on drop, also when a
/// test fails; [`Session::finish`] ends the session cleanly first.
struct Session {
    client: Client,
    downloads: std::path::PathBuf,
    profile: std::path::PathBuf,
    // Dropped last: it kills ChromeDriver.
    _driver: Driver,
}

impl Session {
    async fn start() -> Self {
        let driver = Driver::start().await;
        let (downloads, profile) = (temp_dir("downloads"), temp_dir("profile"));
        let client = browser(&driver, &downloads, &profile).await;
        Self {
            client,
            downloads,
            profile,
            _driver: driver,
        }
    }

    /// A session signed in as the administrator, at `size` (width, height)
    /// when given.
    async fn signed_in_as_admin(app: &TestApp, size: Option<(u32, u32)>) -> Self {
        let c = Self::start().await;
        if let Some((width, height)) = size {
            c.set_window_size(width, height).await.expect("window size");
        }
        c.goto(&format!("{}/login", app.address))
            .await
            .expect("login");
        sign_in(&c, "admin", ADMIN_PASSWORD).await;
        c
    }

    /// Closes the browser (so Chromium exits with its driver).
    async fn finish(self) {
        self.client.clone().close().await.expect("close browser");
    }
}

impl std::ops::Deref for Session {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.downloads);
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Posts each form as `admin`; each must answer with a redirect.
async fn post_all(admin: &TestClient, forms: &[(&str, Vec<(&str, &str)>)]) {
    for (path, form) in forms {
        assert!(
            admin.post_form(path, form).await.status().is_redirection(),
            "{path}"
        );
    }
}

async fn fill(c: &Client, css: &str, value: &str) {
    let field = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("field {css}"));
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("element {css}"))
        .click()
        .await
        .expect("click");
}

/// Fills in and sends the sign-in form shown on the current page, and waits
/// until signed in.
async fn sign_in(c: &Client, username: &str, password: &str) {
    fill(c, "#username", username).await;
    fill(c, "#password", password).await;
    click(c, "form.card button[type=submit]").await;
    // Only a signed-in page has the main navigation.
    c.wait()
        .for_element(Locator::Css("#main-nav"))
        .await
        .expect("signed in");
}

async fn page_text(c: &Client) -> String {
    c.find(Locator::Css("main"))
        .await
        .expect("main")
        .text()
        .await
        .expect("text")
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tt-e2e-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_tracks_time_creates_a_project_reports_and_downloads_a_csv_in_a_real_browser() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let c = Session::start().await;

    // Sign in.
    c.goto(&format!("{}/login", app.address))
        .await
        .expect("open login");
    sign_in(&c, "admin", ADMIN_PASSWORD).await;
    assert!(
        page_text(&c)
            .await
            .contains("There is no active project yet")
    );

    // Create a project.
    c.goto(&format!("{}/projects", app.address))
        .await
        .expect("projects");
    fill(&c, "#name", "Browser Project").await;
    fill(&c, "#hourly_rate", "90").await;
    click(&c, "form.card button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    assert!(page_text(&c).await.contains("Browser Project"));

    // Start the timer, watch it run, stop it.
    c.goto(&app.address).await.expect("the timer page");
    fill(&c, "#notes", "clicked in a browser").await;
    click(&c, "form[action='/timer/start'] button[type=submit]").await;
    let elapsed = c
        .wait()
        .for_element(Locator::Css(".elapsed"))
        .await
        .expect("running timer");
    let first = elapsed.text().await.expect("elapsed");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let later = c
        .find(Locator::Css(".elapsed"))
        .await
        .expect("elapsed")
        .text()
        .await
        .expect("text");
    assert_ne!(
        first, later,
        "the elapsed time counts up live ({first} then {later})"
    );
    click(&c, "form[action='/timer/stop'] button").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("stopped notice");
    assert!(page_text(&c).await.contains("Stopped after"));

    // See the entry.
    c.goto(&format!("{}/entries", app.address))
        .await
        .expect("entries");
    let entries = page_text(&c).await;
    assert!(
        entries.contains("clicked in a browser") && entries.contains("Browser Project"),
        "{entries}"
    );

    // Run a report and download its CSV.
    c.goto(&format!(
        "{}/reports?group=project&subgroup=day",
        app.address
    ))
    .await
    .expect("reports");
    c.wait()
        .for_element(Locator::Css("table.report"))
        .await
        .expect("report table");
    assert!(page_text(&c).await.contains("Browser Project"));
    click(&c, "a[href^='/reports/export.csv']").await;
    let mut csv = None;
    for _ in 0..100 {
        let done = std::fs::read_dir(&c.downloads)
            .expect("downloads")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "csv"));
        if let Some(path) = done {
            csv = Some(std::fs::read_to_string(path).expect("read csv"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let csv = csv.expect("the CSV was downloaded");
    assert!(
        csv.starts_with("ID,User,Project") && csv.contains("clicked in a browser"),
        "{csv}"
    );

    c.finish().await;
}

/// Every page a person reaches, signed in as an administrator.
const PAGES: &[(&str, &str)] = &[
    ("timer", "/"),
    ("timesheet", "/timesheet?week=2026-11-23"),
    ("entries", "/entries"),
    ("entry-new", "/entries/new"),
    ("entry-edit", "/entries/1/edit"),
    (
        "reports",
        "/reports?from=2026-11-01&to=2026-11-30&group=project",
    ),
    ("exports", "/exports"),
    ("projects", "/projects"),
    ("clients", "/clients"),
    ("tasks", "/tasks"),
    ("profile", "/profile"),
    ("users", "/admin/users"),
    ("user-edit", "/admin/users/1/edit"),
    ("reset-password", "/reset-password?token=not-a-link"),
    ("settings", "/admin/settings"),
    ("telemetry", "/admin/telemetry"),
    ("jobs", "/admin/jobs"),
    ("jobs-list", "/admin/jobs/list"),
    ("docs-privacy", "/docs/privacy"),
    ("docs-events", "/docs/events"),
    ("not-found", "/no/such/page"),
];

/// The pages whose screenshots the docs show (`docs/images/`): the user
/// guide, and the job console and a job's page in docs/monitoring.md.
const SHOWN_IN_THE_GUIDE: &[&str] = &[
    "timer",
    "timesheet",
    "entries",
    "reports",
    "projects",
    "tasks",
    "users",
    "jobs",
    "job",
];

/// axe-core's source (npm, installed by `make test`).
fn axe_source() -> String {
    let path = std::env::var_os("AXE_CORE").map_or_else(
        || {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../.data/tools/node/node_modules/axe-core/axe.min.js")
        },
        std::path::PathBuf::from,
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (make test installs axe-core)", path.display()))
}

/// The serious and critical accessibility violations axe-core finds on the page.
async fn accessibility(c: &Client, axe: &str) -> Vec<String> {
    c.execute(&format!("{axe}\n;return true;"), vec![])
        .await
        .expect("inject axe-core");
    let found = c
        .execute_async(
            "var done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(function (r) {
               done(r.violations
                 .filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
                 .map(function (v) {
                   return v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(function (n) {
                     return n.target.join(' ');
                   }).join(', ');
                 }));
             }, function (e) { done(['axe failed: ' + e]); });",
            vec![],
        )
        .await
        .expect("run axe-core");
    found
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn overflow(c: &Client) -> (i64, i64) {
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .expect("script");
    (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0))
}

/// At 1366 px and at 390 px, no page scrolls sideways; on the phone the
/// navigation is a menu. With `TT_SCREENSHOTS=<dir>` (`make screenshots`)
/// the pages the user guide shows are saved there at both widths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_laptop_and_a_phone() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    for (path, form) in [
        (
            "/clients",
            vec![
                ("name", "Acme Corporation International"),
                ("email", "billing@acme.example"),
            ],
        ),
        (
            "/projects",
            vec![
                ("name", "Website relaunch"),
                ("client_id", "1"),
                ("hourly_rate", "95"),
                ("billable", "on"),
                ("estimated_hours", "10"),
            ],
        ),
        (
            "/tasks",
            vec![
                ("project_id", "1"),
                ("name", "Design the landing page"),
                ("priority", "high"),
            ],
        ),
        (
            "/entries/new",
            vec![
                ("project_id", "1"),
                ("task_id", "1"),
                ("start", "2026-11-30T09:00"),
                ("duration", "2:15"),
                ("notes", "Wireframes and a first review with the client"),
                ("tags", "design, review"),
            ],
        ),
        ("/projects", vec![("name", "Internal"), ("billable", "")]),
        (
            "/timesheet",
            vec![
                ("week", "2026-11-23"),
                ("c.1.1.0", "2:15"),
                ("c.1.1.1", "3:30"),
                ("c.1.1.2", "5h"),
                ("c.1.1.3", "2:45"),
                ("c.2.0.0", "1:00"),
                ("c.2.0.1", "0:45"),
                ("c.2.0.3", "1.5"),
                ("c.2.0.4", "4"),
            ],
        ),
        (
            "/timer/start",
            vec![("project_id", "1"), ("notes", "Copy for the hero section")],
        ),
    ] {
        let r = admin.post_form(path, &form).await;
        assert!(r.status().is_redirection(), "{path}: {}", r.status());
    }
    admin.api_token("laptop script", "90").await;
    app.create_user(&admin, "bob", "user").await;
    let c = Session::start().await;
    let axe = axe_source();
    let mut failures = Vec::new();
    c.goto(&format!("{}/login", app.address))
        .await
        .expect("login");
    for v in accessibility(&c, &axe).await {
        failures.push(format!("signed out /login: {v}"));
    }
    sign_in(&c, "admin", ADMIN_PASSWORD).await;
    let shots = std::env::var_os("TT_SCREENSHOTS").map(std::path::PathBuf::from);
    // A job's page too: the export job of the request made here.
    assert!(
        admin
            .request_export("csv", &[])
            .await
            .status()
            .is_redirection()
    );
    let job: String =
        sqlx::query_scalar("SELECT id FROM apalis.jobs WHERE job_type = 'report_export'")
            .fetch_one(&app.pool)
            .await
            .expect("a job");
    // A worker process runs through the walk (the console lists it, the
    // export is built), with the install-ping queue paused for the console.
    let admin_id = app.user_id("admin").await;
    timetracker::db::queues::pause(&app.pool, "install_ping", admin_id)
        .await
        .expect("pause");
    let worker = RunningWorker::start(timetracker_worker::Worker::standard(&app.config, &app.pool));
    for _ in 0..200 {
        let done: bool = sqlx::query_scalar("SELECT bool_and(status = 'done') FROM exports")
            .fetch_one(&app.pool)
            .await
            .expect("exports");
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pages: Vec<(&str, String)> = PAGES
        .iter()
        .map(|(name, path)| (*name, (*path).to_owned()))
        .chain([("job", format!("/admin/jobs/{job}"))])
        .collect();

    for (width, height, device) in [(1366, 900, "desktop"), (390, 844, "phone")] {
        c.set_window_size(width, height).await.expect("resize");
        for (name, path) in &pages {
            c.goto(&format!("{}{path}", app.address))
                .await
                .expect("open");
            let (scroll, inner) = overflow(&c).await;
            if scroll > inner {
                failures.push(format!("{device} {path}: {scroll} px wide in {inner} px"));
            }
            for v in accessibility(&c, &axe).await {
                failures.push(format!("{device} {path}: {v}"));
            }
            if let Some(dir) = shots.as_ref().filter(|_| SHOWN_IN_THE_GUIDE.contains(name)) {
                let png = c.screenshot().await.expect("screenshot");
                std::fs::write(dir.join(format!("{name}-{device}.png")), png).expect("write");
            }
        }
    }
    worker.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // On the phone the navigation is behind the menu button.
    c.goto(&app.address).await.expect("timer");
    let nav = c.find(Locator::Css("#main-nav")).await.expect("nav");
    assert!(!nav.is_displayed().await.expect("shown?"), "collapsed");
    click(&c, ".menu-toggle").await;
    assert!(
        nav.is_displayed().await.expect("shown?"),
        "opened by the menu button"
    );

    // The running timer counts live: the totals and the tab title too.
    let today = || async {
        c.find(Locator::Css("[data-count-from]"))
            .await
            .expect("today")
            .text()
            .await
            .expect("text")
    };
    let before = today().await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_ne!(
        before,
        today().await,
        "Today counts up while the timer runs"
    );
    let title = c.title().await.expect("title");
    assert!(
        title.contains("Website relaunch") && title.contains(':'),
        "{title}"
    );

    // Keyboard: `?` lists the shortcuts, `s` stops the running timer, `n` opens a new entry.
    let body = c.find(Locator::Css("body")).await.expect("body");
    body.send_keys("?").await.expect("type ?");
    let help = c
        .wait()
        .for_element(Locator::Css("#shortcuts-dialog[open]"))
        .await
        .expect("the help");
    assert!(
        help.text()
            .await
            .expect("text")
            .contains("New entry by hand")
    );
    click(&c, "#shortcuts-dialog button").await;
    c.find(Locator::Css("body"))
        .await
        .expect("body")
        .send_keys("s")
        .await
        .expect("type s");
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("stopped");
    assert!(
        page_text(&c).await.contains("Stopped after"),
        "s stopped the timer"
    );
    c.find(Locator::Css("body"))
        .await
        .expect("body")
        .send_keys("n")
        .await
        .expect("type n");
    c.wait()
        .for_element(Locator::Css("form[action='/entries/new']"))
        .await
        .expect("the new entry form");

    // Deleting asks first in a dialog: Cancel keeps the entry, Confirm deletes it.
    c.set_window_size(1366, 900).await.expect("resize");
    c.goto(&format!("{}/entries", app.address))
        .await
        .expect("entries");
    let rows = || async {
        c.find_all(Locator::Css("table.list tbody tr:not(.day)"))
            .await
            .expect("rows")
            .len()
    };
    let before = rows().await;
    click(&c, "form[action='/entries/1/delete'] button").await;
    let dialog = c
        .wait()
        .for_element(Locator::Css("dialog[open]"))
        .await
        .expect("the dialog");
    assert!(
        dialog
            .text()
            .await
            .expect("text")
            .contains("Delete the entry of")
    );
    click(&c, "dialog[open] button[value=cancel]").await;
    assert_eq!(rows().await, before, "cancel keeps it");
    click(&c, "form[action='/entries/1/delete'] button").await;
    c.wait()
        .for_element(Locator::Css("dialog[open]"))
        .await
        .expect("the dialog");
    click(&c, "#confirm-ok").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    assert!(page_text(&c).await.contains("Entry deleted."));
    assert_eq!(rows().await, before - 1, "confirm deletes it");

    // A plain user's pages pass the same checks.
    click(&c, "form[action='/logout'] button").await;
    // The sign-in form's field: the admin's users page has a #username too.
    c.wait()
        .for_element(Locator::Css("form[action='/login'] #username"))
        .await
        .expect("signed out");
    sign_in(&c, "bob", "bob password").await;
    for (width, height, device) in [(1366, 900, "desktop"), (390, 844, "phone")] {
        c.set_window_size(width, height).await.expect("resize");
        for path in [
            "/",
            "/entries",
            "/reports",
            "/projects",
            "/clients",
            "/tasks",
            "/exports",
            "/profile",
            "/admin/users",
        ] {
            c.goto(&format!("{}{path}", app.address))
                .await
                .expect("open");
            let (scroll, inner) = overflow(&c).await;
            if scroll > inner {
                failures.push(format!(
                    "bob {device} {path}: {scroll} px wide in {inner} px"
                ));
            }
            for v in accessibility(&c, &axe).await {
                failures.push(format!("bob {device} {path}: {v}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    c.finish().await;
}

/// The exports page follows a background export to its download link, without a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exports_page_shows_progress_and_the_download_without_a_reload() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    post_all(
        &admin,
        &[
            ("/projects", vec![("name", "Exported")]),
            (
                "/entries/new",
                vec![
                    ("project_id", "1"),
                    ("start", "2026-11-10T09:00"),
                    ("duration", "1:00"),
                ],
            ),
        ],
    )
    .await;
    assert!(
        admin
            .request_export("csv", &[])
            .await
            .status()
            .is_redirection()
    );
    let c = Session::signed_in_as_admin(&app, None).await;
    c.goto(&format!("{}/exports", app.address))
        .await
        .expect("exports");
    c.find(Locator::Css("tr[data-export] progress"))
        .await
        .expect("a progress bar while pending");
    assert!(
        c.find(Locator::Css("a[href$='/download']")).await.is_err(),
        "no file yet"
    );
    c.execute("window.notReloaded = true; return true;", vec![])
        .await
        .expect("mark");

    app.run_pending_jobs().await;
    let link = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("a[href$='/download']"))
        .await
        .expect("the download link appears by itself");
    assert_eq!(link.text().await.expect("text"), "Download");
    let still = c
        .execute("return window.notReloaded === true;", vec![])
        .await
        .expect("check");
    assert_eq!(
        still,
        serde_json::Value::Bool(true),
        "the page was not reloaded"
    );
    assert!(page_text(&c).await.contains("done"));
    c.finish().await;
}

/// On a phone: through the menu to the entries, a bulk change, and the
/// running timer moved to an earlier start, with the keyboard-free controls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_user_changes_entries_in_bulk_and_fixes_a_late_started_timer() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    post_all(
        &admin,
        &[
            ("/projects", vec![("name", "Phone work")]),
            (
                "/entries/new",
                vec![
                    ("project_id", "1"),
                    ("start", "2026-11-30T09:00"),
                    ("duration", "1:00"),
                ],
            ),
            (
                "/entries/new",
                vec![
                    ("project_id", "1"),
                    ("start", "2026-11-30T11:00"),
                    ("duration", "0:30"),
                ],
            ),
        ],
    )
    .await;
    let c = Session::signed_in_as_admin(&app, Some((390, 844))).await;

    // Through the menu to the entries.
    click(&c, ".menu-toggle").await;
    click(&c, "#main-nav a[href='/entries']").await;
    c.wait()
        .for_element(Locator::Css("form#bulk"))
        .await
        .expect("entries");
    // Both entries, not billable, in one go.
    click(&c, "#select-1").await;
    click(&c, "#select-2").await;
    c.find(Locator::Css("#bulk-action"))
        .await
        .expect("action")
        .select_by_value("not_billable")
        .await
        .expect("choose");
    click(&c, "form#bulk button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    assert!(page_text(&c).await.contains("2 entries changed."));
    let billable: i64 = sqlx::query_scalar("SELECT count(*) FROM time_entries WHERE billable")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(billable, 0);
    let (scroll, inner) = overflow(&c).await;
    assert!(scroll <= inner, "{scroll} > {inner}");

    // Start a timer, then say it started 15 minutes ago.
    c.goto(&app.address).await.expect("timer");
    click(&c, "form[action='/timer/start'] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css(".elapsed"))
        .await
        .expect("running");
    click(&c, "details.edit-timer summary").await;
    fill(&c, "#edit_minutes_ago", "15").await;
    click(&c, "form[action='/timer/edit'] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    let minutes: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM now() - started_at)::float8 / 60 FROM time_entries WHERE ended_at IS NULL",
    )
    .fetch_one(&app.pool)
    .await
    .expect("running");
    assert!((14.5..16.0).contains(&minutes), "{minutes}");
    let shown = c
        .find(Locator::Css(".elapsed"))
        .await
        .expect("elapsed")
        .text()
        .await
        .expect("text");
    assert!(
        shown.starts_with("0:15:") || shown.starts_with("0:14:"),
        "{shown}"
    );
    c.finish().await;
}

/// Presses one key on whatever has the focus (the page itself after a load).
async fn press(c: &Client, key: char) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys).await.expect("keys");
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

/// The everyday flows that only a browser shows: shortcuts and their help,
/// the short-entry discard, confirmation in a dialog and (without the
/// script) on a page of its own, a token shown once, one's own formats, a
/// task edit, and a password reset link used by the person it is for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_confirmations_tokens_formats_tasks_and_a_reset_link_work_in_a_browser() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.create_user(&admin, "bob", "user").await;
    post_all(
        &admin,
        &[
            ("/projects", vec![("name", "Keyboard")]),
            ("/projects", vec![("name", "Doomed")]),
            ("/clients", vec![("name", "Acme")]),
            ("/tasks", vec![("project_id", "1"), ("name", "Draft")]),
        ],
    )
    .await;
    let c = Session::signed_in_as_admin(&app, None).await;

    // `?` lists the shortcuts; Escape closes the list.
    press(&c, '?').await;
    c.wait()
        .for_element(Locator::Css("#shortcuts-dialog[open]"))
        .await
        .expect("the shortcut help");
    press(&c, '\u{E00C}').await;
    assert!(
        c.find(Locator::Css("#shortcuts-dialog[open]"))
            .await
            .is_err(),
        "closed"
    );
    // `s` starts the timer, `s` again stops it; a few seconds' entry is
    // offered for discarding.
    press(&c, 's').await;
    c.wait()
        .for_element(Locator::Css(".elapsed"))
        .await
        .expect("running");
    press(&c, 's').await;
    c.wait()
        .for_element(Locator::Css("form[action$='/delete'] button.danger"))
        .await
        .expect("offered to discard the short entry");
    assert!(page_text(&c).await.contains("Keep it, or discard it?"));
    click(&c, "form[action$='/delete'] button.danger").await;
    wait_for_text(&c, "p.notice", "Entry deleted.").await;
    assert_eq!(count(&app, "SELECT count(*) FROM time_entries").await, 0);
    // `n` opens a new entry by hand, with the date hint of the profile.
    press(&c, 'n').await;
    c.wait()
        .for_element(Locator::Css("form[action='/entries/new'] #start"))
        .await
        .expect("new entry form");

    // Deleting asks in a dialog: Cancel keeps the client, Delete removes it.
    c.goto(&format!("{}/clients", app.address))
        .await
        .expect("clients");
    let delete = "form[action='/clients/1/delete'] button";
    click(&c, delete).await;
    c.wait()
        .for_element(Locator::Css("#confirm-dialog[open]"))
        .await
        .expect("asked first");
    assert_eq!(
        c.find(Locator::Css("#confirm-question"))
            .await
            .expect("question")
            .text()
            .await
            .expect("text"),
        "Delete the client “Acme”?"
    );
    click(&c, "#confirm-dialog button[value=cancel]").await;
    assert_eq!(count(&app, "SELECT count(*) FROM clients").await, 1);
    click(&c, delete).await;
    click(&c, "#confirm-ok").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    assert_eq!(count(&app, "SELECT count(*) FROM clients").await, 0);

    // Without the script's dialog the server asks on a page of its own.
    c.goto(&format!("{}/projects", app.address))
        .await
        .expect("projects");
    c.execute(
        "document.querySelectorAll('[data-confirm]').forEach(f => f.removeAttribute('data-confirm')); return true;",
        vec![],
    )
    .await
    .expect("as without the script");
    click(&c, "form[action='/projects/2/delete'] button").await;
    c.wait()
        .for_element(Locator::Css("main form input[name=confirm]"))
        .await
        .expect("a confirmation page");
    let asked = page_text(&c).await;
    assert!(
        asked.contains("Please confirm") && asked.contains("Doomed"),
        "{asked}"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM projects").await, 2);
    let (scroll, inner) = overflow(&c).await;
    assert!(scroll <= inner, "{scroll} > {inner}");
    let violations = accessibility(&c, &axe_source()).await;
    assert!(violations.is_empty(), "{violations:?}");
    if let Some(dir) = std::env::var_os("TT_SCREENSHOTS") {
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(std::path::Path::new(&dir).join("confirm-desktop.png"), png).expect("save");
    }
    click(&c, "main form button.danger").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    assert_eq!(count(&app, "SELECT count(*) FROM projects").await, 1);

    // A new API token is shown once; reloading neither shows nor makes another.
    c.goto(&format!("{}/profile", app.address))
        .await
        .expect("profile");
    fill(&c, "#token_name", "laptop script").await;
    click(&c, "form[action='/profile/tokens'] button[type=submit]").await;
    let token = c
        .wait()
        .for_element(Locator::Css("#new-token"))
        .await
        .expect("the token, once")
        .text()
        .await
        .expect("text");
    assert!(token.len() > 20, "{token}");
    c.refresh().await.expect("reload");
    c.wait()
        .for_element(Locator::Css("form[action='/profile/tokens']"))
        .await
        .expect("profile again");
    assert!(
        c.find(Locator::Css("#new-token")).await.is_err(),
        "not again"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM api_tokens").await, 1);

    // Day-month-year and a 12-hour clock, then everywhere.
    c.find(Locator::Css("#date_format"))
        .await
        .expect("dates")
        .select_by_value("dmy")
        .await
        .expect("dmy");
    c.find(Locator::Css("#clock"))
        .await
        .expect("clock")
        .select_by_value("12h")
        .await
        .expect("12h");
    click(&c, "form[action='/profile/formats'] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("notice");
    c.goto(&format!("{}/entries/new", app.address))
        .await
        .expect("new entry");
    let hint = c
        .find(Locator::Css("#start"))
        .await
        .expect("start")
        .attr("placeholder")
        .await
        .expect("attr")
        .unwrap_or_default();
    assert_eq!(hint, "30.11.2026 2:30 PM");
    fill(&c, "#start", "02.11.2026 3:15 PM").await;
    fill(&c, "#duration", "1:00").await;
    click(&c, "form[action='/entries/new'] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("saved");
    c.goto(&format!(
        "{}/entries?from=2026-11-01&to=2026-11-30",
        app.address
    ))
    .await
    .expect("entries");
    let listed = page_text(&c).await;
    assert!(
        listed.contains("Monday, 02.11.2026") && listed.contains("3:15 PM"),
        "{listed}"
    );

    // A task is edited in place of the form that created it.
    c.goto(&format!("{}/tasks", app.address))
        .await
        .expect("tasks");
    click(&c, "a[href='/tasks/1/edit#task-form']").await;
    c.wait()
        .for_element(Locator::Css("form[action='/tasks/1/edit']"))
        .await
        .expect("edit form");
    fill(&c, "#task-form #name", "Final draft").await;
    click(&c, "#task-form button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("saved");
    assert!(page_text(&c).await.contains("Final draft"));

    // A reset link for bob, used by bob, who then signs in with it.
    let bob = app.user_id("bob").await;
    c.goto(&format!("{}/admin/users/{bob}/edit", app.address))
        .await
        .expect("edit bob");
    click(
        &c,
        &format!("form[action='/admin/users/{bob}/reset-password'] button"),
    )
    .await;
    let link = c
        .wait()
        .for_element(Locator::Css("#reset-link"))
        .await
        .expect("the link, once")
        .text()
        .await
        .expect("text");
    click(&c, "form[action='/logout'] button").await;
    // The sign-in form's field: the admin's users page has a #username too.
    c.wait()
        .for_element(Locator::Css("form[action='/login'] #username"))
        .await
        .expect("signed out");
    let (_, path) = link.split_once("/reset-password").expect("a reset link");
    c.goto(&format!("{}/reset-password{path}", app.address))
        .await
        .expect("the reset link");
    fill(&c, "#password", "bob's new password").await;
    fill(&c, "#password_confirm", "bob's new password").await;
    click(&c, "form[action='/reset-password'] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("#username"))
        .await
        .expect("asked to sign in");
    sign_in(&c, "bob", "bob's new password").await;
    c.finish().await;
}

async fn value(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css}"))
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css}"))
        .text()
        .await
        .expect("text")
}

/// Waits until `css`'s text is `want` (the page's script updates it, or
/// the next page shows it); a missing or replaced element is waited out.
async fn wait_for_text(c: &Client, css: &str, want: &str) {
    let mut seen = String::new();
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(text) = e.text().await
        {
            if text == want {
                return;
            }
            seen = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} shows {seen:?}, not {want:?}");
}

/// Waits up to `seconds` for the element to contain `want`.
async fn wait_for_text_containing(c: &Client, css: &str, want: &str, seconds: u64) {
    let mut seen = String::new();
    for _ in 0..seconds * 10 {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(text) = e.text().await
        {
            if text.contains(want) {
                return;
            }
            seen = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} shows {seen:?}, without {want:?}");
}

/// A week filled from the keyboard, a bad cell explained in place, last
/// week's rows copied with their times, and on a phone one day at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_is_filled_from_the_keyboard_and_last_week_copied() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    sqlx::query("UPDATE users SET timezone = 'UTC'")
        .execute(&app.pool)
        .await
        .expect("tz");
    post_all(
        &admin,
        &[
            ("/projects", vec![("name", "Client work")]),
            ("/projects", vec![("name", "Internal")]),
            (
                "/timesheet",
                vec![
                    ("week", "2026-11-16"),
                    ("c.2.0.0", "1:00"),
                    ("c.2.0.1", "1:00"),
                    ("c.2.0.2", "1:00"),
                    ("c.2.0.3", "1:00"),
                    ("c.2.0.4", "1:00"),
                ],
            ),
        ],
    )
    .await;
    let c = Session::signed_in_as_admin(&app, Some((1366, 900))).await;
    // `w` opens the timesheet; then the week of 23 November (all past:
    // entries may not end more than a day ahead).
    press(&c, 'w').await;
    c.wait()
        .for_element(Locator::Css("form[action='/timesheet/rows']"))
        .await
        .expect("the timesheet");
    c.goto(&format!("{}/timesheet?week=2026-11-23", app.address))
        .await
        .expect("week");
    assert!(page_text(&c).await.contains("No rows this week yet"));
    c.find(Locator::Css("#row_project"))
        .await
        .expect("project")
        .select_by_value("1")
        .await
        .expect("choose");
    click(&c, "form[action='/timesheet/rows'] button[type=submit]").await;
    let first = c
        .wait()
        .for_element(Locator::Css("input[name='c.1.0.0']"))
        .await
        .expect("the new row's cells");

    // Monday to Friday in one go: Tab between cells, Enter on the last.
    first.click().await.expect("focus");
    first
        .send_keys("8\u{E004}7h 30m\u{E004}90m\u{E004}1,5\u{E004}6:15\u{E007}")
        .await
        .expect("type the week");
    wait_for_text(&c, ".week-total strong", "24:45").await;
    assert_eq!(
        value(&c, "input[name='c.1.0.1']").await,
        "7:30",
        "what was understood"
    );
    assert_eq!(value(&c, "input[name='c.1.0.3']").await, "1:30");
    assert_eq!(text_of(&c, "tfoot .d4").await, "6:15");
    assert_eq!(text_of(&c, "tbody .row-total").await, "24:45");
    let saved: i64 = count(
        &app,
        "SELECT count(*) FROM time_entries WHERE project_id = 1",
    )
    .await;
    assert_eq!(saved, 5);
    // Arrow keys: from Friday back to Thursday.
    let friday = c
        .find(Locator::Css("input[name='c.1.0.4']"))
        .await
        .expect("fri");
    friday.click().await.expect("focus");
    friday
        .send_keys("\u{E011}\u{E012}")
        .await
        .expect("home, left");
    let focused = c
        .execute("return document.activeElement.name;", vec![])
        .await
        .expect("focus");
    assert_eq!(focused, json!("c.1.0.3"));

    // A bad value stays, with its message in the cell; nothing is saved.
    let saturday = c
        .find(Locator::Css("input[name='c.1.0.5']"))
        .await
        .expect("sat");
    saturday.click().await.expect("focus");
    saturday.send_keys("soon\u{E004}").await.expect("type");
    let message = c
        .wait()
        .for_element(Locator::Css("td.d5 .error"))
        .await
        .expect("a message in the cell")
        .text()
        .await
        .expect("text");
    assert!(message.contains("Enter a duration like"), "{message}");
    assert_eq!(value(&c, "input[name='c.1.0.5']").await, "soon");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM time_entries WHERE project_id = 1"
        )
        .await,
        5
    );

    // Last week's rows with their times.
    click(&c, "button[name=copy][value=times]").await;
    wait_for_text(
        &c,
        "p.notice",
        "Copied 1 new row from last week and 5 cells.",
    )
    .await;
    assert_eq!(text_of(&c, ".week-total strong").await, "29:45");
    assert_eq!(value(&c, "input[name='c.2.0.2']").await, "1:00");

    // On a phone: one day at a time, switched by the day tabs, no sideways scroll.
    c.set_window_size(390, 844).await.expect("phone");
    c.refresh().await.expect("reload");
    let visible_days = "return Array.from(document.querySelectorAll('thead th.day')).filter(th => th.offsetParent !== null).map(th => th.dataset.date);";
    c.wait()
        .for_element(Locator::Css("[data-day-tab='2']"))
        .await
        .expect("day tabs");
    let shown = c.execute(visible_days, vec![]).await.expect("days");
    assert_eq!(shown.as_array().map(Vec::len), Some(1), "one day: {shown}");
    click(&c, "[data-day-tab='2']").await;
    let shown = c.execute(visible_days, vec![]).await.expect("days");
    assert_eq!(shown, json!(["2026-11-25"]));
    let (scroll, inner) = overflow(&c).await;
    assert!(scroll <= inner, "{scroll} > {inner}");
    // The phone saves a cell too.
    let wed = c
        .find(Locator::Css("input[name='c.1.0.2']"))
        .await
        .expect("wed");
    wed.clear().await.expect("clear");
    wed.send_keys("2:00\u{E007}").await.expect("type");
    wait_for_text(&c, "tfoot .d2", "3:00").await;

    // The two weeks as pictures: bars per day by project, and the shares.
    c.goto(&format!(
        "{}/reports?from=2026-11-16&to=2026-11-29&group=project",
        app.address
    ))
    .await
    .expect("report");
    let bars = c
        .execute(
            "return Array.from(document.querySelectorAll('#chart-time rect')).map(r => [r.dataset.series, Number(r.dataset.seconds)]);",
            vec![],
        )
        .await
        .expect("bars");
    let bars = bars.as_array().expect("list");
    assert_eq!(
        bars.len(),
        5 + 5 + 5,
        "Internal on ten weekdays, Client work on five: {bars:?}"
    );
    let shares = c
        .execute(
            "return Array.from(document.querySelectorAll('#chart-share rect')).map(r => r.dataset.series);",
            vec![],
        )
        .await
        .expect("shares");
    assert_eq!(shares, json!(["Client work", "Internal"]));
    let (scroll, inner) = overflow(&c).await;
    assert!(scroll <= inner, "{scroll} > {inner}");
    c.finish().await;
}

/// The job console by mouse: the overview, the list filtered to dead jobs,
/// a job's page, then a bulk retry through its counted confirmation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_walks_the_job_console_and_retries_in_bulk() {
    let app = spawn_app().await;
    app.setup_admin().await;
    sqlx::query(
        "INSERT INTO apalis.jobs (job, id, job_type, status, attempts, max_attempts, run_at, done_at, last_result)
         VALUES (convert_to('{\"export_id\": 7}', 'UTF8'), 'dead-a', 'report_export', 'Failed', 3, 3, now(), now(), '{\"Err\": \"disk full\"}'),
                (convert_to('{\"export_id\": 8}', 'UTF8'), 'dead-b', 'report_export', 'Killed', 1, 3, now(), now(), '{\"Err\": \"unreadable\"}'),
                (convert_to('{}', 'UTF8'), 'done-c', 'maintenance', 'Done', 1, 3, now(), now(), NULL)",
    )
    .execute(&app.pool)
    .await
    .expect("jobs");
    let c = Session::signed_in_as_admin(&app, Some((1366, 900))).await;
    click(&c, "#main-nav a[href='/admin/jobs']").await;
    click(&c, "main a[href='/admin/jobs/list']").await;
    c.wait()
        .for_element(Locator::Css("form[action='/admin/jobs/list']"))
        .await
        .expect("the list");
    c.find(Locator::Css("#state"))
        .await
        .expect("state")
        .select_by_value("dead")
        .await
        .expect("dead");
    click(&c, "form[action='/admin/jobs/list'] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("a[href='/admin/jobs/dead-a']"))
        .await
        .expect("a dead job listed");
    assert!(
        c.find(Locator::Css("a[href='/admin/jobs/done-c']"))
            .await
            .is_err(),
        "filtered"
    );
    click(&c, "a[href='/admin/jobs/dead-a']").await;
    c.wait()
        .for_element(Locator::Css("pre.payload"))
        .await
        .expect("the job page");
    let page = page_text(&c).await;
    assert!(
        page.contains("disk full") && page.contains("\"export_id\": 7"),
        "{page}"
    );

    c.goto(&format!("{}/admin/jobs", app.address))
        .await
        .expect("overview");
    c.find(Locator::Css("#bulk-queue"))
        .await
        .expect("queue")
        .select_by_value("report_export")
        .await
        .expect("choose");
    click(&c, "form[action='/admin/jobs/bulk'] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("main form input[name=confirm]"))
        .await
        .expect("the confirmation");
    assert!(
        page_text(&c)
            .await
            .contains("Retry 2 dead jobs of report_export?")
    );
    let (scroll, inner) = overflow(&c).await;
    assert!(scroll <= inner, "{scroll} > {inner}");
    click(&c, "main form.card button[type=submit]").await;
    wait_for_text(&c, "p.notice", "retry: 2 dead jobs of report_export.").await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM apalis.jobs WHERE job_type = 'report_export' AND status = 'Pending'"
        )
        .await,
        2
    );
    assert!(
        page_text(&c).await.contains("dead jobs of report_export"),
        "in the audit trail"
    );

    // Pause the queue from its row; a worker process started afterwards
    // appears in the table without a reload (the page polls its JSON), and
    // the retried jobs stay pending while the queue is paused.
    click(
        &c,
        "tr[data-queue=report_export] form[action$='/pause'] button",
    )
    .await;
    wait_for_text(
        &c,
        "p.notice",
        "report_export is paused: jobs already running finish, no new one starts.",
    )
    .await;
    let worker = RunningWorker::start(timetracker_worker::Worker::standard(&app.config, &app.pool));
    // The first poll is 5 s after load; the process beats at once.
    wait_for_text_containing(&c, "#jobs-workers tbody", "alive", 20).await;
    wait_for_text_containing(&c, "#jobs-live", "Updated", 20).await;
    let pending = c
        .execute(
            "return document.querySelectorAll('tr[data-queue=report_export] [data-live=count]')[0].textContent;",
            vec![],
        )
        .await
        .expect("pending cell");
    assert_eq!(pending, json!("2"), "nothing ran while paused");
    let status = c
        .execute(
            "return document.querySelector('tr[data-queue=report_export] [data-live=status]').textContent;",
            vec![],
        )
        .await
        .expect("status cell");
    assert_eq!(status, json!("paused"));
    click(
        &c,
        "tr[data-queue=report_export] form[action$='/resume'] button",
    )
    .await;
    wait_for_text(&c, "p.notice", "report_export runs again.").await;
    worker.stop().await;
    c.finish().await;
}
