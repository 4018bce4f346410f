//! Invoices (`/invoices`), for administrators and managers: the list with
//! totals per status and a CSV of it, a new draft from a client's unbilled
//! time, a draft's lines and terms, issuing, the PDF, paid and cancelled
//! (the seller's page is `web::seller`). The actions are
//! `billing::invoices`' functions; this module only shows them.

use askama::Template;
use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    auth::Biller,
    billing::invoices::{
        self, DocumentState, DraftInput, Full, Grouping, LineInput, ListInput, STATUSES,
    },
    db::{self, clients::Client, invoices::ListFilter},
    domain::{
        LocalPath, ValidationError,
        invoice::{format_hours, format_percent},
        tracking::format_cents,
    },
    error::AppError,
    http::extract::{Form, Path, Query},
    state::AppState,
    tracking::Actor,
    web::{
        FieldErrors, Layout,
        confirm::{self, ConfirmForm, Question},
        flash::{self, Flash},
        render,
    },
};

/// An invoice as the list shows it.
struct Row {
    id: i64,
    number: String,
    client: String,
    status: &'static str,
    period: String,
    issued: String,
    total: String,
}

/// A status's count and total (one amount per currency).
struct StatusTotal {
    status: &'static str,
    count: usize,
    total: String,
}

/// Most invoices the list shows; the CSV has them all.
const LIST_LIMIT: i64 = 500;

#[derive(Template)]
#[template(path = "invoices.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    totals: Vec<StatusTotal>,
    /// More invoices match than the list shows.
    truncated: bool,
    /// A filter is set (an empty list then says no invoice matches it).
    filtered: bool,
    filter: ListInput,
    /// The filter as a query string, for the CSV link.
    csv_query: String,
    clients: Vec<Client>,
    statuses: [&'static str; 4],
    administers: bool,
    errors: FieldErrors,
}

fn status_word(status: &str) -> &'static str {
    STATUSES
        .into_iter()
        .find(|s| *s == status)
        .unwrap_or("draft")
}

fn money(cents: i64, currency: &str) -> String {
    format!("{} {currency}", format_cents(cents))
}

/// `GET /invoices`.
pub async fn list(
    State(state): State<AppState>,
    biller: Biller,
    Flash(notice): Flash,
    Query(input): Query<ListInput>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&biller.0);
    let (filter, errors) = match input.parse() {
        Ok(filter) => (filter, Vec::new()),
        Err(e) => (ListFilter::default(), vec![e]),
    };
    let mut all = if errors.is_empty() {
        invoices::list(&state.pool, &actor, &filter, Some(LIST_LIMIT + 1)).await?
    } else {
        Vec::new()
    };
    let truncated = all.len() > LIST_LIMIT as usize;
    all.truncate(LIST_LIMIT as usize);
    let totals = STATUSES
        .into_iter()
        .map(|s| {
            let of: Vec<&Full> = all.iter().filter(|f| f.invoice.status == s).collect();
            let mut by_currency: Vec<(&str, i64)> = Vec::new();
            for f in &of {
                match by_currency
                    .iter_mut()
                    .find(|(c, _)| *c == f.invoice.currency)
                {
                    Some((_, cents)) => *cents += f.totals.total_cents,
                    None => by_currency.push((&f.invoice.currency, f.totals.total_cents)),
                }
            }
            StatusTotal {
                status: s,
                count: of.len(),
                total: by_currency
                    .into_iter()
                    .map(|(currency, cents)| money(cents, currency))
                    .collect::<Vec<_>>()
                    .join(" + "),
            }
        })
        .filter(|t| t.count > 0)
        .collect();
    let rows = all
        .iter()
        .map(|f| Row {
            id: f.invoice.id,
            number: f.invoice.number.clone().unwrap_or_else(|| "draft".into()),
            client: f.invoice.client.clone(),
            status: status_word(&f.invoice.status),
            period: format!(
                "{} to {}",
                actor.format.day(f.invoice.period_from),
                actor.format.day(f.invoice.period_to)
            ),
            issued: f
                .invoice
                .issued_on
                .map(|d| actor.format.day(d))
                .unwrap_or_default(),
            total: money(f.totals.total_cents, &f.invoice.currency),
        })
        .collect();
    let csv_query = serde_urlencoded::to_string([
        ("status", filter.status.unwrap_or_default().to_owned()),
        (
            "client_id",
            filter.client_id.map(|c| c.to_string()).unwrap_or_default(),
        ),
        (
            "year",
            filter.year.map(|y| y.to_string()).unwrap_or_default(),
        ),
    ])
    .map_err(anyhow::Error::from)?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ListPage {
        layout: Layout::for_user("Invoices", &biller.0).with_notice(notice),
        rows,
        totals,
        truncated,
        filtered: filter != ListFilter::default() || !errors.is_empty(),
        filter: input,
        csv_query,
        clients: db::clients::list(&state.pool, true).await?,
        statuses: STATUSES,
        administers: biller.0.user.can(crate::domain::Permission::Administer),
        errors: errors.into(),
    };
    Ok((status, render(&page)?).into_response())
}

