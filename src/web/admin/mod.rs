//! The administrators' pages (`/admin/...`): users, settings, the job
//! console and telemetry. Each handler takes an `AdminUser`, so no other
//! role reaches them.

pub mod jobs;
pub mod settings;
pub mod telemetry;
pub mod users;
