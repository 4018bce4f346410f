//! The JSON API under `/api/v1`, authenticated by personal API tokens
//! (`Authorization: Bearer …`) or, for the app's own pages, the session cookie
//! (then writes need the `X-CSRF-Token` header). Handlers call the same
//! `tracking` and `reports` functions as the web UI.
//!
//! Conventions: RFC 3339 UTC timestamps, durations in seconds, money in cents,
//! errors as `{"error": {"code", "message", "field"}}`. Tasks are paginated
//! with `page` and `per_page` (at most 200) and the total in `X-Total-Count`;
//! time entries also by keyset (`after`, `X-Next-After`), their total only
//! with `total=true`; admin jobs by keyset only; clients and projects whole.
//!
//! Rule: every route is registered through `utoipa_axum::routes!` from its
//! `#[utoipa::path]` annotation, so the router and the OpenAPI document served
//! at `/api/v1/openapi.json` are built from the same source and cannot drift.

mod admin_jobs;
mod catalog;
mod entries;
mod exports;
mod extract;
mod invoices;
mod me;
mod reports;
mod timer;
mod timesheet;

use std::{
    collections::{HashMap, HashSet},
    sync::LazyLock,
};

use axum::{Router, http::header, response::IntoResponse};
use serde::Serialize;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{error::AppError, state::AppState};

pub use extract::Json;

#[derive(OpenApi)]
#[openapi(
    info(title = "TimeTracker API", description = "Time entries, the running timer, reports, exports and invoices."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(ErrorEnvelope)),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme =
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build());
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", scheme);
    }
}

/// The answers every route can give besides its own, added to each operation
/// that does not document them already, so the document lists every status
/// the server really sends: 400 for an unreadable query string or body, 401
/// without a valid token, 403 for a cookie-authenticated write without its
/// CSRF token, 409 before the first-run setup, 413 for a body over 1 MiB, 500
/// and 503 (database unreachable).
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            ContentBuilder, Ref, ResponseBuilder, path::HttpMethod, security::SecurityRequirement,
        };
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for method in [
                HttpMethod::Get,
                HttpMethod::Post,
                HttpMethod::Put,
                HttpMethod::Delete,
            ] {
                let Some(op) = (match method {
                    HttpMethod::Get => item.get.as_mut(),
                    HttpMethod::Post => item.post.as_mut(),
                    HttpMethod::Put => item.put.as_mut(),
                    HttpMethod::Delete => item.delete.as_mut(),
                    _ => None,
                }) else {
                    continue;
                };
                let public = op
                    .security
                    .as_ref()
                    .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
                let has_query = op.parameters.as_ref().is_some_and(|ps| {
                    ps.iter().any(|p| {
                        matches!(p, utoipa::openapi::RefOr::T(p)
                            if p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
                    })
                });
                let has_body = op.request_body.is_some();
                let writes = !matches!(method, HttpMethod::Get);
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description).into());
                };
                if has_query || has_body {
                    add(
                        "400",
                        "`bad_request`: the query string or body could not be read (malformed, wrong type, not JSON, or no `Content-Type: application/json`)",
                    );
                }
                if !public {
                    add(
                        "401",
                        "`unauthorized`: no token, or a wrong, expired or revoked one",
                    );
                }
                if writes {
                    add(
                        "403",
                        "`csrf_failed`: a write authenticated by the session cookie without a valid `X-CSRF-Token`",
                    );
                }
                add(
                    "409",
                    "`setup_required`: the first-run setup is not complete",
                );
                if has_body {
                    add("413", "`payload_too_large`: the body is over 1 MiB");
                }
                add(
                    "500",
                    "`internal_error`: a fault on the server; the message carries the request id",
                );
                add(
                    "503",
                    "`unavailable`: the database is not reachable; try again",
                );
            }
        }
    }
}

/// `error`, unless the credential stands for nobody: then the 401, as for
/// every other request of someone who is not signed in. For handlers whose
/// statement checks the credential itself (`db::callers`), so that bad input
/// from nobody is still a 401, as the extractors answer it.
async fn unless_unauthorized(
    state: &AppState,
    credential: &crate::auth::Credential,
    error: AppError,
) -> AppError {
    match credential.check(&state.pool).await {
        Ok(_) => error,
        Err(e) => e,
    }
}

/// A field only some roles may read (rates and amounts: `Permission::SeeRates`).
/// Hidden, it is left out of the JSON altogether (declare the field with
/// `skip_serializing_if = "Private::is_hidden"` and `required = false`), so
/// "not yours to see" never reads as "none".
#[derive(Debug, Clone, Copy)]
pub enum Private<T> {
    Hidden,
    Shown(T),
}

impl<T> Private<T> {
    /// `value` when `viewer` may see rates and amounts.
    pub fn for_rates(viewer: &crate::db::users::User, value: T) -> Self {
        if viewer.can(crate::domain::Permission::SeeRates) {
            Self::Shown(value)
        } else {
            Self::Hidden
        }
    }

    pub fn is_hidden(&self) -> bool {
        matches!(self, Self::Hidden)
    }
}