/// `GET /invoices.csv`: every invoice the list's filter selects, one per row.
pub async fn csv(
    State(state): State<AppState>,
    biller: Biller,
    Query(input): Query<ListInput>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&biller.0);
    let all = invoices::list(&state.pool, &actor, &input.parse()?, None).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "Number",
        "Client",
        "Status",
        "Period from",
        "Period to",
        "Issued",
        "Paid",
        "Net",
        "Discount",
        "Tax",
        "Total",
        "Currency",
    ];
    let write = |out: &mut csv::Writer<Vec<u8>>, record: Vec<String>| {
        out.write_record(record)
            .map_err(|e| AppError::Internal(e.into()))
    };
    write(&mut out, header.map(str::to_owned).to_vec())?;
    for f in &all {
        let i = &f.invoice;
        write(
            &mut out,
            vec![
                crate::reports::csv::safe(i.number.as_deref().unwrap_or_default()),
                crate::reports::csv::safe(&i.client),
                i.status.clone(),
                i.period_from.to_string(),
                i.period_to.to_string(),
                i.issued_on.map(|d| d.to_string()).unwrap_or_default(),
                i.paid_on.map(|d| d.to_string()).unwrap_or_default(),
                format_cents(f.totals.net_cents),
                format_cents(f.totals.discount_cents),
                format_cents(f.totals.tax_cents),
                format_cents(f.totals.total_cents),
                i.currency.clone(),
            ],
        )?;
    }
    let body = out
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"timetracker-invoices.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "invoice_new.html")]
struct NewPage {
    layout: Layout,
    clients: Vec<Client>,
    form: DraftInput,
    groupings: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
}

async fn new_page(
    state: &AppState,
    biller: &Biller,
    status: StatusCode,
    form: DraftInput,
    errors: Vec<ValidationError>,
) -> Result<Response, AppError> {
    let page = NewPage {
        layout: Layout::for_user("New invoice", &biller.0),
        clients: db::clients::list(&state.pool, false).await?,
        form,
        groupings: Grouping::ALL
            .iter()
            .map(|g| (g.as_str(), g.label()))
            .collect(),
        errors: errors.into(),
    };
    Ok((status, render(&page)?).into_response())
}

/// `GET /invoices/new`: last month by default.
pub async fn new_form(State(state): State<AppState>, biller: Biller) -> Result<Response, AppError> {
    let actor = Actor::from(&biller.0);
    let today = chrono::Utc::now()
        .with_timezone(&actor.timezone)
        .date_naive();
    let (from, to) = crate::domain::periods::Preset::LastMonth
        .range(today, false)
        .unwrap_or((today, today));
    let form = DraftInput {
        from: actor.format.day(from),
        to: actor.format.day(to),
        grouping: "project".into(),
        tax_percent: "0".into(),
        discount_percent: "0".into(),
        ..DraftInput::default()
    };
    new_page(&state, &biller, StatusCode::OK, form, Vec::new()).await
}

