//! End to end in a real browser: headless Chromium driven through ChromeDriver
//! (Debian's `chromium` and `chromium-driver`, installed by `make test`).

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::json;

use crate::support::{
    ADMIN_PASSWORD, OidcProvider, RunningWorker, SmtpAnswer, SmtpServer, TestApp, TestClient,
    a_project, an_entry, assert_is_redirect, eventually, spawn_app, spawn_app_with,
    spawn_app_with_mail,
};

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
        let status = format!("http://127.0.0.1:{port}/status");
        eventually("chromedriver starts", Duration::from_secs(10), || async {
            reqwest::get(&status).await.ok().map(drop)
        })
        .await;
        driver
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

/// A headless Chromium session on the app under test, with its own
/// ChromeDriver, profile and download folder. The folders and the driver go
/// away on drop, also when a test fails; [`Session::finish`] ends the
/// session cleanly first. Its methods are the steps a person takes, and
/// each fails the test naming the element it did not find.
struct Session {
    client: Client,
    base: String,
    downloads: std::path::PathBuf,
    profile: std::path::PathBuf,
    // Dropped last: it kills ChromeDriver.
    _driver: Driver,
}

impl Session {
    async fn start(app: &TestApp) -> Self {
        let driver = Driver::start().await;
        let (downloads, profile) = (temp_dir("downloads"), temp_dir("profile"));
        let client = browser(&driver, &downloads, &profile).await;
        Self {
            client,
            base: app.address.clone(),
            downloads,
            profile,
            _driver: driver,
        }
    }

    /// A session signed in as the administrator, at `size` (width, height)
    /// when given.
    async fn signed_in_as_admin(app: &TestApp, size: Option<(u32, u32)>) -> Self {
        let c = Self::start(app).await;
        if let Some((width, height)) = size {
            c.set_window_size(width, height).await.expect("window size");
        }
        c.open("/login").await;
        c.sign_in("admin", ADMIN_PASSWORD).await;
        c
    }

    /// Opens one of the app's pages.
    async fn open(&self, path: &str) {
        self.goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The element `css` finds on the page as it is now.
    async fn el(&self, css: &str) -> Element {
        self.find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no {css} on the page"))
    }

    async fn has(&self, css: &str) -> bool {
        self.find(Locator::Css(css)).await.is_ok()
    }

    /// The element `css` finds once it is there (ChromeDriver's wait).
    async fn wait_for(&self, css: &str) -> Element {
        self.wait()
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("{css} never appeared"))
    }

    async fn click(&self, css: &str) {
        self.el(css).await.click().await.expect("click");
    }

    /// Replaces what the field holds with `value`, typed.
    async fn fill(&self, css: &str, value: &str) {
        let field = self.el(css).await;
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    async fn select(&self, css: &str, value: &str) {
        self.el(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|_| panic!("{css} has no option {value}"));
    }

    /// Presses one key on whatever has the focus (the page itself after a load).
    async fn press(&self, key: char) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.perform_actions(keys).await.expect("keys");
    }

    /// Fills in and sends the sign-in form shown on the current page, and
    /// waits until signed in.
    async fn sign_in(&self, username: &str, password: &str) {
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.click("form.card button[type=submit]").await;
        // Only a signed-in page has the main navigation.
        self.wait_for("#main-nav").await;
    }

    /// Signs out (through the menu on a phone) and waits for the sign-in
    /// form (its field: the admin's users page has a #username too).
    async fn sign_out(&self) {
        let button = self.el("form[action='/logout'] button").await;
        // On a phone the navigation is behind the menu button.
        if !button.is_displayed().await.unwrap_or(true) {
            self.click(".menu-toggle").await;
        }
        button.click().await.expect("sign out");
        self.wait_for("form[action='/login'] #username").await;
    }

    /// The text of the page's main part.
    async fn main_text(&self) -> String {
        self.text_of("main").await
    }

    async fn text_of(&self, css: &str) -> String {
        self.el(css).await.text().await.expect("text")
    }

