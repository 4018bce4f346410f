use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn plain_users_get_403_on_every_admin_page_and_action() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let admin_id = app.user_id("admin").await;
    for path in ["/admin/users", "/admin/jobs"] {
        assert_eq!(
            bob.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    for path in [
        format!("/admin/users/{admin_id}/role"),
        format!("/admin/users/{admin_id}/deactivate"),
        "/admin/jobs/x/retry".to_owned(),
    ] {
        let r = bob.post_form(&path, &[("role", "user")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE username = 'admin'")
        .fetch_one(&app.pool)
        .await
        .expect("row");
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
    let r = admin
        .post_form(&format!("/admin/users/{id}/role"), &[("role", "user")])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "with a second admin the demotion works"
    );
    assert_eq!(
        admin.get("/admin/users").await.status(),
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
                .post_form(
                    &format!("/admin/users/{carol_id}/role"),
                    &[("role", "user")],
                )
                .await
                .status()
        }
    });
    let b = tokio::spawn(async move {
        carol
            .post_form(
                &format!("/admin/users/{admin_id}/role"),
                &[("role", "user")],
            )
            .await
            .status()
    });
    let _ = (a.await.expect("task"), b.await.expect("task"));
    let admins: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin' AND active")
            .fetch_one(&app.pool)
            .await
            .expect("count");
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
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let profile = bob.get("/profile").await.text().await.expect("body");
    assert!(profile.contains(r#"<option value="America/New_York" selected>"#));
    assert_eq!(
        bob.post_form("/profile/timezone", &[("timezone", "Nowhere")])
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        admin
            .post_form("/admin/users/not-a-number/deactivate", &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin
            .post_form("/admin/users/999999/deactivate", &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
