//! First-run setup: every page leads there until it is done, the setup
//! token, the install-ping choice, bad input kept beside its field, and one
//! winner among concurrent setups.

use reqwest::StatusCode;

use crate::support::{SETUP_TOKEN, assert_is_redirect, assert_redirects_to, location, spawn_app};

#[tokio::test]
async fn every_page_redirects_to_setup_until_it_is_done() {
    let app = spawn_app().await;
    let client = app.client();
    for path in ["/", "/login", "/profile", "/admin/users", "/no-such-page"] {
        let r = client.get(path).await;
        assert_redirects_to(&r, "/setup");
    }
    let r = client.get("/api/v1/me").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "setup_required");
    for path in ["/health/live", "/static/app.css", "/setup"] {
        assert_eq!(client.get_status(path).await, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn setup_shows_the_exact_install_ping_with_equal_choices() {
    let app = spawn_app().await;
    let html = app.client().get_text("/setup").await;
    let install_id: uuid::Uuid = app.scalar("SELECT install_id FROM installation").await;
    assert!(
        html.contains(&install_id.to_string()),
        "the ping preview shows the install id"
    );
    let unescaped = html.replace("&#34;", "\"").replace("&quot;", "\"");
    assert!(
        unescaped.contains("\"$process_person_profile\": false"),
        "{html}"
    );
    assert!(
        html.contains(r#"name="telemetry" value="off""#)
            && html.contains(r#"name="telemetry" value="on""#)
    );
}

#[tokio::test]
async fn a_wrong_or_missing_setup_token_is_refused_and_creates_nothing() {
    let app = spawn_app().await;
    let client = app.client();
    for token in ["wrong-token", ""] {
        let csrf = client.csrf_token("/setup").await;
        let r = client
            .post_raw(
                "/setup",
                &[
                    ("csrf_token", &csrf),
                    ("token", token),
                    ("username", "mallory"),
                    ("email", "m@example.org"),
                    ("password", "mallory password"),
                    ("password_confirm", "mallory password"),
                    ("timezone", "UTC"),
                    ("telemetry", "off"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(
            r.text()
                .await
                .expect("body")
                .contains("setup token is not valid")
        );
    }
    let users: i64 = app.scalar("SELECT count(*) FROM users").await;
    assert_eq!(users, 0);
    assert_eq!(
        location(&client.get("/").await),
        "/setup",
        "setup is still pending"
    );
}

#[tokio::test]
async fn invalid_setup_input_is_explained_next_to_the_field_and_kept() {
    let app = spawn_app().await;
    let client = app.client();
    let csrf = client.csrf_token("/setup").await;
    let r = client
        .post_raw(
            "/setup",
            &[
                ("csrf_token", &csrf),
                ("token", SETUP_TOKEN),
                ("username", "ada lovelace"),
                ("email", "ada@example.org"),
                ("password", "short"),
                ("password_confirm", "short"),
                ("timezone", "Mars/Base"),
                ("telemetry", "off"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("Use only letters, digits"),
        "username error shown"
    );
    assert!(
        html.contains("at least 10 characters"),
        "password error shown"
    );
    assert!(html.contains("Choose a timezone"), "timezone error shown");
    assert!(html.contains(r#"value="ada@example.org""#), "input kept");
    assert!(
        !html.contains(r#"value="short""#),
        "passwords are not echoed"
    );
}

#[tokio::test]
async fn of_concurrent_setups_exactly_one_wins() {
    let app = spawn_app().await;
    // Every client has its form first: once a setup wins, /setup shows no
    // form any more (fetching it inside the race failed on a loaded machine).
    let mut clients = Vec::new();
    for _ in 0..4 {
        let client = app.client();
        let token = client.csrf_token("/setup").await;
        clients.push((client, token));
    }
    let mut tasks = Vec::new();
    for (i, (client, token)) in clients.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            client
                .post_setup(&token, &format!("admin{i}"), "off")
                .await
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let users: i64 = app.scalar("SELECT count(*) FROM users").await;
    assert_eq!(users, 1);
}

#[tokio::test]
async fn the_admin_created_by_setup_can_sign_in_and_setup_cannot_run_again() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    assert_eq!(
        admin.get_status("/").await,
        StatusCode::OK,
        "setup signs the admin in"
    );

    let other = app.client();
    let r = other.login("admin", crate::support::ADMIN_PASSWORD).await;
    assert_redirects_to(&r, "/");
    assert_eq!(location(&other.get("/setup").await), "/login");
    let csrf = other.csrf_token("/login").await;
    let r = other
        .post_raw(
            "/setup",
            &[
                ("csrf_token", &csrf),
                ("token", SETUP_TOKEN),
                ("username", "intruder"),
                ("email", "i@example.org"),
                ("password", "intruder password"),
                ("password_confirm", "intruder password"),
                ("timezone", "UTC"),
                ("telemetry", "on"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "a second setup must not succeed"
    );
    let token: Option<String> = app.scalar("SELECT setup_token FROM installation").await;
    assert_eq!(token, None, "the one-time token is gone");
}

#[tokio::test]
async fn the_telemetry_choice_is_stored_as_given() {
    for (choice, expected) in [("on", true), ("off", false)] {
        let app = spawn_app().await;
        let r = app.client().submit_setup("admin", choice).await;
        assert_is_redirect(&r);
        let (consent, at): (bool, Option<chrono::DateTime<chrono::Utc>>) =
            sqlx::query_as("SELECT telemetry_consent, telemetry_consent_at FROM installation")
                .fetch_one(&app.pool)
                .await
                .expect("row");
        assert_eq!(consent, expected);
        assert_eq!(
            at.is_some(),
            expected,
            "consent time recorded only when given"
        );
    }
}
