//! Consent over the whole event catalogue: for every event, triggered through
//! the UI and (where the API has the action) the API, under `DNT: 1`, under
//! `Sec-GPC: 1` and as an opted-out user, and with the worker run afterwards
//! (so events recorded later on the request's behalf count too): no outbox
//! row and nothing at the fake PostHog. The same triggers with consent must
//! produce every event, so the table cannot pass by triggering nothing. An
//! event added to the catalogue without a trigger here fails the test. The
//! events of a new account's first request ([`NEW_ACCOUNT_EVENTS`]) have
//! no actor who could have said no before; each has its own test here.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use timetracker::analytics::events::CATALOGUE;

use crate::support::{
    FakePostHog, SmtpAnswer, SmtpServer, TestApp, TestClient, a_project, an_entry,
    assert_is_redirect, spawn_app_with, spawn_app_with_analytics,
};

/// Events a new account's first request records: the setup's, an accepted
/// invitation's. Only the request's signal (`DNT`, `Sec-GPC`) can refuse them.
const NEW_ACCOUNT_EVENTS: [&str; 2] = ["setup.completed", "invitation.accepted"];

/// How the person said no (or did not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    DoNotTrack,
    GlobalPrivacyControl,
    OptedOut,
    Consented,
}

impl Mode {
    fn header(self) -> Option<(&'static str, &'static str)> {
        match self {
            Mode::DoNotTrack => Some(("dnt", "1")),
            Mode::GlobalPrivacyControl => Some(("sec-gpc", "1")),
            Mode::OptedOut | Mode::Consented => None,
        }
    }
}

/// An administrator acting in one mode, through the browser and the API.
struct Actor {
    mode: Mode,
    username: String,
    password: String,
    ui: TestClient,
    token: String,
}

impl Actor {
    /// A fresh browser-like client of this actor, signed in, in this mode.
    async fn browser(&self, app: &TestApp) -> TestClient {
        let client = with_mode(app.client(), self.mode);
        let r = client.login(&self.username, &self.password).await;
        assert_is_redirect(&r);
        client
    }

