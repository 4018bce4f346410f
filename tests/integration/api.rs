//! The JSON API: token authentication, errors, the timer, entries, pagination.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, TestClient, a_project, spawn_app};

pub(crate) struct Api {
    pub(crate) base: String,
    pub(crate) token: String,
    http: reqwest::Client,
}

impl Api {
    pub(crate) fn new(app: &TestApp, token: &str) -> Self {
        Self {
            base: format!("{}/api/v1", app.address),
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.expect("request");
        let (status, headers) = (r.status(), r.headers().clone());
        let text = r.text().await.expect("body");
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }
    pub(crate) async fn get(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
    pub(crate) async fn post(
        &self,
        path: &str,
        body: Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

#[tokio::test]
async fn tokens_authenticate_until_revoked_and_are_stored_hashed() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let secret = admin.api_token("laptop", "").await;
    assert!(secret.starts_with("tt_") && secret.len() > 60);
    let profile = admin.get_text("/profile").await;
    assert!(
        profile.contains("laptop") && profile.contains(&secret[..10]) && !profile.contains(&secret),
        "listed, not shown again"
    );
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_tokens WHERE token_hash = convert_to($1, 'UTF8')",
    )
    .bind(&secret)
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(stored, 0, "the token itself is not stored");

    let api = Api::new(&app, &secret);
    let (status, _, me) = api.get("/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "admin");

    let (status, headers, body) = Api::new(&app, "tt_wrong").get("/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(
        headers.get("location").is_none(),
        "the API answers JSON, never a login redirect"
    );

    let id: i64 = app.scalar("SELECT id FROM api_tokens").await;
    assert_eq!(
        admin
            .post_status(
                &format!("/profile/tokens/{id}/revoke"),
                &[("confirm", "yes")]
            )
            .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(api.get("/me").await.0, StatusCode::UNAUTHORIZED);

    let expiring = admin.api_token("short", "1").await;
    app.exec("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'short'")
        .await;
    assert_eq!(
        Api::new(&app, &expiring).get("/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    let r = admin
        .post_form("/profile/tokens", &[("name", ""), ("expires_in_days", "0")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_timer_api_starts_stops_and_reports_conflicts() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let api = Api::new(&app, &admin.api_token("cli", "").await);
    let p = a_project().named("Api").create(&app).await;
    let (status, _, none) = api.get("/timer").await;
    assert_eq!(
        (status, none),
        (StatusCode::OK, Value::Null),
        "no timer: null"
    );
    let (status, _, body) = api.post("/timer/stop", json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_timer_running"))
    );
    let (status, _, started) = api
        .post(
            "/timer/start",
            json!({"project_id": p, "notes": "api work", "tags": ["x"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(started["end"].is_null() && started["start"].as_str().expect("start").ends_with('Z'));
    assert_eq!(api.get("/timer").await.2["id"], started["id"]);
    let (status, _, stopped) = api.post("/timer/stop", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(stopped["duration_seconds"].as_i64().is_some());
    app.exec("UPDATE settings SET timer_policy = 'refuse'")
        .await;
    api.post("/timer/start", json!({"project_id": p})).await;
    let (status, _, body) = api.post("/timer/start", json!({"project_id": p})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("timer_already_running"))
    );
}

#[tokio::test]
async fn entries_are_validated_paginated_and_private() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let (api, bob_api) = (
        Api::new(&app, &admin.api_token("a", "").await),
        Api::new(&app, &bob.api_token("b", "").await),
    );
    let p = a_project().named("Entries").create(&app).await;
    for i in 0..5 {
        let start = format!("2026-11-0{}T09:00:00Z", i + 1);
        let (status, _, _) = api
            .post(
                "/time-entries",
                json!({"project_id": p, "start": start, "duration_seconds": 3600}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, headers, page) = api.get("/time-entries?per_page=2&page=2&total=true").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-total-count"], "5");
    assert_eq!(page.as_array().expect("list").len(), 2);
    assert_eq!(page[0]["start"], "2026-11-03T09:00:00Z", "newest first");
    // By default no total is counted; X-Next-After leads page by page by
    // keyset, every entry once, and is absent on the last page.
    let (mut starts, mut next) = (Vec::new(), Some(String::new()));
    while let Some(after) = next.take() {
        let query = if after.is_empty() {
            String::new()
        } else {
            format!("&after={}", urlencoding(&after))
        };
        let (status, headers, page) = api.get(&format!("/time-entries?per_page=2{query}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers.get("x-total-count").is_none(), "not asked for");
        starts.extend(
            page.as_array()
                .expect("list")
                .iter()
                .map(|e| e["start"].as_str().expect("start").to_owned()),
        );
        next = headers
            .get("x-next-after")
            .map(|v| v.to_str().expect("ascii").to_owned());
    }
    assert_eq!(
        starts,
        (1..=5)
            .rev()
            .map(|d| format!("2026-11-0{d}T09:00:00Z"))
            .collect::<Vec<_>>()
    );
    for bad in ["after=yesterday", "after=2026-11-03T09:00:00Z,1&page=2"] {
        let (status, _, body) = api.get(&format!("/time-entries?{bad}")).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("after")),
            "{bad}"
        );
    }
    let (status, _, body) = api.get("/time-entries?per_page=100000").await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("per_page"))
    );
    let (_, _, filtered) = api.get("/time-entries?from=2026-11-04T00:00:00Z").await;
    assert_eq!(filtered.as_array().expect("list").len(), 2);

    let (status, _, body) =
        api.post("/time-entries", json!({"project_id": p, "start": "2026-11-01T09:30:00Z", "end": "2026-11-01T10:30:00Z"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("overlapping_time_entry"))
    );
    let (status, _, body) =
        api.post("/time-entries", json!({"project_id": p, "start": "2026-11-10T10:00:00Z", "end": "2026-11-10T09:00:00Z"})).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("end"))
    );
    let (status, _, body) = api
        .post(
            "/time-entries",
            json!({"project_id": "seven", "start": "2026-11-10T10:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let r = reqwest::Client::new()
        .post(format!("{}/time-entries", api.base))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.json::<Value>().await.expect("json")["error"]["message"]
            .as_str()
            .is_some()
    );

    let (_, _, list) = api.get("/time-entries").await;
    let id = list[0]["id"].as_i64().expect("id");
    assert_eq!(
        bob_api.get(&format!("/time-entries/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob_api
            .call(
                reqwest::Method::DELETE,
                &format!("/time-entries/{id}"),
                None
            )
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob_api.get("/time-entries?user_id=all").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        bob_api.get("/time-entries?total=true").await.1["x-total-count"],
        "0"
    );
    let (status, _, _) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/time-entries/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, replaced) = api
        .call(
            reqwest::Method::PUT,
            &format!("/time-entries/{}", list[1]["id"]),
            Some(json!({"project_id": p, "start": "2026-11-04T08:00:00Z", "duration_seconds": 600, "notes": "edited"})),
        )
        .await;
    assert_eq!(
        (
            status,
            replaced["notes"].as_str(),
            replaced["duration_seconds"].as_i64()
        ),
        (StatusCode::OK, Some("edited"), Some(600))
    );
}

/// An administrator and a plain user, bob, both signed in, and bob's id.
async fn admin_and_bob(app: &TestApp) -> (TestClient, TestClient, i64) {
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    (admin, bob, app.user_id("bob").await)
}

#[tokio::test]
async fn the_entries_list_checks_the_credential_it_reads_with_on_every_request() {
    // The default list checks the token or session in the statement that
    // reads the entries (db::callers): a revocation, an expiry, a sign-out
    // or a deactivation holds from the very next request.
    let app = spawn_app().await;
    let (admin, bob, bob_id) = admin_and_bob(&app).await;
    let p = a_project().named("Mine").create(&app).await;
    let token = bob.api_token("b", "").await;
    let bob_api = Api::new(&app, &token);
    let (status, _, _) = bob_api
        .post(
            "/time-entries",
            json!({"project_id": p, "start": "2026-11-02T09:00:00Z", "duration_seconds": 60}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let admin_api = Api::new(&app, &admin.api_token("a", "").await);
    let (status, _, list) = admin_api.get("/time-entries").await;
    assert_eq!(
        (status, list.as_array().map(Vec::len)),
        (StatusCode::OK, Some(0)),
        "only one's own"
    );
    let (status, _, list) = bob_api.get("/time-entries").await;
    assert_eq!(
        (status, list.as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    assert_eq!(list[0]["user_id"], bob_id);

    // Its use is recorded at most once a minute.
    let last_used = || async {
        sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
            "SELECT last_used_at FROM api_tokens WHERE name = 'b'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("last use")
    };
    for (ago, recorded) in [("2 minutes", true), ("30 seconds", false)] {
        sqlx::query("UPDATE api_tokens SET last_used_at = now() - $1::interval WHERE name = 'b'")
            .bind(ago)
            .execute(&app.pool)
            .await
            .expect("age");
        let before = last_used().await;
        assert_eq!(bob_api.get("/time-entries").await.0, StatusCode::OK);
        assert_eq!(last_used().await > before, recorded, "{ago} ago");
    }

    // A bad query is a 422 for the token's user, a 401 for anyone else.
    let junk = Api::new(&app, "tt_junk");
    for query in ["per_page=0", "after=yesterday", "per_page=abc"] {
        let path = format!("/time-entries?{query}");
        assert!(bob_api.get(&path).await.0.is_client_error(), "{query}");
        assert_ne!(
            bob_api.get(&path).await.0,
            StatusCode::UNAUTHORIZED,
            "{query}"
        );
        assert_eq!(junk.get(&path).await.0, StatusCode::UNAUTHORIZED, "{query}");
    }

    // A session cookie, until its sign-out.
    let http = reqwest::Client::new();
    let cookie = format!("tt_session={}", bob.cookie("tt_session").expect("session"));
    let by_cookie = || async {
        http.get(format!("{}/api/v1/time-entries", app.address))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("send")
            .status()
    };
    assert_eq!(by_cookie().await, StatusCode::OK);
    bob.post_form("/logout", &[]).await;
    assert_eq!(by_cookie().await, StatusCode::UNAUTHORIZED);

    // Revoked, expired, or its user deactivated: refused at once.
    app.exec("UPDATE api_tokens SET revoked_at = now() WHERE name = 'b'")
        .await;
    assert_eq!(
        bob_api.get("/time-entries").await.0,
        StatusCode::UNAUTHORIZED
    );
    let fresh = Api::new(&app, &admin.api_token("short", "1").await);
    assert_eq!(fresh.get("/time-entries").await.0, StatusCode::OK);
    app.exec("UPDATE api_tokens SET expires_at = now() WHERE name = 'short'")
        .await;
    assert_eq!(fresh.get("/time-entries").await.0, StatusCode::UNAUTHORIZED);
    let bob = app.client();
    bob.login("bob", "bob password").await;
    let bob_api = Api::new(&app, &bob.api_token("again", "").await);
    assert_eq!(bob_api.get("/time-entries").await.0, StatusCode::OK);
    app.deactivate_user(&admin, bob_id).await;
    assert_eq!(
        bob_api.get("/time-entries").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_timer_api_checks_the_credential_it_writes_with_on_every_request() {
    // Start and stop check the token in their first statement, which also
    // locks the user (db::callers::Whose): a revocation or a deactivation
    // holds from the very next request, and a refused request writes nothing.
    let app = spawn_app().await;
    let (admin, bob, bob_id) = admin_and_bob(&app).await;
    let p = a_project().named("Timer").create(&app).await;
    let bob_api = Api::new(&app, &bob.api_token("b", "").await);
    let start = json!({"project_id": p});
    let (status, _, entry) = bob_api.post("/timer/start", start.clone()).await;
    assert_eq!(
        (status, &entry["user_id"]),
        (StatusCode::CREATED, &json!(bob_id))
    );
    let running = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM time_entries WHERE ended_at IS NULL")
            .fetch_one(&app.pool)
            .await
            .expect("count")
    };
    for body in [
        json!({"project_id": "x"}),
        json!({"project_id": p, "tags": ["a,b"]}),
    ] {
        assert_eq!(
            Api::new(&app, "tt_junk")
                .post("/timer/start", body.clone())
                .await
                .0,
            StatusCode::UNAUTHORIZED,
            "bad input from nobody: {body}"
        );
        assert_eq!(
            bob_api.post("/timer/start", body.clone()).await.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
    }
    app.exec("UPDATE api_tokens SET revoked_at = now() WHERE name = 'b'")
        .await;
    for path in ["/timer/stop", "/timer/start"] {
        let (status, _, body) = bob_api.post(path, start.clone()).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (StatusCode::UNAUTHORIZED, &json!("unauthorized")),
            "{path}"
        );
    }
    assert_eq!(
        running().await,
        1,
        "the refused stop left the timer running"
    );
    let bob_api = Api::new(&app, &bob.api_token("again", "").await);
    assert_eq!(
        bob_api.post("/timer/stop", json!({})).await.0,
        StatusCode::OK
    );
    assert_eq!(
        bob_api.post("/timer/start", start.clone()).await.0,
        StatusCode::CREATED
    );
    app.deactivate_user(&admin, bob_id).await;
    assert_eq!(
        bob_api.post("/timer/stop", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        bob_api.post("/timer/start", start).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(running().await, 1);
}

#[tokio::test]
async fn cookie_sessions_need_a_csrf_header_for_api_writes() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let p = a_project().named("Cookie").create(&app).await;
    let http = reqwest::Client::new();
    let cookie = format!(
        "tt_session={}",
        admin.cookie("tt_session").expect("session")
    );
    let url = format!("{}/api/v1/timer/start", app.address);
    let body = json!({"project_id": p});
    let r = http
        .post(&url)
        .header("cookie", &cookie)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let csrf = admin.csrf_token("/profile").await;
    let r = http
        .post(&url)
        .header("cookie", &cookie)
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn lists_and_the_summary_report_are_served_as_json() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let api = Api::new(&app, &admin.api_token("r", "").await);
    let p = a_project().named("Reported").create(&app).await;
    api.post(
        "/time-entries",
        json!({"project_id": p, "start": "2026-11-02T09:00:00Z", "duration_seconds": 5400}),
    )
    .await;
    let (_, _, projects) = api.get("/projects").await;
    assert_eq!(projects[0]["name"], "Reported");
    assert_eq!(api.get("/clients").await.0, StatusCode::OK);
    assert_eq!(api.get("/tasks").await.1["x-total-count"], "0");
    let (status, _, report) = api
        .get("/reports/summary?from=2026-11-01&to=2026-11-30&group=project")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["total_seconds"], 5400);
    assert_eq!(report["rows"][0]["key"], "Reported");
    let (status, _, body) = api.get("/reports/summary?group=nope").await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("group"))
    );
}

#[tokio::test]
async fn every_api_route_is_in_the_openapi_document_and_requires_a_token() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    assert!(doc["components"]["schemas"]["EntryJson"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 12, "{paths:?}");
    for (path, item) in paths {
        for method in item.as_object().expect("methods").keys() {
            let url = format!("{}{}", app.address, path.replace("{id}", "1"));
            let method: reqwest::Method = method.to_uppercase().parse().expect("method");
            let status = http
                .request(method.clone(), &url)
                .bearer_auth("tt_invalid")
                .send()
                .await
                .expect("send")
                .status();
            if path == "/api/v1/openapi.json" {
                assert_eq!(status, StatusCode::OK);
            } else {
                // An unmatched route would answer 404 or 405; a documented one asks for a valid token.
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
            }
        }
    }
}

#[tokio::test]
async fn hostile_input_gets_a_4xx_with_a_message_never_a_5xx() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let api = Api::new(&app, &admin.api_token("h", "").await);
    let p = a_project().named("Hostile").create(&app).await;
    let cases = [
        ("GET", "/time-entries?from=-200000-01-01T00:00:00Z", None),
        ("GET", "/time-entries?page=0", None),
        ("GET", "/time-entries?page=99999999999999999999", None),
        ("GET", "/time-entries?project_id=abc", None),
        ("GET", "/time-entries/999999999999999999999", None),
        ("GET", "/reports/summary?from=99999-01-01", None),
        ("GET", "/reports/summary?to=2026-02-30", None),
        (
            "POST",
            "/time-entries",
            Some(
                json!({"project_id": p, "start": "-200000-01-01T00:00:00Z", "duration_seconds": 60}),
            ),
        ),
        (
            "POST",
            "/time-entries",
            Some(
                json!({"project_id": p, "start": "2026-01-01T00:00:00Z", "duration_seconds": i64::MAX}),
            ),
        ),
        (
            "POST",
            "/time-entries",
            Some(
                json!({"project_id": i64::MAX, "start": "2026-01-01T00:00:00Z", "duration_seconds": 60}),
            ),
        ),
        (
            "POST",
            "/time-entries",
            Some(
                json!({"project_id": p, "start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z", "extra": 1}),
            ),
        ),
        (
            "POST",
            "/timer/start",
            Some(json!({"project_id": p, "notes": "x".repeat(6000)})),
        ),
        (
            "POST",
            "/timer/start",
            Some(
                json!({"project_id": p, "tags": (0..30).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            ),
        ),
        ("POST", "/exports", Some(json!({"format": "odt"}))),
        (
            "POST",
            "/exports",
            Some(json!({"format": "pdf", "paper": "a3"})),
        ),
        (
            "POST",
            "/exports",
            Some(json!({"format": "csv", "layout": "pivot"})),
        ),
        (
            "POST",
            "/exports",
            Some(json!({"format": "csv", "layout": "summary", "group": "week"})),
        ),
    ];
    for (method, path, body) in cases {
        let (status, _, answer) = api.call(method.parse().expect("method"), path, body).await;
        assert!(status.is_client_error(), "{method} {path}: {status}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{method} {path}: {answer}"
        );
    }
    let big = "x".repeat(2 * 1024 * 1024);
    let r = reqwest::Client::new()
        .post(format!("{}/time-entries", api.base))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = admin
        .post_form(
            "/entries/new",
            &[
                ("project_id", "99999999999999999999999"),
                ("start", "2026-01-01T09:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin.get("/entries?from=0000-00-00&page=-1").await;
    assert!(
        r.status().is_success() || r.status().is_client_error(),
        "{}",
        r.status()
    );
}

#[tokio::test]
async fn administrators_manage_clients_projects_and_tasks_through_the_api() {
    use reqwest::Method;
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let api = Api::new(&app, &admin.api_token("cli", "").await);
    let (status, _, client) = api
        .post(
            "/clients",
            json!({"name": "Acme", "default_hourly_rate_cents": 9000}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let c = client["id"].as_i64().expect("id");
    let (status, _, body) = api.post("/clients", json!({"name": "acme"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("name_taken"))
    );
    let (status, _, body) = api
        .post("/clients", json!({"name": "Bad", "email": "nope"}))
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("email"))
    );

    let (status, _, project) = api
        .post(
            "/projects",
            json!({"name": "Site", "client_id": c, "estimated_seconds": 7200}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    assert_eq!(project["billable"], true, "billable by default");
    let p = project["id"].as_i64().expect("id");
    let (status, _, task) = api
        .post("/tasks", json!({"project_id": p, "name": "Design", "priority": "high", "due_date": "2026-12-24"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let t = task["id"].as_i64().expect("id");

    let (status, _, task) = api
        .call(
            Method::PUT,
            &format!("/tasks/{t}"),
            Some(json!({"project_id": p, "name": "Design v2", "priority": "low"})),
        )
        .await;
    assert_eq!(
        (
            status,
            task["name"].as_str(),
            task["priority"].as_str(),
            task["due_date"].is_null()
        ),
        (StatusCode::OK, Some("Design v2"), Some("low"), true)
    );
    let (status, _, task) = api
        .call(
            Method::PUT,
            &format!("/tasks/{t}/status"),
            Some(json!({"status": "in_progress"})),
        )
        .await;
    assert_eq!(
        (status, task["status"].as_str()),
        (StatusCode::OK, Some("in_progress"))
    );

    // A client with a project cannot go; archived, it is hidden from the list.
    let (status, _, body) = api
        .call(Method::DELETE, &format!("/clients/{c}"), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("client_in_use"))
    );
    let (status, _, body) = api
        .call(
            Method::PUT,
            &format!("/clients/{c}/archived"),
            Some(json!({"archived": true})),
        )
        .await;
    assert_eq!(
        (status, body["archived"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    assert_eq!(api.get("/clients").await.2, json!([]));

    let (status, _, _) = api.call(Method::DELETE, &format!("/tasks/{t}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = api
        .call(Method::DELETE, &format!("/projects/{p}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        api.get(&format!("/projects/{p}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_projects_page_shows_tracked_time_against_the_estimate() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    admin
        .submit(
            "/projects",
            &[("name", "Budgeted"), ("estimated_hours", "2")],
        )
        .await;
    admin
        .submit(
            "/entries/new",
            &[
                ("project_id", "1"),
                ("start", "2026-11-30T09:00"),
                ("duration", "1:30"),
            ],
        )
        .await;
    let page = admin.get_text("/projects").await;
    assert!(
        page.contains("1:30:00 of 2 h") && page.contains("75&nbsp;%"),
        "{page}"
    );
}

#[tokio::test]
async fn a_tag_is_kept_whole_and_one_with_a_comma_is_refused_not_split() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let api = Api::new(&app, &admin.api_token("cli", "").await);
    let p = a_project().named("Tags").create(&app).await;
    let (status, _, body) = api
        .post(
            "/time-entries",
            json!({"project_id": p, "start": "2026-11-02T09:00:00Z", "duration_seconds": 60, "tags": ["a,b"]}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("tags")),
        "{body}"
    );
    let (status, _, body) = api
        .post(
            "/time-entries",
            json!({"project_id": p, "start": "2026-11-02T09:00:00Z", "duration_seconds": 60, "tags": [" client call ", "Client call", "x"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["tags"], json!(["client call", "x"]));
}

/// `raw` percent-encoded for a query string.
fn urlencoding(raw: &str) -> String {
    serde_urlencoded::to_string([("x", raw)])
        .expect("encodable")
        .trim_start_matches("x=")
        .to_owned()
}

#[tokio::test]
async fn an_update_cannot_move_an_entry_to_another_user() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.create_user(&admin, "bob", "user").await;
    let bob = app.user_id("bob").await;
    admin.submit("/projects", &[("name", "P")]).await;
    let token = admin.api_token("move", "").await;
    let http = reqwest::Client::new();
    let body = |user_id: Option<i64>| {
        let mut body = json!({
            "project_id": 1, "start": "2026-11-20T09:00:00Z", "duration_seconds": 600,
        });
        if let Some(user) = user_id {
            body["user_id"] = user.into();
        }
        body
    };
    let created: Value = http
        .post(format!("{}/api/v1/time-entries", app.address))
        .bearer_auth(&token)
        .json(&body(None))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    let id = created["id"].as_i64().expect("id");
    let owner = created["user_id"].as_i64().expect("owner");
    let put = |body: Value| {
        http.put(format!("{}/api/v1/time-entries/{id}", app.address))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let r = put(body(Some(bob))).await.expect("PUT");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = r.json().await.expect("JSON");
    assert_eq!(error["error"]["field"], "user_id", "{error}");
    assert_eq!(
        put(body(Some(owner))).await.expect("PUT").status(),
        StatusCode::OK,
        "repeating the owner is fine"
    );
}
