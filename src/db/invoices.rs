//! Invoices, their lines, their numbering and their rendered PDF.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invoice {
    pub id: i64,
    pub client_id: i64,
    pub client: String,
    pub status: String,
    pub number: Option<String>,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub grouping: String,
    pub currency: String,
    pub discount_bp: i32,
    pub note: String,
    pub seller: Option<serde_json::Value>,
    pub issued_on: Option<NaiveDate>,
    pub paid_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "i.id, i.client_id, c.name AS client, i.status, i.number, i.period_from, i.period_to,
                       i.grouping, i.currency, i.discount_bp, i.note, i.seller, i.issued_on, i.paid_on,
                       i.created_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Line {
    pub id: i64,
    pub invoice_id: i64,
    pub position: i32,
    pub description: String,
    pub centihours: i64,
    pub unit_cents: i64,
    pub tax_bp: i32,
}

/// A new draft's fields.
pub struct NewDraft<'a> {
    pub client_id: i64,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub grouping: &'a str,
    pub currency: &'a str,
    pub discount_bp: i32,
    pub note: &'a str,
    pub created_by: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_draft(conn: &mut PgConnection, d: &NewDraft<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO invoices (client_id, period_from, period_to, grouping, currency, discount_bp, note, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(d.client_id)
    .bind(d.period_from)
    .bind(d.period_to)
    .bind(d.grouping)
    .bind(d.currency)
    .bind(d.discount_bp)
    .bind(d.note)
    .bind(d.created_by)
    .fetch_one(conn)
    .await
}

/// An entry a draft took.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TakenEntry {
    pub id: i64,
    pub project: String,
    pub task: Option<String>,
    pub started_at: DateTime<Utc>,
    pub duration_seconds: i64,
    pub rate_cents: i64,
    pub notes: String,
}

/// Links at most `limit` of the client's finished, billable entries that
/// started in `[from, to)` and are on no invoice yet to `invoice_id`;
/// returns them, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn take_entries(
    conn: &mut PgConnection,
    invoice_id: i64,
    client_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<TakenEntry>, sqlx::Error> {
    sqlx::query_as(
        "WITH picked AS (
             SELECT e.id FROM time_entries e JOIN projects p ON p.id = e.project_id
              WHERE p.client_id = $2 AND e.billable AND e.ended_at IS NOT NULL
                AND e.invoice_id IS NULL AND e.started_at >= $3 AND e.started_at < $4
              ORDER BY e.started_at, e.id LIMIT $5
              FOR UPDATE OF e
         ), taken AS (
             UPDATE time_entries e SET invoice_id = $1 FROM picked WHERE e.id = picked.id
             RETURNING e.id, e.project_id, e.task_id, e.started_at, e.duration_seconds, e.notes
         )
         SELECT t.id, p.name AS project, tk.name AS task, t.started_at, t.duration_seconds,
                coalesce(p.hourly_rate_cents, c.default_hourly_rate_cents, 0) AS rate_cents, t.notes
           FROM taken t
           JOIN projects p ON p.id = t.project_id
           JOIN clients c ON c.id = p.client_id
           LEFT JOIN tasks tk ON tk.id = t.task_id
          ORDER BY t.started_at, t.id",
    )
    .bind(invoice_id)
    .bind(client_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A line's fields.
pub struct LineFields<'a> {
    pub description: &'a str,
    pub centihours: i64,
    pub unit_cents: i64,
    pub tax_bp: i32,
}

/// Adds a new draft's lines in their order (positions 0, 1, …), in one
/// statement however many there are.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_lines(
    conn: &mut PgConnection,
    invoice_id: i64,
    lines: &[LineFields<'_>],
) -> Result<(), sqlx::Error> {
    let descriptions: Vec<&str> = lines.iter().map(|l| l.description).collect();
    let centihours: Vec<i64> = lines.iter().map(|l| l.centihours).collect();
    let unit_cents: Vec<i64> = lines.iter().map(|l| l.unit_cents).collect();
    let tax_bp: Vec<i32> = lines.iter().map(|l| l.tax_bp).collect();
    sqlx::query(
        "INSERT INTO invoice_lines (invoice_id, position, description, centihours, unit_cents, tax_bp)
         SELECT $1, (l.n - 1)::int, l.description, l.centihours, l.unit_cents, l.tax_bp
           FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::int[])
                WITH ORDINALITY AS l (description, centihours, unit_cents, tax_bp, n)",
    )
    .bind(invoice_id)
    .bind(descriptions)
    .bind(centihours)
    .bind(unit_cents)
    .bind(tax_bp)
    .execute(conn)
    .await?;
    Ok(())
}

