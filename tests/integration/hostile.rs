//! Hostile input: whatever a client sends, the answer is a 2xx, 3xx or 4xx
//! with a message, never a 5xx or a panic. Generated requests (proptest) for
//! every JSON API route and every form, plus the classic cases one by one:
//! oversized bodies, malformed JSON, invalid UTF-8, out-of-range numbers,
//! huge page sizes and impossible dates.

use proptest::{prelude::*, strategy::ValueTree, test_runner::TestRunner};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{TestApp, TestClient, assert_form_error, spawn_app};

/// A signed-in administrator (who may reach every route), an API token and
/// one of everything for `{id}`.
struct Target {
    app: TestApp,
    admin: TestClient,
    token: String,
}

async fn target() -> Target {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    admin.submit("/projects", &[("name", "P")]).await;
    admin
        .post_form("/timer/start", &[("project_id", "1")])
        .await;
    admin.post_form("/timer/stop", &[]).await;
    let token = admin.api_token("hostile", "").await;
    Target { app, admin, token }
}

impl Target {
    async fn api(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.app.address))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        request.send().await.expect("API call")
    }
}

/// A 4xx must say what was wrong: the API's JSON `error.message`, or a page.
async fn assert_clear_rejection(what: &str, response: reqwest::Response) {
    let status = response.status();
    assert!(status.is_client_error(), "{what}: {status}");
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let body = response.text().await.expect("body");
    if json {
        let v: Value = serde_json::from_str(&body).expect("JSON error");
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{what}: no message in {body}");
    } else {
        assert!(body.len() > 100, "{what}: no page: {body}");
    }
}

#[tokio::test]
async fn classic_bad_input_gets_a_clear_4xx() {
    let t = target().await;
    let huge = vec![b'x'; 2 * 1024 * 1024];
    let r = t
        .api(Method::POST, "/api/v1/time-entries", Some(huge.clone()))
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_clear_rejection("oversized JSON", r).await;
    let r = t
        .admin
        .post_form("/entries/new", &[("notes", &"n".repeat(2 * 1024 * 1024))])
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "oversized form");

    let cases: Vec<(&str, Method, &str, Option<Vec<u8>>)> = vec![
        (
            "malformed JSON",
            Method::POST,
            "/api/v1/time-entries",
            Some(b"{\"project_id\": 1,".to_vec()),
        ),
        (
            "JSON of the wrong shape",
            Method::POST,
            "/api/v1/timer/start",
            Some(b"[1, 2, 3]".to_vec()),
        ),
        (
            "invalid UTF-8 in JSON",
            Method::POST,
            "/api/v1/timer/start",
            Some(b"{\"project_id\": 1, \"notes\": \"\xff\xfe\"}".to_vec()),
        ),
        (
            "a number out of range",
            Method::POST,
            "/api/v1/timer/start",
            Some(b"{\"project_id\": 99999999999999999999999}".to_vec()),
        ),
        (
            "a negative duration",
            Method::POST,
            "/api/v1/time-entries",
            Some(
                br#"{"project_id": 1, "start": "2026-11-20T09:00:00Z", "duration_seconds": -5}"#
                    .to_vec(),
            ),
        ),
        (
            "an impossible date",
            Method::POST,
            "/api/v1/time-entries",
            Some(
                br#"{"project_id": 1, "start": "2026-02-30T09:00:00Z", "duration_seconds": 60}"#
                    .to_vec(),
            ),
        ),
        (
            "a huge page size",
            Method::GET,
            "/api/v1/time-entries?per_page=100000000",
            None,
        ),
        (
            "a negative page",
            Method::GET,
            "/api/v1/time-entries?page=-1",
            None,
        ),
        (
            "a page beyond i64",
            Method::GET,
            "/api/v1/time-entries?page=99999999999999999999",
            None,
        ),
        (
            "a bad date in a query",
            Method::GET,
            "/api/v1/time-entries?from=yesterday",
            None,
        ),
        (
            "invalid UTF-8 in a query",
            Method::GET,
            "/api/v1/reports/summary?from=%FF%FE",
            None,
        ),
        (
            "an impossible report day",
            Method::GET,
            "/api/v1/reports/summary?from=2026-13-45",
            None,
        ),
        (
            "an id that is no number",
            Method::GET,
            "/api/v1/time-entries/abc",
            None,
        ),
        (
            "an id beyond i64",
            Method::GET,
            "/api/v1/time-entries/99999999999999999999",
            None,
        ),
    ];
    for (what, method, path, body) in cases {
        assert_clear_rejection(what, t.api(method, path, body).await).await;
    }

    for (what, path, form) in [
        (
            "a page of entries beyond i64",
            "/entries?page=99999999999999999999",
            None,
        ),
        ("a bad day filter", "/entries?from=0000-00-00", None),
        ("invalid UTF-8 in a page query", "/reports?from=%FF", None),
        (
            "an impossible manual entry",
            "/entries/new",
            Some([
                ("project_id", "1"),
                ("start", "2026-02-30T25:61"),
                ("duration", "1:30"),
            ]),
        ),
        (
            "a huge project id",
            "/timer/start",
            Some([
                ("project_id", "99999999999999999999"),
                ("notes", ""),
                ("tags", ""),
            ]),
        ),
    ] {
        let r = match form {
            None => t.admin.get(path).await,
            Some(form) => t.admin.post_form(path, &form).await,
        };
        assert_clear_rejection(what, r).await;
    }
    // Form bodies that are not UTF-8 at all.
    let csrf = t.admin.csrf_token("/profile").await;
    let mut body = format!("csrf_token={csrf}&project_id=1&notes=").into_bytes();
    body.extend_from_slice(b"%FF%FE\xff");
    let r = reqwest::Client::new()
        .post(format!("{}/timer/start", t.app.address))
        .header(
            header::COOKIE,
            format!(
                "tt_session={}",
                t.admin.cookie("tt_session").expect("session")
            ),
        )
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("POST");
    assert!(
        !r.status().is_server_error(),
        "invalid UTF-8 form: {}",
        r.status()
    );
}

