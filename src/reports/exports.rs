//! Background exports: requested by the web (row and job in one transaction),
//! built by the worker, downloaded only by the user who asked.

use crate::observability::metrics::EXPORTS_REQUESTED;
use sqlx::PgPool;

use super::{ReportQuery, pdf::Paper, resolve};
use crate::{
    analytics::{Event, record},
    config::Config,
    db::{self, exports::Export},
    domain::ValidationError,
    error::AppError,
    flags,
    jobs::{self, ReportExport},
    tracking::Actor,
};

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Xlsx,
    /// A report laid out for print: the summary, then the entries.
    Pdf,
}

impl ExportFormat {
    /// A form field's value, or a message for the field.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim() {
            "csv" => Ok(Self::Csv),
            "xlsx" => Ok(Self::Xlsx),
            "pdf" => Ok(Self::Pdf),
            _ => Err(ValidationError::new("format", "Choose csv, xlsx or pdf.")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Pdf => "pdf",
        }
    }
}

/// What an export holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportLayout {
    /// Every matching entry, one per row.
    #[default]
    Entries,
    /// The report's groups (and second groups) with subtotals and the total.
    Summary,
}

impl ExportLayout {
    /// A form field's value (empty: entries), or a message for the field.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim() {
            "" | "entries" => Ok(Self::Entries),
            "summary" => Ok(Self::Summary),
            _ => Err(ValidationError::new("layout", "Choose entries or summary.")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entries => "entries",
            Self::Summary => "summary",
        }
    }
}

/// What an export request asks for beside the report's filters.
#[derive(Debug, Clone, Copy)]
pub struct ExportRequest {
    pub format: ExportFormat,
    pub layout: ExportLayout,
    /// The paper of a PDF (unless said, the one of the person's date
    /// format: [`Paper::for_format`]); ignored for other formats.
    pub paper: Option<Paper>,
}

impl ExportRequest {
    /// The form's fields, or a message for the one that is wrong.
    pub fn parse(format: &str, layout: &str, paper: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            format: ExportFormat::parse(format)?,
            layout: ExportLayout::parse(layout)?,
            paper: match paper.trim() {
                "" => None,
                raw => Some(
                    Paper::parse(raw)
                        .ok_or_else(|| ValidationError::new("paper", "Choose A4 or US Letter."))?,
                ),
            },
        })
    }
}

/// Records an export request and enqueues its job in the same transaction.
pub async fn request(
    pool: &PgPool,
    config: &Config,
    actor: &Actor,
    ExportRequest {
        format,
        layout,
        paper,
    }: ExportRequest,
    query: &ReportQuery,
) -> Result<i64, AppError> {
    let paper = (format == ExportFormat::Pdf).then(|| {
        paper
            .unwrap_or_else(|| Paper::for_format(&actor.format))
            .as_str()
    });
    if format == ExportFormat::Xlsx && !flags::enabled(pool, config, flags::XLSX_EXPORTS).await? {
        return Err(AppError::Forbidden(
            "XLSX exports are switched off on this installation. Use CSV.".into(),
        ));
    }
    // Checks the filters and the permission now, so the user gets the error, not the job.
    let settings = crate::db::settings::load(pool).await?;
    let resolved = resolve(actor, query, &settings.week_start)?;
    // The grouping too, where the file has a summary (parsed only: the
    // summary itself is the worker's to compute).
    if layout == ExportLayout::Summary || format == ExportFormat::Pdf {
        super::grouping(query)?;
    }
    // Stored with its days resolved (ISO, no preset), so the build reads the
    // same range whatever date format the user picks and whenever it runs.
    let stored = ReportQuery {
        preset: String::new(),
        from: resolved.from_day.to_string(),
        to: resolved.to_day.to_string(),
        ..query.clone()
    };
    let params = serde_json::to_value(&stored).map_err(anyhow::Error::from)?;
    let mut tx = pool.begin().await?;
    let id = db::exports::insert(
        &mut tx,
        actor.user_id,
        format.as_str(),
        layout.as_str(),
        paper,
        &params,
        actor.timezone.name(),
    )
    .await?;
    jobs::enqueue(&mut tx, &ReportExport { export_id: id }).await?;
    record(
        &mut tx,
        Some(actor.user_id),
        &Event::ExportRequested {
            format: format.as_str(),
            layout: layout.as_str(),
        },
    )
    .await?;
    tx.commit().await?;
    metrics::counter!(EXPORTS_REQUESTED, "format" => format.as_str()).increment(1);
    Ok(id)
}

/// One of the caller's own exports (others' are "not found", admins included).
pub async fn own(pool: &PgPool, actor: &Actor, id: i64) -> Result<Export, AppError> {
    db::exports::get(pool, id)
        .await?
        .filter(|e| e.user_id == actor.user_id)
        .ok_or(AppError::NotFound)
}

/// The export's kind in words: `CSV`, `XLSX summary`, `PDF (A4)`.
pub fn describe(export: &Export) -> String {
    let mut words = export.format.to_uppercase();
    if export.layout == "summary" {
        words.push_str(" summary");
    }
    match export.paper.as_deref() {
        Some("letter") => words.push_str(" (US Letter)"),
        Some(_) => words.push_str(" (A4)"),
        None => {}
    }
    words
}

/// The file name offered for download.
pub fn file_name(export: &Export) -> String {
    let what = if export.layout == "summary" {
        "summary"
    } else {
        "export"
    };
    format!("timetracker-{what}-{}.{}", export.id, export.format)
}

pub fn content_type(format: &str) -> &'static str {
    match format {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf" => "application/pdf",
        _ => "text/csv; charset=utf-8",
    }
}
