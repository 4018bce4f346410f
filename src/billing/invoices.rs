//! One function per action on invoices, shared by the pages and the API.
//! Each checks `Permission::Bill` (administrators and managers).

use chrono::{Duration, NaiveDate, Utc};
use sqlx::PgPool;

use crate::{
    analytics::{Event, events::row_bucket, record},
    db::{
        self,
        invoices::{Invoice, Line, LineFields, ListFilter, NewDraft},
    },
    domain::{
        Permission, ValidationError,
        formats::LocalFormat,
        invoice::{self, NumberPattern, Priced, Totals},
        text,
        tracking::{round_seconds, start_of_day},
    },
    error::AppError,
    tracking::Actor,
};

/// How a draft's lines are made from its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One line per project.
    Project,
    /// One line per project and task.
    Task,
    /// One line per entry.
    Entry,
}

impl Grouping {
    pub const ALL: [Grouping; 3] = [Grouping::Project, Grouping::Task, Grouping::Entry];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == raw.trim())
            .ok_or_else(|| {
                ValidationError::new("grouping", "Choose a line per project, task or entry.")
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Project => "project",
            Grouping::Task => "task",
            Grouping::Entry => "entry",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Grouping::Project => "One line per project",
            Grouping::Task => "One line per task",
            Grouping::Entry => "One line per entry",
        }
    }
}

/// A new draft as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DraftInput {
    pub client_id: String,
    /// First day, `YYYY-MM-DD` or in your date format.
    pub from: String,
    /// Last day (inclusive).
    pub to: String,
    /// `project`, `task` or `entry`.
    pub grouping: String,
    /// The tax rate of every line, in percent (`19`, `7.5`); each line's
    /// can be changed on the draft.
    pub tax_percent: String,
    pub discount_percent: String,
    pub note: String,
}

/// A new draft, parsed.
#[derive(Debug, Clone)]
pub struct Draft {
    pub client_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub grouping: Grouping,
    pub tax_bp: i32,
    pub discount_bp: i32,
    /// Checked by [`create_draft`] (length, visible characters).
    pub note: String,
}

impl DraftInput {
    /// The form's fields, days in `fmt` (or ISO), or the first wrong one.
    pub fn parse(&self, fmt: &LocalFormat) -> Result<Draft, ValidationError> {
        Ok(Draft {
            client_id: self
                .client_id
                .trim()
                .parse()
                .map_err(|_| ValidationError::new("client_id", "Choose a client."))?,
            from: fmt.parse_day("from", &self.from)?,
            to: fmt.parse_day("to", &self.to)?,
            grouping: Grouping::parse(&self.grouping)?,
            tax_bp: invoice::parse_percent("tax_percent", &self.tax_percent)?,
            discount_bp: invoice::parse_percent("discount_percent", &self.discount_percent)?,
            note: self.note.clone(),
        })
    }
}

/// An invoice with its lines and sums.
#[derive(Debug, Clone)]
pub struct Full {
    pub invoice: Invoice,
    pub lines: Vec<Line>,
    pub totals: Totals,
}

/// A stored line as the money rule prices it.
pub fn priced(line: &Line) -> Priced {
    Priced {
        centihours: line.centihours,
        unit_cents: line.unit_cents,
        tax_bp: line.tax_bp,
    }
}

fn all_priced(lines: &[Line]) -> Vec<Priced> {
    lines.iter().map(priced).collect()
}

/// One line of an invoice's sums, as the page and the PDF list them.
pub struct Sum {
    /// `Net`, `Discount 10 %`, `Tax 19 % of 216.00 EUR`, `Total`.
    pub label: String,
    pub cents: i64,
    /// Taken off (the discount).
    pub deducted: bool,
    /// The last line.
    pub total: bool,
}

impl Full {
    /// The sums under the lines: the net, the discount (if any), the tax
    /// of each rate on what it applies to, and the total.
    pub fn sums(&self) -> Vec<Sum> {
        let (t, i) = (&self.totals, &self.invoice);
        let sum = |label: String, cents: i64| Sum {
            label,
            cents,
            deducted: false,
            total: false,
        };
        let mut sums = vec![sum("Net".into(), t.net_cents)];
        if t.discount_cents > 0 {
            sums.push(Sum {
                deducted: true,
                ..sum(
                    format!("Discount {}", invoice::format_percent(i.discount_bp)),
                    t.discount_cents,
                )
            });
        }
        for part in &t.taxes {
            let base = part.net_cents - part.discount_cents;
            sums.push(sum(
                format!(
                    "Tax {} of {} {}",
                    invoice::format_percent(part.tax_bp),
                    crate::domain::tracking::format_cents(base),
                    i.currency
                ),
                part.tax_cents,
            ));
        }
        sums.push(Sum {
            total: true,
            ..sum("Total".into(), t.total_cents)
        });
        sums
    }
}

