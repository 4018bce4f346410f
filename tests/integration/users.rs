//! People and roles: the admin pages only for admins, what a manager may do,
//! rates and amounts only for those who may see them, the last admin kept,
//! user input checked, one's own timezone, email, formats and reset links.

use reqwest::StatusCode;

use crate::api::Api;
use crate::support::{a_project, an_entry, assert_is_redirect, spawn_app};

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

#[tokio::test]
async fn a_manager_books_and_changes_the_teams_time_and_runs_the_catalogue_but_not_the_installation()
 {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mia = app.create_user(&admin, "mia", "manager").await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let bob_id = app.user_id("bob").await;
    let project = a_project().named("Site").create(&app).await;
    let entry = an_entry(bob_id, project)
        .from("2026-11-20T09:00:00Z")
        .lasting(60)
        .with_notes("design work by bob")
        .create(&app)
        .await;

    let everyone = mia.get_text("/entries?user_id=all").await;
    assert!(
        everyone.contains("design work by bob"),
        "the team's entries"
    );
    mia.submit(
        &format!("/entries/{entry}/edit"),
        &[
            ("project_id", &project.to_string()),
            ("start", "2026-11-20T09:00"),
            ("duration", "1:30"),
            ("notes", "corrected by mia"),
        ],
    )
    .await;
    let (owner, seconds, notes): (i64, i64, String) =
        sqlx::query_as("SELECT user_id, duration_seconds, notes FROM time_entries WHERE id = $1")
            .bind(entry)
            .fetch_one(&app.pool)
            .await
            .expect("entry");
    assert_eq!(
        (owner, seconds, notes.as_str()),
        (bob_id, 5400, "corrected by mia"),
        "the manager edits; the entry stays Bob's"
    );
    let form = mia.get_text("/entries/new").await;
    assert!(
        form.contains(">bob</option>"),
        "the new entry form offers the team"
    );
    let booking = [
        ("user_id", bob_id.to_string()),
        ("project_id", project.to_string()),
        ("start", "2026-11-21T10:00".to_owned()),
        ("duration", "0:45".to_owned()),
        ("notes", "booked by mia".to_owned()),
    ];
    let booking: Vec<(&str, &str)> = booking.iter().map(|(k, v)| (*k, v.as_str())).collect();
    mia.submit("/entries/new", &booking).await;
    assert_eq!(
        app.scalar::<i64>("SELECT user_id FROM time_entries WHERE notes = 'booked by mia'")
            .await,
        bob_id,
        "booked for Bob"
    );
    let mia_id = app.user_id("mia").await.to_string();
    let mut for_mia = booking.clone();
    for_mia[0].1 = &mia_id;
    assert_eq!(
        bob.post_status("/entries/new", &for_mia).await,
        StatusCode::NOT_FOUND,
        "a plain user books only for themselves"
    );
    assert!(
        !bob.get_text("/entries/new")
            .await
            .contains("name=\"user_id\"")
    );
    assert_eq!(
        mia.get_status(&format!("/reports?user_id={bob_id}&preset=this_year"))
            .await,
        StatusCode::OK,
        "reports on a team member"
    );
    mia.submit("/projects", &[("name", "Launch"), ("billable", "on")])
        .await;
    assert_eq!(
        app.count("SELECT count(*) FROM projects WHERE name = 'Launch'")
            .await,
        1,
        "managers run the catalogue"
    );

    for path in [
        "/admin/users",
        "/admin/settings",
        "/admin/jobs",
        "/admin/telemetry",
    ] {
        assert_eq!(mia.get_status(path).await, StatusCode::FORBIDDEN, "{path}");
    }
    let r = mia
        .post_form(&format!("/admin/users/{bob_id}/role"), &[("role", "admin")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no roles for managers");
    let page = mia.get_text("/").await;
    assert!(
        !page.contains("/admin/users"),
        "no Admin menu for a manager"
    );
}

#[tokio::test]
async fn plain_users_see_no_rate_or_amount_on_any_page_or_in_the_api() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mia = app.create_user(&admin, "mia", "manager").await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let bob_id = app.user_id("bob").await;
    let client: i64 = app
        .scalar("INSERT INTO clients (name, default_hourly_rate_cents) VALUES ('Acme', 8125) RETURNING id")
        .await;
    let project = a_project()
        .named("Site")
        .for_client(Some(client))
        .with_rate(12345)
        .create(&app)
        .await;
    an_entry(bob_id, project)
        .from("2026-11-20T09:00:00Z")
        .lasting(60)
        .create(&app)
        .await;
    let report = format!("/reports?user_id={bob_id}&from=2026-11-01&to=2026-11-30");
    let api_report = format!("/reports/summary?user_id={bob_id}&from=2026-11-01&to=2026-11-30");

    // Mia, a manager, sees every rate and amount.
    assert!(mia.get_text("/projects").await.contains("123.45"));
    assert!(mia.get_text("/clients").await.contains("81.25"));
    assert!(
        mia.get_text(&report).await.contains("123.45"),
        "the amount of one hour"
    );
    let mias = Api::new(&app, &mia.api_token("mia's", "").await);
    assert_eq!(mias.get("/projects").await.2[0]["hourly_rate_cents"], 12345);
    assert_eq!(
        mias.get("/clients").await.2[0]["default_hourly_rate_cents"],
        8125
    );
    assert_eq!(mias.get(&api_report).await.2["amount_cents"], 12345);

    // Bob, a plain user, sees the same projects, clients and hours, no money.
    for (path, hidden) in [
        ("/projects", "123.45"),
        ("/clients", "81.25"),
        (report.as_str(), "123.45"),
    ] {
        let page = bob.get_text(path).await;
        assert!(
            page.contains("Site") || page.contains("Acme"),
            "{path} lists it"
        );
        assert!(!page.contains(hidden), "{path} shows {hidden}");
        let lower = page.to_lowercase();
        assert!(
            !lower.contains("rate (") && !lower.contains("amount"),
            "{path} speaks of rates or amounts"
        );
    }
    let bobs = Api::new(&app, &bob.api_token("bob's", "").await);
    let (_, _, projects) = bobs.get("/projects").await;
    assert_eq!(projects[0]["name"], "Site");
    assert!(projects[0].get("hourly_rate_cents").is_none(), "{projects}");
    let (_, _, single) = bobs.get(&format!("/projects/{project}")).await;
    assert!(single.get("hourly_rate_cents").is_none(), "{single}");
    let (_, _, clients) = bobs.get("/clients").await;
    assert!(
        clients[0].get("default_hourly_rate_cents").is_none(),
        "{clients}"
    );
    let (_, _, summary) = bobs.get(&api_report).await;
    assert_eq!(summary["total_seconds"], 3600);
    assert!(summary.get("amount_cents").is_none(), "{summary}");
    assert!(
        summary["rows"][0].get("amount_cents").is_none(),
        "{summary}"
    );
}
