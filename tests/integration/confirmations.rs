//! Nothing destructive happens on one click: without `confirm=yes` every
//! delete, revoke and deactivate answers with a page that names the thing and
//! asks, and changes nothing; with it, it acts.

use reqwest::StatusCode;

use crate::support::{assert_is_redirect, location, spawn_app};

#[tokio::test]
async fn every_destructive_action_asks_first_and_changes_nothing_until_confirmed() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let bob_id = app.user_id("bob").await;
    for (path, form) in [
        ("/clients", vec![("name", "Acme")]),
        ("/projects", vec![("name", "Unused")]),
        ("/projects", vec![("name", "Website")]),
        (
            "/tasks",
            vec![
                ("project_id", "2"),
                ("name", "Design"),
                ("priority", "high"),
            ],
        ),
        (
            "/entries/new",
            vec![
                ("project_id", "2"),
                ("start", "2026-11-30T09:00"),
                ("duration", "1:00"),
            ],
        ),
    ] {
        assert_eq!(
            admin.post_status(path, &form).await,
            StatusCode::SEE_OTHER,
            "{path}"
        );
    }
    admin.api_token("deploy script", "").await;
    let count = |sql: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .expect(sql)
        }
    };
    let cases = [
        (
            "/entries/1/delete",
            "Delete the entry of 2026-11-30 09:00 on Website (1:00:00)?",
            "SELECT count(*) FROM time_entries",
        ),
        (
            "/tasks/1/delete",
            "Delete the task “Design” of Website?",
            "SELECT count(*) FROM tasks",
        ),
        (
            "/projects/1/delete",
            "Delete the project “Unused”?",
            "SELECT count(*) FROM projects",
        ),
        (
            "/clients/1/delete",
            "Delete the client “Acme”?",
            "SELECT count(*) FROM clients",
        ),
        (
            "/profile/tokens/1/revoke",
            "Revoke the token “deploy script”?",
            "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL",
        ),
        (
            &*format!("/admin/users/{bob_id}/deactivate"),
            "Deactivate bob?",
            "SELECT count(*) FROM users WHERE active",
        ),
    ];
    for (path, question, rows) in cases {
        let before = count(rows).await;
        let r = admin.post_form(path, &[]).await;
        assert_eq!(r.status(), StatusCode::OK, "{path} asks");
        let page = r.text().await.expect("page");
        assert!(page.contains(question), "{path}: {page}");
        assert!(
            page.contains(&format!(r#"action="{path}""#))
                && page.contains(r#"name="confirm" value="yes""#),
            "{path}: the page posts the same form with the confirmation"
        );
        assert_eq!(count(rows).await, before, "{path} changed nothing yet");
        let r = admin.post_form(path, &[("confirm", "yes")]).await;
        assert_is_redirect(&r);
        assert!(!location(&r).is_empty());
        assert_eq!(count(rows).await, before - 1, "{path} acted");
    }
    // Bob was signed out by the deactivation.
    assert_eq!(bob.get_status("/").await, StatusCode::SEE_OTHER);
}