    async fn value(&self, css: &str) -> String {
        self.el(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    /// Waits for the notice an action leaves on the next page to say `want`.
    async fn wait_for_notice(&self, want: &str) {
        self.wait_for_text_containing("p.notice", want, 10).await;
    }

    /// Waits until `css`'s text is `want` (the page's script updates it, or
    /// the next page shows it); a missing or replaced element is waited out.
    async fn wait_for_text(&self, css: &str, want: &str) {
        self.wait_for_text_where(css, &format!("is {want:?}"), Duration::from_secs(10), |t| {
            t == want
        })
        .await;
    }

    /// Waits up to `seconds` for the element to contain `want`.
    async fn wait_for_text_containing(&self, css: &str, want: &str, seconds: u64) {
        self.wait_for_text_where(
            css,
            &format!("contains {want:?}"),
            Duration::from_secs(seconds),
            |t| t.contains(want),
        )
        .await;
    }

    async fn wait_for_text_where(
        &self,
        css: &str,
        what: &str,
        within: Duration,
        good: impl Fn(&str) -> bool,
    ) {
        eventually(&format!("{css}'s text {what}"), within, || async {
            let text = self.find(Locator::Css(css)).await.ok()?.text().await.ok()?;
            good(&text).then_some(())
        })
        .await;
    }

    /// Runs a script on the page and returns what it returns.
    async fn run(&self, script: &str) -> serde_json::Value {
        self.execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// The page's width and the window's: a page that fits does not scroll
    /// sideways.
    async fn widths(&self) -> (i64, i64) {
        let v = self
            .run("return [document.documentElement.scrollWidth, window.innerWidth];")
            .await;
        (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0))
    }

    async fn assert_fits(&self) {
        let (scroll, inner) = self.widths().await;
        assert!(scroll <= inner, "{scroll} px wide in {inner} px");
    }

    /// The serious and critical accessibility violations axe-core finds on the page.
    async fn accessibility(&self, axe: &str) -> Vec<String> {
        self.run(&format!("{axe}\n;return true;")).await;
        let found = self
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

    /// What a page shows at each size: it fits, and axe-core finds nothing
    /// serious. Each problem is one line naming `who`, the size and the page.
    async fn check_page(&self, axe: &str, who: &str, path: &str) -> Vec<String> {
        self.open(path).await;
        let mut failures = Vec::new();
        let (scroll, inner) = self.widths().await;
        if scroll > inner {
            failures.push(format!("{who} {path}: {scroll} px wide in {inner} px"));
        }
        for v in self.accessibility(axe).await {
            failures.push(format!("{who} {path}: {v}"));
        }
        failures
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
        assert_is_redirect(&admin.post_form(path, form).await);
    }
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
    let c = Session::start(&app).await;

    // Sign in.
    c.open("/login").await;
    c.sign_in("admin", ADMIN_PASSWORD).await;
    assert!(
        c.main_text()
            .await
            .contains("There is no active project yet")
    );

    // Create a project.
    c.open("/projects").await;
    c.fill("#name", "Browser Project").await;
    c.fill("#hourly_rate", "90").await;
    c.click("form.card button[type=submit]").await;
    c.wait_for("p.notice").await;
    assert!(c.main_text().await.contains("Browser Project"));

    // Start the timer, watch it run, stop it.
    c.open("/").await;
    c.fill("#notes", "clicked in a browser").await;
    c.click("form[action='/timer/start'] button[type=submit]")
        .await;
    let elapsed = c.wait_for(".elapsed").await;
    let first = elapsed.text().await.expect("elapsed");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let later = c.text_of(".elapsed").await;
    assert_ne!(
        first, later,
        "the elapsed time counts up live ({first} then {later})"
    );
    c.click("form[action='/timer/stop'] button").await;
    c.wait_for_notice("Stopped after").await;

    // See the entry.
    c.open("/entries").await;
    let entries = c.main_text().await;
    assert!(
        entries.contains("clicked in a browser") && entries.contains("Browser Project"),
        "{entries}"
    );

    // Run a report and download its CSV.
    c.open("/reports?group=project&subgroup=day").await;
    c.wait_for("table.report").await;
    assert!(c.main_text().await.contains("Browser Project"));
    c.click("a[href^='/reports/export.csv']").await;
    let csv = eventually("the CSV is downloaded", Duration::from_secs(10), || async {
        let files: Vec<_> = std::fs::read_dir(&c.downloads)
            .expect("downloads")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        // Chromium makes an empty file of the final name at once and writes
        // into a `.crdownload` beside it, renamed over it when complete: a
        // read before then finds the empty placeholder (seen under load).
        if files
            .iter()
            .any(|p| p.extension().is_some_and(|x| x == "crdownload"))
        {
            return None;
        }
        let done = files
            .iter()
            .find(|p| p.extension().is_some_and(|x| x == "csv"))?;
        std::fs::read_to_string(done).ok().filter(|s| !s.is_empty())
    })
    .await;
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
    ("two-factor", "/profile/two-factor"),
    ("invitations", "/invitations"),
    ("invoices", "/invoices"),
    ("invoice-new", "/invoices/new"),
    ("invoice-draft", "/invoices/1"),
    ("invoice-issued", "/invoices/2"),
    ("invoice-seller", "/invoices/seller"),
    ("timesheet-of-bob", "/timesheet?week=2026-11-23&user=2"),
    ("users", "/admin/users"),
    ("user-edit", "/admin/users/1/edit"),
    ("reset-password", "/reset-password?token=not-a-link"),
    ("forgot-password", "/forgot-password"),
    ("settings", "/admin/settings"),
    ("telemetry", "/admin/telemetry"),
    ("sso", "/admin/sso"),
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
        (
            "/invoices/seller",
            vec![
                ("seller_name", "Example Studio"),
                ("seller_address", "1 Main Street\nSpringfield"),
                ("invoice_number_pattern", "{YYYY}-{seq:4}"),
                ("invoice_paper", "a4"),
            ],
        ),
        (
            "/invoices",
            vec![
                ("client_id", "1"),
                ("from", "2026-11-01"),
                ("to", "2026-11-30"),
                ("grouping", "task"),
                ("tax_percent", "19"),
                ("discount_percent", "5"),
            ],
        ),
    ] {
        let r = admin.post_form(path, &form).await;
        assert!(r.status().is_redirection(), "{path}: {}", r.status());
    }
    // The seller's logo; November's invoice a draft, October's issued.
    let logo: &[u8] = include_bytes!("../fixtures/logo.png");
    assert_is_redirect(
        &admin
            .upload("/invoices/seller/logo", "logo", "logo.png", logo)
            .await,
    );
    an_entry(app.user_id("admin").await, 1)
        .from("2026-10-05T09:00:00Z")
        .lasting(90)
        .create(&app)
        .await;
    assert_is_redirect(
        &admin
            .post_form(
                "/invoices",
                &[
                    ("client_id", "1"),
                    ("from", "2026-10-01"),
                    ("to", "2026-10-31"),
                    ("grouping", "project"),
                    ("tax_percent", "19"),
                ],
            )
            .await,
    );
    assert_is_redirect(
        &admin
            .post_form("/invoices/2/issue", &[("confirm", "yes")])
            .await,
    );
    admin.api_token("laptop script", "90").await;
    app.create_user(&admin, "bob", "user").await;
    let c = Session::start(&app).await;
    let axe = axe_source();
    let mut failures = Vec::new();
    c.open("/login").await;
    for v in c.accessibility(&axe).await {
        failures.push(format!("signed out /login: {v}"));
    }
    c.sign_in("admin", ADMIN_PASSWORD).await;
    let shots = std::env::var_os("TT_SCREENSHOTS").map(std::path::PathBuf::from);
    // A job's page too: the export job of the request made here.
    assert_is_redirect(&admin.request_export("csv", &[]).await);
    let job: String = app
        .scalar("SELECT id FROM apalis.jobs WHERE job_type = 'report_export'")
        .await;
    // A worker process runs through the walk (the console lists it, the
    // export is built), with the install-ping queue paused for the console.
    let admin_id = app.user_id("admin").await;
    timetracker::db::queues::pause(&app.pool, "install_ping", admin_id)
        .await
        .expect("pause");
    let worker = RunningWorker::start(timetracker_worker::Worker::standard(&app.config, &app.pool));
    eventually("the export is built", Duration::from_secs(20), || async {
        app.scalar::<bool>("SELECT bool_and(status = 'done') FROM exports")
            .await
            .then_some(())
    })
    .await;
    let pages: Vec<(&str, String)> = PAGES
        .iter()
        .map(|(name, path)| (*name, (*path).to_owned()))
        .chain([("job", format!("/admin/jobs/{job}"))])
        .collect();

    for (width, height, device) in [(1366, 900, "desktop"), (390, 844, "phone")] {
        c.set_window_size(width, height).await.expect("resize");
        for (name, path) in &pages {
            failures.extend(c.check_page(&axe, device, path).await);
            if let Some(dir) = shots.as_ref().filter(|_| SHOWN_IN_THE_GUIDE.contains(name)) {
                let png = c.screenshot().await.expect("screenshot");
                std::fs::write(dir.join(format!("{name}-{device}.png")), png).expect("write");
            }
        }
    }
    worker.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // On the phone the navigation is behind the menu button.
    c.open("/").await;
    let nav = c.el("#main-nav").await;
    assert!(!nav.is_displayed().await.expect("shown?"), "collapsed");
    c.click(".menu-toggle").await;
    assert!(
        nav.is_displayed().await.expect("shown?"),
        "opened by the menu button"
    );

    // The running timer counts live: the totals and the tab title too.
    let today = || async { c.text_of("[data-count-from]").await };
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

    // Keyboard (typed on the page, not the menu button that has the focus):
    // `?` lists the shortcuts, `s` stops the running timer, `n` opens a new entry.
    c.el("body").await.send_keys("?").await.expect("type");
    let help = c.wait_for("#shortcuts-dialog[open]").await;
    assert!(
        help.text()
            .await
            .expect("text")
            .contains("New entry by hand")
    );
    c.click("#shortcuts-dialog button").await;
    c.el("body").await.send_keys("s").await.expect("type");
    c.wait_for("p.notice").await;
    assert!(
        c.main_text().await.contains("Stopped after"),
        "s stopped the timer"
    );
    c.el("body").await.send_keys("n").await.expect("type");
    c.wait_for("form[action='/entries/new']").await;

    // Deleting asks first in a dialog: Cancel keeps the entry, Confirm deletes it.
    c.set_window_size(1366, 900).await.expect("resize");
    c.open("/entries").await;
    let rows = || async {
        c.find_all(Locator::Css("table.list tbody tr:not(.day)"))
            .await
            .expect("rows")
            .len()
    };
    let before = rows().await;
    c.click("form[action='/entries/1/delete'] button").await;
    let dialog = c.wait_for("dialog[open]").await;
    assert!(
        dialog
            .text()
            .await
            .expect("text")
            .contains("Delete the entry of")
    );
    c.click("dialog[open] button[value=cancel]").await;
    assert_eq!(rows().await, before, "cancel keeps it");
    c.click("form[action='/entries/1/delete'] button").await;
    c.wait_for("dialog[open]").await;
    c.click("#confirm-ok").await;
    c.wait_for_notice("Entry deleted.").await;
    assert_eq!(rows().await, before - 1, "confirm deletes it");

    // A plain user's pages pass the same checks.
    c.sign_out().await;
    c.sign_in("bob", "bob password").await;
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
            "/profile/two-factor",
            "/admin/users",
        ] {
            failures.extend(c.check_page(&axe, &format!("bob {device}"), path).await);
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
    let project = a_project().named("Exported").create(&app).await;
    an_entry(app.user_id("admin").await, project)
        .create(&app)
        .await;
    assert_is_redirect(&admin.request_export("csv", &[]).await);
    let c = Session::signed_in_as_admin(&app, None).await;
    c.open("/exports").await;
    c.el("tr[data-export] progress").await;
    assert!(!c.has("a[href$='/download']").await, "no file yet");
    c.run("window.notReloaded = true; return true;").await;

    app.run_pending_jobs().await;
    let link = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("a[href$='/download']"))
        .await
        .expect("the download link appears by itself");
    assert_eq!(link.text().await.expect("text"), "Download");
    assert_eq!(
        c.run("return window.notReloaded === true;").await,
        json!(true),
        "the page was not reloaded"
    );
    assert!(c.main_text().await.contains("done"));
    c.finish().await;
}

/// On a phone: through the menu to the entries, a bulk change, and the
/// running timer moved to an earlier start, with the keyboard-free controls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_user_changes_entries_in_bulk_and_fixes_a_late_started_timer() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (project, admin) = (
        a_project().named("Phone work").create(&app).await,
        app.user_id("admin").await,
    );
    for start in ["2026-11-30T08:00:00Z", "2026-11-30T10:00:00Z"] {
        an_entry(admin, project).from(start).create(&app).await;
    }
    let c = Session::signed_in_as_admin(&app, Some((390, 844))).await;

    // Through the menu to the entries.
    c.click(".menu-toggle").await;
    c.click("#main-nav a[href='/entries']").await;
    c.wait_for("form#bulk").await;
    // Both entries, not billable, in one go.
    c.click("#select-1").await;
    c.click("#select-2").await;
    c.select("#bulk-action", "not_billable").await;
    c.click("form#bulk button[type=submit]").await;
    c.wait_for_notice("2 entries changed.").await;
    assert_eq!(
        app.count("SELECT count(*) FROM time_entries WHERE billable")
            .await,
        0
    );
    c.assert_fits().await;

    // Start a timer, then say it started 15 minutes ago.
    c.open("/").await;
    c.click("form[action='/timer/start'] button[type=submit]")
        .await;
    c.wait_for(".elapsed").await;
    c.click("details.edit-timer summary").await;
    c.fill("#edit_minutes_ago", "15").await;
    c.click("form[action='/timer/edit'] button[type=submit]")
        .await;
    c.wait_for("p.notice").await;
    let minutes: f64 = app
        .scalar("SELECT extract(epoch FROM now() - started_at)::float8 / 60 FROM time_entries WHERE ended_at IS NULL")
        .await;
    assert!((14.5..16.0).contains(&minutes), "{minutes}");
    let shown = c.text_of(".elapsed").await;
    assert!(
        shown.starts_with("0:15:") || shown.starts_with("0:14:"),
        "{shown}"
    );
    c.finish().await;
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
    c.press('?').await;
    c.wait_for("#shortcuts-dialog[open]").await;
    c.press('\u{E00C}').await;
    assert!(!c.has("#shortcuts-dialog[open]").await, "closed");
    // `s` starts the timer, `s` again stops it; a few seconds' entry is
    // offered for discarding.
    c.press('s').await;
    c.wait_for(".elapsed").await;
    c.press('s').await;
    c.wait_for("form[action$='/delete'] button.danger").await;
    assert!(c.main_text().await.contains("Keep it, or discard it?"));
    c.click("form[action$='/delete'] button.danger").await;
    c.wait_for_text("p.notice", "Entry deleted.").await;
    assert_eq!(app.count("SELECT count(*) FROM time_entries").await, 0);
    // `n` opens a new entry by hand, with the date hint of the profile.
    c.press('n').await;
    c.wait_for("form[action='/entries/new'] #start").await;

    // Deleting asks in a dialog: Cancel keeps the client, Delete removes it.
    c.open("/clients").await;
    let delete = "form[action='/clients/1/delete'] button";
    c.click(delete).await;
    c.wait_for("#confirm-dialog[open]").await;
    assert_eq!(
        c.text_of("#confirm-question").await,
        "Delete the client “Acme”?"
    );
    c.click("#confirm-dialog button[value=cancel]").await;
    assert_eq!(app.count("SELECT count(*) FROM clients").await, 1);
    c.click(delete).await;
    c.click("#confirm-ok").await;
    c.wait_for("p.notice").await;
    assert_eq!(app.count("SELECT count(*) FROM clients").await, 0);

    // Without the script's dialog the server asks on a page of its own.
    c.open("/projects").await;
    c.run("document.querySelectorAll('[data-confirm]').forEach(f => f.removeAttribute('data-confirm')); return true;")
        .await;
    c.click("form[action='/projects/2/delete'] button").await;
    c.wait_for("main form input[name=confirm]").await;
    let asked = c.main_text().await;
    assert!(
        asked.contains("Please confirm") && asked.contains("Doomed"),
        "{asked}"
    );
    assert_eq!(app.count("SELECT count(*) FROM projects").await, 2);
    c.assert_fits().await;
    let violations = c.accessibility(&axe_source()).await;
    assert!(violations.is_empty(), "{violations:?}");
    if let Some(dir) = std::env::var_os("TT_SCREENSHOTS") {
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(std::path::Path::new(&dir).join("confirm-desktop.png"), png).expect("save");
    }
    c.click("main form button.danger").await;
    c.wait_for("p.notice").await;
    assert_eq!(app.count("SELECT count(*) FROM projects").await, 1);

    // A new API token is shown once; reloading neither shows nor makes another.
    c.open("/profile").await;
    c.fill("#token_name", "laptop script").await;
    c.click("form[action='/profile/tokens'] button[type=submit]")
        .await;
    let token = c.wait_for("#new-token").await.text().await.expect("text");
    assert!(token.len() > 20, "{token}");
    c.refresh().await.expect("reload");
    c.wait_for("form[action='/profile/tokens']").await;
    assert!(!c.has("#new-token").await, "not again");
    assert_eq!(app.count("SELECT count(*) FROM api_tokens").await, 1);

    // Day-month-year and a 12-hour clock, then everywhere.
    c.select("#date_format", "dmy").await;
    c.select("#clock", "12h").await;
    c.click("form[action='/profile/formats'] button[type=submit]")
        .await;
    c.wait_for("p.notice").await;
    c.open("/entries/new").await;
    let hint = c
        .el("#start")
        .await
        .attr("placeholder")
        .await
        .expect("attr")
        .unwrap_or_default();
    assert_eq!(hint, "30.11.2026 2:30 PM");
    c.fill("#start", "02.11.2026 3:15 PM").await;
    c.fill("#duration", "1:00").await;
    c.click("form[action='/entries/new'] button[type=submit]")
        .await;
    c.wait_for("p.notice").await;
    c.open("/entries?from=2026-11-01&to=2026-11-30").await;
    let listed = c.main_text().await;
    assert!(
        listed.contains("Monday, 02.11.2026") && listed.contains("3:15 PM"),
        "{listed}"
    );

    // A task is edited in place of the form that created it.
    c.open("/tasks").await;
    c.click("a[href='/tasks/1/edit#task-form']").await;
    c.wait_for("form[action='/tasks/1/edit']").await;
    c.fill("#task-form #name", "Final draft").await;
    c.click("#task-form button[type=submit]").await;
    c.wait_for("p.notice").await;
    assert!(c.main_text().await.contains("Final draft"));

    // A reset link for bob, used by bob, who then signs in with it.
    let bob = app.user_id("bob").await;
    c.open(&format!("/admin/users/{bob}/edit")).await;
    c.click(&format!(
        "form[action='/admin/users/{bob}/reset-password'] button"
    ))
    .await;
    let link = c.wait_for("#reset-link").await.text().await.expect("text");
    c.sign_out().await;
    let (_, path) = link.split_once("/reset-password").expect("a reset link");
    c.open(&format!("/reset-password{path}")).await;
    c.fill("#password", "bob's new password").await;
    c.fill("#password_confirm", "bob's new password").await;
    c.click("form[action='/reset-password'] button[type=submit]")
        .await;
    c.wait_for("#username").await;
    c.sign_in("bob", "bob's new password").await;
    c.finish().await;
}