/// Strings a careless parser chokes on, and any string at all.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_owned()),
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("9223372036854775808".to_owned()),
        Just("-9223372036854775809".to_owned()),
        Just("1e309".to_owned()),
        Just("NaN".to_owned()),
        Just("null".to_owned()),
        Just("2026-02-30".to_owned()),
        Just("2026-11-20T25:61".to_owned()),
        Just("9999-12-31T23:59:59Z".to_owned()),
        Just("-infinity".to_owned()),
        Just("\u{0}".to_owned()),
        Just("'; DROP TABLE time_entries; --".to_owned()),
        Just("<script>alert(1)</script>".to_owned()),
        Just("x".repeat(6000)),
        Just("all".to_owned()),
        "\\PC{0,40}",
        any::<String>(),
    ]
}

/// JSON values of every kind, hostile texts and numbers included.
fn hostile_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!(u64::MAX)),
        hostile_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The report filter's fields (reports, exports).
const REPORT_FIELDS: &[&str] = &[
    "preset",
    "from",
    "to",
    "group",
    "subgroup",
    "user_id",
    "project_id",
    "client_id",
    "task_id",
    "tag",
    "billable",
];

/// The fields of a time entry in the JSON API.
const API_ENTRY_FIELDS: &[&str] = &[
    "project_id",
    "task_id",
    "start",
    "end",
    "duration_seconds",
    "notes",
    "tags",
    "billable",
    "user_id",
];

