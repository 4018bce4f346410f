//! One file per job type.

pub mod analytics;
pub mod export;
pub mod flags;
pub mod install_ping;
pub mod invoice;
pub mod mail;
pub mod maintenance;
