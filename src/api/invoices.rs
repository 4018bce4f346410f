//! Invoices over the API, for administrators and managers: the same
//! `billing::invoices` functions as the pages (so the same checks, numbers
//! and events). Every route takes `Biller` first: a plain user gets 403.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ErrorEnvelope, Json};
use crate::{
    auth::Biller,
    billing::invoices::{self, Draft, Full, Grouping, LineChange, ListInput},
    domain::invoice,
    error::AppError,
    http::extract::{Path, Query},
    state::AppState,
    tracking::Actor,
};

#[derive(Serialize, ToSchema)]
pub struct InvoiceLineJson {
    id: i64,
    position: i32,
    description: String,
    /// Hours in hundredths (125 = 1.25 h).
    centihours: i64,
    /// The price of an hour, in cents.
    unit_cents: i64,
    /// The tax rate in hundredths of a percent (1900 = 19 %).
    tax_bp: i32,
    /// Hours × price, rounded to the cent.
    net_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct InvoiceTaxJson {
    tax_bp: i32,
    /// The lines of this rate.
    net_cents: i64,
    /// This rate's part of the discount.
    discount_cents: i64,
    tax_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct InvoiceJson {
    id: i64,
    /// Given at the issue; `null` for a draft.
    number: Option<String>,
    client_id: i64,
    client: String,
    /// `draft`, `issued`, `paid` or `cancelled`.
    status: String,
    period_from: NaiveDate,
    period_to: NaiveDate,
    /// `project`, `task` or `entry`.
    grouping: String,
    currency: String,
    /// The discount in hundredths of a percent.
    discount_bp: i32,
    note: String,
    issued_on: Option<NaiveDate>,
    paid_on: Option<NaiveDate>,
    created_at: DateTime<Utc>,
    lines: Vec<InvoiceLineJson>,
    /// Per tax rate, lowest first.
    taxes: Vec<InvoiceTaxJson>,
    net_cents: i64,
    discount_cents: i64,
    tax_cents: i64,
    total_cents: i64,
    /// The PDF, for an issued, paid or cancelled invoice.
    pdf_url: Option<String>,
}

impl From<Full> for InvoiceJson {
    fn from(f: Full) -> Self {
        let i = f.invoice;
        Self {
            pdf_url: (i.status != "draft").then(|| format!("/api/v1/invoices/{}/pdf", i.id)),
            id: i.id,
            number: i.number,
            client_id: i.client_id,
            client: i.client,
            status: i.status,
            period_from: i.period_from,
            period_to: i.period_to,
            grouping: i.grouping,
            currency: i.currency,
            discount_bp: i.discount_bp,
            note: i.note,
            issued_on: i.issued_on,
            paid_on: i.paid_on,
            created_at: i.created_at,
            lines: f
                .lines
                .into_iter()
                .map(|l| InvoiceLineJson {
                    net_cents: invoices::priced(&l).net_cents(),
                    id: l.id,
                    position: l.position,
                    description: l.description,
                    centihours: l.centihours,
                    unit_cents: l.unit_cents,
                    tax_bp: l.tax_bp,
                })
                .collect(),
            taxes: f
                .totals
                .taxes
                .iter()
                .map(|t| InvoiceTaxJson {
                    tax_bp: t.tax_bp,
                    net_cents: t.net_cents,
                    discount_cents: t.discount_cents,
                    tax_cents: t.tax_cents,
                })
                .collect(),
            net_cents: f.totals.net_cents,
            discount_cents: f.totals.discount_cents,
            tax_cents: f.totals.tax_cents,
            total_cents: f.totals.total_cents,
        }
    }
}

/// Invoices the query selects, newest first (at most 500), with their
/// lines and sums.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "invoices", params(ListInput),
    responses((status = 200, body = Vec<InvoiceJson>), (status = 403, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    biller: Biller,
    Query(q): Query<ListInput>,
) -> Result<Json<Vec<InvoiceJson>>, AppError> {
    let filter = q.parse()?;
    let all = invoices::list(&state.pool, &Actor::from(&biller.0), &filter, Some(500)).await?;
    Ok(Json(all.into_iter().map(InvoiceJson::from).collect()))
}

/// A new draft: the client's finished, billable entries of the period that
/// are on no invoice, priced with the report's rounding and the rates.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    client_id: i64,
    /// First day, `YYYY-MM-DD` (in your timezone).
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    from: String,
    /// Last day (inclusive), at most ten years after `from`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    to: String,
    /// `project` (default), `task` or `entry`: one line per each.
    #[serde(default = "project")]
    #[schema(pattern = r"^(project|task|entry)$")]
    grouping: String,
    /// Every line's tax rate, in hundredths of a percent (1900 = 19 %).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000)]
    tax_bp: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000)]
    discount_bp: i64,
    #[serde(default)]
    #[schema(max_length = 2000)]
    note: String,
}

fn project() -> String {
    "project".into()
}

async fn full(state: &AppState, actor: &Actor, id: i64) -> Result<Json<InvoiceJson>, AppError> {
    Ok(Json(invoices::get(&state.pool, actor, id).await?.into()))
}

