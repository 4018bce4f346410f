//! The JSON API under `/api/v1`, authenticated by personal API tokens
//! (`Authorization: Bearer …`) or, for the app's own pages, the session cookie
//! (then writes need the `X-CSRF-Token` header). Handlers call the same
//! `tracking` and `reports` functions as the web UI.
//!
//! Conventions: RFC 3339 UTC timestamps, durations in seconds, money in cents,
//! errors as `{"error": {"code", "message", "field"}}`, lists paginated with
//! `page` and `per_page` (at most 200) and the total in `X-Total-Count`.

mod catalog;
mod entries;
mod exports;
mod extract;
mod me;
mod reports;
mod timer;

use axum::{
    Router,
    routing::{get, post},
};

use crate::startup::AppState;

pub use extract::Json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me::show))
        .route("/api/v1/timer", get(timer::active))
        .route("/api/v1/timer/start", post(timer::start))
        .route("/api/v1/timer/stop", post(timer::stop))
        .route(
            "/api/v1/time-entries",
            get(entries::list).post(entries::create),
        )
        .route(
            "/api/v1/time-entries/{id}",
            get(entries::show)
                .put(entries::update)
                .delete(entries::delete),
        )
        .route("/api/v1/projects", get(catalog::projects))
        .route("/api/v1/clients", get(catalog::clients))
        .route("/api/v1/tasks", get(catalog::tasks))
        .route("/api/v1/reports/summary", get(reports::summary))
        .route("/api/v1/exports", post(exports::create))
        .route("/api/v1/exports/{id}", get(exports::show))
        .route("/api/v1/exports/{id}/download", get(exports::download))
}