/// A week filled from the keyboard, a bad cell explained in place, last
/// week's rows copied with their times, and on a phone one day at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_is_filled_from_the_keyboard_and_last_week_copied() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.exec("UPDATE users SET timezone = 'UTC'").await;
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
    c.press('w').await;
    c.wait_for("form[action='/timesheet/rows']").await;
    c.open("/timesheet?week=2026-11-23").await;
    assert!(c.main_text().await.contains("No rows this week yet"));
    c.select("#row_project", "1").await;
    c.click("form[action='/timesheet/rows'] button[type=submit]")
        .await;
    let first = c.wait_for("input[name='c.1.0.0']").await;

    // Monday to Friday in one go: Tab between cells, Enter on the last.
    first.click().await.expect("focus");
    first
        .send_keys("8\u{E004}7h 30m\u{E004}90m\u{E004}1,5\u{E004}6:15\u{E007}")
        .await
        .expect("type the week");
    c.wait_for_text(".week-total strong", "24:45").await;
    assert_eq!(
        c.value("input[name='c.1.0.1']").await,
        "7:30",
        "what was understood"
    );
    assert_eq!(c.value("input[name='c.1.0.3']").await, "1:30");
    assert_eq!(c.text_of("tfoot .d4").await, "6:15");
    assert_eq!(c.text_of("tbody .row-total").await, "24:45");
    let saved = "SELECT count(*) FROM time_entries WHERE project_id = 1";
    assert_eq!(app.count(saved).await, 5);
    // Arrow keys: from Friday back to Thursday.
    let friday = c.el("input[name='c.1.0.4']").await;
    friday.click().await.expect("focus");
    friday
        .send_keys("\u{E011}\u{E012}")
        .await
        .expect("home, left");
    assert_eq!(
        c.run("return document.activeElement.name;").await,
        json!("c.1.0.3")
    );

    // A bad value stays, with its message in the cell; nothing is saved.
    let saturday = c.el("input[name='c.1.0.5']").await;
    saturday.click().await.expect("focus");
    saturday.send_keys("soon\u{E004}").await.expect("type");
    let message = c.wait_for("td.d5 .error").await.text().await.expect("text");
    assert!(message.contains("Enter a duration like"), "{message}");
    assert_eq!(c.value("input[name='c.1.0.5']").await, "soon");
    assert_eq!(app.count(saved).await, 5);

    // Last week's rows with their times.
    c.click("button[name=copy][value=times]").await;
    c.wait_for_text("p.notice", "Copied 1 new row from last week and 5 cells.")
        .await;
    assert_eq!(c.text_of(".week-total strong").await, "29:45");
    assert_eq!(c.value("input[name='c.2.0.2']").await, "1:00");

    // On a phone: one day at a time, switched by the day tabs, no sideways scroll.
    c.set_window_size(390, 844).await.expect("phone");
    c.refresh().await.expect("reload");
    let visible_days = "return Array.from(document.querySelectorAll('thead th.day')).filter(th => th.offsetParent !== null).map(th => th.dataset.date);";
    c.wait_for("[data-day-tab='2']").await;
    let shown = c.run(visible_days).await;
    assert_eq!(shown.as_array().map(Vec::len), Some(1), "one day: {shown}");
    c.click("[data-day-tab='2']").await;
    let shown = c.run(visible_days).await;
    assert_eq!(shown, json!(["2026-11-25"]));
    c.assert_fits().await;
    // The phone saves a cell too.
    let wed = c.el("input[name='c.1.0.2']").await;
    wed.clear().await.expect("clear");
    wed.send_keys("2:00\u{E007}").await.expect("type");
    c.wait_for_text("tfoot .d2", "3:00").await;

    // The two weeks as pictures: bars per day by project, and the shares.
    c.open("/reports?from=2026-11-16&to=2026-11-29&group=project")
        .await;
    let bars = c.run("return Array.from(document.querySelectorAll('#chart-time rect')).map(r => [r.dataset.series, Number(r.dataset.seconds)]);").await;
    let bars = bars.as_array().expect("list");
    assert_eq!(
        bars.len(),
        5 + 5 + 5,
        "Internal on ten weekdays, Client work on five: {bars:?}"
    );
    let shares = c.run("return Array.from(document.querySelectorAll('#chart-share rect')).map(r => r.dataset.series);").await;
    assert_eq!(shares, json!(["Client work", "Internal"]));
    c.assert_fits().await;
    c.finish().await;
}

