//! The authorisation matrix: every route the app serves, found from the
//! router's source (HTML pages) and the served OpenAPI document (JSON API),
//! checked as an anonymous visitor, as a plain user and as a manager on
//! admin routes, and as both on another user's resources. A new route without
//! an entry in [`expected`] fails the suite, so it cannot ship without a
//! decision. What each role may do is declared in `src/domain/access.rs`.

use std::path::Path;

use reqwest::{Method, StatusCode, header};
use serde_json::Value;

use crate::support::{TestApp, TestClient, assert_is_redirect, location, spawn_app};

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user (or API token).
    User,
    /// Administrators and managers (the catalogue).
    Catalog,
    /// Administrators and managers, each on the invitations into the roles
    /// they may give (a manager finds an administrator's not found).
    Invite,
    /// Administrators and managers (invoices; the one asked for may not
    /// exist).
    Bill,
    /// Administrators only.
    Admin,
    /// Any signed-in user on their own resource (`{id}`); managers and
    /// administrators on anyone's (time entries).
    Team,
    /// Any signed-in user, but only on their own resource (`{id}`).
    Owner,
}

/// The decision for every route. `None` means nobody decided yet.
fn expected(method: &Method, path: &str) -> Option<Access> {
    use Access::*;
    let get = *method == Method::GET;
    Some(match path {
        "/login"
        | "/login/code"
        | "/login/sso"
        | "/login/sso/callback"
        | "/setup"
        | "/forgot-password"
        | "/invitation"
        | "/reset-password"
        | "/health/live"
        | "/health/ready"
        | "/static/{file}"
        | "/docs/{page}"
        | "/api/v1/openapi.json" => Public,
        "/"
        | "/timer/start"
        | "/timer/stop"
        | "/timer/edit"
        | "/timesheet"
        | "/timesheet/rows"
        | "/timesheet/copy"
        | "/entries"
        | "/entries/new"
        | "/reports"
        | "/reports/saved"
        | "/reports/export.csv"
        | "/exports"
        | "/logout"
        | "/profile"
        | "/profile/password"
        | "/profile/name"
        | "/profile/formats"
        | "/profile/email"
        | "/profile/timezone"
        | "/profile/tokens"
        | "/profile/analytics"
        | "/profile/two-factor"
        | "/profile/two-factor/confirm"
        | "/profile/two-factor/disable"
        | "/entries/bulk" => User,
        "/entries/{id}/edit" | "/entries/{id}/delete" => Team,
        "/entries/{id}/restart"
        | "/exports/{id}/download"
        | "/reports/saved/{id}/delete"
        | "/profile/tokens/{id}/revoke" => Owner,
        // Everyone sees the catalogue; administrators and managers change it.
        "/clients" | "/projects" | "/tasks" if get => User,
        "/clients" | "/projects" | "/tasks" => Catalog,
        p if p.starts_with("/clients/{id}/") || p.starts_with("/projects/{id}/") => Catalog,
        // Administrators, managers and the task's assignee (not this user).
        "/tasks/{id}/status" | "/tasks/{id}/delete" | "/tasks/{id}/edit" => Catalog,
        // Administrators invite into any role, managers plain users
        // (`mail::managers_invite_plain_users_only`).
        p if p.starts_with("/invitations") => Invite,
        p if p.starts_with("/invoices/seller") => Admin,
        p if p.starts_with("/invoices") => Bill,
        p if p.starts_with("/admin/") => Admin,
        "/api/v1/time-entries/{id}" => Team,
        "/api/v1/exports/{id}" | "/api/v1/exports/{id}/download" => Owner,
        // The catalogue: everyone reads it; administrators and managers
        // change it (a task's status also its assignee, not this user).
        p if (p.starts_with("/api/v1/clients")
            || p.starts_with("/api/v1/projects")
            || p.starts_with("/api/v1/tasks"))
            && !get =>
        {
            Catalog
        }
        p if p.starts_with("/api/v1/admin/") => Admin,
        p if p.starts_with("/api/v1/invoices") => Bill,
        p if p.starts_with("/api/v1/") => User,
        _ => return None,
    })
}

