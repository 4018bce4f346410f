//! CSRF protection for cookie-authenticated writes.
//!
//! The token is an HMAC of the request's session cookie (or, before login, of
//! an anonymous `tt_pre` cookie), so it needs no storage and changes with every
//! login. [`verify`] is the one middleware that checks every unsafe request:
//! an API request with an `Authorization` header is authenticated by that
//! header alone (a junk one is a 401, its cookies are never consulted) and
//! is exempt, as is an API request without a session cookie (it has no
//! credential at all and gets the API's 401); a page request authenticated
//! by a valid API token carries no ambient credential and is exempt too.
//! Every other one, including a cookie-carrying page request with an
//! invalid or junk `Authorization` header, must send the token in the
//! `X-CSRF-Token` header or in a `csrf_token` form field: the body's field
//! for a URL-encoded form, the first part for a multipart one (an upload),
//! so that the check reads only the upload's first bytes and the handler
//! still streams the rest.

use axum::{
    body::{Body, Bytes, to_bytes},
    extract::{FromRequest, Multipart, Request, State},
    http::{HeaderMap, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use futures_util::StreamExt;

use super::{Credential, CurrentUser};
use super::{
    keys::{constant_time_eq, random_token},
    session::{PRESESSION_COOKIE, SESSION_COOKIE, cookie, set_cookie},
};
use crate::{error::AppError, state::AppState};

/// Largest form body the CSRF check will read; larger writes use the header.
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// How far into a multipart body the check looks for the end of the
/// `csrf_token` part that must come first.
const MAX_FIRST_PART_BYTES: usize = 16 * 1024;

/// The token forms on this request's page must carry, if the request has a cookie to anchor it.
pub fn token_for(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let anchor = cookie(headers, SESSION_COOKIE).or_else(|| cookie(headers, PRESESSION_COOKIE))?;
    Some(hex::encode(state.keys.mac("csrf", anchor.as_bytes())))
}

/// The token for an anonymous form, creating the anchor cookie when the request has none.
pub fn ensure_token(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(token) = token_for(state, headers) {
        return (token, None);
    }
    let anchor = random_token();
    let token = hex::encode(state.keys.mac("csrf", anchor.as_bytes()));
    (
        token,
        Some(set_cookie(state, PRESESSION_COOKIE, &anchor, 12 * 3600)),
    )
}

/// Middleware: rejects unsafe requests without a valid CSRF token (403).
pub async fn verify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let api = request.uri().path().starts_with("/api/");
    // The API authenticates a request with an `Authorization` header by that
    // header alone, never by its cookies (`Credential`): a cookie sent with
    // it gives nothing to forge, and a junk header is the API's 401. Its
    // hot handlers check the token in their own first statement, so it is
    // not checked here as well.
    if api && request.headers().contains_key(header::AUTHORIZATION) {
        return next.run(request).await;
    }
    if request.headers().contains_key(header::AUTHORIZATION)
        && let Ok(credential) = Credential::from_headers(request.headers())
    {
        match CurrentUser::check(&state, &credential, request.headers()).await {
            // Authenticated by the token alone: the handler sees this user,
            // never the cookie's, so there is no ambient credential to forge.
            Ok(user) => {
                request.extensions_mut().insert(user);
                return next.run(request).await;
            }
            Err(AppError::Unauthorized) => {}
            Err(e) => return e.into_response(),
        }
    }
    // No credential at all: the API's own 401 says more than a CSRF 403.
    if api && cookie(request.headers(), SESSION_COOKIE).is_none() {
        return next.run(request).await;
    }
    let Some(expected) = token_for(&state, request.headers()) else {
        return AppError::Csrf.into_response();
    };
    if let Some(sent) = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return if constant_time_eq(sent, &expected) {
            next.run(request).await
        } else {
            AppError::Csrf.into_response()
        };
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        return match first_part(request, &expected).await {
            Some(request) => next.run(request).await,
            None => AppError::Csrf.into_response(),
        };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return AppError::Csrf.into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return AppError::PayloadTooLarge.into_response();
    };
    let sent = form_field(&bytes, "csrf_token");
    if !sent.is_some_and(|sent| constant_time_eq(&sent, &expected)) {
        return AppError::Csrf.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Checks a multipart body's first part, which must be the `csrf_token`
/// field, and gives the request back with its body whole (the bytes read,
/// then the rest of the stream): an upload is never buffered here.
async fn first_part(request: Request, expected: &str) -> Option<Request> {
    let (parts, body) = request.into_parts();
    let boundary = {
        let content_type = parts.headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let at = content_type.find("boundary=")? + "boundary=".len();
        let raw = content_type[at..]
            .split(';')
            .next()?
            .trim()
            .trim_matches('"');
        format!("\r\n--{raw}")
    };
    let mut stream = body.into_data_stream();
    let mut read = Vec::new();
    // Until the part's closing delimiter has arrived.
    while !read
        .windows(boundary.len())
        .any(|w| w == boundary.as_bytes())
    {
        if read.len() > MAX_FIRST_PART_BYTES {
            return None;
        }
        read.extend_from_slice(&stream.next().await?.ok()?);
    }
    let read = Bytes::from(read);
    let head = Request::from_parts(parts.clone(), Body::from(read.clone()));
    let mut fields = Multipart::from_request(head, &()).await.ok()?;
    let field = fields.next_field().await.ok()??;
    if field.name() != Some("csrf_token") || field.file_name().is_some() {
        return None;
    }
    let sent = field.text().await.ok()?;
    if !constant_time_eq(&sent, expected) {
        return None;
    }
    let whole = futures_util::stream::once(async move { Ok::<_, axum::Error>(read) }).chain(stream);
    Some(Request::from_parts(parts, Body::from_stream(whole)))
}
