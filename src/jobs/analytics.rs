//! Delivering product analytics events.

use serde::{Deserialize, Serialize};

use super::Job;

/// Delivers every due event of the outbox, in batches. At most one waits in
/// the queue (its idempotency key is [`AnalyticsFlush::KEY`]); the handler
/// frees the key when it starts, so events recorded meanwhile get a new run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AnalyticsFlush {}

impl AnalyticsFlush {
    pub const KEY: &'static str = "analytics_flush";
}

impl Job for AnalyticsFlush {
    const QUEUE: &'static str = "analytics_delivery";
    const MAX_ATTEMPTS: usize = 3;
    // One run drains the whole outbox in order; parallel runs in one process
    // would only contend for the same rows and connections.
    const CONCURRENCY: Option<usize> = Some(1);
}
