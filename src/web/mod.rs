//! Server-rendered HTML pages, grouped by resource. Handlers parse input into
//! domain types, call `db` functions and render askama templates from `templates/`.

mod admin;
mod catalog;
mod charts;
mod confirm;
mod docs;
mod entries;
pub mod error_pages;
mod exports;
pub mod flash;
mod forgot_password;
mod invitations;
mod invoices;
mod login;
mod password_reset;
mod profile;
mod reports;
mod seller;
mod setup;
mod sso;
mod timer;
mod timesheet;
mod two_factor;

use askama::Template;
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};

use crate::{
    auth::CurrentUser,
    domain::{LocalPath, ValidationError},
    error::AppError,
    state::AppState,
    tracking::catalog::{Clients, Projects, Tasks},
};

/// Every HTML route of the public listener.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(timer::show))
        .route("/timer/start", post(timer::start))
        .route("/timer/stop", post(timer::stop))
        .route("/timer/edit", post(timer::edit))
        .route("/timesheet", get(timesheet::show).post(timesheet::save))
        .route("/timesheet/rows", post(timesheet::add_row))
        .route("/timesheet/copy", post(timesheet::copy))
        .route("/entries", get(entries::list))
        .route("/entries/new", get(entries::new_form).post(entries::create))
        .route(
            "/entries/{id}/edit",
            get(entries::edit_form).post(entries::update),
        )
        .route("/entries/{id}/delete", post(entries::delete))
        .route("/entries/bulk", post(entries::bulk))
        .route("/entries/{id}/restart", post(timer::restart))
        .route(
            "/clients",
            get(catalog::clients).post(catalog::create::<Clients>),
        )
        .route(
            "/clients/{id}/edit",
            get(catalog::edit::<Clients>).post(catalog::update::<Clients>),
        )
        .route("/clients/{id}/archive", post(catalog::archive::<Clients>))
        .route(
            "/clients/{id}/unarchive",
            post(catalog::unarchive::<Clients>),
        )
        .route("/clients/{id}/delete", post(catalog::delete::<Clients>))
        .route(
            "/projects",
            get(catalog::projects).post(catalog::create::<Projects>),
        )
        .route(
            "/projects/{id}/edit",
            get(catalog::edit::<Projects>).post(catalog::update::<Projects>),
        )
        .route("/projects/{id}/archive", post(catalog::archive::<Projects>))
        .route(
            "/projects/{id}/unarchive",
            post(catalog::unarchive::<Projects>),
        )
        .route("/projects/{id}/delete", post(catalog::delete::<Projects>))
        .route("/tasks", get(catalog::tasks).post(catalog::create::<Tasks>))
        .route(
            "/tasks/{id}/edit",
            get(catalog::edit::<Tasks>).post(catalog::update::<Tasks>),
        )
        .route("/tasks/{id}/status", post(catalog::set_task_status))
        .route("/tasks/{id}/delete", post(catalog::delete::<Tasks>))
        .route("/reports", get(reports::show))
        .route("/reports/saved", post(reports::save))
        .route("/reports/saved/{id}/delete", post(reports::delete_saved))
        .route("/exports", get(exports::list).post(exports::create))
        .route("/exports/{id}/download", get(exports::download))
        .route("/reports/export.csv", get(reports::export_csv))
        .route(
            "/admin/settings",
            get(admin::settings::show).post(admin::settings::save),
        )
        .route("/setup", get(setup::form).post(setup::submit))
        .route("/login", get(login::form).post(login::submit))
        .route(
            "/forgot-password",
            get(forgot_password::form).post(forgot_password::submit),
        )
        .route(
            "/invitation",
            get(invitations::accept::form).post(invitations::accept::submit),
        )
        .route(
            "/reset-password",
            get(password_reset::form).post(password_reset::submit),
        )
        .route("/login/sso", get(sso::start))
        .route("/login/sso/callback", get(sso::callback))
        .route(
            "/login/code",
            get(two_factor::code_form).post(two_factor::code_submit),
        )
        .route("/logout", post(login::logout))
        .route("/profile", get(profile::show))
        .route("/profile/password", post(profile::change_password))
        .route("/profile/name", post(profile::change_name))
        .route("/profile/formats", post(profile::change_formats))
        .route("/profile/email", post(profile::change_email))
        .route("/profile/timezone", post(profile::change_timezone))
        .route(
            "/profile/two-factor",
            get(two_factor::show).post(two_factor::begin),
        )
        .route(
            "/profile/two-factor/confirm",
            post(two_factor::confirm_enrolment),
        )
        .route("/profile/two-factor/disable", post(two_factor::disable))
        .route("/profile/tokens", post(profile::create_token))
        .route("/profile/tokens/{id}/revoke", post(profile::revoke_token))
        .route(
            "/admin/users",
            get(admin::users::list).post(admin::users::create),
        )
        .route(
            "/admin/users/{id}/edit",
            get(admin::users::edit_form).post(admin::users::update),
        )
        .route(
            "/admin/users/{id}/reset-password",
            post(admin::users::reset_password),
        )
        .route(
            "/invitations",
            get(invitations::list).post(invitations::create),
        )
        .route("/invoices", get(invoices::list).post(invoices::create))
        .route("/invoices.csv", get(invoices::csv))
        .route("/invoices/new", get(invoices::new_form))
        .route("/invoices/seller", get(seller::form).post(seller::save))
        .route(
            "/invoices/seller/logo",
            get(seller::logo)
                .post(seller::upload_logo)
                .layer(DefaultBodyLimit::max(seller::MAX_UPLOAD_BYTES)),
        )
        .route("/invoices/seller/logo/remove", post(seller::remove_logo))
        .route("/invoices/{id}", get(invoices::show))
        .route("/invoices/{id}/pdf", get(invoices::pdf))
        .route("/invoices/{id}/terms", post(invoices::update_terms))
        .route("/invoices/{id}/lines/{line}", post(invoices::update_line))
        .route(
            "/invoices/{id}/lines/{line}/delete",
            post(invoices::delete_line),
        )
        .route("/invoices/{id}/issue", post(invoices::issue))
        .route("/invoices/{id}/document", post(invoices::make_document))
        .route("/invoices/{id}/paid", post(invoices::paid))
        .route("/invoices/{id}/cancel", post(invoices::cancel))
        .route("/invoices/{id}/delete", post(invoices::delete))
        .route("/invitations/{id}/resend", post(invitations::resend))
        .route("/invitations/{id}/revoke", post(invitations::revoke))
        .route("/admin/users/{id}/role", post(admin::users::set_role))
        .route(
            "/admin/users/{id}/reset-two-factor",
            post(two_factor::admin_reset),
        )
        .route("/admin/two-factor", post(two_factor::admin_require))
        .route("/admin/sso", get(sso::admin_page))
        .route(
            "/admin/users/{id}/deactivate",
            post(admin::users::deactivate),
        )
        .route("/admin/users/{id}/activate", post(admin::users::activate))
        .route("/admin/telemetry", get(admin::telemetry::show))
        .route(
            "/admin/telemetry/analytics",
            post(admin::telemetry::set_analytics),
        )
        .route(
            "/admin/telemetry/install",
            post(admin::telemetry::set_install),
        )
        .route("/admin/telemetry/ping", post(admin::telemetry::ping_now))
        .route("/admin/telemetry/dead", post(admin::telemetry::dead_events))
        .route("/admin/flags", post(admin::telemetry::set_flag))
        .route("/docs/{page}", get(docs::page))
        .route("/profile/analytics", post(admin::telemetry::set_opt_out))
        .route("/admin/jobs", get(admin::jobs::show))
        .route("/admin/jobs/list", get(admin::jobs::list))
        .route("/admin/jobs/{id}", get(admin::jobs::detail))
        .route("/admin/jobs/{id}/retry", post(admin::jobs::retry))
        .route("/admin/jobs/{id}/discard", post(admin::jobs::discard))
        .route("/admin/jobs/{id}/cancel", post(admin::jobs::cancel))
        .route("/admin/jobs/bulk", post(admin::jobs::bulk))
        .route("/admin/jobs/queues/{queue}/pause", post(admin::jobs::pause))
        .route(
            "/admin/jobs/queues/{queue}/resume",
            post(admin::jobs::resume),
        )
        .route("/admin/jobs/queues/{queue}/drain", post(admin::jobs::drain))
}

