//! The JSON API under `/api/v1`, authenticated by personal API tokens
//! (`Authorization: Bearer …`) or, for the app's own pages, the session cookie
//! (then writes need the `X-CSRF-Token` header). Handlers call the same
//! `tracking` and `reports` functions as the web UI.
//!
//! Conventions: RFC 3339 UTC timestamps, durations in seconds, money in cents,
//! errors as `{"error": {"code", "message", "field"}}`, lists paginated with
//! `page` and `per_page` (at most 200) and the total in `X-Total-Count`.
//!
//! Rule: every route is registered through `utoipa_axum::routes!` from its
//! `#[utoipa::path]` annotation, so the router and the OpenAPI document served
//! at `/api/v1/openapi.json` are built from the same source and cannot drift.

mod catalog;
mod entries;
mod exports;
mod extract;
mod me;
mod reports;
mod timer;

use std::sync::LazyLock;

use axum::{Router, http::header, response::IntoResponse};
use serde::Serialize;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::startup::AppState;

pub use extract::Json;

#[derive(OpenApi)]
#[openapi(
    info(title = "TimeTracker API", description = "Time entries, the running timer, reports and exports."),
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
        .routes(routes!(timer::active))
        .routes(routes!(timer::start))
        .routes(routes!(timer::stop))
        .routes(routes!(entries::list, entries::create))
        .routes(routes!(entries::show, entries::update, entries::delete))
        .routes(routes!(catalog::projects))
        .routes(routes!(catalog::clients))
        .routes(routes!(catalog::tasks))
        .routes(routes!(reports::summary))
        .routes(routes!(exports::create))
        .routes(routes!(exports::show))
        .routes(routes!(exports::download))
}

/// The API routes.
pub fn router() -> Router<AppState> {
    routes().split_for_parts().0
}

/// The OpenAPI 3.1 document of every route in [`router`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
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
