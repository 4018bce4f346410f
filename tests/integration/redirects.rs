//! Redirects, headers and messages built from input: a redirect target from
//! input is a same-site path or `/`, never a 5xx; a notice is shown only when
//! the app wrote it; every 5xx leaves an ERROR line with its request id; no
//! response with someone's data may be stored by a cache.

use proptest::{prelude::*, test_runner::TestRunner};
use reqwest::{StatusCode, header};

use crate::support::{assert_is_redirect, assert_redirects_to};
use crate::{
    process::Process,
    support::{
        ADMIN_PASSWORD, DbProxy, SETUP_TOKEN, TestClient, TestDb, csrf_in, database_socket,
        download_link, location, spawn_app, spawn_app_with, via_port,
    },
};

/// The rule every `Location` we send must follow.
fn is_safe_location(location: &str) -> bool {
    location.starts_with('/')
        && !location.starts_with("//")
        && location.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

/// Redirect targets an attacker would try, and any string at all.
fn targets() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("//evil.example".to_owned()),
        Just("/\\evil.example".to_owned()),
        Just("\\\\evil.example".to_owned()),
        Just("/\t/evil.example".to_owned()),
        Just("/\r\n/evil.example".to_owned()),
        Just("/%0d%0aSet-Cookie:x=1".to_owned()),
        Just("/\r\nSet-Cookie: x=1".to_owned()),
        Just("https://evil.example/".to_owned()),
        Just(" //evil.example".to_owned()),
        Just("javascript:alert(1)".to_owned()),
        Just("/\u{85}/evil.example".to_owned()),
        Just("/profile".to_owned()),
        "/[\\PC\\p{Cc}\\\\/ ]{0,30}",
        "\\PC{0,30}",
        any::<String>(),
    ]
}

#[test]
fn every_redirect_target_from_input_is_a_local_path_or_the_root() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime.block_on(spawn_app());
    runtime.block_on(app.setup_admin());
    // One anonymous CSRF anchor for every sign-in below.
    let anon = TestClient::new(&app.address);
    let html = runtime.block_on(async { anon.get_text("/login").await });
    let token = csrf_in(&html).expect("token");
    let anchor = anon.cookie("tt_pre").expect("anchor");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let mut runner = TestRunner::new(ProptestConfig {
        cases: 200,
        ..Default::default()
    });
    runner
        .run(&targets(), |next| {
            let form = [
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("next", next.as_str()),
                ("csrf_token", token.as_str()),
            ];
            let r = runtime
                .block_on(
                    http.post(format!("{}/login", app.address))
                        .header(header::COOKIE, format!("tt_pre={anchor}"))
                        .form(&form)
                        .send(),
                )
                .expect("answer");
            prop_assert_eq!(r.status(), StatusCode::SEE_OTHER, "next = {:?}", next);
            let to = location(&r);
            prop_assert!(is_safe_location(&to), "next = {:?} went to {:?}", next, to);
            if is_safe_location(&next) {
                prop_assert_eq!(&to, &next, "a safe target is kept");
            } else {
                prop_assert_eq!(to.as_str(), "/", "next = {:?}", next);
            }

            // The sign-in page keeps the target only when it is safe too.
            let query = serde_urlencoded::to_string([("next", &next)]).expect("query");
            let r = runtime
                .block_on(http.get(format!("{}/login?{query}", app.address)).send())
                .expect("answer");
            prop_assert_eq!(r.status(), StatusCode::OK, "GET next = {:?}", next);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));

    // The 401 redirect carries the requested path, which is always one of ours.
    for path in [
        "/entries?from=2026-11-01&x=%0d%0a",
        "/reports?next=%5C%5Cevil",
        "/profile?a=//evil",
    ] {
        let r = runtime
            .block_on(http.get(format!("{}{path}", app.address)).send())
            .expect("answer");
        assert_is_redirect(&r);
        let to = location(&r);
        assert!(to.starts_with("/login?next="), "{to}");
        let next: Vec<(String, String)> =
            serde_urlencoded::from_str(&to["/login?".len()..]).expect("query");
        assert!(is_safe_location(&next[0].1), "{path} → {to}");
    }
    drop(app);
    drop(runtime);
}

