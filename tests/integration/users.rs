//! People and roles: the admin pages only for admins, the last admin kept,
//! user input checked, one's own timezone, email, formats and reset links.

use reqwest::StatusCode;

use crate::support::{assert_is_redirect, spawn_app};

#[tokio::test]
async fn plain_users_get_403_on_every_admin_page_and_action() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let admin_id = app.user_id("admin").await;
    for path in ["/admin/users", "/admin/jobs"] {
        assert_eq!(bob.get_status(path).await, StatusCode::FORBIDDEN, "{path}");
    }
    for path in [
        format!("/admin/users/{admin_id}/role"),
        format!("/admin/users/{admin_id}/deactivate"),
        "/admin/jobs/x/retry".to_owned(),
    ] {
        let r = bob.post_form(&path, &[("role", "user")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let role: String = app
        .scalar("SELECT role FROM users WHERE username = 'admin'")
        .await;
    assert_eq!(role, "admin");
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let id = app.user_id("admin").await;
    let r = admin
        .post_form(&format!("/admin/users/{id}/role"), &[("role", "user")])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("last active administrator")
    );
    let r = admin
        .post_form(
            &format!("/admin/users/{id}/deactivate"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    app.create_user(&admin, "carol", "admin").await;
    admin
        .submit(&format!("/admin/users/{id}/role"), &[("role", "user")])
        .await;
    assert_eq!(
        admin.get_status("/admin/users").await,
        StatusCode::FORBIDDEN,
        "and takes effect at once"
    );
}

#[tokio::test]
async fn concurrent_demotions_of_the_last_two_admins_leave_one_admin() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let carol = app.create_user(&admin, "carol", "admin").await;
    let (admin_id, carol_id) = (app.user_id("admin").await, app.user_id("carol").await);
    let a = tokio::spawn({
        let admin = admin.clone();
        async move {
            admin
                .post_status(
                    &format!("/admin/users/{carol_id}/role"),
                    &[("role", "user")],
                )
                .await
        }
    });
    let b = tokio::spawn(async move {
        carol
            .post_status(
                &format!("/admin/users/{admin_id}/role"),
                &[("role", "user")],
            )
            .await
    });
    let _ = (a.await.expect("task"), b.await.expect("task"));
    let admins: i64 = app
        .scalar("SELECT count(*) FROM users WHERE role = 'admin' AND active")
        .await;
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn creating_a_user_validates_input_and_refuses_taken_names() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let r = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "dave"),
                ("email", "not-an-email"),
                ("password", "dave password"),
                ("password_confirm", "dave password"),
                ("role", "user"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("body");
    assert!(html.contains("Enter an email address") && html.contains(r#"value="dave""#));
    app.create_user(&admin, "dave", "user").await;
    let r = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "DAVE"),
                ("email", "d2@example.org"),
                ("password", "dave password"),
                ("password_confirm", "dave password"),
                ("role", "user"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "usernames are unique regardless of case"
    );
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("This username is taken")
    );
}

#[tokio::test]
async fn users_change_their_own_timezone_and_bad_ids_are_404() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let r = bob
        .post_form("/profile/timezone", &[("timezone", "America/New_York")])
        .await;
    assert_is_redirect(&r);
    let profile = bob.get_text("/profile").await;
    assert!(profile.contains(r#"<option value="America/New_York" selected>"#));
    assert_eq!(
        bob.post_status("/profile/timezone", &[("timezone", "Nowhere")])
            .await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        admin
            .post_status("/admin/users/not-a-number/deactivate", &[])
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin
            .post_status("/admin/users/999999/deactivate", &[])
            .await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn people_have_names_change_their_email_with_their_password_and_get_reset_links() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let bob_id = app.user_id("bob").await;

    // Bob names himself; the navigation shows it.
    bob.submit("/profile/name", &[("display_name", "Bob Builder")])
        .await;
    assert!(bob.get_text("/").await.contains("Bob Builder"));

    // His email changes only with his password.
    let r = bob
        .post_form(
            "/profile/email",
            &[
                ("email", "bob@new.example"),
                ("email_password", "wrong password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("Your password is wrong.")
    );
    bob.submit(
        "/profile/email",
        &[
            ("email", "bob@new.example"),
            ("email_password", "bob password"),
        ],
    )
    .await;
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(bob_id)
        .fetch_one(&app.pool)
        .await
        .expect("email");
    assert_eq!(email, "bob@new.example");

    // An administrator edits name, email and role; the last admin stays one.
    admin
        .submit(
            &format!("/admin/users/{bob_id}/edit"),
            &[
                ("display_name", "Robert"),
                ("email", "robert@example.org"),
                ("role", "admin"),
            ],
        )
        .await;
    let admin_id = app.user_id("admin").await;
    admin
        .submit(
            &format!("/admin/users/{bob_id}/edit"),
            &[
                ("display_name", "Robert"),
                ("email", "robert@example.org"),
                ("role", "user"),
            ],
        )
        .await;
    let r = admin
        .post_form(
            &format!("/admin/users/{admin_id}/edit"),
            &[
                ("display_name", ""),
                ("email", "admin@example.org"),
                ("role", "user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "the last admin");

    // A reset link, shown once to the admin, sets Bob's password once.
    let (page, link) = make_reset_link(&admin, bob_id).await;
    assert!(!page.contains("bob password"), "no password is ever shown");
    let again = admin.get_text("/admin/users").await;
    assert!(!again.contains(&link), "shown only once");
    let path = &link[link.find("/reset-password").expect("path")..];
    let visitor = app.client();
    let form = visitor.get(path).await;
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.expect("page");
    let token = crate::support::csrf_in(&html).expect("csrf");
    let reset_token = path.split("token=").nth(1).expect("token");
    let r = visitor
        .post_raw(
            "/reset-password",
            &[
                ("csrf_token", &token),
                ("token", reset_token),
                ("password", "a brand new password"),
                ("password_confirm", "a brand new password"),
            ],
        )
        .await;
    assert_is_redirect(&r);
    assert_eq!(
        bob.get_status("/").await,
        StatusCode::SEE_OTHER,
        "his sessions ended"
    );
    assert_eq!(
        app.client().login("bob", "bob password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.client()
            .login("bob", "a brand new password")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        visitor.get_status(path).await,
        StatusCode::NOT_FOUND,
        "used once"
    );
}

#[tokio::test]
async fn each_person_reads_dates_and_times_in_their_own_format() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    admin.submit("/projects", &[("name", "Formats")]).await;
    admin
        .submit(
            "/entries/new",
            &[
                ("project_id", "1"),
                ("start", "2026-11-30T14:30"),
                ("duration", "1:00"),
            ],
        )
        .await;
    let page = admin.get_text("/entries").await;
    assert!(
        page.contains("2026-11-30 14:30") && page.contains("Monday, 2026-11-30"),
        "ISO by default"
    );

    let r = admin
        .post_form(
            "/profile/formats",
            &[
                ("date_format", "dmy"),
                ("clock", "12h"),
                ("week_start", "sunday"),
            ],
        )
        .await;
    assert_is_redirect(&r);
    let page = admin.get_text("/entries").await;
    assert!(
        page.contains("30.11.2026 2:30 PM") && page.contains("Monday, 30.11.2026"),
        "{page}"
    );
    // Fields show and take the same format.
    let form = admin.get_text("/entries/new").await;
    assert!(
        form.contains(r#"placeholder="30.11.2026 2:30 PM""#),
        "{form}"
    );
    admin
        .submit(
            "/entries/new",
            &[
                ("project_id", "1"),
                ("start", "01.12.2026 9:15 AM"),
                ("end", "01.12.2026 10:00 AM"),
            ],
        )
        .await;
    let page = admin
        .get_text("/entries?from=01.12.2026&to=01.12.2026")
        .await;
    assert!(
        page.contains("01.12.2026 9:15 AM") && page.contains("0:45:00"),
        "{page}"
    );
    let r = admin.get("/entries?from=12/01/2026").await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not this person's order"
    );
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("Enter a date like 30.11.2026.")
    );

    let r = admin
        .post_form(
            "/profile/formats",
            &[("date_format", "yyyy"), ("clock", "12h")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let week_start: String = app
        .scalar("SELECT week_start FROM users WHERE username = 'admin'")
        .await;
    assert_eq!(week_start, "sunday");
}

/// An administrator makes a reset link for `user_id`: the users page that
/// shows it once, and the link.
async fn make_reset_link(admin: &crate::support::TestClient, user_id: i64) -> (String, String) {
    let r = admin
        .post_form(&format!("/admin/users/{user_id}/reset-password"), &[])
        .await;
    assert_is_redirect(&r);
    let page = admin.get_text("/admin/users").await;
    let marker = r#"<code id="reset-link">"#;
    let start = page.find(marker).expect("the link is shown") + marker.len();
    let link = page[start..start + page[start..].find('<').expect("end")].to_owned();
    (page, link)
}

#[tokio::test]
async fn a_reset_link_made_before_a_deactivation_never_works_again() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.create_user(&admin, "bob", "user").await;
    let bob_id = app.user_id("bob").await;
    let (_, link) = make_reset_link(&admin, bob_id).await;
    let path = link[link.find("/reset-password").expect("path")..].to_owned();
    assert_eq!(app.client().get(&path).await.status(), StatusCode::OK);

    app.deactivate_user(&admin, bob_id).await;
    admin
        .submit(&format!("/admin/users/{bob_id}/activate"), &[])
        .await;
    assert_eq!(
        app.client().get(&path).await.status(),
        StatusCode::NOT_FOUND,
        "the old link was revoked with the deactivation"
    );
}