/// Makes a draft invoice; 422 names the field when the client has nothing
/// unbilled in the period.
#[utoipa::path(post, path = "/api/v1/invoices", tag = "invoices", request_body = DraftBody,
    responses((status = 201, body = InvoiceJson), (status = 403, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    biller: Biller,
    Json(body): Json<DraftBody>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&biller.0);
    let draft = Draft {
        client_id: body.client_id,
        from: actor.format.parse_day("from", &body.from)?,
        to: actor.format.parse_day("to", &body.to)?,
        grouping: Grouping::parse(&body.grouping)?,
        tax_bp: invoice::basis_points("tax_percent", body.tax_bp)?,
        discount_bp: invoice::basis_points("discount_percent", body.discount_bp)?,
        note: body.note,
    };
    let id = invoices::create_draft(&state.pool, &actor, &draft).await?;
    Ok((StatusCode::CREATED, full(&state, &actor, id).await?).into_response())
}

/// One invoice with its lines and sums.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "invoices", params(("id" = i64, Path)),
    responses((status = 200, body = InvoiceJson), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn show(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
) -> Result<Json<InvoiceJson>, AppError> {
    full(&state, &Actor::from(&biller.0), id).await
}

/// Deletes a draft (its entries are unbilled again); 409 for an issued one.
#[utoipa::path(delete, path = "/api/v1/invoices/{id}", tag = "invoices", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn delete(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    invoices::delete_draft(&state.pool, &Actor::from(&biller.0), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A draft's line as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    #[schema(pattern = r"\S", max_length = 500)]
    description: String,
    /// Hours in hundredths (125 = 1.25 h).
    #[schema(minimum = 0, maximum = 100000000)]
    centihours: i64,
    /// The price of an hour, in cents.
    #[schema(minimum = 0, maximum = 100000000)]
    unit_cents: i64,
    /// The tax rate in hundredths of a percent.
    #[schema(minimum = 0, maximum = 10000)]
    tax_bp: i64,
}

/// Changes a line of a draft; 409 once the invoice is issued.
#[utoipa::path(put, path = "/api/v1/invoices/{id}/lines/{line_id}", tag = "invoices",
    params(("id" = i64, Path), ("line_id" = i64, Path)), request_body = LineBody,
    responses((status = 200, body = InvoiceJson), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn update_line(
    State(state): State<AppState>,
    biller: Biller,
    Path((id, line_id)): Path<(i64, i64)>,
    Json(body): Json<LineBody>,
) -> Result<Json<InvoiceJson>, AppError> {
    let actor = Actor::from(&biller.0);
    // The form's field names, so a refusal names the same field either way.
    let change = LineChange {
        description: body.description,
        centihours: invoice::hundredths("hours", body.centihours)?,
        unit_cents: invoice::hundredths("unit_price", body.unit_cents)?,
        tax_bp: invoice::basis_points("tax_percent", body.tax_bp)?,
    };
    invoices::update_line(&state.pool, &actor, id, line_id, &change).await?;
    full(&state, &actor, id).await
}

/// Issues a draft: the year's next number, its entries frozen, its PDF
/// made by the worker (`pdf_url`); 409 when it is not a draft, has no line,
/// or the seller's details are missing.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/issue", tag = "invoices", params(("id" = i64, Path)),
    responses((status = 200, body = InvoiceJson), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn issue(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
) -> Result<Json<InvoiceJson>, AppError> {
    let actor = Actor::from(&biller.0);
    invoices::issue(&state.pool, &actor, id).await?;
    full(&state, &actor, id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaidBody {
    /// The day of payment, `YYYY-MM-DD`, not before the issue.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    paid_on: String,
}

/// Marks an issued invoice paid.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/paid", tag = "invoices", params(("id" = i64, Path)),
    request_body = PaidBody,
    responses((status = 200, body = InvoiceJson), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn paid(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
    Json(body): Json<PaidBody>,
) -> Result<Json<InvoiceJson>, AppError> {
    let actor = Actor::from(&biller.0);
    invoices::mark_paid(&state.pool, &actor, id, &body.paid_on).await?;
    full(&state, &actor, id).await
}

/// Cancels an issued or paid invoice: the number stays used, the entries
/// are unbilled again.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/cancel", tag = "invoices", params(("id" = i64, Path)),
    responses((status = 200, body = InvoiceJson), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn cancel(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
) -> Result<Json<InvoiceJson>, AppError> {
    let actor = Actor::from(&biller.0);
    invoices::cancel(&state.pool, &actor, id).await?;
    full(&state, &actor, id).await
}

/// The issued invoice's PDF; 409 `invoice_pdf_not_ready` while the worker
/// makes it (and for a draft).
#[utoipa::path(get, path = "/api/v1/invoices/{id}/pdf", tag = "invoices", params(("id" = i64, Path)),
    responses((status = 200, description = "The PDF", content_type = "application/pdf", body = String),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn pdf(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (_, bytes) = invoices::document(&state.pool, &Actor::from(&biller.0), id).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
}
