//! The periodic maintenance job: retention of finished and dead jobs, expired
//! sessions, stale login counters and old worker registrations.

use serde::{Deserialize, Serialize};

use super::Job;

/// One maintenance run for the tick starting at `tick` (Unix seconds). Every
/// worker enqueues it with the tick as idempotency key, so it runs once per
/// tick however many workers there are.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Maintenance {
    pub tick: i64,
}

impl Job for Maintenance {
    const QUEUE: &'static str = "maintenance";
    const MAX_ATTEMPTS: usize = 3;
}