impl Full {
    /// The invoice with its lines, summed by the money rule.
    pub fn new(invoice: Invoice, lines: Vec<Line>) -> Self {
        let totals = invoice::totals(&all_priced(&lines), invoice.discount_bp);
        Self {
            invoice,
            lines,
            totals,
        }
    }
}

/// Most entries one invoice takes (`make bench` P2 drafts this many).
pub const MAX_ENTRIES: i64 = 10_000;

/// Makes a draft from the client's unbilled billable entries of the period:
/// it takes them (no other draft will) and prices them with the report's
/// rounding and rates. Refused when there is nothing to bill.
pub async fn create_draft(pool: &PgPool, actor: &Actor, draft: &Draft) -> Result<i64, AppError> {
    actor.require(Permission::Bill)?;
    let Draft {
        client_id,
        from,
        to,
        grouping,
        tax_bp,
        discount_bp,
        ..
    } = *draft;
    if to < from {
        return Err(
            ValidationError::new("to", "The last day must not be before the first.").into(),
        );
    }
    if (to - from).num_days() > 3660 {
        return Err(ValidationError::new("to", "An invoice covers at most ten years.").into());
    }
    let note = text::limited("note", &draft.note, 2000)?;
    let settings = db::settings::load(pool).await?;
    let mut tx = pool.begin().await?;
    if !db::clients::exists(&mut tx, client_id).await? {
        return Err(ValidationError::new("client_id", "Choose a client.").into());
    }
    let id = db::invoices::insert_draft(
        &mut tx,
        &NewDraft {
            client_id,
            period_from: from,
            period_to: to,
            grouping: grouping.as_str(),
            currency: &settings.currency,
            discount_bp,
            note: &note,
            created_by: actor.user_id,
        },
    )
    .await?;
    let entries = db::invoices::take_entries(
        &mut tx,
        id,
        client_id,
        start_of_day(from, actor.timezone),
        start_of_day(to + Duration::days(1), actor.timezone),
        MAX_ENTRIES + 1,
    )
    .await?;
    if entries.len() as i64 > MAX_ENTRIES {
        // The work a request does stays bounded; nothing was taken.
        return Err(ValidationError::new(
            "to",
            format!("An invoice holds at most {MAX_ENTRIES} entries: choose a shorter period."),
        )
        .into());
    }
    if entries.is_empty() {
        return Err(ValidationError::new(
            "client_id",
            "This client has no unbilled billable time in that period.",
        )
        .into());
    }
    let lines = lines_of(&entries, grouping, settings.rounding_minutes, tax_bp, actor);
    let fields: Vec<LineFields<'_>> = lines.iter().map(NewLine::fields).collect();
    db::invoices::insert_lines(&mut tx, id, &fields).await?;
    record(
        &mut tx,
        Some(actor.user_id),
        &Event::InvoiceCreated {
            grouping: grouping.as_str(),
            line_count_bucket: row_bucket(lines.len() as i64),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A line being made from entries.
struct NewLine {
    description: String,
    seconds: i64,
    unit_cents: i64,
    tax_bp: i32,
}

impl NewLine {
    fn fields(&self) -> LineFields<'_> {
        LineFields {
            description: &self.description,
            centihours: invoice::centihours(self.seconds),
            unit_cents: self.unit_cents,
            tax_bp: self.tax_bp,
        }
    }
}

/// The draft's lines: entries' rounded time summed per project (and rate),
/// per task, or one line each.
fn lines_of(
    entries: &[db::invoices::TakenEntry],
    grouping: Grouping,
    rounding_minutes: i32,
    tax_bp: i32,
    actor: &Actor,
) -> Vec<NewLine> {
    let mut lines: Vec<NewLine> = Vec::new();
    for e in entries {
        let seconds = round_seconds(e.duration_seconds, rounding_minutes);
        let description = match grouping {
            Grouping::Project => e.project.clone(),
            Grouping::Task => match &e.task {
                Some(task) => format!("{} · {task}", e.project),
                None => e.project.clone(),
            },
            Grouping::Entry => {
                let day = actor
                    .format
                    .day(e.started_at.with_timezone(&actor.timezone).date_naive());
                let mut d = format!("{day} · {}", e.project);
                if let Some(task) = &e.task {
                    d.push_str(&format!(" · {task}"));
                }
                let notes = e.notes.trim();
                if !notes.is_empty() {
                    d.push_str(&format!(" · {notes}"));
                }
                d.chars().take(500).collect()
            }
        };
        let merged = grouping != Grouping::Entry
            && lines
                .iter_mut()
                .find(|l| l.description == description && l.unit_cents == e.rate_cents)
                .map(|line| line.seconds += seconds)
                .is_some();
        if !merged {
            lines.push(NewLine {
                description,
                seconds,
                unit_cents: e.rate_cents,
                tax_bp,
            });
        }
    }
    lines
}

/// An invoice with its lines and sums; 404 to those who may not bill.
pub async fn get(pool: &PgPool, actor: &Actor, id: i64) -> Result<Full, AppError> {
    if !actor.can(Permission::Bill) {
        return Err(AppError::NotFound);
    }
    let invoice = db::invoices::get(&mut *pool.acquire().await?, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let lines = db::invoices::lines(pool, &[id]).await?;
    Ok(Full::new(invoice, lines))
}

/// An issued invoice with its PDF; 409 `invoice_pdf_not_ready` while the
/// worker makes it (and for a draft, which has none).
pub async fn document(pool: &PgPool, actor: &Actor, id: i64) -> Result<(Full, Vec<u8>), AppError> {
    let full = get(pool, actor, id).await?;
    let pdf = db::invoices::document(pool, id)
        .await?
        .ok_or(AppError::Conflict {
            code: "invoice_pdf_not_ready",
            message: "The PDF is being made; try again in a moment.".into(),
        })?;
    Ok((full, pdf))
}

/// Where an issued invoice's PDF is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentState {
    Ready,
    /// Its job is waiting, running or due for another attempt.
    Making,
    /// No PDF and no job that will make one (an administrator cancelled
    /// or discarded it, or it died): [`make_document`] starts another.
    Stopped,
}

/// Where invoice `id`'s PDF is (`None` for a draft, which has none).
pub async fn document_state(
    pool: &PgPool,
    invoice: &Invoice,
) -> Result<Option<DocumentState>, AppError> {
    if invoice.status == "draft" {
        return Ok(None);
    }
    Ok(Some(
        if db::invoices::has_document(pool, invoice.id).await? {
            DocumentState::Ready
        } else if db::invoices::document_job_alive(pool, invoice.id).await? {
            DocumentState::Making
        } else {
            DocumentState::Stopped
        },
    ))
}

/// Starts another job that makes an issued invoice's PDF, unless one is
/// already waiting or running (then returns `false`): repeated asks queue
/// nothing more. The same invoice always renders to the same bytes.
pub async fn make_document(pool: &PgPool, actor: &Actor, id: i64) -> Result<bool, AppError> {
    actor.require(Permission::Bill)?;
    let mut tx = pool.begin().await?;
    let i = db::invoices::lock(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if i.status == "draft" {
        return Err(AppError::Conflict {
            code: "invoice_not_issued",
            message: "A draft has no PDF; issue it first.".into(),
        });
    }
    let job = crate::jobs::InvoiceDocument { invoice_id: id };
    let queued = crate::jobs::enqueue_unique(&mut tx, &job, &job.key()).await?;
    tx.commit().await?;
    Ok(queued)
}

/// Which invoices a list shows, as typed (a page's or the API's query).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListInput {
    /// `draft`, `issued`, `paid` or `cancelled`; empty for all.
    #[param(pattern = r"^(draft|issued|paid|cancelled)?$")]
    pub status: String,
    /// A client's id; empty for all.
    #[param(pattern = r"^([1-9][0-9]{0,17})?$")]
    pub client_id: String,
    /// The year of the invoice's issue (a draft's: of its creation); empty
    /// for all.
    #[param(pattern = r"^([1-9][0-9]{3})?$")]
    pub year: String,
}

impl ListInput {
    pub fn parse(&self) -> Result<ListFilter, ValidationError> {
        let status = match self.status.as_str() {
            "" => None,
            s => Some(
                STATUSES
                    .into_iter()
                    .find(|known| *known == s)
                    .ok_or_else(|| {
                        ValidationError::new("status", "Choose draft, issued, paid or cancelled.")
                    })?,
            ),
        };
        let client_id = match self.client_id.as_str() {
            "" => None,
            raw => Some(
                raw.parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| ValidationError::new("client_id", "Choose a client."))?,
            ),
        };
        let year = match self.year.as_str() {
            "" => None,
            raw => Some(
                raw.parse::<i32>()
                    .ok()
                    .filter(|y| (1000..=9999).contains(y))
                    .ok_or_else(|| {
                        ValidationError::new("year", "Enter a year such as 2026, or nothing.")
                    })?,
            ),
        };
        Ok(ListFilter {
            status,
            client_id,
            year,
        })
    }
}

/// Invoices the filter selects, newest first, with their sums: at most
/// `limit` of them (`None`: all, for the CSV).
pub async fn list(
    pool: &PgPool,
    actor: &Actor,
    filter: &ListFilter,
    limit: Option<i64>,
) -> Result<Vec<Full>, AppError> {
    actor.require(Permission::Bill)?;
    let invoices = db::invoices::list(pool, filter, limit).await?;
    let ids: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    let mut by_invoice: std::collections::HashMap<i64, Vec<Line>> =
        std::collections::HashMap::with_capacity(ids.len());
    for line in db::invoices::lines(pool, &ids).await? {
        by_invoice.entry(line.invoice_id).or_default().push(line);
    }
    Ok(invoices
        .into_iter()
        .map(|invoice| {
            let lines = by_invoice.remove(&invoice.id).unwrap_or_default();
            Full::new(invoice, lines)
        })
        .collect())
}

/// The statuses, in the order an invoice goes through them.
pub const STATUSES: [&str; 4] = ["draft", "issued", "paid", "cancelled"];

/// A draft's line as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct LineInput {
    pub description: String,
    /// Hours, two decimals at most (`1.25`).
    pub hours: String,
    /// Price per hour (`95.50`).
    pub unit_price: String,
    /// Tax rate in percent (`19`).
    pub tax_percent: String,
}

