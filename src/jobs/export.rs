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
    // A build holds two pooled connections at once (the row stream, and the
    // chunk and progress writes): four builds use eight of the default ten,
    // leaving the rest to the other queues and the queue's own heartbeats.
    // More at once would starve the pool and stall every job.
    const CONCURRENCY: Option<usize> = Some(4);
}

/// Renders the PDF of the issued invoice `invoice_id` (again, on a retry:
/// the same invoice gives the same bytes). Enqueued under [`Self::key`],
/// so one job at a time makes an invoice's PDF; the handler frees the key
/// once the PDF is stored (a cancelled or dead job's is freed by the
/// `dead_jobs_free_their_key` trigger).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvoiceDocument {
    pub invoice_id: i64,
}

impl InvoiceDocument {
    /// The idempotency key held while a job makes this invoice's PDF.
    pub fn key(&self) -> String {
        format!("invoice:{}", self.invoice_id)
    }
}

impl Job for InvoiceDocument {
    const QUEUE: &'static str = "invoice_document";
    const MAX_ATTEMPTS: usize = 5;
    const CONCURRENCY: Option<usize> = Some(2);
    // Found at the next poll: a second or two does not matter here, and no
    // connection is held for a listener.
    const WAKE_ON_INSERT: bool = false;
}
