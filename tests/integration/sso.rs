//! Single sign-on against a real OpenID provider (node's oidc-provider,
//! started here on 127.0.0.1): a sign-in, the role following the groups at
//! every sign-in, refusal outside every group, a wrong audience, an expired
//! token, another nonce, a replayed state, a rotated key, linking by a
//! verified email only, an invitation accepted by signing in, and password
//! sign-in switched off with the administrators' fallback.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ADMIN_PASSWORD, OidcProvider, TestApp, TestClient, location, spawn_app_with};

/// The app's `PUBLIC_URL` in tests (its default): the provider sends people
/// back to its callback, which the tests then call on the app's real port.
const PUBLIC_URL: &str = "http://127.0.0.1:8080";

async fn app_with(provider: &OidcProvider, extra: &[(&'static str, &str)]) -> TestApp {
    let vars = provider.settings(extra);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_app_with(&vars).await
}

const GROUPS: [(&str, &str); 3] = [
    ("OIDC_ADMIN_GROUPS", "ops"),
    ("OIDC_MANAGER_GROUPS", "leads"),
    ("OIDC_USER_GROUPS", "staff"),
];

/// Signs in at the provider as `account`; returns the browser and the
/// app's answer to the provider's callback.
async fn sso_sign_in(
    app: &TestApp,
    provider: &OidcProvider,
    account: &str,
) -> (TestClient, String) {
    provider.next_sign_in_is(account).await;
    let client = app.client();
    let r = client.get("/login/sso").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let callback = provider.sign_in_at(&location(&r)).await;
    let to = answer(&client, &callback).await;
    (client, to)
}

/// The app's answer to a callback: where it sends the browser.
async fn answer(client: &TestClient, callback: &str) -> String {
    let r = client.get(callback).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{callback}");
    location(&r)
}

/// The reason a refused sign-in shows on the sign-in page.
async fn refusal_shown(client: &TestClient) -> String {
    let page = client.get_text("/login").await;
    let start = page
        .find("Single sign-on did not sign you in")
        .unwrap_or_else(|| panic!("no refusal on the page:\n{page}"));
    page[start..page[start..].find('<').map_or(page.len(), |e| start + e)].to_owned()
}

async fn role_of(app: &TestApp, username: &str) -> String {
    app.scalar(&format!(
        "SELECT role FROM users WHERE username = '{username}'"
    ))
    .await
}

#[tokio::test]
async fn an_sso_user_gets_their_role_from_their_groups_at_every_sign_in_and_none_outside_them() {
    let provider = OidcProvider::start(PUBLIC_URL);
    let mut extra = GROUPS.to_vec();
    extra.push(("OIDC_CREATE_USERS", "true"));
    let app = app_with(&provider, &extra).await;
    let admin = app.setup_admin().await;
    let person = |groups: &[&str]| {
        json!({"alice": {"email": "alice@example.org", "email_verified": true,
                         "preferred_username": "alice", "groups": groups}})
    };
    provider.people(person(&["staff"])).await;
    assert!(
        app.client()
            .get_text("/login")
            .await
            .contains("Sign in with the test provider")
    );

    let (alice, to) = sso_sign_in(&app, &provider, "alice").await;
    assert_eq!(to, "/");
    assert_eq!(alice.get_status("/").await, StatusCode::OK, "signed in");
    assert_eq!(role_of(&app, "alice").await, "user");

    provider.people(person(&["staff", "leads"])).await;
    let (_, to) = sso_sign_in(&app, &provider, "alice").await;
    assert_eq!(to, "/");
    assert_eq!(role_of(&app, "alice").await, "manager", "the groups decide");
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE username LIKE 'alice%'")
            .await,
        1,
        "the same account, found by its subject"
    );

    // The last active administrator keeps the role, as on the users page.
    provider.people(person(&["ops"])).await;
    sso_sign_in(&app, &provider, "alice").await;
    assert_eq!(role_of(&app, "alice").await, "admin");
    app.exec("UPDATE users SET active = false WHERE username = 'admin'")
        .await;
    provider.people(person(&["staff"])).await;
    sso_sign_in(&app, &provider, "alice").await;
    assert_eq!(
        role_of(&app, "alice").await,
        "admin",
        "not demoted: the last one"
    );
    app.exec("UPDATE users SET active = true WHERE username = 'admin'")
        .await;

    provider.people(person(&["sales"])).await;
    let (refused, to) = sso_sign_in(&app, &provider, "alice").await;
    assert_eq!(to, "/login");
    assert!(
        refusal_shown(&refused)
            .await
            .contains("none of the groups allowed to sign in")
    );
    assert_eq!(
        location(&refused.get("/").await),
        "/login?next=%2F",
        "not signed in"
    );

    // The administrators' page: the configuration and the refusal, with the
    // claims' names and none of their values.
    let page = admin.get_text("/admin/sso").await;
    assert!(page.contains(&provider.issuer));
    assert!(page.contains("http://127.0.0.1:8080/login/sso/callback"));
    assert!(page.contains("none of the groups allowed to sign in"));
    assert!(page.contains("groups") && page.contains("email_verified"));
    assert!(!page.contains("alice@example.org") && !page.contains("sales"));
    assert!(!page.contains("the client&#39;s secret") && !page.contains("client's secret"));
}

#[tokio::test]
async fn a_token_for_another_audience_expired_or_with_another_nonce_is_refused_and_a_state_works_once()
 {
    let provider = OidcProvider::start(PUBLIC_URL);
    let mut extra = GROUPS.to_vec();
    extra.push(("OIDC_CREATE_USERS", "true"));
    let app = app_with(&provider, &extra).await;
    app.setup_admin().await;
    provider
        .people(json!({"alice": {"email": "alice@example.org", "email_verified": true, "groups": ["staff"]}}))
        .await;

    for (tamper, reason) in [
        (
            json!({"aud": "another-client"}),
            "another client (audience)",
        ),
        (json!({"exp": -120}), "has expired"),
        (
            json!({"nonce": "not-this-sign-ins"}),
            "nonce is not this sign-in",
        ),
    ] {
        provider.tamper_next(tamper.clone()).await;
        let (client, to) = sso_sign_in(&app, &provider, "alice").await;
        assert_eq!(to, "/login", "{tamper}");
        assert!(refusal_shown(&client).await.contains(reason), "{tamper}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM sessions").await,
        1,
        "the admin's only"
    );

    // A callback counts only in the browser that started the sign-in (no
    // signing someone else in with one's own account), and only once.
    provider.next_sign_in_is("alice").await;
    let client = app.client();
    let r = client.get("/login/sso").await;
    let callback = provider.sign_in_at(&location(&r)).await;
    let elsewhere = app.client();
    assert_eq!(answer(&elsewhere, &callback).await, "/login");
    assert!(
        refusal_shown(&elsewhere)
            .await
            .contains("started in another browser")
    );
    let state_cookie = client.cookie("tt_sso").expect("the sign-in's cookie");
    assert_eq!(answer(&client, &callback).await, "/");
    let replay = app.client();
    replay.set_cookie("tt_sso", &state_cookie);
    assert_eq!(answer(&replay, &callback).await, "/login");
    assert!(refusal_shown(&replay).await.contains("used already"));

    // The provider rotates its keys: the app fetches them again.
    provider.rotate_keys().await;
    let (_, to) = sso_sign_in(&app, &provider, "alice").await;
    assert_eq!(to, "/", "a new key id is looked up");
}

#[tokio::test]
async fn a_first_sign_in_links_an_account_or_an_invitation_only_by_a_verified_email() {
    let provider = OidcProvider::start(PUBLIC_URL);
    // Groups are not mapped: people keep their roles; nobody new without an invitation.
    let app = app_with(&provider, &[]).await;
    let admin = app.setup_admin().await;
    app.create_user(&admin, "bob", "manager").await;
    let bob_id = app.user_id("bob").await;
    let people = |verified: bool| {
        json!({
            "b-123": {"email": "BOB@example.org", "email_verified": verified},
            "c-456": {"email": "carol@example.org", "email_verified": true, "preferred_username": "carol"},
            "d-789": {"email": "dave@example.org", "email_verified": true},
        })
    };
    provider.people(people(false)).await;
    let (client, to) = sso_sign_in(&app, &provider, "b-123").await;
    assert_eq!(to, "/login");
    assert!(refusal_shown(&client).await.contains("verified email"));

    provider.people(people(true)).await;
    let (bob, to) = sso_sign_in(&app, &provider, "b-123").await;
    assert_eq!(to, "/");
    assert_eq!(
        app.scalar::<i64>("SELECT user_id FROM user_identities WHERE subject = 'b-123'")
            .await,
        bob_id,
        "linked to Bob's account"
    );
    assert_eq!(role_of(&app, "bob").await, "manager", "his role is kept");
    assert!(bob.get_text("/profile").await.contains("bob"));

    // Carol was invited: signing in accepts the invitation.
    app.exec(
        "INSERT INTO invitations (email, role, expires_at) VALUES ('carol@example.org', 'manager', now() + interval '1 day')",
    )
    .await;
    let (_, to) = sso_sign_in(&app, &provider, "c-456").await;
    assert_eq!(to, "/");
    assert_eq!(
        role_of(&app, "carol").await,
        "manager",
        "the invitation's role"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE accepted_at IS NOT NULL")
            .await,
        1
    );

    // Dave has neither account nor invitation.
    let (dave, to) = sso_sign_in(&app, &provider, "d-789").await;
    assert_eq!(to, "/login");
    assert!(refusal_shown(&dave).await.contains("ask for an invitation"));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'dave@example.org'")
            .await,
        0
    );
}

#[tokio::test]
async fn password_sign_in_switched_off_leaves_administrators_a_fallback() {
    let provider = OidcProvider::start(PUBLIC_URL);
    let app = app_with(&provider, &[("OIDC_PASSWORD_SIGN_IN", "administrators")]).await;
    let admin = app.setup_admin().await;
    admin
        .submit(
            "/admin/users",
            &[
                ("username", "bob"),
                ("email", "bob@example.org"),
                ("password", "bob password"),
                ("password_confirm", "bob password"),
                ("role", "user"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    let bob = app.client();
    let r = bob.login("bob", "bob password").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("signs people in through single sign-on")
    );
    assert_eq!(location(&bob.get("/").await), "/login?next=%2F");
    let root = app.client();
    assert_eq!(location(&root.login("admin", ADMIN_PASSWORD).await), "/");
}