/// A draft's line, parsed (the description is checked by [`update_line`]).
#[derive(Debug, Clone)]
pub struct LineChange {
    pub description: String,
    pub centihours: i64,
    pub unit_cents: i64,
    pub tax_bp: i32,
}

impl LineInput {
    /// The form's fields, or the first wrong one.
    pub fn parse(&self) -> Result<LineChange, ValidationError> {
        Ok(LineChange {
            description: self.description.clone(),
            centihours: invoice::parse_hours("hours", &self.hours)?,
            unit_cents: invoice::parse_money("unit_price", &self.unit_price)?,
            tax_bp: invoice::parse_percent("tax_percent", &self.tax_percent)?,
        })
    }
}

/// Changes a line of a draft.
pub async fn update_line(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    line_id: i64,
    change: &LineChange,
) -> Result<(), AppError> {
    actor.require(Permission::Bill)?;
    let description = text::required("description", &change.description, 500)?;
    let fields = LineFields {
        description: &description,
        centihours: change.centihours,
        unit_cents: change.unit_cents,
        tax_bp: change.tax_bp,
    };
    let mut conn = pool.acquire().await?;
    if db::invoices::update_line(&mut conn, id, line_id, &fields).await? {
        Ok(())
    } else {
        Err(not_a_draft(pool, id).await)
    }
}

