//! A real OpenID provider for the single sign-on tests: node's
//! oidc-provider (OpenID-certified) running `tests/oidc_provider.mjs` on
//! 127.0.0.1, with the test's people and, when a test asks, a tampered or
//! re-keyed ID token.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use serde_json::{Value, json};

/// The client the app is registered as.
pub const OIDC_CLIENT_ID: &str = "timetracker";
const OIDC_CLIENT_SECRET: &str = "the client's secret";

pub struct OidcProvider {
    child: Child,
    pub issuer: String,
    http: reqwest::Client,
}

impl OidcProvider {
    /// Starts the provider, which sends people back to `public_url`'s callback.
    pub fn start(public_url: &str) -> Self {
        // reqwest is built without a TLS provider of its own (the app's choice).
        timetracker::outbound::install_tls_provider();
        // Everything that can fail comes before the child exists or kills
        // it first: a provider left running outlives the test run.
        let http = reqwest::Client::new();
        let tools = super::repo().join(".data/tools/node");
        let mut child = Command::new("node")
            .current_dir(&tools)
            .arg(super::repo().join("tests/oidc_provider.mjs"))
            .args([OIDC_CLIENT_ID, OIDC_CLIENT_SECRET])
            .arg(format!(
                "{}/login/sso/callback",
                public_url.trim_end_matches('/')
            ))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node is installed (make test installs oidc-provider)");
        let mut line = String::new();
        let port = child.stdout.take().and_then(|out| {
            let mut stdout = BufReader::new(out);
            stdout.read_line(&mut line).ok()?;
            // The pipe stays open and drained: a write to a closed one ends node.
            std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
            line.trim().strip_prefix("ready ")?.parse::<u16>().ok()
        });
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the OpenID provider did not start: {line:?}");
        };
        Self {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
            http,
        }
    }

    /// The app's settings for this provider, plus `extra`.
    pub fn settings(&self, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("OIDC_ISSUER_URL", self.issuer.clone()),
            ("OIDC_CLIENT_ID", OIDC_CLIENT_ID.to_owned()),
            ("OIDC_CLIENT_SECRET", OIDC_CLIENT_SECRET.to_owned()),
            ("OIDC_PROVIDER_NAME", "the test provider".to_owned()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        vars
    }

    async fn post(&self, path: &str, body: Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("the provider answers");
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }

    /// The people who can sign in, with their claims.
    pub async fn people(&self, people: Value) {
        self.post("/test/accounts", people).await;
    }

    /// Who the next sign-in at the provider is.
    pub async fn next_sign_in_is(&self, account: &str) {
        self.post("/test/next", json!({ "account": account })).await;
    }

    /// The next ID token is re-signed with these claims changed (`exp` in
    /// seconds from now).
    pub async fn tamper_next(&self, claims: Value) {
        self.post("/test/tamper", claims).await;
    }

    /// A new signing key, with a new key id, signs from now on.
    pub async fn rotate_keys(&self) {
        self.post("/test/rotate", json!({})).await;
    }

    /// Follows the provider's redirects from `authorize` (its address, as
    /// the app sent the browser there) with a browser-like cookie jar, to the
    /// app's callback; returns the callback's path and query.
    pub async fn sign_in_at(&self, authorize: &str) -> String {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        // The provider's cookies (its interaction and session), as a browser keeps them.
        let mut cookies: Vec<(String, String)> = Vec::new();
        let mut at = authorize.to_owned();
        for _ in 0..10 {
            let header = cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let r = browser
                .get(&at)
                .header("cookie", header)
                .send()
                .await
                .expect("the provider answers");
            for set in r.headers().get_all("set-cookie") {
                let Some((name, value)) = set
                    .to_str()
                    .ok()
                    .and_then(|c| c.split(';').next())
                    .and_then(|c| c.split_once('='))
                else {
                    continue;
                };
                cookies.retain(|(k, _)| k != name);
                cookies.push((name.to_owned(), value.to_owned()));
            }
            let to = r
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or_else(|| panic!("{at}: {} without a redirect", r.status()))
                .to_owned();
            let to = if to.starts_with('/') {
                format!("{}{to}", self.issuer)
            } else {
                to
            };
            if !to.starts_with(&self.issuer) {
                let callback = to.find("/login/sso/callback").expect("the app's callback");
                return to[callback..].to_owned();
            }
            at = to;
        }
        panic!("the provider did not send the browser back")
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
