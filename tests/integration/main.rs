//! One integration test binary: the real app and worker against a real
//! PostgreSQL, a fresh database per test.

mod analytics;
mod api;
mod auth;
mod authz;
mod browser;
mod compose;
mod confirmations;
mod consent;
mod contract;
mod docs;
mod exports;
mod faults;
mod health;
mod hostile;
mod invoices;
mod mail;
mod metrics;
mod pooler;
mod process;
mod queue;
mod redirects;
mod reports;
mod run_command;
mod sentry;
mod setup;
mod sso;
mod stack;
mod support;
mod timesheet;
mod tracking;
mod two_factor;
mod users;