    async fn api(&self, app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut request = reqwest::Client::new()
            .request(method.clone(), format!("{}/api/v1{path}", app.address))
            .bearer_auth(&self.token);
        if let Some((name, value)) = self.mode.header() {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request.send().await.expect("API call");
        let status = r.status();
        assert!(status.is_success(), "{method} {path}: {status}");
        r.json().await.unwrap_or(Value::Null)
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) {
        let r = self.ui.post_form(path, form).await;
        assert!(
            r.status().is_redirection() || r.status().is_success(),
            "POST {path}: {} {}",
            r.status(),
            r.text().await.unwrap_or_default()
        );
    }
}

fn with_mode(client: TestClient, mode: Mode) -> TestClient {
    match mode.header() {
        Some((name, value)) => client.with_header(name, value),
        None => client,
    }
}

async fn new_entry(app: &TestApp, actor: &Actor) -> i64 {
    let project = a_project().create(app).await;
    an_entry(app.user_id(&actor.username).await, project)
        .create(app)
        .await
}

/// A user created through the admin form, for the user events.
async fn new_user(app: &TestApp, actor: &Actor, n: &mut u32) -> i64 {
    *n += 1;
    let name = format!("{:?}{n}", actor.mode).to_lowercase();
    actor
        .post(
            "/admin/users",
            &[
                ("username", &name),
                ("email", &format!("{name}@example.org")),
                ("password", "a long password"),
                ("password_confirm", "a long password"),
                ("role", "user"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    app.user_id(&name).await
}

/// Does what makes `event` happen, through `api` when true, else the UI.
/// Returns false when the API has no such action.
async fn trigger(app: &TestApp, actor: &Actor, event: &str, api: bool, n: &mut u32) -> bool {
    // Every entry at its own hour, so none overlaps another.
    *n += 1;
    let (day, hour) = (1 + *n % 28, *n / 28 % 24);
    let local_start = format!("2026-10-{day:02}T{hour:02}:00");
    let entry_body = |project: i64| json!({"project_id": project, "start": format!("{local_start}:00Z"), "duration_seconds": 600});
    match (event, api) {
        (e, _) if NEW_ACCOUNT_EVENTS.contains(&e) => unreachable!("checked on their own"),
        ("auth.login", false) => drop(actor.browser(app).await),
        ("auth.logout", false) => {
            let browser = actor.browser(app).await;
            browser.submit("/logout", &[]).await;
        }
        ("client.created", false) => {
            *n += 1;
            actor
                .post("/clients", &[("name", &format!("New {n}"))])
                .await
        }
        ("client.updated" | "client.archived" | "client.deleted", false) => {
            let c = app
                .scalar::<i64>(
                    "INSERT INTO clients (name) VALUES ('C ' || gen_random_uuid()) RETURNING id",
                )
                .await;
            let action = match event {
                "client.updated" => "edit",
                "client.archived" => "archive",
                _ => "delete",
            };
            actor
                .post(
                    &format!("/clients/{c}/{action}"),
                    &[("name", &format!("Edited {c}")), ("confirm", "yes")],
                )
                .await;
        }
        ("project.created", false) => {
            *n += 1;
            actor
                .post("/projects", &[("name", &format!("New {n}"))])
                .await
        }
        ("project.updated" | "project.archived" | "project.deleted", false) => {
            let p = a_project().create(app).await;
            let action = match event {
                "project.updated" => "edit",
                "project.archived" => "archive",
                _ => "delete",
            };
            actor
                .post(
                    &format!("/projects/{p}/{action}"),
                    &[("name", &format!("Edited {p}")), ("confirm", "yes")],
                )
                .await;
        }
        ("task.created", false) => {
            let p = a_project().create(app).await.to_string();
            actor
                .post(
                    "/tasks",
                    &[("project_id", &p), ("name", "T"), ("priority", "high")],
                )
                .await;
        }
        (e, true)
            if ["client.", "project.", "task."]
                .iter()
                .any(|p| e.starts_with(p)) =>
        {
            catalogue_through_the_api(app, actor, event, n).await;
        }
        ("task.status_changed" | "task.deleted" | "task.updated", false) => {
            let p = a_project().create(app).await;
            let t: i64 = sqlx::query_scalar(
                "INSERT INTO tasks (project_id, name) VALUES ($1, 'T') RETURNING id",
            )
            .bind(p)
            .fetch_one(&app.pool)
            .await
            .expect("task");
            if event == "task.deleted" {
                actor
                    .post(&format!("/tasks/{t}/delete"), &[("confirm", "yes")])
                    .await;
            } else if event == "task.updated" {
                let p = p.to_string();
                actor
                    .post(
                        &format!("/tasks/{t}/edit"),
                        &[("project_id", &p), ("name", "Renamed"), ("priority", "low")],
                    )
                    .await;
            } else {
                actor
                    .post(&format!("/tasks/{t}/status"), &[("status", "done")])
                    .await;
            }
        }
        ("timer.started", false) => {
            let p = a_project().create(app).await.to_string();
            actor.post("/timer/start", &[("project_id", &p)]).await;
        }
        ("timer.started", true) => {
            let p = a_project().create(app).await;
            actor
                .api(
                    app,
                    Method::POST,
                    "/timer/start",
                    Some(json!({"project_id": p})),
                )
                .await;
        }
        ("timer.edited", false) => {
            let p = a_project().create(app).await.to_string();
            actor.post("/timer/start", &[("project_id", &p)]).await;
            actor
                .post("/timer/edit", &[("project_id", &p), ("notes", "changed")])
                .await;
            actor.post("/timer/stop", &[]).await;
        }
        ("timer.edited", true) => {
            let p = a_project().create(app).await;
            actor
                .api(
                    app,
                    Method::POST,
                    "/timer/start",
                    Some(json!({"project_id": p})),
                )
                .await;
            actor
                .api(
                    app,
                    Method::PUT,
                    "/timer",
                    Some(json!({"project_id": p, "notes": "changed"})),
                )
                .await;
            actor.api(app, Method::POST, "/timer/stop", None).await;
        }
        ("timer.stopped", false) => {
            let p = a_project().create(app).await.to_string();
            actor.post("/timer/start", &[("project_id", &p)]).await;
            actor.post("/timer/stop", &[]).await;
        }
        ("timer.stopped", true) => {
            let p = a_project().create(app).await;
            actor
                .api(
                    app,
                    Method::POST,
                    "/timer/start",
                    Some(json!({"project_id": p})),
                )
                .await;
            actor.api(app, Method::POST, "/timer/stop", None).await;
        }
        ("time_entry.created", false) => {
            let p = a_project().create(app).await.to_string();
            actor
                .post(
                    "/entries/new",
                    &[
                        ("project_id", &p),
                        ("start", &local_start),
                        ("duration", "0:10"),
                    ],
                )
                .await;
        }
        ("time_entry.created", true) => {
            let p = a_project().create(app).await;
            actor
                .api(app, Method::POST, "/time-entries", Some(entry_body(p)))
                .await;
        }
        ("time_entry.updated", false) => {
            let e = new_entry(app, actor).await;
            let p = a_project().create(app).await.to_string();
            actor
                .post(
                    &format!("/entries/{e}/edit"),
                    &[
                        ("project_id", &p),
                        ("start", &local_start),
                        ("duration", "0:10"),
                    ],
                )
                .await;
        }
        ("time_entry.updated", true) => {
            let e = new_entry(app, actor).await;
            let p = a_project().create(app).await;
            actor
                .api(
                    app,
                    Method::PUT,
                    &format!("/time-entries/{e}"),
                    Some(entry_body(p)),
                )
                .await;
        }
        ("time_entry.deleted", false) => {
            let e = new_entry(app, actor).await;
            actor
                .post(&format!("/entries/{e}/delete"), &[("confirm", "yes")])
                .await;
        }
        ("time_entry.deleted", true) => {
            let e = new_entry(app, actor).await;
            actor
                .api(app, Method::DELETE, &format!("/time-entries/{e}"), None)
                .await;
        }
        ("timesheet.saved", false) => {
            // September: no other trigger books time there.
            let p = a_project().create(app).await;
            actor
                .post(
                    "/timesheet",
                    &[
                        ("week", &format!("2026-09-{day:02}")),
                        (&format!("c.{p}.0.0"), "0:10"),
                    ],
                )
                .await;
        }
        ("timesheet.saved", true) => {
            let p = a_project().create(app).await;
            let body =
                json!({"project_id": p, "date": format!("2026-09-{day:02}"), "duration": "0:10"});
            actor
                .api(app, Method::PUT, "/timesheet/cells", Some(body))
                .await;
        }
        ("report.viewed", false) => {
            let r = actor
                .ui
                .get("/reports?from=2026-11-01&to=2026-11-30&group=project")
                .await;
            assert_eq!(r.status(), StatusCode::OK);
        }
        ("report.viewed", true) => {
            actor
                .api(
                    app,
                    Method::GET,
                    "/reports/summary?from=2026-11-01&to=2026-11-30&group=project",
                    None,
                )
                .await;
        }
        // A finished export is recorded by the worker, a failed one too: the
        // request's decision must reach them through the job.
        ("export.requested" | "export.completed", false) => {
            let r = actor.ui.request_export("csv", &[]).await;
            assert_is_redirect(&r);
        }
        ("export.requested" | "export.completed", true) => {
            actor
                .api(
                    app,
                    Method::POST,
                    "/exports",
                    Some(json!({"format": "xlsx", "from": "2026-11-01", "to": "2026-11-30"})),
                )
                .await;
        }
        ("export.failed", false) => {
            let r = actor.ui.request_export("csv", &[]).await;
            assert_is_redirect(&r);
            spoil_the_last_export(app).await;
        }
        ("export.failed", true) => {
            actor
                .api(
                    app,
                    Method::POST,
                    "/exports",
                    Some(json!({"format": "csv", "from": "2026-11-01", "to": "2026-11-30"})),
                )
                .await;
            spoil_the_last_export(app).await;
        }
        ("api_token.created", false) => drop(actor.ui.api_token("t", "").await),
        ("api_token.revoked", false) => {
            actor.ui.api_token("t", "").await;
            let t = app.scalar::<i64>("SELECT max(id) FROM api_tokens").await;
            actor
                .post(
                    &format!("/profile/tokens/{t}/revoke"),
                    &[("confirm", "yes")],
                )
                .await;
        }
        ("admin.user_created", false) => drop(new_user(app, actor, n).await),
        ("admin.user_updated", false) => {
            let u = new_user(app, actor, n).await;
            actor
                .post(&format!("/admin/users/{u}/role"), &[("role", "admin")])
                .await;
        }
        ("admin.user_deactivated", false) => {
            let u = new_user(app, actor, n).await;
            actor
                .post(
                    &format!("/admin/users/{u}/deactivate"),
                    &[("confirm", "yes")],
                )
                .await;
        }
        ("invitation.sent", false) => {
            *n += 1;
            actor
                .post(
                    "/invitations",
                    &[
                        ("invite_email", &format!("invited{n}@example.org")),
                        ("invite_role", "user"),
                    ],
                )
                .await;
        }
        ("two_factor.enabled" | "two_factor.disabled", false) => {
            // On, then off again, so the actor's later sign-ins need no code.
            crate::two_factor::enrol(&actor.ui).await;
            actor
                .post(
                    "/profile/two-factor/disable",
                    &[("current_password", &actor.password)],
                )
                .await;
        }
        ("admin.telemetry_viewed", false) => {
            assert_eq!(
                actor.ui.get_status("/admin/telemetry").await,
                StatusCode::OK
            );
        }
        ("admin.telemetry_changed", false) => {
            actor
                .post("/admin/telemetry/install", &[("enabled", "off")])
                .await;
        }
        ("admin.settings_updated", false) => {
            actor
                .post(
                    "/admin/settings",
                    &[
                        ("currency", "EUR"),
                        ("rounding_minutes", "0"),
                        ("timer_policy", "stop_previous"),
                        ("week_start", "monday"),
                        ("export_delimiter", ","),
                        ("long_timer_hours", "12"),
                    ],
                )
                .await;
        }
        ("invoice.created", false) => drop(an_invoice(app, actor, n, "draft").await),
        ("invoice.issued", false) => drop(an_invoice(app, actor, n, "issued").await),
        ("invoice.paid", false) => drop(an_invoice(app, actor, n, "paid").await),
        ("invoice.cancelled", false) => drop(an_invoice(app, actor, n, "cancelled").await),
        (_, true) => return false,
        (event, false) => panic!("no trigger for {event}: add one to consent.rs"),
    }
    true
}

/// An invoice of a new client's billable hour, taken by `actor` as far as
/// `status` (`draft`, `issued`, `paid` or `cancelled`); its id.
async fn an_invoice(app: &TestApp, actor: &Actor, n: &mut u32, status: &str) -> i64 {
    *n += 1;
    let client: i64 = sqlx::query_scalar("INSERT INTO clients (name) VALUES ($1) RETURNING id")
        .bind(format!("Billed {n}"))
        .fetch_one(&app.pool)
        .await
        .expect("client");
    let project = a_project()
        .named(&format!("Billed project {n}"))
        .with_rate(9000)
        .for_client(Some(client))
        .create(app)
        .await;
    an_entry(app.user_id(&actor.username).await, project)
        .from("2026-11-10T09:00:00Z")
        .lasting(60)
        .create(app)
        .await;
    app.exec("UPDATE settings SET seller_name = 'Example Studio'")
        .await;
    let client = client.to_string();
    actor
        .post(
            "/invoices",
            &[
                ("client_id", client.as_str()),
                ("from", "2026-11-01"),
                ("to", "2026-11-30"),
                ("grouping", "project"),
            ],
        )
        .await;
    let id: i64 = app.scalar("SELECT max(id) FROM invoices").await;
    let at = |step: &str| format!("/invoices/{id}/{step}");
    if status != "draft" {
        actor.post(&at("issue"), &[("confirm", "yes")]).await;
    }
    if status == "paid" {
        // The issue's day, in the issuer's timezone.
        let today: String = app
            .scalar(&format!(
                "SELECT issued_on::text FROM invoices WHERE id = {id}"
            ))
            .await;
        actor.post(&at("paid"), &[("paid_on", &today)]).await;
    }
    if status == "cancelled" {
        actor.post(&at("cancel"), &[("confirm", "yes")]).await;
    }
    id
}

/// The catalogue's writes through the JSON API.
async fn catalogue_through_the_api(app: &TestApp, actor: &Actor, event: &str, n: &mut u32) {
    *n += 1;
    let name = format!("Api {n}");
    let (kind, action) = event.split_once('.').expect("resource.action");
    let collection = format!("/{kind}s");
    let body = |project: i64| match kind {
        "client" => json!({"name": name}),
        "project" => json!({"name": name}),
        _ => json!({"project_id": project, "name": name}),
    };
    let project = a_project().create(app).await;
    if action == "created" {
        actor
            .api(app, Method::POST, &collection, Some(body(project)))
            .await;
        return;
    }
    let created = actor
        .api(app, Method::POST, &collection, Some(body(project)))
        .await;
    // Creating is not what is under test here: only the action's own event counts.
    let item = format!("{collection}/{}", created["id"]);
    match action {
        "updated" => {
            actor
                .api(app, Method::PUT, &item, Some(body(project)))
                .await
        }
        "archived" => {
            actor
                .api(
                    app,
                    Method::PUT,
                    &format!("{item}/archived"),
                    Some(json!({"archived": true})),
                )
                .await
        }
        "status_changed" => {
            actor
                .api(
                    app,
                    Method::PUT,
                    &format!("{item}/status"),
                    Some(json!({"status": "done"})),
                )
                .await
        }
        "deleted" => actor.api(app, Method::DELETE, &item, None).await,
        other => panic!("no API trigger for {kind}.{other}"),
    };
}

/// Makes the newest export's request unreadable, so the worker fails it.
async fn spoil_the_last_export(app: &TestApp) {
    sqlx::query(
        r#"UPDATE exports SET params = '"spoilt"' WHERE id = (SELECT max(id) FROM exports)"#,
    )
    .execute(&app.pool)
    .await
    .expect("spoil");
}

async fn outbox_since(app: &TestApp, mark: i64) -> Vec<String> {
    sqlx::query_scalar("SELECT event FROM analytics_events WHERE id > $1 ORDER BY id")
        .bind(mark)
        .fetch_all(&app.pool)
        .await
        .expect("outbox")
}

fn accepted(fake: &FakePostHog) -> Vec<String> {
    fake.accepted_events()
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn actor(app: &TestApp, admin: &TestClient, mode: Mode) -> Actor {
    let username = format!("actor_{mode:?}").to_lowercase();
    let created = app.create_user(admin, &username, "admin").await;
    let token = created.api_token("consent", "").await;
    if mode == Mode::OptedOut {
        created
            .submit("/profile/analytics", &[("opt_out", "on")])
            .await;
    }
    Actor {
        mode,
        password: format!("{username} password"),
        username,
        ui: with_mode(created, mode),
        token,
    }
}

#[tokio::test]
async fn no_event_exists_for_a_request_or_user_that_said_no() {
    let fake = FakePostHog::start().await;
    // Mail too, for invitations.
    let smtp = SmtpServer::start(SmtpAnswer::Accept);
    let mut vars = vec![
        ("POSTHOG_API_KEY", "phc_test_key".to_owned()),
        ("POSTHOG_HOST", fake.url.clone()),
    ];
    vars.extend(smtp.settings());
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(&vars).await;
    let admin = app.setup_admin_with_analytics().await;
    let mut actors = Vec::new();
    for mode in [
        Mode::DoNotTrack,
        Mode::GlobalPrivacyControl,
        Mode::OptedOut,
        Mode::Consented,
    ] {
        actors.push(actor(&app, &admin, mode).await);
    }
    app.run_pending_jobs().await;

    let mut n = 0;
    let mut failures = Vec::new();
    for actor in &actors {
        let mark = app
            .scalar::<i64>("SELECT coalesce(max(id), 0) FROM analytics_events")
            .await;
        let sent_before = accepted(&fake).len();
        let mut triggered = Vec::new();
        for spec in CATALOGUE
            .iter()
            .filter(|s| !NEW_ACCOUNT_EVENTS.contains(&s.name))
        {
            for api in [false, true] {
                if trigger(&app, actor, spec.name, api, &mut n).await {
                    triggered.push(format!(
                        "{} via {}",
                        spec.name,
                        if api { "API" } else { "UI" }
                    ));
                }
            }
        }
        // The export.failed triggers spoil an export each: its job dies.
        let died = app.try_run_pending_jobs().await;
        assert!(
            died.iter().all(|j| j.queue == "report_export"),
            "only the spoilt exports die: {died:#?}"
        );
        let stored = outbox_since(&app, mark).await;
        let sent = accepted(&fake)[sent_before..].to_vec();
        if actor.mode == Mode::Consented {
            // Each channel (UI, API) that triggered an event produced it.
            for spec in CATALOGUE
                .iter()
                .filter(|s| !NEW_ACCOUNT_EVENTS.contains(&s.name))
            {
                let channels = triggered
                    .iter()
                    .filter(|t| t.split(" via ").next() == Some(spec.name))
                    .count();
                let count = |list: &[String]| list.iter().filter(|e| *e == spec.name).count();
                if count(&stored) < channels || count(&sent) < channels {
                    failures.push(format!(
                        "{} was produced {} times with consent, triggered through {channels} channels",
                        spec.name,
                        count(&stored)
                    ));
                }
            }
        } else if !stored.is_empty() || !sent.is_empty() {
            failures.push(format!(
                "{:?}: stored {stored:?}, sent {sent:?}, after {triggered:?}",
                actor.mode
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn setup_under_dnt_or_gpc_records_no_event() {
    for mode in [
        Mode::DoNotTrack,
        Mode::GlobalPrivacyControl,
        Mode::Consented,
    ] {
        let fake = FakePostHog::start().await;
        let app = spawn_app_with(&[
            ("POSTHOG_API_KEY", "phc_test_key"),
            ("POSTHOG_HOST", &fake.url),
        ])
        .await;
        // Analytics cannot be switched on before there is an administrator;
        // switched on here so the consent signal is the only thing deciding.
        app.exec("UPDATE installation SET analytics_enabled = true")
            .await;
        let client = with_mode(app.client(), mode);
        assert_eq!(
            client.submit_setup("admin", "off").await.status(),
            StatusCode::SEE_OTHER
        );
        app.run_pending_jobs().await;
        let stored = outbox_since(&app, 0).await;
        let expected: &[&str] = if mode == Mode::Consented {
            &["setup.completed"]
        } else {
            &[]
        };
        assert_eq!(stored, expected, "{mode:?}");
        assert_eq!(accepted(&fake), expected, "{mode:?}");
    }
}

#[tokio::test]
async fn accepting_an_invitation_under_dnt_or_gpc_records_no_event() {
    let fake = FakePostHog::start().await;
    let (app, _admin) = spawn_app_with_analytics(&fake).await;
    app.run_pending_jobs().await;
    let mark = app
        .scalar::<i64>("SELECT coalesce(max(id), 0) FROM analytics_events")
        .await;
    let sent_before = accepted(&fake).len();
    for mode in [
        Mode::DoNotTrack,
        Mode::GlobalPrivacyControl,
        Mode::Consented,
    ] {
        let name = format!("{mode:?}").to_lowercase();
        // An invitation whose link holds the token `name` (as the mail job
        // would have made it).
        app.exec(&format!(
            "INSERT INTO invitations (email, role, expires_at, token_hash)
             VALUES ('{name}@example.org', 'user', now() + interval '1 day', sha256('{name}'::bytea))"
        ))
        .await;
        let client = with_mode(app.client(), mode);
        let r = client
            .post_form(
                "/invitation",
                &[
                    ("token", name.as_str()),
                    ("username", name.as_str()),
                    ("password", "a long password"),
                    ("password_confirm", "a long password"),
                    ("timezone", "UTC"),
                ],
            )
            .await;
        assert_is_redirect(&r);
    }
    app.run_pending_jobs().await;
    assert_eq!(outbox_since(&app, mark).await, ["invitation.accepted"]);
    assert_eq!(accepted(&fake)[sent_before..], ["invitation.accepted"]);
}

#[tokio::test]
async fn opting_out_discards_the_events_still_waiting_and_says_so() {
    let fake = FakePostHog::start().await;
    let (app, admin) = spawn_app_with_analytics(&fake).await;
    app.run_pending_jobs().await;
    let p = a_project().create(&app).await.to_string();
    admin.post_form("/timer/start", &[("project_id", &p)]).await;
    admin.post_form("/timer/stop", &[]).await;
    let admin_id = app.user_id("admin").await;
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM analytics_events WHERE user_id = $1 AND status = 'pending'",
    )
    .bind(admin_id)
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(waiting, 2, "started and stopped wait for delivery");

    admin
        .submit("/profile/analytics", &[("opt_out", "on")])
        .await;
    let page = admin.get_text("/profile").await;
    assert!(
        page.contains("The 2 events of yours that were waiting to be sent were discarded."),
        "{page}"
    );
    let before = accepted(&fake).len();
    app.run_pending_jobs().await;
    assert_eq!(accepted(&fake).len(), before, "nothing of theirs leaves");
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM analytics_events WHERE user_id = $1 AND status <> 'discarded' AND status <> 'sent'",
    )
    .bind(admin_id)
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(left, 0);
    // Shown once: the next visit has no notice.
    let again = admin.get_text("/profile").await;
    assert!(!again.contains("were discarded"));
}

#[tokio::test]
async fn an_event_that_slipped_in_beside_an_opt_out_is_not_sent() {
    let fake = FakePostHog::start().await;
    let (app, admin) = spawn_app_with_analytics(&fake).await;
    app.run_pending_jobs().await;
    let before = accepted(&fake).len();
    admin
        .submit("/profile/analytics", &[("opt_out", "on")])
        .await;
    // As if a request of the same user committed its event just after the
    // opt-out's discard (READ COMMITTED lets that happen).
    app.exec("INSERT INTO analytics_events (uuid, event, user_id, properties, occurred_at)
         SELECT gen_random_uuid(), 'timer.started', id, '{}', now() FROM users WHERE username = 'admin'").await;
    // The delivery runs when woken (any consented event would wake it).
    timetracker::jobs::enqueue(
        &mut app.pool.acquire().await.expect("conn"),
        &timetracker::jobs::AnalyticsFlush::default(),
    )
    .await
    .expect("wake the delivery");
    app.run_pending_jobs().await;
    assert_eq!(accepted(&fake).len(), before, "nothing of theirs left");
    let status: String = app
        .scalar("SELECT status FROM analytics_events WHERE event = 'timer.started'")
        .await;
    assert_eq!(status, "discarded");
}
