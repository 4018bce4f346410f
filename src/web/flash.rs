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
    error::AppError,
    startup::AppState,
};

const COOKIE: &str = "tt_flash";
/// A flash not shown within this time is dropped by the browser.
const MAX_AGE_SECONDS: i64 = 120;

fn signature(state: &AppState, message: &[u8]) -> String {
    hex::encode(&state.keys.mac("flash", message)[..16])
}

/// A redirect (303) to `path`, a fixed path of this app, that shows `message` there once.
pub fn redirect(state: &AppState, path: &'static str, message: &str) -> Response {
    let mut response = Redirect::to(path).into_response();
    let value = format!(
        "{}.{}",
        hex::encode(message),
        signature(state, message.as_bytes())
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, COOKIE, &value, MAX_AGE_SECONDS),
    );
    response
}

/// The message a redirect left for this page, if the app wrote it.
pub struct Flash(pub Option<String>);

impl Flash {
    fn read(state: &AppState, headers: &axum::http::HeaderMap) -> Option<String> {
        let (message, sent) = cookie(headers, COOKIE)?.split_once('.')?;
        let message = hex::decode(message).ok()?;
        if !constant_time_eq(sent, &signature(state, &message)) {
            return None;
        }
        String::from_utf8(message).ok()
    }
}

impl FromRequestParts<AppState> for Flash {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Flash(Self::read(state, &parts.headers)))
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