/// `.route("path", get(..).post(..))` calls in `web::router`, as (method, path).
fn web_routes() -> Vec<(Method, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let source = std::fs::read_to_string(root.join("src/web/mod.rs")).expect("web router");
    let body = &source[source.find("pub fn router()").expect("router fn")..];
    let mut routes = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .expect("balanced route call");
        let call = &rest[..end];
        let path = call.split('"').nth(1).expect("route path literal");
        for (method, name) in [(Method::GET, "get("), (Method::POST, "post(")] {
            let called = call.match_indices(name).any(|(i, _)| {
                i == 0 || !call[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if called {
                routes.push((method, path.to_owned()));
            }
        }
    }
    routes
}

/// Every route of the JSON API, from the document the app serves.
async fn api_routes(app: &TestApp) -> Vec<(Method, String)> {
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.address))
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            routes.push((method, path.clone()));
        }
    }
    routes
}

/// Ids of resources that belong to the administrator, for `{id}`.
struct Ids {
    entry: i64,
    export: i64,
    token: i64,
    client: i64,
    project: i64,
    task: i64,
    job: String,
    user: i64,
    saved_report: i64,
}

impl Ids {
    fn fill(&self, path: &str) -> String {
        let id = if path.starts_with("/entries/") || path.starts_with("/api/v1/time-entries/") {
            self.entry.to_string()
        } else if path.contains("/exports/") {
            self.export.to_string()
        } else if path.starts_with("/reports/saved/") {
            self.saved_report.to_string()
        } else if path.starts_with("/profile/tokens/") {
            self.token.to_string()
        } else if path.contains("/clients/") {
            self.client.to_string()
        } else if path.contains("/projects/") {
            self.project.to_string()
        } else if path.contains("/tasks/") {
            self.task.to_string()
        } else if path.starts_with("/admin/jobs/") || path.starts_with("/api/v1/admin/jobs/") {
            self.job.clone()
        } else {
            self.user.to_string()
        };
        path.replace("{id}", &id)
            .replace("{file}", "app.css")
            .replace("{page}", "privacy")
            .replace("{queue}", "report_export")
            .replace("{line}", "1")
            .replace("{line_id}", "1")
    }
}

/// The administrator's resources: an entry, an export, a token, a client, a
/// project and a task, and a job.
async fn admins_things(app: &TestApp, admin: &TestClient) -> Ids {
    let client = scalar(
        &app.pool,
        "INSERT INTO clients (name) VALUES ('Acme') RETURNING id",
    )
    .await;
    let project: i64 = sqlx::query_scalar(
        "INSERT INTO projects (name, client_id) VALUES ('Site', $1) RETURNING id",
    )
    .bind(client)
    .fetch_one(&app.pool)
    .await
    .expect("project");
    let admin_id = app.user_id("admin").await;
    let task: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (project_id, name, assignee_id) VALUES ($1, 'Design', $2) RETURNING id",
    )
    .bind(project)
    .bind(admin_id)
    .fetch_one(&app.pool)
    .await
    .expect("task");
    admin
        .submit("/timer/start", &[("project_id", &project.to_string())])
        .await;
    admin.post_form("/timer/stop", &[]).await;
    let r = admin.request_export("csv", &[]).await;
    assert_is_redirect(&r);
    admin.api_token("admin's", "").await;
    Ids {
        entry: scalar(&app.pool, "SELECT max(id) FROM time_entries").await,
        export: scalar(&app.pool, "SELECT max(id) FROM exports").await,
        token: scalar(&app.pool, "SELECT max(id) FROM api_tokens").await,
        client,
        project,
        task,
        job: app.scalar("SELECT id FROM apalis.jobs LIMIT 1").await,
        user: admin_id,
        saved_report: sqlx::query_scalar(
            "INSERT INTO saved_reports (user_id, name, params) VALUES ($1, 'Mine', '{}') RETURNING id",
        )
        .bind(admin_id)
        .fetch_one(&app.pool)
        .await
        .expect("a saved report"),
    }
}

