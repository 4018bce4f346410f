//! One file per job type.

pub mod export;
pub mod maintenance;
