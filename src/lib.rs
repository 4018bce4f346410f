//! TimeTracker: a self-hosted time-tracking web application.
//!
//! The web binary (`src/main.rs`) and the worker binary (`workers/`) are thin;
//! everything else lives in this library.

/// Install telemetry payloads (and, later, product analytics).
pub mod analytics;
/// The JSON API under `/api/v1`.
pub mod api;
/// Passwords, sessions, CSRF, login throttle and the user extractors.
pub mod auth;
/// Invoices from unbilled time.
pub mod billing;
/// What the build compiled in: version, commit, install-telemetry host and key.
pub mod build_info;
/// Typed configuration from environment variables.
pub mod config;
/// SQL query functions, one file per table group.
pub mod db;
/// Validated input types with no I/O.
pub mod domain;
/// `AppError`, the one error type at the HTTP edge.
pub mod error;
/// Feature flags: declarations, precedence, the admin's and PostHog's values.
pub mod flags;
/// HTTP pieces the pages and the API share: extractors, the export download.
pub mod http;
/// Job payloads, queue names and transactional enqueue.
pub mod jobs;
/// The messages sent by mail, composed from their templates.
pub mod mail;
/// JSON logs, metrics and request middleware.
pub mod observability;
/// The TLS provider for outbound HTTPS.
pub mod outbound;
/// PDF drawing: the shipped fonts, paper, text and tables.
pub mod pdf;
/// Reports, report-time rounding and streamed exports.
pub mod reports;
/// What both binaries run with: start-up wait, keys, health, shutdown.
pub mod runtime;
/// `Application::build`: the web's routes, middleware and listeners.
pub mod startup;
/// `AppState`, what every handler shares.
pub mod state;
/// Time-tracking services shared by the web UI and the API.
pub mod tracking;
/// HTML pages grouped by resource.
pub mod web;