/// The job console by mouse: the overview, the list filtered to dead jobs,
/// a job's page, then a bulk retry through its counted confirmation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_walks_the_job_console_and_retries_in_bulk() {
    let app = spawn_app().await;
    app.setup_admin().await;
    app.exec(
        "INSERT INTO apalis.jobs (job, id, job_type, status, attempts, max_attempts, run_at, done_at, last_result)
         VALUES (convert_to('{\"export_id\": 7}', 'UTF8'), 'dead-a', 'report_export', 'Failed', 3, 3, now(), now(), '{\"Err\": \"disk full\"}'),
                (convert_to('{\"export_id\": 8}', 'UTF8'), 'dead-b', 'report_export', 'Killed', 1, 3, now(), now(), '{\"Err\": \"unreadable\"}'),
                (convert_to('{}', 'UTF8'), 'done-c', 'maintenance', 'Done', 1, 3, now(), now(), NULL)",
    )
    .await;
    let c = Session::signed_in_as_admin(&app, Some((1366, 900))).await;
    c.click("#main-nav a[href='/admin/jobs']").await;
    c.click("main a[href='/admin/jobs/list']").await;
    c.wait_for("form[action='/admin/jobs/list']").await;
    c.select("#state", "dead").await;
    c.click("form[action='/admin/jobs/list'] button[type=submit]")
        .await;
    c.wait_for("a[href='/admin/jobs/dead-a']").await;
    assert!(!c.has("a[href='/admin/jobs/done-c']").await, "filtered");
    c.click("a[href='/admin/jobs/dead-a']").await;
    c.wait_for("pre.payload").await;
    let page = c.main_text().await;
    assert!(
        page.contains("disk full") && page.contains("\"export_id\": 7"),
        "{page}"
    );

    c.open("/admin/jobs").await;
    c.select("#bulk-queue", "report_export").await;
    c.click("form[action='/admin/jobs/bulk'] button[type=submit]")
        .await;
    c.wait_for("main form input[name=confirm]").await;
    assert!(
        c.main_text()
            .await
            .contains("Retry 2 dead jobs of report_export?")
    );
    c.assert_fits().await;
    c.click("main form.card button[type=submit]").await;
    c.wait_for_text("p.notice", "retry: 2 dead jobs of report_export.")
        .await;
    assert_eq!(
        app.count("SELECT count(*) FROM apalis.jobs WHERE job_type = 'report_export' AND status = 'Pending'"
        )
        .await,
        2
    );
    assert!(
        c.main_text().await.contains("dead jobs of report_export"),
        "in the audit trail"
    );

    // Pause the queue from its row; a worker process started afterwards
    // appears in the table without a reload (the page polls its JSON), and
    // the retried jobs stay pending while the queue is paused.
    c.click("tr[data-queue=report_export] form[action$='/pause'] button")
        .await;
    c.wait_for_text(
        "p.notice",
        "report_export is paused: jobs already running finish, no new one starts.",
    )
    .await;
    let worker = RunningWorker::start(timetracker_worker::Worker::standard(&app.config, &app.pool));
    // The first poll is 5 s after load; the process beats at once.
    c.wait_for_text_containing("#jobs-workers tbody", "alive", 20)
        .await;
    c.wait_for_text_containing("#jobs-live", "Updated", 20)
        .await;
    let pending = c.run("return document.querySelectorAll('tr[data-queue=report_export] [data-live=count]')[0].textContent;").await;
    assert_eq!(pending, json!("2"), "nothing ran while paused");
    let status = c.run("return document.querySelector('tr[data-queue=report_export] [data-live=status]').textContent;").await;
    assert_eq!(status, json!("paused"));
    c.click("tr[data-queue=report_export] form[action$='/resume'] button")
        .await;
    c.wait_for_text("p.notice", "report_export runs again.")
        .await;
    worker.stop().await;
    c.finish().await;
}

