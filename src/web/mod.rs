//! Server-rendered HTML pages, grouped by resource. Handlers parse input into
//! domain types, call `db` functions and render askama templates from `templates/`.

mod admin;
pub mod extract;
mod health;
mod home;
mod jobs;
mod login;
mod profile;
mod setup;

use askama::Template;
use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};

use crate::{auth::CurrentUser, domain::ValidationError, error::AppError, startup::AppState};

pub use health::{live, ready};

/// Every HTML route of the public listener.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::show))
        .route("/setup", get(setup::form).post(setup::submit))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/profile", get(profile::show))
        .route("/profile/password", post(profile::change_password))
        .route("/profile/timezone", post(profile::change_timezone))
        .route("/admin/users", get(admin::list).post(admin::create))
        .route("/admin/users/{id}/role", post(admin::set_role))
        .route("/admin/users/{id}/deactivate", post(admin::deactivate))
        .route("/admin/users/{id}/activate", post(admin::activate))
        .route("/admin/jobs", get(jobs::show))
        .route("/admin/jobs/{id}/retry", post(jobs::retry))
        .route("/admin/jobs/{id}/discard", post(jobs::discard))
}

/// What every page's layout needs: title, navigation user, CSRF token, notice.
pub struct Layout {
    pub title: String,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub notice: Option<String>,
}

pub struct NavUser {
    pub username: String,
    pub is_admin: bool,
}

impl Layout {
    pub fn anonymous(title: &str, csrf: String) -> Self {
        Self {
            title: title.to_owned(),
            user: None,
            csrf,
            notice: None,
        }
    }
    pub fn for_user(title: &str, current: &CurrentUser) -> Self {
        Self {
            title: title.to_owned(),
            user: Some(NavUser {
                username: current.user.username.clone(),
                is_admin: current.user.is_admin(),
            }),
            csrf: current.csrf.clone(),
            notice: None,
        }
    }
    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }
}

/// Renders a template into an HTML response body.
pub fn render(template: &impl Template) -> Result<Html<String>, AppError> {
    template
        .render()
        .map(Html)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template rendering failed: {e}")))
}

/// A page response that also sets `cookie` (e.g. the anonymous CSRF anchor).
fn page_with_cookie(
    status: StatusCode,
    html: Html<String>,
    cookie: Option<HeaderValue>,
) -> Response {
    let mut response = (status, html).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// A redirect to `path` that sets `cookie` (a session started or ended).
fn redirect_with_cookie(path: &str, cookie: HeaderValue) -> Response {
    let mut response = Redirect::to(path).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// The message for `field` among form errors, for templates.
fn field_error<'a>(errors: &'a [ValidationError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    heading: &'a str,
    message: &'a str,
}

/// The HTML page shown for an error status.
pub fn error_page(status: StatusCode, message: &str) -> String {
    let heading = status.canonical_reason().unwrap_or("Error");
    let page = ErrorPage {
        layout: Layout::anonymous(heading, String::new()),
        heading,
        message,
    };
    page.render().unwrap_or_else(|_| message.to_owned())
}

/// Query string carrying a one-line notice after a redirect.
#[derive(Debug, serde::Deserialize, Default)]
pub struct Notice {
    pub notice: Option<String>,
}

/// Redirect target with a notice for the next page.
fn with_notice(path: &str, notice: &str) -> String {
    format!(
        "{path}?{}",
        serde_urlencoded::to_string([("notice", notice)]).unwrap_or_default()
    )
}