impl<T: Serialize> Serialize for Private<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Shown(value) => value.serialize(serializer),
            Self::Hidden => serializer.serialize_none(),
        }
    }
}

/// The error body of every 4xx and 5xx answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorEnvelope {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `overlapping_time_entry`.
    code: String,
    /// What went wrong, for people.
    message: String,
    /// The input field at fault, when there is one.
    field: Option<String>,
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .routes(routes!(me::show))
        .routes(routes!(timer::active, timer::edit))
        .routes(routes!(timer::start))
        .routes(routes!(timer::stop))
        .routes(routes!(entries::list, entries::create))
        .routes(routes!(entries::bulk))
        .routes(routes!(entries::show, entries::update, entries::delete))
        .routes(routes!(catalog::clients, catalog::create_client))
        .routes(routes!(
            catalog::show_client,
            catalog::update_client,
            catalog::delete_client
        ))
        .routes(routes!(catalog::archive_client))
        .routes(routes!(catalog::projects, catalog::create_project))
        .routes(routes!(
            catalog::show_project,
            catalog::update_project,
            catalog::delete_project
        ))
        .routes(routes!(catalog::archive_project))
        .routes(routes!(catalog::tasks, catalog::create_task))
        .routes(routes!(
            catalog::show_task,
            catalog::update_task,
            catalog::delete_task
        ))
        .routes(routes!(catalog::set_task_status))
        .routes(routes!(invoices::list, invoices::create))
        .routes(routes!(invoices::show, invoices::delete))
        .routes(routes!(invoices::update_line))
        .routes(routes!(invoices::issue))
        .routes(routes!(invoices::paid))
        .routes(routes!(invoices::cancel))
        .routes(routes!(invoices::pdf))
        .routes(routes!(timesheet::show))
        .routes(routes!(timesheet::set_cell))
        .routes(routes!(timesheet::add_row))
        .routes(routes!(timesheet::copy))
        .routes(routes!(admin_jobs::queues))
        .routes(routes!(admin_jobs::list))
        .routes(routes!(admin_jobs::show))
        .routes(routes!(reports::summary))
        .routes(routes!(exports::create))
        .routes(routes!(exports::show))
        .routes(routes!(exports::download))
}

/// The API routes.
pub fn router() -> Router<AppState> {
    routes()
        .split_for_parts()
        .0
        .route_layer(axum::middleware::from_fn(reject_undeclared_query))
}

/// The query parameters each operation declares, by method and path template.
static QUERY_PARAMETERS: LazyLock<HashMap<(String, String), HashSet<String>>> =
    LazyLock::new(|| {
        use utoipa::openapi::{RefOr, path::ParameterIn};
        let mut map = HashMap::new();
        for (path, item) in &openapi().paths.paths {
            for (method, op) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("DELETE", &item.delete),
            ] {
                let Some(op) = op else { continue };
                let names = op
                    .parameters
                    .iter()
                    .flatten()
                    .filter_map(|p| match p {
                        RefOr::T(p) if p.parameter_in == ParameterIn::Query => Some(p.name.clone()),
                        _ => None,
                    })
                    .collect();
                map.insert((method.to_owned(), path.clone()), names);
            }
        }
        map
    });

/// Middleware: a query parameter the operation does not declare is a 400
/// naming it, so the OpenAPI document's parameter list is the server's own
/// (a misspelt filter would otherwise be silently ignored).
async fn reject_undeclared_query(
    matched: axum::extract::MatchedPath,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let Some(query) = request.uri().query() else {
        return next.run(request).await;
    };
    let key = (
        request.method().as_str().to_owned(),
        matched.as_str().to_owned(),
    );
    // An undeclared method: the router's own 405 answers it.
    let Some(declared) = QUERY_PARAMETERS.get(&key) else {
        return next.run(request).await;
    };
    let unknown = form_urlencoded_keys(query)
        .into_iter()
        .find(|name| !declared.contains(name));
    match unknown {
        None => next.run(request).await,
        Some(name) => {
            let mut allowed: Vec<&str> = declared.iter().map(String::as_str).collect();
            allowed.sort_unstable();
            let takes = if allowed.is_empty() {
                "no query parameters".to_owned()
            } else {
                allowed.join(", ")
            };
            AppError::BadRequest(format!(
                "Unknown query parameter {name:?}; this route takes {takes}."
            ))
            .into_response()
        }
    }
}

/// The parameter names of a query string (decoded; a malformed pair keeps its raw name).
fn form_urlencoded_keys(query: &str) -> Vec<String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let raw = pair.split_once('=').map_or(pair, |(k, _)| k);
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("{raw}="))
                .ok()
                .and_then(|mut v| v.pop())
                .map_or_else(|| raw.to_owned(), |(k, _)| k)
        })
        .collect()
}

/// The OpenAPI 3.1 document of every route in [`router`], with the answers
/// every route can give ([`CommonErrors`]; applied here, after the routes
/// have added their operations).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = routes().split_for_parts().1;
    CommonErrors.modify(&mut doc);
    doc
}

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| openapi().to_pretty_json().unwrap_or_default());

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", security(()), responses((status = 200, description = "This document")))]
async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}
