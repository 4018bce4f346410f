//! Error pages for browsers. Handlers answer errors as JSON (`AppError`);
//! [`render`] turns that into what a browser expects: a redirect to the sign-in
//! page for 401, otherwise an HTML page in the app's layout (with the
//! navigation for a signed-in user) that says what to do next. API routes and
//! clients that ask for JSON keep the JSON body.

use askama::Template;
use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};

use super::{Layout, NavUser};
use crate::{
    auth::{csrf, keys::sha256, session},
    db::{self, callers::Kind},
    error::{ErrorBody, ErrorLogged},
    state::AppState,
};

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    heading: &'a str,
    message: &'a str,
    next_step: &'a str,
    signed_in: bool,
}

/// What the person can do about an error of this status.
fn next_step(status: StatusCode, signed_in: bool) -> &'static str {
    match status.as_u16() {
        403 if signed_in => {
            "If you need this page, ask an administrator. Otherwise go back to your timer."
        }
        403 => "Reload the page you came from and try again.",
        404 => "Check the address, or start again from the timer.",
        409 | 422 => "Go back, change what the message names, and try again.",
        429 => "Wait a moment, then try again.",
        503 => "The server cannot reach its database right now. Try again in a minute.",
        s if s >= 500 => {
            "Try again. If it keeps failing, tell your administrator the reference above."
        }
        _ => "Go back and try again.",
    }
}

/// The navigation user of the request's session, if it has a valid one.
async fn signed_in(state: &AppState, headers: &axum::http::HeaderMap) -> Option<(NavUser, String)> {
    let token = session::cookie(headers, session::SESSION_COOKIE)?;
    let user = db::callers::check(&state.pool, Kind::Session, &sha256(token))
        .await
        .ok()
        .flatten()?
        .user;
    Some((
        NavUser::from(&user),
        csrf::token_for(state, headers).unwrap_or_default(),
    ))
}

/// The HTML page for an error status.
async fn page(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    status: StatusCode,
    message: &str,
) -> String {
    let heading = status.canonical_reason().unwrap_or("Error");
    // A database outage fails the session lookup too: then the page is anonymous.
    let user = if status == StatusCode::SERVICE_UNAVAILABLE {
        None
    } else {
        signed_in(state, headers).await
    };
    let signed_in = user.is_some();
    let mut layout = Layout::anonymous(heading, String::new());
    if let Some((user, csrf)) = user {
        layout.user = Some(user);
        layout.csrf = csrf;
    }
    let page = ErrorPage {
        layout,
        heading,
        message,
        next_step: next_step(status, signed_in),
        signed_in,
    };
    page.render().unwrap_or_else(|_| message.to_owned())
}

/// Middleware: JSON errors become a sign-in redirect (401) or an error page.
pub async fn render(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let wants_html = !request.uri().path().starts_with("/api/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|accept| !accept.contains("application/json"));
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let headers = request.headers().clone();
    let response = next.run(request).await;
    if !wants_html {
        return response;
    }
    let Some(body) = response.extensions().get::<ErrorBody>().cloned() else {
        return response;
    };
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        let next = serde_urlencoded::to_string([("next", path_and_query)]).unwrap_or_default();
        return Redirect::to(&format!("/login?{next}")).into_response();
    }
    let html = page(&state, &headers, status, &body.message).await;
    let mut page = (status, Html(html)).into_response();
    if let Some(retry) = response.headers().get(header::RETRY_AFTER) {
        page.headers_mut()
            .insert(header::RETRY_AFTER, retry.clone());
    }
    if let Some(logged) = response.extensions().get::<ErrorLogged>() {
        page.extensions_mut().insert(*logged);
    }
    page
}