/// Removes a line from a draft.
pub async fn delete_line(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    line_id: i64,
) -> Result<(), AppError> {
    actor.require(Permission::Bill)?;
    if db::invoices::delete_line(&mut *pool.acquire().await?, id, line_id).await? {
        Ok(())
    } else {
        Err(not_a_draft(pool, id).await)
    }
}

/// A draft's discount and note.
pub async fn update_terms(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    discount_percent: &str,
    note: &str,
) -> Result<(), AppError> {
    actor.require(Permission::Bill)?;
    let discount_bp = invoice::parse_percent("discount_percent", discount_percent)?;
    let note = text::limited("note", note, 2000)?;
    if db::invoices::update_terms(&mut *pool.acquire().await?, id, discount_bp, &note).await? {
        Ok(())
    } else {
        Err(not_a_draft(pool, id).await)
    }
}

/// Why a draft-only change did not happen: no such invoice or line (404),
/// or the invoice is no longer a draft (409).
async fn not_a_draft(pool: &PgPool, id: i64) -> AppError {
    match pool.acquire().await {
        Ok(mut conn) => match db::invoices::get(&mut conn, id).await {
            Ok(Some(i)) if i.status != "draft" => AppError::Conflict {
                code: "invoice_not_draft",
                message: "Only a draft can change. Cancel the invoice and make a new one.".into(),
            },
            Ok(_) => AppError::NotFound,
            Err(e) => e.into(),
        },
        Err(e) => e.into(),
    }
}