/// On a laptop and on a phone, signed out: "Forgot your password?", the
/// address, the link the mail brings (sent by the worker through a real SMTP
/// server), a new password, and signed in with it; then an invitation
/// accepted from its mail. Each page fits and passes axe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_and_an_invitation_are_handled_from_the_mail_on_a_laptop_and_a_phone()
{
    for size in [(1366, 900, "desktop"), (390, 844, "phone")] {
        mail_walk(size).await;
    }
}

async fn mail_walk((width, height, device): (u32, u32, &str)) {
    let smtp = SmtpServer::start(SmtpAnswer::Accept);
    let app = spawn_app_with_mail(&smtp).await;
    let admin = app.setup_admin().await;
    app.create_user(&admin, "bob", "user").await;
    let axe = axe_source();
    let c = Session::start(&app).await;
    c.set_window_size(width, height).await.expect("size");
    c.open("/login").await;
    c.click("a[href='/forgot-password']").await;
    c.wait_for("form[action='/forgot-password']").await;
    let mut failures = c.check_page(&axe, device, "/forgot-password").await;
    c.fill("#email", "bob@example.org").await;
    c.click("form[action='/forgot-password'] button[type=submit]")
        .await;
    c.wait_for_notice("If an account uses that address").await;

    app.run_pending_jobs().await;
    let link = smtp.received()[0]
        .link_to("/reset-password?token=")
        .expect("the link in the mail");
    let path = link
        .strip_prefix(&app.config.web.public_url)
        .expect("on the public URL")
        .to_owned();
    failures.extend(c.check_page(&axe, device, &path).await);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    c.fill("#password", "bob's own new password").await;
    c.fill("#password_confirm", "bob's own new password").await;
    c.click("form[action='/reset-password'] button[type=submit]")
        .await;
    c.wait_for_notice("Your new password is set").await;
    c.sign_in("bob", "bob's own new password").await;
    c.sign_out().await;

    admin
        .submit(
            "/invitations",
            &[("invite_email", "ada@example.org"), ("invite_role", "user")],
        )
        .await;
    app.run_pending_jobs().await;
    let link = smtp.received()[1]
        .link_to("/invitation?token=")
        .expect("the invitation's link");
    let path = link
        .strip_prefix(&app.config.web.public_url)
        .expect("on the public URL")
        .to_owned();
    let failures = c.check_page(&axe, device, &path).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    c.fill("#username", "ada").await;
    c.fill("#display_name", "Ada Lovelace").await;
    c.fill("#password", "ada's long password").await;
    c.fill("#password_confirm", "ada's long password").await;
    c.select("#timezone", "Europe/London").await;
    c.click("form[action='/invitation'] button[type=submit]")
        .await;
    c.wait_for_notice("Welcome, ada").await;
    c.assert_fits().await;
    c.finish().await;
}

