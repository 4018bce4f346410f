//! Two-factor sign-in, with an independent RFC 6238 implementation
//! (`totp-rs`) standing in for the phone's authenticator app: enrolling from
//! the key the page shows, signing in with a code (each code once), with a
//! recovery code (each once), the throttle on the code step, the
//! administrator's requirement for administrators and managers (enrolling at
//! sign-in) and the reset of a lost factor. API tokens are not affected.

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use totp_rs::{Builder, Secret, Totp};

use crate::{
    api::Api,
    support::{
        ADMIN_PASSWORD, TestApp, TestClient, assert_form_error, assert_redirects_to, location,
        spawn_app,
    },
};

/// The phone's app: the key from the page, and the last time step it gave
/// a code for (so each code it gives is a new one, as when time passes).
pub(crate) struct Authenticator {
    totp: Totp,
    last_step: u64,
}

impl Authenticator {
    /// Reads the key the enrolment page shows, as a person types it.
    fn from_page(page: &str) -> Self {
        let key = page
            .split("<code class=\"secret-key\">")
            .nth(1)
            .and_then(|rest| rest.split("</code>").next())
            .expect("the key on the page");
        Self::from_key(key)
    }

    /// The key as shown (in groups of four).
    pub(crate) fn from_key(key: &str) -> Self {
        let key = key.replace(' ', "");
        let totp = Builder::new()
            .with_secret(Secret::try_from_base32(&key).expect("a base32 key"))
            .build()
            .expect("a TOTP");
        Self { totp, last_step: 0 }
    }

    /// A code of a step not given before, within the step of clock skew
    /// the server allows either way.
    pub(crate) fn next_code(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            / 30;
        let step = (now - 1).max(self.last_step + 1);
        assert!(step <= now + 1, "three codes within a minute at most");
        self.last_step = step;
        self.totp.generate(step * 30).to_string()
    }
}

/// Turns two-factor sign-in on for `client` from their profile; returns
/// their app and the recovery codes shown.
pub(crate) async fn enrol(client: &TestClient) -> (Authenticator, Vec<String>) {
    assert_redirects_to(
        &client.post_form("/profile/two-factor", &[]).await,
        "/profile/two-factor",
    );
    let page = client.get_text("/profile/two-factor").await;
    assert!(
        page.contains("<svg role=\"img\""),
        "a QR code drawn by the server"
    );
    let mut app = Authenticator::from_page(&page);
    let r = client
        .post_form("/profile/two-factor/confirm", &[("code", &app.next_code())])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.expect("page");
    (app, recovery_codes_in(&page))
}

fn recovery_codes_in(page: &str) -> Vec<String> {
    page.split("<li><code>")
        .skip(1)
        .filter_map(|rest| rest.split("</code>").next())
        .map(str::to_owned)
        .collect()
}

/// Signs in with a password; returns the client and where it was sent.
async fn password_step(app: &TestApp, username: &str, password: &str) -> (TestClient, String) {
    let client = app.client();
    let r = client.login(username, password).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    (client, to)
}

#[tokio::test]
async fn a_user_enrols_then_signs_in_with_each_code_and_recovery_code_once() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    assert!(
        bob.get_text("/profile/two-factor")
            .await
            .contains("Set up two-factor sign-in")
    );
    assert_redirects_to(
        &bob.post_form("/profile/two-factor", &[]).await,
        "/profile/two-factor",
    );
    let page = bob.get_text("/profile/two-factor").await;
    let mut phone = Authenticator::from_page(&page);
    assert_form_error(
        bob.post_form("/profile/two-factor/confirm", &[("code", "000000")])
            .await,
        "That code is not right",
    )
    .await;
    let r = bob
        .post_form(
            "/profile/two-factor/confirm",
            &[("code", &phone.next_code())],
        )
        .await;
    let page = r.text().await.expect("page");
    let codes = recovery_codes_in(&page);
    assert_eq!(codes.len(), 10, "ten recovery codes, shown once");
    assert!(
        !bob.get_text("/profile/two-factor")
            .await
            .contains(&codes[0]),
        "and never again"
    );
    let seed = app
        .scalar::<Vec<u8>>("SELECT seed_sealed FROM two_factor")
        .await;
    let key = phone.totp.secret().as_ref().to_vec();
    assert!(
        !seed.windows(key.len()).any(|w| w == key),
        "the seed is sealed at rest"
    );

    // The password alone starts no session.
    let (client, to) = password_step(&app, "bob", "bob password").await;
    assert_eq!(to, "/login/code");
    assert_eq!(
        location(&client.get("/").await),
        "/login?next=%2F",
        "not signed in yet"
    );
    let r = client.post_form("/login/code", &[("code", "123456")]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let code = phone.next_code();
    assert_redirects_to(
        &client.post_form("/login/code", &[("code", &code)]).await,
        "/",
    );
    assert_eq!(client.get_status("/").await, StatusCode::OK, "signed in");

    // The same code again is refused, even with the password right.
    let (again, _) = password_step(&app, "bob", "bob password").await;
    assert_eq!(
        again
            .post_form("/login/code", &[("code", &code)])
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "a code counts once"
    );
    // A recovery code works once.
    assert_redirects_to(
        &again
            .post_form("/login/code", &[("code", &codes[3].to_uppercase())])
            .await,
        "/",
    );
    let (third, _) = password_step(&app, "bob", "bob password").await;
    assert_eq!(
        third
            .post_form("/login/code", &[("code", &codes[3])])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(
        bob.get_text("/profile/two-factor")
            .await
            .contains("Recovery codes left: <strong>9</strong>")
    );

    // Switching it off asks for the password.
    assert_form_error(
        bob.post_form(
            "/profile/two-factor/disable",
            &[("current_password", "wrong")],
        )
        .await,
        "Your current password is wrong.",
    )
    .await;
    bob.submit(
        "/profile/two-factor/disable",
        &[("current_password", "bob password")],
    )
    .await;
    let (plain, to) = password_step(&app, "bob", "bob password").await;
    assert_eq!(to, "/", "the password alone again");
    assert_eq!(plain.get_status("/").await, StatusCode::OK);
}

#[tokio::test]
async fn the_code_step_is_throttled_and_expires() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let (mut phone, _) = enrol(&bob).await;
    let (client, _) = password_step(&app, "bob", "bob password").await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            client
                .post_form("/login/code", &[("code", "000000")])
                .await
                .status(),
        );
    }
    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5]);
    assert_eq!(
        statuses[5],
        StatusCode::TOO_MANY_REQUESTS,
        "the password step's counters"
    );
    assert_eq!(
        client
            .post_form("/login/code", &[("code", &phone.next_code())])
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even a right code waits"
    );

    // A sign-in left half-way ends after five minutes.
    app.exec("UPDATE sign_in_challenges SET expires_at = now() - interval '1 second'")
        .await;
    let r = client.get("/login/code").await;
    assert_eq!(location(&r), "/login", "start again");
}

