//! Analytics and install telemetry.
//!
//! This release has the event catalogue ([`events`]): every user action emits
//! its typed event from the service function that performs it (so the web UI
//! and the API emit the same events), and every event is written to the local
//! JSON log. Delivery to PostHog behind the consent gate comes with the
//! analytics work; [`install_ping`] builds the anonymous ping shown on the
//! setup page.

pub mod events;
pub mod install_ping;
pub mod outbox;

pub use events::{Event, emit};
pub use outbox::{distinct_id, record};