#[tokio::test]
async fn a_notice_in_the_url_is_not_shown_but_a_notice_the_app_wrote_is_shown_once() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let crafted = "Your account is locked. Call +1 555 0100 to unlock it.";
    let query = serde_urlencoded::to_string([("notice", crafted)]).expect("query");
    for path in [
        "/login",
        "/",
        "/profile",
        "/entries",
        "/clients",
        "/admin/users",
    ] {
        let client = if path == "/login" {
            app.client()
        } else {
            admin.clone()
        };
        let page = client.get_text(&format!("{path}?{query}")).await;
        assert!(
            !page.contains("Call +1 555"),
            "{path} showed the crafted notice"
        );
    }

    // A forged or tampered flash cookie is ignored too.
    let forged = admin.clone();
    forged.set_cookie("tt_flash", &format!("{}.00", hex(crafted)));
    let page = forged.get_text("/profile").await;
    assert!(!page.contains("Call +1 555"));

    let r = admin
        .post_form("/profile/timezone", &[("timezone", "Europe/Paris")])
        .await;
    assert_redirects_to(&r, "/profile");
    let page = admin.get_text("/profile").await;
    assert!(
        page.contains("Timezone saved."),
        "the app's own notice shows"
    );
    let again = admin.get_text("/profile").await;
    assert!(!again.contains("Timezone saved."), "once");
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn every_server_error_is_logged_at_error_with_its_request_id() {
    let db = TestDb::new().await;
    let proxy = DbProxy::start(database_socket().await).await;
    let url = via_port(&db.url, proxy.port);
    let mut web = Process::start(
        "timetracker",
        &["serve"],
        &[
            ("DATABASE_URL", &url),
            ("HTTP_ADDR", "127.0.0.1:0"),
            ("WEB_METRICS_ADDR", "127.0.0.1:0"),
            ("LOG_FILE", ""),
            ("SETUP_TOKEN", SETUP_TOKEN),
            ("DATABASE_ACQUIRE_TIMEOUT_SECONDS", "1"),
        ],
    );
    let port = web.wait_for_log("web server listening").await["port"]
        .as_u64()
        .expect("port");
    let admin = TestClient::new(&format!("http://127.0.0.1:{port}"));
    assert_eq!(
        admin.submit_setup("admin", "off").await.status(),
        StatusCode::SEE_OTHER
    );
    proxy.take_down();
    let mut ids = Vec::new();
    for path in ["/", "/api/v1/me", "/entries"] {
        let r = admin.get(path).await;
        assert!(r.status().is_server_error(), "{path}: {}", r.status());
        ids.push(r.headers()["x-request-id"].to_str().expect("id").to_owned());
    }
    proxy.bring_up();
    let lines: Vec<serde_json::Value> = web
        .output()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for id in &ids {
        let errors = lines
            .iter()
            .filter(|l| l["request_id"] == id.as_str() && l["level"] == "ERROR")
            .count();
        assert_eq!(
            errors,
            1,
            "one ERROR line for request {id}:\n{}",
            web.output()
        );
    }
    web.terminate();
}

#[tokio::test]
async fn no_page_api_answer_or_download_with_personal_data_may_be_cached() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let token = admin.api_token("cache", "").await;
    let r = admin.request_export("csv", &[]).await;
    assert_is_redirect(&r);
    app.run_pending_jobs().await;
    let exports = admin.get_text("/exports").await;
    let download = download_link(&exports).expect("a download link");
    for path in [
        "/",
        "/profile",
        "/entries",
        "/reports",
        "/admin/users",
        "/exports",
        &download,
    ] {
        let r = admin.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store", "{path}");
    }
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET /api/v1/me");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store", "the API");
    let r = admin.get("/static/app.css").await;
    assert_eq!(
        r.headers()[header::CACHE_CONTROL],
        "public, max-age=3600",
        "static files keep their own caching"
    );
    assert!(
        !r.headers().contains_key(header::STRICT_TRANSPORT_SECURITY),
        "no HSTS for a plain-http PUBLIC_URL"
    );
}

#[tokio::test]
async fn an_https_public_url_turns_hsts_on() {
    let app = spawn_app_with(&[("PUBLIC_URL", "https://tt.example.org")]).await;
    let r = app.client().get("/login").await;
    assert_eq!(
        r.headers()[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000"
    );
}
