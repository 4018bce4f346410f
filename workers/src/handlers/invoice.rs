//! Renders an issued invoice's PDF and stores it. The same invoice gives the
//! same bytes, so a retry after a crash (or a duplicate delivery) replaces
//! the file with an identical one.

use sqlx::PgPool;
use timetracker::{
    billing::{document, invoices::Full},
    db,
    domain::formats::LocalFormat,
    jobs::InvoiceDocument,
};

use crate::{JobContext, JobError, JobHandler};

#[derive(Clone)]
pub struct RenderInvoice {
    pool: PgPool,
}

impl RenderInvoice {
    pub fn new(pool: &PgPool) -> Self {
        Self { pool: pool.clone() }
    }
}

impl JobHandler<InvoiceDocument> for RenderInvoice {
    async fn handle(&self, job: InvoiceDocument, ctx: JobContext) -> Result<(), JobError> {
        self.render(job.invoice_id).await?;
        // Done: the next ask to make this PDF may queue a job again.
        db::jobs::release_key(&self.pool, &ctx.job_id)
            .await
            .map_err(JobError::retry)
    }
}

impl RenderInvoice {
    /// Renders and stores the PDF of issued invoice `id`.
    async fn render(&self, id: i64) -> Result<(), JobError> {
        let mut conn = self.pool.acquire().await.map_err(JobError::retry)?;
        let Some(invoice) = db::invoices::get(&mut conn, id)
            .await
            .map_err(JobError::retry)?
        else {
            return Ok(()); // deleted meanwhile
        };
        drop(conn);
        if invoice.status == "draft" {
            return Ok(()); // nothing to render before the issue
        }
        let lines = db::invoices::lines(&self.pool, &[invoice.id])
            .await
            .map_err(JobError::retry)?;
        // The logo it was issued with (kept while a snapshot names it).
        let logo = match document::seller(&invoice).seller_logo_id {
            Some(logo_id) => db::invoices::logo_file(&self.pool, logo_id)
                .await
                .map_err(JobError::retry)?,
            None => None,
        };
        let full = Full::new(invoice, lines);
        // Dates as ISO days: an invoice is read by the client, whose
        // format the app does not know.
        let pdf =
            tokio::task::spawn_blocking(move || document::render(&full, logo, &LocalFormat::iso()))
                .await
                .map_err(JobError::retry)?
                .map_err(|e| JobError::Permanent(anyhow::anyhow!(e)))?;
        db::invoices::save_document(&self.pool, id, &pdf)
            .await
            .map_err(JobError::retry)?;
        tracing::info!(invoice_id = id, bytes = pdf.len(), "invoice rendered");
        Ok(())
    }
}
