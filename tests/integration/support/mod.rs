//! The test harness, by concern: a fresh database per test (`database`),
//! the real app on port 0 (`app`), browser-like HTTP clients (`client`), the
//! real worker (`worker`), a fake PostHog (`fake_posthog`), a real SMTP
//! server (`smtp`), fixture builders
//! (`builders`), named response assertions (`assertions`) and one bounded
//! wait (`wait`). Tests import what they use from `crate::support`.

mod app;
mod assertions;
mod builders;
mod client;
mod database;
mod fake_posthog;
mod oidc;
mod smtp;
mod wait;
mod worker;

pub use app::*;
pub use assertions::*;
pub use builders::*;
pub use client::*;
pub use database::*;
pub use fake_posthog::*;
pub use oidc::*;
pub use smtp::*;
pub use wait::*;
pub use worker::*;
