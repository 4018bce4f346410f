//! Keys, sessions and who the client is.

use std::time::Duration;

use anyhow::bail;

use super::{Secret, Vars};

#[derive(Debug, Clone)]
pub struct Auth {
    /// Key for sessions, CSRF and keyed hashes (`SECRET_KEY`); generated and kept in the database when unset.
    pub secret_key: Option<Secret<String>>,
    /// Fixed one-time setup token (`SETUP_TOKEN`); a random one is generated when unset.
    pub setup_token: Option<Secret<String>>,
    /// Whether cookies carry `Secure` (`COOKIE_SECURE`; default: true unless `PUBLIC_URL` is plain http).
    pub cookie_secure: bool,
    /// Session lifetime (`SESSION_TTL_HOURS`).
    pub session_ttl: Duration,
    /// Use the last `X-Forwarded-For` hop as the client address (`TRUST_PROXY_HEADERS`).
    pub trust_proxy_headers: bool,
}

impl Auth {
    pub fn from_vars(vars: &Vars, public_url: &str) -> anyhow::Result<Self> {
        let secret_key = vars.get("SECRET_KEY");
        if secret_key.as_ref().is_some_and(|key| key.len() < 32) {
            bail!("SECRET_KEY must be at least 32 characters long");
        }
        Ok(Self {
            secret_key: secret_key.map(Secret::new),
            setup_token: vars.get("SETUP_TOKEN").map(Secret::new),
            cookie_secure: vars.bool("COOKIE_SECURE", public_url.starts_with("https://"))?,
            session_ttl: vars.hours("SESSION_TTL_HOURS", "168")?,
            trust_proxy_headers: vars.bool("TRUST_PROXY_HEADERS", false)?,
        })
    }
}