/// Every JSON API write and query, with the fields it knows.
const API_ROUTES: &[(&str, &str, &[&str])] = &[
    (
        "PUT",
        "/api/v1/timesheet/cells",
        &["project_id", "task_id", "date", "duration"],
    ),
    (
        "POST",
        "/api/v1/timesheet/rows",
        &["week", "project_id", "task_id"],
    ),
    ("POST", "/api/v1/timesheet/copy", &["week", "with_times"]),
    ("POST", "/api/v1/time-entries", API_ENTRY_FIELDS),
    ("PUT", "/api/v1/time-entries/1", API_ENTRY_FIELDS),
    (
        "POST",
        "/api/v1/timer/start",
        &["project_id", "task_id", "notes", "tags"],
    ),
    ("POST", "/api/v1/timer/stop", &[]),
    (
        "PUT",
        "/api/v1/timer",
        &["project_id", "task_id", "notes", "tags", "start"],
    ),
    (
        "POST",
        "/api/v1/exports",
        &[
            "format",
            "layout",
            "paper",
            "from",
            "to",
            "group",
            "subgroup",
            "user_id",
            "project_id",
            "client_id",
            "task_id",
            "tag",
            "billable",
        ],
    ),
    (
        "GET",
        "/api/v1/time-entries",
        &[
            "from",
            "to",
            "project_id",
            "user_id",
            "page",
            "per_page",
            "after",
            "total",
        ],
    ),
    ("GET", "/api/v1/reports/summary", REPORT_FIELDS),
    ("GET", "/api/v1/clients", &["archived"]),
    ("GET", "/api/v1/timesheet", &["week"]),
    (
        "GET",
        "/api/v1/admin/jobs",
        &["queue", "state", "q", "from", "to", "after"],
    ),
    ("GET", "/api/v1/admin/queues", &[]),
    ("GET", "/api/v1/admin/jobs/x", &[]),
    ("GET", "/api/v1/projects", &["archived"]),
    (
        "GET",
        "/api/v1/tasks",
        &["project_id", "status", "assignee_id"],
    ),
    ("GET", "/api/v1/time-entries/1", &[]),
    ("DELETE", "/api/v1/time-entries/99", &[]),
    (
        "POST",
        "/api/v1/time-entries/bulk",
        &["ids", "action", "project_id", "billable"],
    ),
    ("POST", "/api/v1/clients", API_CLIENT_FIELDS),
    ("PUT", "/api/v1/clients/1", API_CLIENT_FIELDS),
    ("PUT", "/api/v1/clients/1/archived", &["archived"]),
    ("DELETE", "/api/v1/clients/99", &[]),
    ("POST", "/api/v1/projects", API_PROJECT_FIELDS),
    ("PUT", "/api/v1/projects/1", API_PROJECT_FIELDS),
    ("PUT", "/api/v1/projects/1/archived", &["archived"]),
    ("DELETE", "/api/v1/projects/99", &[]),
    ("POST", "/api/v1/tasks", API_TASK_FIELDS),
    ("PUT", "/api/v1/tasks/1", API_TASK_FIELDS),
    ("PUT", "/api/v1/tasks/1/status", &["status"]),
    ("DELETE", "/api/v1/tasks/99", &[]),
];

const API_CLIENT_FIELDS: &[&str] = &[
    "name",
    "contact_name",
    "email",
    "phone",
    "default_hourly_rate_cents",
];
const API_PROJECT_FIELDS: &[&str] = &[
    "name",
    "client_id",
    "billable",
    "hourly_rate_cents",
    "estimated_seconds",
];
const API_TASK_FIELDS: &[&str] = &["project_id", "name", "priority", "assignee_id", "due_date"];