#[tokio::test]
async fn required_for_managers_they_enrol_at_sign_in_and_an_administrator_resets_a_lost_one() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let mia = app.create_user(&admin, "mia", "manager").await;
    let bob = app.create_user(&admin, "bob", "user").await;
    let mias_token = mia.api_token("mia's", "").await;

    // Not before the administrator has their own.
    admin
        .submit("/admin/two-factor", &[("require", "on")])
        .await;
    assert!(
        admin
            .get_text("/admin/users")
            .await
            .contains("Set up your own two-factor sign-in first")
    );
    assert!(
        !app.scalar::<bool>("SELECT require_two_factor FROM settings")
            .await
    );
    let (mut admins_phone, _) = enrol(&admin).await;
    admin
        .submit("/admin/two-factor", &[("require", "on")])
        .await;
    assert!(
        app.scalar::<bool>("SELECT require_two_factor FROM settings")
            .await
    );
    assert_eq!(
        location(&mia.get("/").await),
        "/login?next=%2F",
        "a manager without a second factor is signed out"
    );
    assert_eq!(
        bob.get_status("/").await,
        StatusCode::OK,
        "a plain user is not"
    );
    assert_eq!(
        admin.get_status("/").await,
        StatusCode::OK,
        "nor the administrator"
    );
    let api = Api::new(&app, &mias_token);
    assert_eq!(
        api.get("/me").await.0,
        StatusCode::OK,
        "API tokens are unaffected"
    );

    // Mia enrols to finish her sign-in.
    let (client, to) = password_step(&app, "mia", "mia password").await;
    assert_eq!(to, "/login/code");
    let page = client.get_text("/login/code").await;
    assert!(page.contains("requires administrators and managers"));
    let mut phone = Authenticator::from_page(&page);
    let r = client
        .post_form("/login/code", &[("code", &phone.next_code())])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let codes = recovery_codes_in(&r.text().await.expect("page"));
    assert_eq!(codes.len(), 10);
    assert_eq!(client.get_status("/").await, StatusCode::OK, "signed in");
    assert_eq!(
        client
            .post_status(
                "/profile/two-factor/disable",
                &[("current_password", "mia password")]
            )
            .await,
        StatusCode::CONFLICT,
        "required: it stays on"
    );

    // She lost her phone: the administrator resets it and she is signed out.
    let mia_id = app.user_id("mia").await;
    let edit = admin.get_text(&format!("/admin/users/{mia_id}/edit")).await;
    assert!(edit.contains("Reset two-factor sign-in"));
    admin
        .submit(
            &format!("/admin/users/{mia_id}/reset-two-factor"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(
        location(&client.get("/").await),
        "/login?next=%2F",
        "signed out everywhere"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM two_factor WHERE user_id = {mia_id}"
        ))
        .await,
        0
    );
    let (_, to) = password_step(&app, "mia", "mia password").await;
    assert_eq!(to, "/login/code", "she sets up a new app at sign-in");

    // The administrator signs in with their code.
    let (root, to) = password_step(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(to, "/login/code");
    assert_redirects_to(
        &root
            .post_form("/login/code", &[("code", &admins_phone.next_code())])
            .await,
        "/",
    );
}
