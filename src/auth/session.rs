//! Session cookies: creation, lookup and removal.

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::Utc;

use super::keys::{random_token, sha256};
use crate::{db, state::AppState};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tt_session";
/// Name of the anonymous cookie that anchors CSRF tokens before login.
pub const PRESESSION_COOKIE: &str = "tt_pre";

/// Reads one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the app's security attributes.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
    let secure = if state.config.auth.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}"
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Starts a session for `user_id`; returns the `Set-Cookie` header value.
pub async fn start(state: &AppState, user_id: i64) -> Result<HeaderValue, sqlx::Error> {
    let token = random_token();
    let ttl = chrono::Duration::from_std(state.config.auth.session_ttl)
        .unwrap_or(chrono::Duration::days(7));
    db::sessions::insert(&state.pool, &sha256(&token), user_id, Utc::now() + ttl).await?;
    Ok(set_cookie(state, SESSION_COOKIE, &token, ttl.num_seconds()))
}

/// Ends the session named by the request's cookie; returns the clearing `Set-Cookie`.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<HeaderValue, sqlx::Error> {
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        db::sessions::delete(&state.pool, &sha256(token)).await?;
    }
    Ok(set_cookie(state, SESSION_COOKIE, "", 0))
}
