//! Analytics and install telemetry. This release builds the install ping's
//! payload (shown on the setup page and, later, sent when the admin opts in);
//! delivery and product events arrive with the analytics work.

pub mod install_ping;