/// Changes a line of a draft; false when the line or the draft is not there.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_line(
    conn: &mut PgConnection,
    invoice_id: i64,
    line_id: i64,
    l: &LineFields<'_>,
) -> Result<bool, sqlx::Error> {
    // FOR SHARE waits for an issue in progress (it holds the row FOR
    // UPDATE) and then sees the invoice issued: no line changes after.
    let r = sqlx::query(
        "WITH draft AS (SELECT id FROM invoices WHERE id = $1 AND status = 'draft' FOR SHARE)
         UPDATE invoice_lines SET description = $3, centihours = $4, unit_cents = $5, tax_bp = $6
          WHERE id = $2 AND invoice_id = (SELECT id FROM draft)",
    )
    .bind(invoice_id)
    .bind(line_id)
    .bind(l.description)
    .bind(l.centihours)
    .bind(l.unit_cents)
    .bind(l.tax_bp)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_line(
    conn: &mut PgConnection,
    invoice_id: i64,
    line_id: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "WITH draft AS (SELECT id FROM invoices WHERE id = $1 AND status = 'draft' FOR SHARE)
         DELETE FROM invoice_lines WHERE id = $2 AND invoice_id = (SELECT id FROM draft)",
    )
    .bind(invoice_id)
    .bind(line_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A draft's discount and note; false unless it is a draft.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_terms(
    conn: &mut PgConnection,
    id: i64,
    discount_bp: i32,
    note: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE invoices SET discount_bp = $2, note = $3, updated_at = now() WHERE id = $1 AND status = 'draft'",
    )
    .bind(id)
    .bind(discount_bp)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(conn: &mut PgConnection, id: i64) -> Result<Option<Invoice>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM invoices i JOIN clients c ON c.id = i.client_id WHERE i.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The invoice, its row locked until the transaction ends (issuing, paying
/// and cancelling wait for each other).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock(conn: &mut PgConnection, id: i64) -> Result<Option<Invoice>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM invoices i JOIN clients c ON c.id = i.client_id WHERE i.id = $1 FOR UPDATE OF i"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Which invoices a list shows (`None`: any).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub status: Option<&'static str>,
    pub client_id: Option<i64>,
    /// The year of the invoice's issue, or of a draft's creation.
    pub year: Option<i32>,
}

/// The invoices `filter` selects, newest first, at most `limit` (`None`: all).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    pool: &PgPool,
    filter: &ListFilter,
    limit: Option<i64>,
) -> Result<Vec<Invoice>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM invoices i JOIN clients c ON c.id = i.client_id
          WHERE ($1::text IS NULL OR i.status = $1) AND ($2::bigint IS NULL OR i.client_id = $2)
            AND ($3::int IS NULL
                 OR extract(year FROM coalesce(i.issued_on, i.created_at::date)) = $3)
          ORDER BY i.id DESC LIMIT $4"
    )))
    .bind(filter.status)
    .bind(filter.client_id)
    .bind(filter.year)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The lines of the given invoices, in order.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lines<'e>(
    db: impl sqlx::PgExecutor<'e>,
    invoice_ids: &[i64],
) -> Result<Vec<Line>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, invoice_id, position, description, centihours, unit_cents, tax_bp FROM invoice_lines
          WHERE invoice_id = ANY($1) ORDER BY invoice_id, position, id",
    )
    .bind(invoice_ids)
    .fetch_all(db)
    .await
}

/// How many entries an invoice holds.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn entry_count(pool: &PgPool, id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM time_entries WHERE invoice_id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
}

/// The next number of `year`'s sequence. The year's row stays locked until
/// the transaction ends, so concurrent issuers take turns, and a rollback
/// gives the number back: no gaps, no duplicates.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn next_in_sequence(conn: &mut PgConnection, year: i32) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO invoice_sequences (year, last) VALUES ($1, 1)
         ON CONFLICT (year) DO UPDATE SET last = invoice_sequences.last + 1 RETURNING last",
    )
    .bind(year)
    .fetch_one(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn issue(
    conn: &mut PgConnection,
    id: i64,
    number: &str,
    issued_on: NaiveDate,
    seller: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE invoices SET status = 'issued', number = $2, issued_on = $3, seller = $4, updated_at = now()
          WHERE id = $1 AND status = 'draft'",
    )
    .bind(id)
    .bind(number)
    .bind(issued_on)
    .bind(seller)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_paid(
    conn: &mut PgConnection,
    id: i64,
    paid_on: NaiveDate,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE invoices SET status = 'paid', paid_on = $2, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(paid_on)
    .execute(conn)
    .await?;
    Ok(())
}

/// Cancels an issued or paid invoice and frees its entries; returns how
/// many entries were freed.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn cancel(conn: &mut PgConnection, id: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("UPDATE invoices SET status = 'cancelled', paid_on = NULL, updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let freed = sqlx::query("UPDATE time_entries SET invoice_id = NULL WHERE invoice_id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(freed.rows_affected())
}

/// Deletes a draft (its entries are freed by the foreign key).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_draft(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM invoices WHERE id = $1 AND status = 'draft'")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether an invoice's PDF is there (without reading it).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn has_document(pool: &PgPool, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM invoice_documents WHERE invoice_id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