/// What every page's layout needs: title, navigation user, CSRF token, notice.
pub struct Layout {
    pub title: String,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub notice: Option<String>,
    /// How this person writes a date and a date with a time, for placeholders.
    pub date_hint: &'static str,
    pub instant_hint: String,
}

pub struct NavUser {
    pub username: String,
    /// Sees the Admin menu.
    pub administers: bool,
    /// Sees Invitations.
    pub invites: bool,
    /// Sees Invoices.
    pub bills: bool,
}

impl From<&crate::db::users::User> for NavUser {
    fn from(user: &crate::db::users::User) -> Self {
        Self {
            username: user.name().to_owned(),
            administers: user.can(crate::domain::Permission::Administer),
            invites: user.can(crate::domain::Permission::Invite),
            bills: user.can(crate::domain::Permission::Bill),
        }
    }
}

impl Layout {
    pub fn anonymous(title: &str, csrf: String) -> Self {
        Self {
            title: title.to_owned(),
            user: None,
            csrf,
            notice: None,
            date_hint: crate::domain::formats::DateOrder::Iso.example(),
            instant_hint: String::new(),
        }
    }
    pub fn for_user(title: &str, current: &CurrentUser) -> Self {
        let format = crate::tracking::Actor::from(current).format;
        Self {
            title: title.to_owned(),
            user: Some(NavUser::from(&current.user)),
            csrf: current.csrf.clone(),
            notice: None,
            date_hint: format.date.example(),
            instant_hint: format.instant_example(),
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
fn redirect_with_cookie(path: &LocalPath, cookie: HeaderValue) -> Response {
    let mut response = Redirect::to(path.as_str()).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// The `?token=…` of a one-time link (a password reset, an invitation).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct LinkToken {
    pub token: String,
}

/// The messages of a refused form, by field: a page shows each beside its
/// field (`templates/macros.html`: `field_error`, and `form_error` for the
/// field `form`).
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(Vec<ValidationError>);

impl FieldErrors {
    /// The message for `field`, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

impl From<Vec<ValidationError>> for FieldErrors {
    fn from(errors: Vec<ValidationError>) -> Self {
        Self(errors)
    }
}

/// A time entry as the pages show it, in the viewer's timezone.
pub struct EntryRow {
    pub id: i64,
    pub username: String,
    pub start: String,
    pub end: String,
    pub project: String,
    pub task: String,
    pub notes: String,
    pub tags: String,
    pub duration: String,
    pub billable: bool,
    pub finished: bool,
    /// The issued invoice that holds it: it cannot change.
    pub invoice: Option<String>,
}

impl EntryRow {
    /// The entry as `format` (the viewer's timezone, date order and clock) reads it.
    pub fn new(
        named: &crate::db::entries::NamedEntry,
        format: &crate::domain::formats::LocalFormat,
    ) -> Self {
        let local = |t: chrono::DateTime<chrono::Utc>| format.instant(t);
        let e = &named.entry;
        Self {
            id: e.id,
            username: named.username.clone(),
            start: local(e.started_at),
            end: e.ended_at.map(local).unwrap_or_else(|| "running".into()),
            project: match &named.client_name {
                Some(c) => format!("{} ({c})", named.project_name),
                None => named.project_name.clone(),
            },
            task: named.task_name.clone().unwrap_or_default(),
            notes: e.notes.clone(),
            tags: e.tags.join(", "),
            duration: e
                .duration_seconds
                .map(crate::domain::tracking::format_duration)
                .unwrap_or_else(|| "running".into()),
            billable: e.billable,
            finished: e.ended_at.is_some(),
            invoice: named.invoice_number.clone(),
        }
    }
}

/// An optional numeric id from a form field; empty means none.
fn optional_id(field: &'static str, raw: &str) -> Result<Option<i64>, ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| ValidationError::new(field, "Choose an item from the list."))
}

/// The other active people whose time `current` may book and edit (the
/// entry form's and the timesheet's *For* picker); empty for a plain user.
async fn people_for(
    state: &AppState,
    current: &CurrentUser,
) -> Result<Vec<crate::db::users::User>, AppError> {
    if !current.user.can(crate::domain::Permission::ManageTeamTime) {
        return Ok(Vec::new());
    }
    let (people, _) = crate::db::users::page(&state.pool, 500, 0).await?;
    Ok(people
        .into_iter()
        .filter(|u| u.active && u.id != current.user.id)
        .collect())
}