/// Two-factor sign-in in a real browser, at 1366 and at 390 px: the
/// enrolment page (its QR code drawn by the server), the recovery codes,
/// and the code step of the next sign-in each fit and pass axe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factor_sign_in_is_set_up_and_used_in_a_real_browser_on_a_laptop_and_a_phone() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let axe = axe_source();
    let mut failures = Vec::new();
    for (width, height, device) in [(1366, 900, "desktop"), (390, 844, "phone")] {
        let c = Session::signed_in_as_admin(&app, Some((width, height))).await;
        c.open("/profile/two-factor").await;
        c.click("form[action='/profile/two-factor'] button").await;
        c.wait_for(".qr svg").await;
        failures.extend(c.check_page(&axe, device, "/profile/two-factor").await);
        let mut phone = crate::two_factor::Authenticator::from_key(&c.text_of(".secret-key").await);
        c.fill("#code", &phone.next_code()).await;
        c.click("form[action='/profile/two-factor/confirm'] button")
            .await;
        c.wait_for(".recovery-codes").await;
        c.assert_fits().await;
        for v in c.accessibility(&axe).await {
            failures.push(format!("{device} recovery codes: {v}"));
        }

        c.sign_out().await;
        c.fill("#username", "admin").await;
        c.fill("#password", ADMIN_PASSWORD).await;
        c.click("form.card button[type=submit]").await;
        c.wait_for("form[action='/login/code']").await;
        c.assert_fits().await;
        for v in c.accessibility(&axe).await {
            failures.push(format!("{device} /login/code: {v}"));
        }
        c.fill("#code", &phone.next_code()).await;
        c.click("form[action='/login/code'] button").await;
        c.wait_for("#main-nav").await;
        c.open("/profile/two-factor").await;
        c.fill("#current_password", ADMIN_PASSWORD).await;
        c.click("form[action='/profile/two-factor/disable'] button")
            .await;
        c.wait_for_notice("Two-factor sign-in is off.").await;
        c.finish().await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Single sign-on in a real browser, at 1366 and at 390 px: the sign-in
/// page's button (it fits and passes axe) goes to a real OpenID provider
/// (node's oidc-provider), which sends the browser back signed in, on the
/// timer; the administrators' Sign-on page then lists the configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_signs_in_from_the_button_in_a_real_browser_on_a_laptop_and_a_phone() {
    // The provider sends the browser back to PUBLIC_URL: the app's own
    // address, so the port is chosen first.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let public_url = format!("http://127.0.0.1:{port}");
    let provider = OidcProvider::start(&public_url);
    let http_addr = format!("127.0.0.1:{port}");
    let mut vars = provider.settings(&[
        ("OIDC_USER_GROUPS", "staff"),
        ("OIDC_ADMIN_GROUPS", "ops"),
        ("OIDC_CREATE_USERS", "true"),
    ]);
    vars.push(("HTTP_ADDR", http_addr));
    vars.push(("PUBLIC_URL", public_url));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(&vars).await;
    app.setup_admin().await;
    provider
        .people(json!({
            "grace": {"email": "grace@example.org", "email_verified": true,
                      "preferred_username": "grace", "groups": ["ops"]},
        }))
        .await;
    let axe = axe_source();
    let mut failures = Vec::new();
    for (width, height, device) in [(1366, 900, "desktop"), (390, 844, "phone")] {
        let c = Session::start(&app).await;
        c.set_window_size(width, height).await.expect("size");
        failures.extend(c.check_page(&axe, device, "/login").await);
        provider.next_sign_in_is("grace").await;
        c.click("a[href^='/login/sso']").await;
        c.wait_for("#main-nav").await;
        assert!(c.main_text().await.contains("Today"), "on the timer");
        failures.extend(c.check_page(&axe, device, "/admin/sso").await);
        assert!(
            c.main_text().await.contains(&provider.issuer),
            "an administrator by her groups"
        );
        c.finish().await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