/// The whole row of an entry, to compare before and after.
async fn entry_row(app: &TestApp, id: i64) -> Option<String> {
    sqlx::query_scalar("SELECT row_to_json(e)::text FROM time_entries e WHERE id = $1")
        .bind(id)
        .fetch_optional(&app.pool)
        .await
        .expect("entry")
}

async fn scalar(pool: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

/// A well-formed body for an API write, so the request reaches the
/// authorisation decision rather than stopping at validation.
fn api_body(path: &str, ids: &Ids) -> Value {
    if path.starts_with("/api/v1/time-entries") {
        serde_json::json!({
            "project_id": ids.project,
            "start": "2026-11-20T09:00:00Z",
            "end": "2026-11-20T10:00:00Z",
        })
    } else if path == "/api/v1/timer/start" {
        serde_json::json!({ "project_id": ids.project })
    } else if path == "/api/v1/exports" {
        serde_json::json!({ "format": "csv", "from": "2026-11-01", "to": "2026-11-30" })
    } else if path.ends_with("/status") {
        serde_json::json!({ "status": "done" })
    } else {
        serde_json::json!({})
    }
}

/// One request as a browser (cookies, a valid CSRF token on writes) or, for
/// the API, with `token` when given.
async fn call(
    client: &TestClient,
    token: Option<&str>,
    method: &Method,
    path: &str,
    ids: &Ids,
) -> reqwest::Response {
    if path.starts_with("/api/") {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let mut request = http.request(method.clone(), format!("{}{path}", client.base));
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if *method != Method::GET && *method != Method::DELETE {
            request = request.json(&api_body(path, ids));
        }
        return request.send().await.expect("API call");
    }
    if *method == Method::GET {
        client.get(path).await
    } else {
        client.post_form(path, &[]).await
    }
}

#[tokio::test]
async fn every_route_is_authorised() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let bobs_token = bob.api_token("bob's", "").await;
    let ids = admins_things(&app, &admin).await;

    let mut routes = web_routes();
    assert!(routes.len() > 40, "the route parser found {}", routes.len());
    // Signing out last: it ends Bob's session.
    routes.sort_by_key(|(_, path)| path == "/logout");
    routes.extend(api_routes(&app).await);
    routes.extend([
        (Method::GET, "/static/{file}".to_owned()),
        (Method::GET, "/health/live".to_owned()),
        (Method::GET, "/health/ready".to_owned()),
    ]);

    let entry_before = entry_row(&app, ids.entry).await;
    let mut failures = Vec::new();
    for (method, template) in &routes {
        let Some(access) = expected(method, template) else {
            failures.push(format!("{method} {template}: no decision in the matrix"));
            continue;
        };
        let path = ids.fill(template);
        let api = template.starts_with("/api/");

        // Anonymous: turned away unless public; never a server error.
        let anonymous = app.client();
        let r = call(&anonymous, None, method, &path, &ids).await;
        let status = r.status();
        let ok = match access {
            Access::Public => !status.is_server_error(),
            _ if api => status == StatusCode::UNAUTHORIZED,
            _ => status == StatusCode::SEE_OTHER && location(&r).starts_with("/login"),
        };
        if !ok {
            failures.push(format!("{method} {path} anonymous: {status}"));
        }

        // Bob, a plain user, on what is not his.
        let r = call(&bob, Some(&bobs_token), method, &path, &ids).await;
        let status = r.status();
        let wanted = match access {
            Access::Admin | Access::Catalog | Access::Invite | Access::Bill => {
                Some(StatusCode::FORBIDDEN)
            }
            Access::Owner | Access::Team => Some(StatusCode::NOT_FOUND),
            Access::Public | Access::User => None,
        };
        match wanted {
            Some(wanted) if status != wanted => {
                failures.push(format!("{method} {path} as bob: {status}, wanted {wanted}"));
            }
            None if status.is_server_error() => {
                failures.push(format!("{method} {path} as bob: {status}"));
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Bob changed nothing of the administrator's.
    assert_eq!(
        entry_row(&app, ids.entry).await,
        entry_before,
        "the administrator's entry is there, untouched"
    );
    assert_eq!(
        scalar(
            &app.pool,
            "SELECT count(*) FROM clients WHERE archived = false"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &app.pool,
            "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL"
        )
        .await,
        2
    );

    // Mia, a manager: refused what is the administrators' alone and another's
    // own things; allowed the catalogue and everyone's entries. Deletions go
    // last, and may find what an earlier one removed gone.
    let mia = app.create_user(&admin, "mia", "manager").await;
    let mias_token = mia.api_token("mia's", "").await;
    routes.sort_by_key(|(method, path)| {
        (
            path == "/logout",
            *method == Method::DELETE || path.ends_with("/delete"),
        )
    });
    for (method, template) in &routes {
        let Some(access) = expected(method, template) else {
            continue;
        };
        let path = ids.fill(template);
        let deletes = *method == Method::DELETE || path.ends_with("/delete");
        let status = call(&mia, Some(&mias_token), method, &path, &ids)
            .await
            .status();
        let ok = match access {
            Access::Admin => status == StatusCode::FORBIDDEN,
            Access::Owner => status == StatusCode::NOT_FOUND,
            Access::Catalog | Access::Team => {
                !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                    && (deletes || status != StatusCode::NOT_FOUND)
                    && !status.is_server_error()
            }
            Access::Invite | Access::Bill => {
                !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                    && !status.is_server_error()
            }
            Access::Public | Access::User => !status.is_server_error(),
        };
        if !ok {
            failures.push(format!("{method} {path} as mia, a manager: {status}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_route_parser_reads_multi_line_routes() {
    let routes = web_routes();
    assert!(routes.contains(&(Method::GET, "/entries/{id}/edit".to_owned())));
    assert!(routes.contains(&(Method::POST, "/entries/{id}/edit".to_owned())));
    assert!(!routes.contains(&(Method::GET, "/timer/start".to_owned())));
}

/// Everything a write could change, as one string to compare.
async fn fingerprint(app: &TestApp) -> String {
    let mut all = String::new();
    for table in [
        "users",
        "sessions",
        "api_tokens",
        "clients",
        "projects",
        "tasks",
        "time_entries",
        "exports",
        "installation",
        "analytics_events",
        "apalis.jobs",
    ] {
        let rows: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT string_agg(row_to_json(t)::text, ',' ORDER BY row_to_json(t)::text) FROM {table} t"
        )))
        .fetch_one(&app.pool)
        .await
        .expect(table);
        all.push_str(table);
        all.push_str(&rows.unwrap_or_default());
    }
    all
}

#[tokio::test]
async fn an_authorization_header_never_excuses_a_cookie_session_from_the_csrf_check() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let ids = admins_things(&app, &admin).await;
    let session = admin.cookie("tt_session").expect("session");
    let mut routes: Vec<(Method, String)> = web_routes()
        .into_iter()
        .filter(|(m, _)| *m != Method::GET)
        .collect();
    routes.extend(
        api_routes(&app)
            .await
            .into_iter()
            .filter(|(m, _)| *m != Method::GET),
    );
    assert!(routes.len() > 30, "{} unsafe routes", routes.len());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let before = fingerprint(&app).await;
    let mut failures = Vec::new();
    for (method, template) in &routes {
        let path = ids.fill(template);
        for authorization in ["Bearer junk", "Basic YWRtaW46eA==", "junk", "Bearer "] {
            let mut request = http
                .request(method.clone(), format!("{}{path}", app.address))
                .header(header::COOKIE, format!("tt_session={session}"))
                .header(header::AUTHORIZATION, authorization);
            request = if path.starts_with("/api/") {
                request.json(&api_body(&path, &ids))
            } else {
                request.form(&[("name", "changed")])
            };
            // A page refuses it as a forgery; the API takes an
            // `Authorization` header as the whole credential, so a junk one
            // is a 401 and the cookie is never consulted.
            let expected = if path.starts_with("/api/") {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            };
            let status = request.send().await.expect("answer").status();
            if status != expected {
                failures.push(format!("{method} {path} with {authorization:?}: {status}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
    assert_eq!(
        admin.get_status("/profile").await,
        StatusCode::OK,
        "still signed in: the sign-out was refused too"
    );
}