/// Every form and filtered page, with its fields.
const FORMS: &[(&str, &str, &[&str])] = &[
    (
        "POST",
        "/timesheet",
        &["week", "user", "c.1.0.0", "c.1.0.6", "c.x"],
    ),
    (
        "POST",
        "/timesheet/rows",
        &["week", "user", "project_id", "task_id"],
    ),
    ("POST", "/timesheet/copy", &["week", "user", "copy"]),
    ("POST", "/login/code", &["code"]),
    ("GET", "/login/sso", &["next"]),
    ("GET", "/login/sso/callback", &["code", "state", "error"]),
    ("POST", "/profile/two-factor/confirm", &["code"]),
    ("POST", "/profile/two-factor/disable", &["current_password"]),
    ("POST", "/admin/two-factor", &["require"]),
    (
        "POST",
        "/reports/saved",
        &["name", "preset", "from", "to", "group"],
    ),
    (
        "POST",
        "/timer/start",
        &["project_id", "task_id", "notes", "tags"],
    ),
    ("POST", "/profile/name", &["display_name"]),
    (
        "POST",
        "/profile/formats",
        &["date_format", "clock", "week_start"],
    ),
    ("POST", "/profile/email", &["email", "email_password"]),
    (
        "POST",
        "/admin/users/1/edit",
        &["display_name", "email", "role"],
    ),
    (
        "POST",
        "/reset-password",
        &["token", "password", "password_confirm"],
    ),
    ("GET", "/reset-password", &["token"]),
    ("POST", "/forgot-password", &["email"]),
    ("POST", "/invitations", &["invite_email", "invite_role"]),
    (
        "POST",
        "/invoices",
        &[
            "client_id",
            "from",
            "to",
            "grouping",
            "tax_percent",
            "discount_percent",
            "note",
        ],
    ),
    (
        "POST",
        "/invoices/seller",
        &[
            "seller_name",
            "seller_address",
            "seller_tax_id",
            "seller_bank",
            "invoice_number_pattern",
            "invoice_paper",
        ],
    ),
    ("GET", "/invoices", &["status", "client_id", "year"]),
    ("GET", "/invoices.csv", &["status", "client_id", "year"]),
    (
        "POST",
        "/invitation",
        &[
            "token",
            "username",
            "display_name",
            "password",
            "password_confirm",
            "timezone",
        ],
    ),
    ("GET", "/invitation", &["token"]),
    (
        "POST",
        "/timer/edit",
        &[
            "project_id",
            "task_id",
            "notes",
            "tags",
            "start",
            "minutes_ago",
        ],
    ),
    (
        "POST",
        "/entries/bulk",
        &["ids", "action", "project_id", "confirm"],
    ),
    (
        "POST",
        "/tasks/1/edit",
        &["project_id", "name", "priority", "assignee_id", "due_date"],
    ),
    (
        "POST",
        "/entries/new",
        &[
            "project_id",
            "task_id",
            "start",
            "end",
            "duration",
            "notes",
            "tags",
            "billable",
        ],
    ),
    (
        "POST",
        "/entries/1/edit",
        &[
            "project_id",
            "task_id",
            "start",
            "end",
            "duration",
            "notes",
            "tags",
            "billable",
        ],
    ),
    (
        "POST",
        "/clients",
        &[
            "name",
            "contact_name",
            "email",
            "phone",
            "default_hourly_rate",
        ],
    ),
    (
        "POST",
        "/projects",
        &[
            "name",
            "client_id",
            "billable",
            "hourly_rate",
            "estimated_hours",
        ],
    ),
    (
        "POST",
        "/tasks",
        &["project_id", "name", "priority", "assignee_id", "due_date"],
    ),
    (
        "POST",
        "/exports",
        &[
            "format",
            "layout",
            "paper",
            "from",
            "to",
            "group",
            "user_id",
            "project_id",
            "client_id",
            "tag",
            "billable",
        ],
    ),
    ("POST", "/profile/timezone", &["timezone"]),
    ("POST", "/profile/tokens", &["name", "expires_in_days"]),
    (
        "POST",
        "/admin/settings",
        &[
            "currency",
            "rounding_minutes",
            "timer_policy",
            "allow_overlaps",
            "week_start",
            "export_delimiter",
            "long_timer_hours",
            "auto_stop_long_timers",
        ],
    ),
    (
        "POST",
        "/admin/users",
        &[
            "username",
            "email",
            "password",
            "password_confirm",
            "role",
            "timezone",
        ],
    ),
    (
        "GET",
        "/entries",
        &["from", "to", "project_id", "user_id", "page"],
    ),
    ("GET", "/reports", REPORT_FIELDS),
    // The page's own display choices, beside the report's filters.
    ("GET", "/reports", &["hours", "detail_page"]),
    ("GET", "/timesheet", &["week", "day", "user"]),
    (
        "GET",
        "/admin/jobs/list",
        &["queue", "state", "q", "from", "to", "after"],
    ),
    (
        "POST",
        "/admin/jobs/bulk",
        &["action", "queue", "state", "q", "from", "to"],
    ),
    ("POST", "/admin/jobs/queues/report_export/drain", &["x"]),
    ("POST", "/admin/jobs/queues/report_export/pause", &["x"]),
    ("POST", "/admin/jobs/queues/report_export/resume", &["x"]),
    (
        "POST",
        "/admin/telemetry/dead",
        &["action", "id", "event", "state"],
    ),
    ("GET", "/admin/telemetry", &["event", "state"]),
    (
        "GET",
        "/reports/export.csv",
        &["from", "to", "user_id", "project_id", "billable"],
    ),
    ("GET", "/tasks", &["project_id", "status", "page"]),
];