/// `POST /invoices`: a draft, or the form again with the reason beside its field.
pub async fn create(
    State(state): State<AppState>,
    biller: Biller,
    Form(form): Form<DraftInput>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&biller.0);
    let created = match form.parse(&actor.format) {
        Ok(draft) => invoices::create_draft(&state.pool, &actor, &draft).await,
        Err(e) => Err(e.into()),
    };
    match created {
        Ok(id) => Ok(flash::redirect_local(
            &state,
            &LocalPath::or_root(&format!("/invoices/{id}")),
            "Draft made. Check its lines, then issue it.",
        )),
        Err(AppError::Validation(e)) => {
            new_page(
                &state,
                &biller,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                vec![e],
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// A line as the invoice page shows it.
struct LineView {
    id: i64,
    /// This line's form was the one refused.
    refused: bool,
    description: String,
    hours: String,
    unit: String,
    tax: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "invoice.html")]
struct ShowPage {
    layout: Layout,
    id: i64,
    title: String,
    client: String,
    status: &'static str,
    period: String,
    issued: String,
    paid: String,
    today: String,
    currency: String,
    lines: Vec<LineView>,
    /// (label, amount) of each sum, the total last.
    sums: Vec<(String, String)>,
    discount: String,
    note: String,
    entries: i64,
    document: Option<DocumentState>,
    errors: FieldErrors,
    /// The line whose form was refused, if any.
    error_line: Option<i64>,
}

async fn show_page(
    state: &AppState,
    biller: &Biller,
    id: i64,
    status_code: StatusCode,
    notice: Option<String>,
    errors: Vec<ValidationError>,
    error_line: Option<i64>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&biller.0);
    let f = invoices::get(&state.pool, &actor, id).await?;
    let i = &f.invoice;
    let cur = i.currency.clone();
    let sums = f
        .sums()
        .into_iter()
        .map(|sum| {
            let amount = money(sum.cents, &cur);
            (
                sum.label,
                if sum.deducted {
                    format!("−{amount}")
                } else {
                    amount
                },
            )
        })
        .collect();
    let page = ShowPage {
        layout: Layout::for_user("Invoice", &biller.0).with_notice(notice),
        id,
        title: match &i.number {
            Some(n) => format!("Invoice {n}"),
            None => "Draft invoice".into(),
        },
        client: i.client.clone(),
        status: status_word(&i.status),
        period: format!(
            "{} to {}",
            actor.format.day(i.period_from),
            actor.format.day(i.period_to)
        ),
        issued: i.issued_on.map(|d| actor.format.day(d)).unwrap_or_default(),
        paid: i.paid_on.map(|d| actor.format.day(d)).unwrap_or_default(),
        today: actor.format.day(
            chrono::Utc::now()
                .with_timezone(&actor.timezone)
                .date_naive(),
        ),
        lines: f
            .lines
            .iter()
            .map(|l| LineView {
                id: l.id,
                refused: error_line == Some(l.id),
                description: l.description.clone(),
                hours: format_hours(l.centihours),
                unit: format_cents(l.unit_cents),
                tax: format_percent(l.tax_bp).trim_end_matches(" %").to_owned(),
                amount: format_cents(invoices::priced(l).net_cents()),
            })
            .collect(),
        sums,
        discount: format_percent(i.discount_bp)
            .trim_end_matches(" %")
            .to_owned(),
        note: i.note.clone(),
        currency: cur,
        entries: db::invoices::entry_count(&state.pool, id).await?,
        document: invoices::document_state(&state.pool, i).await?,
        errors: errors.into(),
        error_line,
    };
    Ok((status_code, render(&page)?).into_response())
}

/// `GET /invoices/{id}`.
pub async fn show(
    State(state): State<AppState>,
    biller: Biller,
    Flash(notice): Flash,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    show_page(
        &state,
        &biller,
        id,
        StatusCode::OK,
        notice,
        Vec::new(),
        None,
    )
    .await
}

fn back(state: &AppState, id: i64, message: &str) -> Response {
    flash::redirect_local(
        state,
        &LocalPath::or_root(&format!("/invoices/{id}")),
        message,
    )
}

/// An action's refusal: beside its field on the invoice page (422), a
/// conflict as a message on the page (409), anything else as it is.
async fn refused(
    state: &AppState,
    biller: &Biller,
    id: i64,
    e: AppError,
    line: Option<i64>,
) -> Result<Response, AppError> {
    match e {
        AppError::Validation(v) => {
            show_page(
                state,
                biller,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                vec![v],
                line,
            )
            .await
        }
        AppError::Conflict { message, .. } => {
            show_page(
                state,
                biller,
                id,
                StatusCode::CONFLICT,
                None,
                vec![ValidationError::new("form", message)],
                line,
            )
            .await
        }
        e => Err(e),
    }
}

/// `POST /invoices/{id}/lines/{line}`.
pub async fn update_line(
    State(state): State<AppState>,
    biller: Biller,
    Path((id, line)): Path<(i64, i64)>,
    Form(form): Form<LineInput>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&biller.0);
    let saved = match form.parse() {
        Ok(change) => invoices::update_line(&state.pool, &actor, id, line, &change).await,
        Err(e) => Err(e.into()),
    };
    match saved {
        Ok(()) => Ok(back(&state, id, "Line saved.")),
        Err(e) => refused(&state, &biller, id, e, Some(line)).await,
    }
}