/// Deletes a draft; its entries are unbilled again.
pub async fn delete_draft(pool: &PgPool, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Permission::Bill)?;
    if db::invoices::delete_draft(&mut *pool.acquire().await?, id).await? {
        Ok(())
    } else {
        Err(not_a_draft(pool, id).await)
    }
}

/// Issues a draft: the next number of this year's sequence, the seller's
/// details as they are now, its entries frozen; returns the number.
pub async fn issue(pool: &PgPool, actor: &Actor, id: i64) -> Result<String, AppError> {
    actor.require(Permission::Bill)?;
    let mut tx = pool.begin().await?;
    let draft = db::invoices::lock(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if draft.status != "draft" {
        return Err(AppError::Conflict {
            code: "invoice_not_draft",
            message: format!(
                "This invoice was already issued as {}.",
                draft.number.unwrap_or_default()
            ),
        });
    }
    // Read under the invoice's lock: a line edit waits for this issue.
    let lines = db::invoices::lines(&mut *tx, &[id]).await?;
    if lines.is_empty() {
        return Err(AppError::Conflict {
            code: "invoice_empty",
            message: "An invoice needs at least one line.".into(),
        });
    }
    let seller = db::invoices::seller(&mut tx).await?;
    if seller.seller_name.trim().is_empty() {
        return Err(AppError::Conflict {
            code: "seller_missing",
            message: "An administrator must enter the seller's details (Invoices → Seller) first."
                .into(),
        });
    }
    let pattern = NumberPattern::parse(&seller.invoice_number_pattern)?;
    let today: NaiveDate = Utc::now().with_timezone(&actor.timezone).date_naive();
    let seq = db::invoices::next_in_sequence(&mut tx, chrono::Datelike::year(&today)).await?;
    let number = pattern.number(today, seq);
    let snapshot = serde_json::to_value(&seller).map_err(anyhow::Error::from)?;
    db::invoices::issue(&mut tx, id, &number, today, &snapshot).await?;
    let totals = invoice::totals(&all_priced(&lines), draft.discount_bp);
    record(
        &mut tx,
        Some(actor.user_id),
        &Event::InvoiceIssued {
            tax_rates: totals.taxes.len() as i64,
            discounted: draft.discount_bp > 0,
        },
    )
    .await?;
    let job = crate::jobs::InvoiceDocument { invoice_id: id };
    crate::jobs::enqueue_unique(&mut tx, &job, &job.key()).await?;
    tx.commit().await?;
    Ok(number)
}

/// Marks an issued invoice paid on `paid_on` (typed in the actor's format).
pub async fn mark_paid(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    paid_on: &str,
) -> Result<(), AppError> {
    actor.require(Permission::Bill)?;
    let day = actor.format.parse_day("paid_on", paid_on)?;
    let mut tx = pool.begin().await?;
    let i = db::invoices::lock(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if i.status != "issued" {
        return Err(AppError::Conflict {
            code: "invoice_not_issued",
            message: format!(
                "Only an issued invoice can be marked paid; this one is {}.",
                i.status
            ),
        });
    }
    if i.issued_on.is_some_and(|issued| day < issued) {
        return Err(
            ValidationError::new("paid_on", "The payment cannot be before the invoice.").into(),
        );
    }
    db::invoices::set_paid(&mut tx, id, day).await?;
    record(&mut tx, Some(actor.user_id), &Event::InvoicePaid).await?;
    tx.commit().await?;
    Ok(())
}

/// Cancels an issued or paid invoice: its number stays used, its entries
/// are unbilled again; returns how many.
pub async fn cancel(pool: &PgPool, actor: &Actor, id: i64) -> Result<u64, AppError> {
    actor.require(Permission::Bill)?;
    let mut tx = pool.begin().await?;
    let i = db::invoices::lock(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !matches!(i.status.as_str(), "issued" | "paid") {
        return Err(AppError::Conflict {
            code: "invoice_not_issued",
            message: "Only an issued or paid invoice can be cancelled; delete a draft instead."
                .into(),
        });
    }
    let freed = db::invoices::cancel(&mut tx, id).await?;
    record(
        &mut tx,
        Some(actor.user_id),
        &Event::InvoiceCancelled {
            was_paid: i.status == "paid",
        },
    )
    .await?;
    tx.commit().await?;
    Ok(freed)
}
