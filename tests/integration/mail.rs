//! Mail through the job queue, against a real SMTP server (aiosmtpd, with
//! STARTTLS on a self-signed certificate the app is told to trust): a
//! forgotten password set again with the link a message brings, a deferred
//! message retried and delivered once, a rejected one dead with the server's
//! reply (its address masked), and no address, link or body in the worker's
//! logs or the job console.

use reqwest::StatusCode;

use crate::{
    process::Process,
    support::{SmtpAnswer, SmtpServer, TestApp, assert_form_error, spawn_app, spawn_app_with_mail},
};

/// The app sending to `smtp`, with an administrator and bob (bob@example.org).
async fn app_sending_to(smtp: &SmtpServer) -> (TestApp, crate::support::TestClient) {
    let app = spawn_app_with_mail(smtp).await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    (app, bob)
}

/// Asks for a password link for `email` as someone signed out; returns the
/// notice the sign-in page then shows.
async fn ask_for_a_link(app: &TestApp, email: &str) -> String {
    let anon = app.client();
    let to = anon.submit("/forgot-password", &[("email", email)]).await;
    assert_eq!(to, "/login");
    let page = anon.get_text("/login").await;
    let notice = page
        .split("<p class=\"notice\" role=\"status\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or_else(|| panic!("no notice on the sign-in page:\n{page}"));
    notice.to_owned()
}

#[tokio::test]
async fn a_forgotten_password_is_set_again_with_the_link_the_mail_brings() {
    let smtp = SmtpServer::start(SmtpAnswer::Accept);
    let (app, bob) = app_sending_to(&smtp).await;
    assert!(
        app.client()
            .get_text("/login")
            .await
            .contains("href=\"/forgot-password\"")
    );

    // The same answer for a known address (any case) and an unknown one.
    let known = ask_for_a_link(&app, "BOB@example.org").await;
    let unknown = ask_for_a_link(&app, "nobody@example.org").await;
    assert_eq!(known, unknown);
    assert!(known.contains("If an account uses that address"), "{known}");
    assert!(
        smtp.received().is_empty(),
        "sent by the worker, not the request"
    );

    app.run_pending_jobs().await;
    let received = smtp.received();
    assert_eq!(received.len(), 1, "one message, to bob only");
    let message = &received[0];
    assert_eq!(message.to, ["bob@example.org"]);
    assert!(
        message
            .raw
            .contains("Subject: Set a new TimeTracker password")
    );
    assert!(
        message.raw.contains("text/plain") && message.raw.contains("text/html"),
        "a plain-text and an HTML part"
    );
    assert!(
        message
            .raw
            .contains("From: TimeTracker <timetracker@example.org>")
    );
    let link = message
        .link_to("/reset-password?token=")
        .expect("a link in the message");
    let path = link
        .strip_prefix(&app.config.web.public_url)
        .unwrap_or_else(|| panic!("{link} is on the public URL"));
    assert_eq!(
        message.decoded().matches(path).count(),
        3,
        "the link in the text part, and as button and text in the HTML part"
    );

    // The link sets a new password, ends bob's sessions, and works once.
    let anon = app.client();
    assert!(
        anon.get_text(path)
            .await
            .contains("For <strong>bob</strong>")
    );
    let token = path.split("token=").nth(1).expect("token");
    anon.submit(
        "/reset-password",
        &[
            ("token", token),
            ("password", "a brand new password"),
            ("password_confirm", "a brand new password"),
        ],
    )
    .await;
    assert_eq!(
        bob.get_status("/").await,
        StatusCode::SEE_OTHER,
        "signed out"
    );
    assert_eq!(
        app.client()
            .login("bob", "a brand new password")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(anon.get_status(path).await, StatusCode::NOT_FOUND, "used");
    let minutes: f64 = app
        .scalar(
            "SELECT extract(epoch FROM expires_at - created_at)::float8 / 60 FROM password_resets",
        )
        .await;
    assert!(
        (29.9..30.1).contains(&minutes),
        "valid 30 minutes: {minutes}"
    );
}

#[tokio::test]
async fn a_deferred_message_is_retried_with_backoff_and_arrives_once() {
    let smtp = SmtpServer::start(SmtpAnswer::DeferFirst(1));
    let (app, _bob) = app_sending_to(&smtp).await;
    ask_for_a_link(&app, "bob@example.org").await;

    let died = app.try_run_pending_jobs().await;
    assert!(died.is_empty(), "a 451 is worth another try: {died:?}");
    assert!(smtp.received().is_empty());
    // The backoff is measured from the failed run's end, not from now: how
    // long the check comes after it depends on the machine's load.
    let (status, attempts, error, wait): (String, i32, String, f64) = sqlx::query_as(
        "SELECT j.status, j.attempts, j.last_result::text,
                extract(epoch FROM j.run_at - a.finished_at)::float8
         FROM apalis.jobs j JOIN job_attempts a ON a.job_id = j.id AND a.attempt = 1
         WHERE j.job_type = 'mail'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("the mail job");
    // apalis marks a run that will be retried `Failed`, due again at `run_at`.
    assert_eq!((status.as_str(), attempts), ("Failed", 1));
    assert!(error.contains("451"), "{error}");
    assert!(
        wait >= 1.5,
        "retried 2 s (plus jitter) after the failure, not at once: {wait}"
    );

    app.exec("UPDATE apalis.jobs SET run_at = now() WHERE job_type = 'mail'")
        .await;
    app.run_pending_jobs().await;
    assert_eq!(smtp.received().len(), 1, "delivered once");
    assert_eq!(
        app.scalar::<String>("SELECT status FROM apalis.jobs WHERE job_type = 'mail'")
            .await,
        "Done"
    );
}

#[tokio::test]
async fn a_rejected_message_dies_with_the_servers_reply_and_no_address_in_the_console() {
    let smtp = SmtpServer::start(SmtpAnswer::Reject);
    let (app, _bob) = app_sending_to(&smtp).await;
    ask_for_a_link(&app, "bob@example.org").await;

    let died = app.try_run_pending_jobs().await;
    assert_eq!(died.len(), 1, "a 550 is final");
    let dead = &died[0];
    assert_eq!((dead.queue.as_str(), dead.attempts), ("mail", 1));
    let error = dead.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("550") && error.contains("Recipient address rejected"),
        "{error}"
    );
    assert!(
        error.contains("b…@example.org") && !error.contains("bob@"),
        "{error}"
    );

    let admin = app.client();
    admin.login("admin", crate::support::ADMIN_PASSWORD).await;
    let page = admin.get_text(&format!("/admin/jobs/{}", dead.id)).await;
    assert!(page.contains("Recipient address rejected"), "{page}");
    assert!(!page.contains("bob@example.org"), "{page}");
}

#[tokio::test]
async fn the_worker_logs_no_address_link_or_body_of_what_it_sends() {
    let smtp = SmtpServer::start(SmtpAnswer::Accept);
    let (app, _bob) = app_sending_to(&smtp).await;
    ask_for_a_link(&app, "bob@example.org").await;

    let mut env: Vec<(&str, String)> = smtp.settings();
    env.extend([
        ("DATABASE_URL", app.config.database.url.expose().clone()),
        ("WORKER_METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ("LOG_FILE", String::new()),
        ("LOG_LEVEL", "debug".to_owned()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut worker = Process::start("timetracker-worker", &[], &env);
    worker.wait_for_log("mail sent").await;
    worker.terminate();

    let received = smtp.received();
    let link = received[0].link_to("/reset-password?token=").expect("link");
    let token = link.split("token=").nth(1).expect("token");
    let logs = worker.output();
    for secret in ["bob@example.org", token, "Set a new password", "Hello bob"] {
        assert!(!logs.contains(secret), "{secret:?} in the worker's logs");
    }
    let payload: String = app
        .scalar("SELECT convert_from(job, 'UTF8') FROM apalis.jobs WHERE job_type = 'mail'")
        .await;
    assert_eq!(
        payload,
        r#"{"message":{"kind":"password_reset","user_id":2}}"#
    );
}

#[tokio::test]
async fn asking_is_refused_beside_the_field_and_limited_per_address() {
    let smtp = SmtpServer::start(SmtpAnswer::Accept);
    let (app, _bob) = app_sending_to(&smtp).await;
    let anon = app.client();
    let page = assert_form_error(
        anon.post_form("/forgot-password", &[("email", "not an address")])
            .await,
        "Enter an email address like",
    )
    .await;
    assert!(
        page.contains("value=\"not an address\""),
        "the input is kept"
    );

    for _ in 0..3 {
        ask_for_a_link(&app, "nobody@example.org").await;
    }
    assert_eq!(
        anon.post_status("/forgot-password", &[("email", "Nobody@example.org")])
            .await,
        StatusCode::TOO_MANY_REQUESTS,
        "three links an address in 15 minutes, whether or not it has an account"
    );
}

#[tokio::test]
async fn without_mail_the_page_sends_people_to_their_administrator() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let anon = app.client();
    let page = anon.get_text("/forgot-password").await;
    assert!(page.contains("does not send mail"), "{page}");
    assert!(!page.contains("name=\"email\""), "no form that cannot work");
    assert_eq!(
        anon.post_status("/forgot-password", &[("email", "admin@example.org")])
            .await,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.count("SELECT count(*) FROM apalis.jobs WHERE job_type = 'mail'")
            .await,
        0
    );
}

/// Invites `email` as `role` through the Invitations page.
async fn invite(admin: &crate::support::TestClient, email: &str, role: &str) {
    admin
        .submit(
            "/invitations",
            &[("invite_email", email), ("invite_role", role)],
        )
        .await;
}

/// The path (on the app) of the newest invitation link `smtp` received.
fn newest_invitation_link(smtp: &SmtpServer, app: &TestApp) -> String {
    let link = smtp
        .received()
        .last()
        .and_then(|m| m.link_to("/invitation?token="))
        .expect("an invitation link");
    link.strip_prefix(&app.config.web.public_url)
        .expect("on the public URL")
        .to_owned()
}

#[tokio::test]
async fn an_invited_person_chooses_a_name_and_password_and_lands_on_the_timer() {
    let smtp = SmtpServer::start(SmtpAnswer::Accept);
    let app = spawn_app_with_mail(&smtp).await;
    let admin = app.setup_admin().await;
    invite(&admin, "Grace@example.org", "admin").await;
    let users = admin.get_text("/invitations").await;
    assert!(
        users.contains("Grace@example.org") && users.contains("not yet"),
        "listed as waiting, not sent yet"
    );

    app.run_pending_jobs().await;
    let message = &smtp.received()[0];
    assert_eq!(message.to, ["Grace@example.org"]);
    assert!(
        message
            .raw
            .contains("Subject: You are invited to TimeTracker")
    );
    assert!(message.decoded().contains("as an administrator"));
    let path = newest_invitation_link(&smtp, &app);

    let grace = app.client();
    let form = grace.get_text(&path).await;
    assert!(form.contains("For <strong>Grace@example.org</strong>, as an administrator"));
    let token = path.split("token=").nth(1).expect("token");
    let page = assert_form_error(
        grace
            .post_form(
                "/invitation",
                &[
                    ("token", token),
                    ("username", "grace"),
                    ("display_name", "Grace Hopper"),
                    ("password", "short"),
                    ("password_confirm", "short"),
                    ("timezone", "Europe/Berlin"),
                ],
            )
            .await,
        "at least 10 characters",
    )
    .await;
    assert!(page.contains("value=\"Grace Hopper\""), "the input is kept");
    let to = grace
        .submit(
            "/invitation",
            &[
                ("token", token),
                ("username", "grace"),
                ("display_name", "Grace Hopper"),
                ("password", "grace's long password"),
                ("password_confirm", "grace's long password"),
                ("timezone", "Europe/Berlin"),
            ],
        )
        .await;
    assert_eq!(to, "/", "signed in, on the timer");
    let timer = grace.get_text("/").await;
    assert!(timer.contains("Welcome, grace"), "{timer}");
    let (email, role, name, tz): (String, String, String, String) = sqlx::query_as(
        "SELECT email, role, display_name, timezone FROM users WHERE username = 'grace'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("grace");
    assert_eq!(
        (email.as_str(), role.as_str(), name.as_str(), tz.as_str()),
        (
            "Grace@example.org",
            "admin",
            "Grace Hopper",
            "Europe/Berlin"
        )
    );
    assert_eq!(
        app.client().get_status(&path).await,
        StatusCode::NOT_FOUND,
        "used"
    );
    assert!(
        !admin
            .get_text("/invitations")
            .await
            .contains("Invitations waiting for an answer")
    );
}

#[tokio::test]
async fn an_address_with_an_account_or_an_open_invitation_is_refused_beside_the_field() {
    let smtp = SmtpServer::start(SmtpAnswer::Accept);
    let (app, _bob) = app_sending_to(&smtp).await;
    let admin = app.client();
    admin.login("admin", crate::support::ADMIN_PASSWORD).await;
    let form = |email: &'static str| [("invite_email", email), ("invite_role", "user")];
    let r = admin
        .post_form("/invitations", &form("BOB@example.org"))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.expect("page");
    assert!(
        page.contains("An account already uses this address."),
        "{page}"
    );
    assert!(
        page.contains("value=\"BOB@example.org\""),
        "the input is kept"
    );

    invite(&admin, "new@example.org", "user").await;
    let r = admin
        .post_form("/invitations", &form("NEW@example.org"))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("has an open invitation")
    );
    assert_form_error(
        admin.post_form("/invitations", &form("nope")).await,
        "Enter an email address like",
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM invitations").await,
        1,
        "only the one that was fine"
    );
}

#[tokio::test]
async fn a_resent_invitation_replaces_its_link_and_a_revoked_one_stops_working() {
    let smtp = SmtpServer::start(SmtpAnswer::Accept);
    let app = spawn_app_with_mail(&smtp).await;
    let admin = app.setup_admin().await;
    invite(&admin, "ada@example.org", "user").await;
    app.run_pending_jobs().await;
    let first = newest_invitation_link(&smtp, &app);
    let id: i64 = app.scalar("SELECT id FROM invitations").await;

    admin
        .submit(&format!("/invitations/{id}/resend"), &[])
        .await;
    app.run_pending_jobs().await;
    assert_eq!(smtp.received().len(), 2);
    let second = newest_invitation_link(&smtp, &app);
    assert_ne!(first, second);
    let anon = app.client();
    assert_eq!(
        anon.get_status(&first).await,
        StatusCode::NOT_FOUND,
        "replaced"
    );
    assert_eq!(anon.get_status(&second).await, StatusCode::OK);

    // Revoking asks first, then the link stops working.
    let r = admin
        .post_form(&format!("/invitations/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("Revoke this invitation?")
    );
    assert_eq!(anon.get_status(&second).await, StatusCode::OK, "not yet");
    admin
        .submit(&format!("/invitations/{id}/revoke"), &[("confirm", "yes")])
        .await;
    assert_eq!(anon.get_status(&second).await, StatusCode::NOT_FOUND);

    // An expired invitation's link fails alike, and its job sends nothing.
    invite(&admin, "late@example.org", "user").await;
    app.exec("UPDATE invitations SET expires_at = now() - interval '1 second' WHERE email = 'late@example.org'")
        .await;
    app.run_pending_jobs().await;
    assert_eq!(
        smtp.received().len(),
        2,
        "nothing sent for an expired invitation"
    );
}

#[tokio::test]
async fn without_mail_the_invitations_page_offers_no_invitation() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let page = admin.get_text("/invitations").await;
    assert!(page.contains("does not send mail") && !page.contains("name=\"invite_email\""));
    assert_eq!(
        admin
            .post_status(
                "/invitations",
                &[("invite_email", "x@example.org"), ("invite_role", "user")],
            )
            .await,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn the_invitations_an_administrator_sent_stop_working_when_they_are_deactivated() {
    let smtp = SmtpServer::start(SmtpAnswer::Accept);
    let app = spawn_app_with_mail(&smtp).await;
    let admin = app.setup_admin().await;
    let second = app.create_user(&admin, "root2", "admin").await;
    invite(&second, "ada@example.org", "admin").await;
    app.run_pending_jobs().await;
    let link = newest_invitation_link(&smtp, &app);
    assert_eq!(app.client().get_status(&link).await, StatusCode::OK);

    app.deactivate_user(&admin, app.user_id("root2").await)
        .await;
    assert_eq!(
        app.client().get_status(&link).await,
        StatusCode::NOT_FOUND,
        "an invitation does not outlive its inviter's access"
    );
}

#[tokio::test]
async fn managers_invite_plain_users_only_and_see_only_those_invitations() {
    let smtp = SmtpServer::start(SmtpAnswer::Accept);
    let app = spawn_app_with_mail(&smtp).await;
    let admin = app.setup_admin().await;
    let mia = app.create_user(&admin, "mia", "manager").await;
    let bob = app.create_user(&admin, "bob", "user").await;
    invite(&admin, "boss@example.org", "admin").await;
    let boss: i64 = app.scalar("SELECT id FROM invitations").await;

    let page = mia.get_text("/invitations").await;
    assert!(page.contains("href=\"/invitations\""), "in the navigation");
    assert!(
        page.contains("<option value=\"user\"") && !page.contains("<option value=\"admin\""),
        "a manager's form offers the plain user only"
    );
    assert!(
        !page.contains("boss@example.org"),
        "nor lists an administrator's invitation"
    );
    assert_form_error(
        mia.post_form(
            "/invitations",
            &[("invite_email", "x@example.org"), ("invite_role", "admin")],
        )
        .await,
        "Your role invites plain users only.",
    )
    .await;
    for action in ["resend", "revoke"] {
        assert_eq!(
            mia.post_status(
                &format!("/invitations/{boss}/{action}"),
                &[("confirm", "yes")]
            )
            .await,
            StatusCode::NOT_FOUND,
            "{action} of an administrator's invitation"
        );
    }

    invite(&mia, "pat@example.org", "user").await;
    let (role, by): (String, i64) =
        sqlx::query_as("SELECT role, invited_by FROM invitations WHERE email = 'pat@example.org'")
            .fetch_one(&app.pool)
            .await
            .expect("pat's invitation");
    assert_eq!((role.as_str(), by), ("user", app.user_id("mia").await));
    app.run_pending_jobs().await;
    let link = smtp
        .received()
        .into_iter()
        .find(|m| m.to == ["pat@example.org"])
        .and_then(|m| m.link_to("/invitation?token="))
        .expect("pat's link");
    let path = link
        .strip_prefix(&app.config.web.public_url)
        .expect("on the public URL")
        .to_owned();
    let pat = app.client();
    let token = path.split("token=").nth(1).expect("token");
    pat.submit(
        "/invitation",
        &[
            ("token", token),
            ("username", "pat"),
            ("password", "pat's long password"),
            ("password_confirm", "pat's long password"),
            ("timezone", "UTC"),
        ],
    )
    .await;
    assert_eq!(
        app.scalar::<String>("SELECT role FROM users WHERE username = 'pat'")
            .await,
        "user"
    );

    assert_eq!(
        bob.get_status("/invitations").await,
        StatusCode::FORBIDDEN,
        "plain users invite nobody"
    );
    assert!(!bob.get_text("/").await.contains("href=\"/invitations\""));
}