/// `POST /invoices/{id}/lines/{line}/delete`.
pub async fn delete_line(
    State(state): State<AppState>,
    biller: Biller,
    Path((id, line)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    match invoices::delete_line(&state.pool, &Actor::from(&biller.0), id, line).await {
        Ok(()) => Ok(back(&state, id, "Line removed.")),
        Err(e) => refused(&state, &biller, id, e, None).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TermsForm {
    discount_percent: String,
    note: String,
}

/// `POST /invoices/{id}/terms`: the discount and the note.
pub async fn update_terms(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
    Form(form): Form<TermsForm>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&biller.0);
    match invoices::update_terms(&state.pool, &actor, id, &form.discount_percent, &form.note).await
    {
        Ok(()) => Ok(back(&state, id, "Discount and note saved.")),
        Err(e) => refused(&state, &biller, id, e, None).await,
    }
}

/// What an action that asks first says (its path is `/invoices/{id}/{action}`).
struct Asked {
    action: &'static str,
    question: &'static str,
    consequence: &'static str,
    button: &'static str,
    danger: bool,
}

/// Asks first (the confirmation page, without script); once confirmed,
/// runs `act` and goes back to the invoice with its notice, or to `done`.
async fn after_asking(
    state: &AppState,
    biller: &Biller,
    id: i64,
    confirm: &ConfirmForm,
    asked: Asked,
    act: impl std::future::Future<Output = Result<(String, Option<&'static str>), AppError>>,
) -> Result<Response, AppError> {
    if !confirm.confirmed() {
        return confirm::page(
            &biller.0,
            Question {
                question: asked.question,
                consequence: asked.consequence,
                action: &format!("/invoices/{id}/{}", asked.action),
                button: asked.button,
                danger: asked.danger,
                cancel: &format!("/invoices/{id}"),
                carry: &[],
            },
        );
    }
    match act.await {
        Ok((notice, Some(done))) => Ok(flash::redirect(state, done, &notice)),
        Ok((notice, None)) => Ok(back(state, id, &notice)),
        Err(e) => refused(state, biller, id, e, None).await,
    }
}

/// `POST /invoices/{id}/document`: makes the PDF again.
pub async fn make_document(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    match invoices::make_document(&state.pool, &Actor::from(&biller.0), id).await {
        Ok(true) => Ok(back(&state, id, "The PDF is being made again.")),
        Ok(false) => Ok(back(&state, id, "The PDF is already being made.")),
        Err(e) => refused(&state, &biller, id, e, None).await,
    }
}

/// `POST /invoices/{id}/issue`, after a confirmation.
pub async fn issue(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&biller.0);
    let asked = Asked {
        action: "issue",
        question: "Issue this invoice?",
        consequence: "It gets the next number, and its entries cannot change until it is cancelled.",
        button: "Issue",
        danger: false,
    };
    after_asking(&state, &biller, id, &confirm, asked, async {
        let number = invoices::issue(&state.pool, &actor, id).await?;
        Ok((format!("Issued as {number}. Its PDF is being made."), None))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PaidForm {
    paid_on: String,
}

/// `POST /invoices/{id}/paid`.
pub async fn paid(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
    Form(form): Form<PaidForm>,
) -> Result<Response, AppError> {
    match invoices::mark_paid(&state.pool, &Actor::from(&biller.0), id, &form.paid_on).await {
        Ok(()) => Ok(back(&state, id, "Marked paid.")),
        Err(e) => refused(&state, &biller, id, e, None).await,
    }
}

/// `POST /invoices/{id}/cancel`, after a confirmation.
pub async fn cancel(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&biller.0);
    let asked = Asked {
        action: "cancel",
        question: "Cancel this invoice?",
        consequence: "Its number stays used; its entries become unbilled and can change again.",
        button: "Cancel the invoice",
        danger: true,
    };
    after_asking(&state, &biller, id, &confirm, asked, async {
        let freed = invoices::cancel(&state.pool, &actor, id).await?;
        Ok((
            format!("Cancelled. {freed} entries are unbilled again."),
            None,
        ))
    })
    .await
}

/// `POST /invoices/{id}/delete`: a draft, after a confirmation.
pub async fn delete(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&biller.0);
    let asked = Asked {
        action: "delete",
        question: "Delete this draft?",
        consequence: "Its entries become unbilled again; no number was used.",
        button: "Delete the draft",
        danger: true,
    };
    after_asking(&state, &biller, id, &confirm, asked, async {
        invoices::delete_draft(&state.pool, &actor, id).await?;
        Ok(("Draft deleted.".to_owned(), Some("/invoices")))
    })
    .await
}

/// `GET /invoices/{id}/pdf`: the issued invoice's PDF, once made.
pub async fn pdf(
    State(state): State<AppState>,
    biller: Biller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (f, bytes) = invoices::document(&state.pool, &Actor::from(&biller.0), id).await?;
    let name = f
        .invoice
        .number
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"invoice-{name}.pdf\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
