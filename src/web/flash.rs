//! One-time messages after a redirect ("Entry saved."), carried in a signed
//! cookie, never in the URL.
//!
//! Rule: a page shows a notice only if this app wrote it. A message in the
//! query string would let anyone craft a link to an official-looking notice,
//! so [`redirect`] puts the message in the `tt_flash` cookie with an HMAC of
//! it, [`Flash`] reads it back only when the HMAC matches, and [`clear`] (a
//! middleware) removes it with the first page that could have shown it.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderValue, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    auth::{
        keys::constant_time_eq,
        session::{cookie, set_cookie},
    },
    domain::LocalPath,
    error::AppError,
    state::AppState,
};

const COOKIE: &str = "tt_flash";
/// A flash not shown within this time is dropped by the browser.
const MAX_AGE_SECONDS: i64 = 120;

fn signature(state: &AppState, payload: &[u8]) -> String {
    hex::encode(&state.keys.mac("flash", payload)[..16])
}

/// What one flash carries: a message, and for a page that must show a
/// secret exactly once (a new API token), that secret.
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

/// A redirect (303) to `path`, a fixed path of this app, that shows `message` there once.
pub fn redirect(state: &AppState, path: &'static str, message: &str) -> Response {
    redirect_with(state, path, message, None)
}

/// Like [`redirect`], to a path built from parsed values (`/timesheet?week=2026-11-30`).
pub fn redirect_local(state: &AppState, path: &LocalPath, message: &str) -> Response {
    redirect_with(state, path.as_str(), message, None)
}

/// Like [`redirect`], and the next page also shows `secret` once ([`Reveal`]).
/// The cookie is `HttpOnly`, lives two minutes at most and is removed by the
/// page that shows it, so a reload shows nothing and creates nothing.
pub fn redirect_revealing(
    state: &AppState,
    path: &'static str,
    message: &str,
    secret: &str,
) -> Response {
    redirect_with(state, path, message, Some(secret))
}

fn redirect_with(state: &AppState, path: &str, message: &str, secret: Option<&str>) -> Response {
    let mut response = Redirect::to(path).into_response();
    let payload = serde_json::to_vec(&Payload {
        message: message.to_owned(),
        secret: secret.map(str::to_owned),
    })
    .unwrap_or_default();
    let value = format!("{}.{}", hex::encode(&payload), signature(state, &payload));
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, COOKIE, &value, MAX_AGE_SECONDS),
    );
    response
}

fn read(state: &AppState, headers: &axum::http::HeaderMap) -> Option<Payload> {
    let (payload, sent) = cookie(headers, COOKIE)?.split_once('.')?;
    let payload = hex::decode(payload).ok()?;
    if !constant_time_eq(sent, &signature(state, &payload)) {
        return None;
    }
    serde_json::from_slice(&payload).ok()
}

/// The message a redirect left for this page, if the app wrote it.
pub struct Flash(pub Option<String>);

impl FromRequestParts<AppState> for Flash {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Flash(read(state, &parts.headers).map(|p| p.message)))
    }
}

/// The secret a [`redirect_revealing`] left for this page, if any.
pub struct Reveal(pub Option<String>);

impl FromRequestParts<AppState> for Reveal {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Reveal(read(state, &parts.headers).and_then(|p| p.secret)))
    }
}

/// Middleware: a successful page answer to a request that carried a flash
/// removes it, so each message shows once.
pub async fn clear(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let had_flash = cookie(request.headers(), COOKIE).is_some();
    let mut response = next.run(request).await;
    let sets_flash = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(COOKIE.as_bytes()));
    if had_flash && response.status().is_success() && !sets_flash {
        let cleared: HeaderValue = set_cookie(&state, COOKIE, "", 0);
        response.headers_mut().append(header::SET_COOKIE, cleared);
    }
    response
}