fn query_string(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).expect("encodable")
}

#[test]
fn generated_requests_never_get_a_server_error() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let t = runtime.block_on(target());
    let csrf = runtime.block_on(t.admin.csrf_token("/profile"));
    let session = t.admin.cookie("tt_session").expect("session");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let api_case = (0..API_ROUTES.len()).prop_flat_map(|i| {
        let fields = API_ROUTES[i].2;
        (
            Just(i),
            prop::collection::vec(
                (
                    prop::sample::select(fields.to_vec().max(vec!["x"])),
                    hostile_json(),
                ),
                0..6,
            ),
        )
    });
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 300,
        ..Default::default()
    });
    runner
        .run(&api_case, |(i, fields)| {
            let (method, path, _) = API_ROUTES[i];
            let request = if method == "GET" || method == "DELETE" {
                let pairs: Vec<(String, String)> = fields
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.to_string(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect();
                http.request(
                    method.parse().expect("method"),
                    format!("{}{path}?{}", t.app.address, query_string(&pairs)),
                )
            } else {
                let body: serde_json::Map<String, Value> =
                    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                http.request(
                    method.parse().expect("method"),
                    format!("{}{path}", t.app.address),
                )
                .json(&body)
            };
            let status = runtime
                .block_on(
                    request
                        .header(header::AUTHORIZATION, format!("Bearer {}", t.token))
                        .send(),
                )
                .expect("answer")
                .status();
            prop_assert!(!status.is_server_error(), "{method} {path}: {status}");
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));

    let form_case = (0..FORMS.len()).prop_flat_map(|i| {
        let fields = FORMS[i].2;
        (
            Just(i),
            prop::collection::vec(
                (prop::sample::select(fields.to_vec()), hostile_text()),
                0..8,
            ),
        )
    });
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 300,
        ..Default::default()
    });
    runner
        .run(&form_case, |(i, fields)| {
            let (method, path, _) = FORMS[i];
            let mut pairs: Vec<(String, String)> =
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let request = if method == "GET" {
                http.get(format!("{}{path}?{}", t.app.address, query_string(&pairs)))
            } else {
                pairs.push(("csrf_token".into(), csrf.clone()));
                http.post(format!("{}{path}", t.app.address)).form(&pairs)
            };
            let status = runtime
                .block_on(
                    request
                        .header(header::COOKIE, format!("tt_session={session}"))
                        .send(),
                )
                .expect("answer")
                .status();
            prop_assert!(
                !status.is_server_error(),
                "{method} {path} {pairs:?}: {status}"
            );
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    drop(t);
    drop(runtime);
}

#[tokio::test]
async fn names_and_addresses_that_disguise_themselves_are_refused_beside_the_field() {
    let t = target().await;
    for (path, body, field) in [
        (
            "/api/v1/clients",
            json!({ "name": "Acme\u{202E}gpj.exe" }),
            "name",
        ),
        ("/api/v1/projects", json!({ "name": "P\u{200B}" }), "name"),
        (
            "/api/v1/clients",
            json!({ "name": "Acme", "email": "billing\u{200B}@acme.example" }),
            "email",
        ),
    ] {
        let r = t
            .api(
                Method::POST,
                path,
                Some(serde_json::to_vec(&body).expect("JSON")),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let error: Value = r.json().await.expect("JSON error");
        assert_eq!(error["error"]["field"], field, "{error}");
    }
    let r = t
        .admin
        .post_form("/clients", &[("name", "Globex\u{2067}")])
        .await;
    let page = r.text().await.expect("page");
    assert!(
        page.contains("id=\"name-error\"") && page.contains("direction-changing"),
        "the message beside the field"
    );
    assert!(page.contains("Globex"), "the input is kept");
    let clients = t.api(Method::GET, "/api/v1/clients", None).await;
    let clients: Value = clients.json().await.expect("JSON");
    assert_eq!(clients, json!([]), "nothing stored");
    let r = t
        .admin
        .post_form("/profile/name", &[("display_name", "Ad\u{202E}min")])
        .await;
    let page = assert_form_error(r, "direction-changing").await;
    assert!(
        page.contains("value=\"Ad\u{202E}min\""),
        "display names too, and what was typed is kept"
    );
}

#[tokio::test]
async fn broken_uploads_get_a_clear_4xx_and_keep_nothing() {
    let t = target().await;
    let token = t.admin.csrf_token("/invoices/seller").await;
    let upload = |body: Vec<u8>, content_type: &'static str| {
        let t = &t;
        async move {
            t.admin
                .post_raw_body("/invoices/seller/logo", content_type, body)
                .await
        }
    };
    let first =
        format!("--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n");
    let cases: Vec<(&str, Vec<u8>, &'static str)> = vec![
        ("no boundary", b"--b\r\n".to_vec(), "multipart/form-data"),
        (
            "another boundary than the body's",
            first.clone().into_bytes(),
            "multipart/form-data; boundary=zz",
        ),
        (
            "the body stops inside the file",
            format!("{first}--b\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"a.png\"\r\n\r\n\u{89}PNG").into_bytes(),
            "multipart/form-data; boundary=b",
        ),
        (
            "a token part and nothing after it",
            format!("{first}--b--\r\n").into_bytes(),
            "multipart/form-data; boundary=b",
        ),
        (
            "a file part without a name",
            format!("{first}--b\r\nContent-Disposition: form-data\r\n\r\nxyz\r\n--b--\r\n").into_bytes(),
            "multipart/form-data; boundary=b",
        ),
        (
            "a token that never ends",
            [b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n".as_slice(), &vec![b'a'; 40_000]].concat(),
            "multipart/form-data; boundary=b",
        ),
    ];
    for (what, body, content_type) in cases {
        assert_clear_rejection(what, upload(body, content_type).await).await;
    }
    // Random bytes as the file: refused beside the field, never a 5xx.
    let mut runner = TestRunner::new(ProptestConfig::with_cases(24));
    let strategy = proptest::collection::vec(any::<u8>(), 0..4096);
    for _ in 0..24 {
        let bytes = strategy.new_tree(&mut runner).expect("bytes").current();
        let r = t
            .admin
            .upload("/invoices/seller/logo", "logo", "x.png", &bytes)
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(
        t.app
            .scalar::<i64>("SELECT count(*) FROM seller_logos")
            .await,
        0
    );
}
