//! Signing in and out: one answer for unknown users and wrong passwords,
//! the login limits, CSRF on every write, and the session cookie's flags.

use reqwest::StatusCode;

use crate::support::{
    ADMIN_PASSWORD, assert_is_redirect, csrf_in, location, spawn_app, spawn_app_with,
};

/// A login response's status and page, with the per-client CSRF token removed.
async fn login_answer(
    client: &crate::support::TestClient,
    username: &str,
    password: &str,
) -> (StatusCode, String) {
    let r = client.login(username, password).await;
    let status = r.status();
    let html = r.text().await.expect("body");
    let token = csrf_in(&html).unwrap_or_default();
    (status, html.replace(&token, "TOKEN"))
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_get_the_same_answer() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.create_user(&admin, "bob", "user").await;
    let (s1, wrong_password) = login_answer(&app.client(), "bob", "not bob's password").await;
    let (s2, unknown_user) = login_answer(&app.client(), "nobody", "not bob's password").await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(s1, s2);
    assert!(wrong_password.contains("The username or password is wrong."));
    // The page echoes the typed username; apart from that, the answers are identical.
    assert_eq!(
        wrong_password.replace("bob", "X"),
        unknown_user.replace("nobody", "X")
    );
}

#[tokio::test]
async fn deactivated_users_are_signed_out_and_cannot_sign_in() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    assert_eq!(bob.get_status("/").await, StatusCode::OK);
    let id = app.user_id("bob").await;
    app.deactivate_user(&admin, id).await;
    let r = bob.get("/").await;
    assert_is_redirect(&r);
    assert!(location(&r).starts_with("/login"));
    let (status, _) = login_answer(&app.client(), "bob", "bob password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    admin
        .post_form(&format!("/admin/users/{id}/activate"), &[])
        .await;
    assert_eq!(
        app.client().login("bob", "bob password").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn writes_without_a_valid_csrf_token_are_rejected() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let form = [
        ("username", "eve"),
        ("email", "eve@example.org"),
        ("password", "eve password"),
        ("password_confirm", "eve password"),
        ("role", "admin"),
        ("timezone", "UTC"),
    ];
    let r = admin.post_raw("/admin/users", &form).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.expect("body").contains("The form expired"));
    let mut forged = form.to_vec();
    forged.push(("csrf_token", "0000"));
    assert_eq!(
        admin.post_raw("/admin/users", &forged).await.status(),
        StatusCode::FORBIDDEN
    );
    // A token from another session does not work either.
    let other = app.client();
    other.login("admin", ADMIN_PASSWORD).await;
    let foreign = other.csrf_token("/profile").await;
    let mut foreign_form = form.to_vec();
    foreign_form.push(("csrf_token", &foreign));
    assert_eq!(
        admin.post_raw("/admin/users", &foreign_form).await.status(),
        StatusCode::FORBIDDEN
    );
    let eve: i64 = app
        .scalar("SELECT count(*) FROM users WHERE username = 'eve'")
        .await;
    assert_eq!(eve, 0);
    // The login form is protected too.
    let anon = app.client();
    let r = anon
        .post_raw(
            "/login",
            &[("username", "admin"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_login_limit_stops_guessing_even_with_the_right_password() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let client = app.client();
    for _ in 0..5 {
        assert_eq!(
            client.login("admin", "wrong guess!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = client.login("Admin", ADMIN_PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the account limit ignores letter case"
    );
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.expect("body").contains("Too many attempts"));
}

/// Moves every throttle counter's last failure back, as if the delay had passed.
async fn let_the_delay_pass(app: &crate::support::TestApp) {
    app.exec("UPDATE login_throttle SET last_failure_at = last_failure_at - interval '1 hour'")
        .await;
}

#[tokio::test]
async fn someone_who_knows_a_username_cannot_lock_its_owner_out_from_another_address() {
    let app = spawn_app_with(&[("TRUST_PROXY_HEADERS", "true")]).await;
    app.setup_admin().await;
    let attacker = app.client().with_header("x-forwarded-for", "203.0.113.9");
    for _ in 0..5 {
        assert_eq!(
            attacker.login("admin", "wrong guess!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    for _ in 0..10 {
        assert_eq!(
            attacker.login("admin", "wrong guess!").await.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "the attacker's address waits"
        );
    }
    let owner = app.client().with_header("x-forwarded-for", "198.51.100.7");
    let r = owner.login("admin", ADMIN_PASSWORD).await;
    assert_is_redirect(&r);
}

#[tokio::test]
async fn brute_force_from_one_address_waits_a_delay_that_doubles() {
    let app = spawn_app_with(&[("TRUST_PROXY_HEADERS", "true")]).await;
    app.setup_admin().await;
    let guesser = app.client().with_header("x-forwarded-for", "203.0.113.9");
    for _ in 0..5 {
        assert_eq!(
            guesser.login("admin", "wrong guess!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let mut waits = Vec::new();
    for _ in 0..3 {
        let r = guesser.login("admin", ADMIN_PASSWORD).await;
        assert_eq!(
            r.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "even the right password waits"
        );
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        waits.push(wait);
        let_the_delay_pass(&app).await;
        assert_eq!(
            guesser.login("admin", "wrong guess!").await.status(),
            StatusCode::UNAUTHORIZED,
            "after the delay one more guess counts"
        );
    }
    assert!(
        (1..=2).contains(&waits[0]) && (3..=4).contains(&waits[1]) && (7..=8).contains(&waits[2]),
        "{waits:?}"
    );
}

#[tokio::test]
async fn the_login_limit_also_counts_per_client_address() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let client = app.client();
    for i in 0..20 {
        let r = client.login(&format!("someone{i}"), "wrong guess!").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        client.login("admin", ADMIN_PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn signing_out_ends_the_session_everywhere_it_was_copied() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let stolen = app.client();
    stolen.set_cookie(
        "tt_session",
        &admin.cookie("tt_session").expect("session cookie"),
    );
    assert_eq!(stolen.get_status("/").await, StatusCode::OK);
    let r = admin.post_form("/logout", &[]).await;
    assert_eq!(location(&r), "/login");
    assert!(
        admin.cookie("tt_session").is_none(),
        "the cookie is cleared"
    );
    assert_eq!(
        stolen.get_status("/").await,
        StatusCode::SEE_OTHER,
        "the session is gone server-side"
    );
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site() {
    let app = spawn_app().await;
    let client = app.client();
    let token = client.csrf_token("/setup").await;
    let r = client
        .post_raw(
            "/setup",
            &[
                ("csrf_token", &token),
                ("token", crate::support::SETUP_TOKEN),
                ("username", "admin"),
                ("email", "a@example.org"),
                ("password", ADMIN_PASSWORD),
                ("password_confirm", ADMIN_PASSWORD),
                ("timezone", "UTC"),
                ("telemetry", "off"),
            ],
        )
        .await;
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tt_session="))
        .expect("session cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let stored: Vec<u8> = app.scalar("SELECT token_hash FROM sessions").await;
    let value = cookie
        .trim_start_matches("tt_session=")
        .split(';')
        .next()
        .expect("value");
    assert_ne!(
        stored,
        value.as_bytes(),
        "only a hash of the token is stored"
    );
}

#[tokio::test]
async fn secure_cookies_are_set_for_https_deployments() {
    let app = crate::support::spawn_app_with(&[("PUBLIC_URL", "https://tt.example.org")]).await;
    let r = app.client().get("/setup").await;
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("pre-session cookie")
        .to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn changing_the_password_replaces_the_old_one_and_ends_other_sessions() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let laptop = app.client();
    laptop.login("admin", ADMIN_PASSWORD).await;
    let r = admin
        .post_form(
            "/profile/password",
            &[
                ("current_password", "wrong"),
                ("password", "a new password"),
                ("password_confirm", "a new password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("current password is wrong")
    );
    admin
        .submit(
            "/profile/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("password", "a new password"),
                ("password_confirm", "a new password"),
            ],
        )
        .await;
    assert_eq!(
        admin.get_status("/").await,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        laptop.get_status("/").await,
        StatusCode::SEE_OTHER,
        "the other session ended"
    );
    assert_eq!(
        app.client().login("admin", ADMIN_PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.client().login("admin", "a new password").await.status(),
        StatusCode::SEE_OTHER
    );
}