/// Whether a job that will make invoice `id`'s PDF is waiting, running or
/// due for another attempt: one holds the invoice's key
/// (`jobs::InvoiceDocument::key`) until its PDF is stored, or until it is
/// cancelled, discarded or dead. The unique key's index answers it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn document_job_alive(pool: &PgPool, id: i64) -> Result<bool, sqlx::Error> {
    let job = crate::jobs::InvoiceDocument { invoice_id: id };
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM apalis.jobs WHERE job_type = $1 AND idempotency_key = $2)",
    )
    .bind(<crate::jobs::InvoiceDocument as crate::jobs::Job>::QUEUE)
    .bind(job.key())
    .fetch_one(pool)
    .await
}

/// Stores (or replaces) an invoice's rendered PDF.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn save_document(pool: &PgPool, id: i64, pdf: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invoice_documents (invoice_id, pdf) VALUES ($1, $2)
         ON CONFLICT (invoice_id) DO UPDATE SET pdf = excluded.pdf, built_at = now()",
    )
    .bind(id)
    .bind(pdf)
    .execute(pool)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn document(pool: &PgPool, id: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT pdf FROM invoice_documents WHERE invoice_id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The seller's details and the number pattern (the settings row).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize,
)]
#[serde(default)]
pub struct Seller {
    pub seller_name: String,
    pub seller_address: String,
    pub seller_tax_id: String,
    pub seller_bank: String,
    pub invoice_number_pattern: String,
    /// The `seller_logos` row printed on the invoice, if any.
    pub seller_logo_id: Option<i64>,
    /// `a4` or `letter` (`pdf::Paper`); empty in snapshots made before
    /// there was a choice, which were A4.
    pub invoice_paper: String,
}

/// The seller as set now. `FOR SHARE`: inside an issue's transaction a
/// logo change (which updates the row) waits for the issue to commit, so
/// its clean-up sees the snapshot that names the old logo.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn seller(conn: &mut PgConnection) -> Result<Seller, sqlx::Error> {
    sqlx::query_as(
        "SELECT seller_name, seller_address, seller_tax_id, seller_bank, invoice_number_pattern,
                seller_logo_id, invoice_paper
           FROM settings WHERE id = 1 FOR SHARE",
    )
    .fetch_one(conn)
    .await
}

/// Saves the typed details; the logo changes only through [`set_logo`].
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_seller(pool: &PgPool, s: &Seller) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE settings SET seller_name = $1, seller_address = $2, seller_tax_id = $3, seller_bank = $4,
                invoice_number_pattern = $5, invoice_paper = $6, updated_at = now()
          WHERE id = 1",
    )
    .bind(&s.seller_name)
    .bind(&s.seller_address)
    .bind(&s.seller_tax_id)
    .bind(&s.seller_bank)
    .bind(&s.invoice_number_pattern)
    .bind(&s.invoice_paper)
    .execute(pool)
    .await?;
    Ok(())
}

/// The seller's current logo as the seller page shows it (not its bytes).
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct LogoSize {
    pub id: i64,
    pub width: i32,
    pub height: i32,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn current_logo_size(pool: &PgPool) -> Result<Option<LogoSize>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.id, l.width, l.height
           FROM settings s JOIN seller_logos l ON l.id = s.seller_logo_id WHERE s.id = 1",
    )
    .fetch_optional(pool)
    .await
}

/// The seller's current logo file and its type (one of `pdf::IMAGE_TYPES`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn current_logo(pool: &PgPool) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.content_type, l.bytes
           FROM settings s JOIN seller_logos l ON l.id = s.seller_logo_id WHERE s.id = 1",
    )
    .fetch_optional(pool)
    .await
}

/// Logo `id`'s file (an issued invoice's snapshot names it).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn logo_file(pool: &PgPool, id: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT bytes FROM seller_logos WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Stores a logo and makes it the seller's (`None`: no logo), then deletes
/// the logos neither the settings nor an issued invoice's snapshot name.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_logo(
    pool: &PgPool,
    new: Option<(&str, &[u8], i32, i32)>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let id: Option<i64> = match new {
        Some((content_type, bytes, width, height)) => Some(
            sqlx::query_scalar(
                "INSERT INTO seller_logos (content_type, bytes, width, height)
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(content_type)
            .bind(bytes)
            .bind(width)
            .bind(height)
            .fetch_one(&mut *tx)
            .await?,
        ),
        None => None,
    };
    sqlx::query("UPDATE settings SET seller_logo_id = $1, updated_at = now() WHERE id = 1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "DELETE FROM seller_logos l
          WHERE NOT EXISTS (SELECT 1 FROM settings s WHERE s.seller_logo_id = l.id)
            AND NOT EXISTS (SELECT 1 FROM invoices i
                             WHERE i.seller ? 'seller_logo_id'
                               AND (i.seller ->> 'seller_logo_id')::bigint = l.id)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
