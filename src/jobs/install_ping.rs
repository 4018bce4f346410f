//! Sending one anonymous install ping.

use serde::{Deserialize, Serialize};

use super::Job;
use crate::analytics::install_ping::PingKind;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendInstallPing {
    pub kind: PingKind,
}

impl Job for SendInstallPing {
    const QUEUE: &'static str = "install_ping";
    const MAX_ATTEMPTS: usize = 5;
}
