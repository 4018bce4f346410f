//! Building a report export file in the background.

use serde::{Deserialize, Serialize};

use super::Job;

/// Builds the file of the `exports` row `export_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportExport {
    pub export_id: i64,
}

impl Job for ReportExport {
    const QUEUE: &'static str = "report_export";
    const MAX_ATTEMPTS: usize = 3;
}
