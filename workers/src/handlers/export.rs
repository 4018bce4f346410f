//! Builds a background export (CSV or XLSX) and stores it in PostgreSQL in
//! 1 MiB chunks. Rows are streamed from a cursor; the XLSX writer, which is
//! CPU-heavy, runs on a blocking thread so the worker keeps fetching and
//! acknowledging other jobs. A re-run (after a crash) starts the file over.

use std::time::Instant;
use timetracker::observability::metrics::{EXPORT_BYTES, EXPORT_ROWS, EXPORTS_COMPLETED};

use futures_util::StreamExt;
use sqlx::PgPool;
use timetracker::{
    analytics::{Event, events::row_bucket, record},
    db::{self, exports::Export, reports::ReportFilter},
    domain::formats::LocalFormat,
    error::AppError,
    jobs::ReportExport,
    reports::{
        self, Amounts, ReportQuery, Summary, csv as csv_export,
        pdf::{Heading, Paper, PdfReport},
        xlsx::XlsxExport,
    },
    tracking::Actor,
};

use crate::{JobContext, JobError, JobHandler};

/// The format as a catalogue word.
fn format_name(format: &str) -> &'static str {
    match format {
        "xlsx" => "xlsx",
        "pdf" => "pdf",
        _ => "csv",
    }
}

const CHUNK: usize = 1024 * 1024;
const PROGRESS_EVERY: i64 = 10_000;

#[derive(Clone)]
pub struct BuildExport {
    pool: PgPool,
}

impl BuildExport {
    pub fn new(pool: &PgPool) -> Self {
        Self { pool: pool.clone() }
    }
}

/// A write of a CSV build, in the order the build makes them.
enum Write {
    Chunk(Vec<u8>),
    Progress(i64),
}

/// Why a build stopped: worth retrying, or not.
enum Failure {
    Transient(anyhow::Error),
    Permanent(String),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Transient(e.into())
    }
}

/// A request the owner may no longer make (a lost right, a bad filter) is
/// final; anything else is worth another try.
fn refused(e: AppError) -> Failure {
    match e {
        AppError::Validation(e) => Failure::Permanent(e.message),
        AppError::Forbidden(m) => Failure::Permanent(m),
        e => Failure::Transient(e.into()),
    }
}

impl JobHandler<ReportExport> for BuildExport {
    async fn handle(&self, job: ReportExport, ctx: JobContext) -> Result<(), JobError> {
        let Some(export) = db::exports::get(&self.pool, job.export_id)
            .await
            .map_err(JobError::retry)?
        else {
            return Ok(()); // the export (or its user) was deleted meanwhile
        };
        if !matches!(export.status.as_str(), "pending" | "running") {
            return Ok(()); // already built: a duplicate delivery
        }
        let started = Instant::now();
        match self.build(&export).await {
            Ok((rows, bytes)) => {
                let ms = started.elapsed().as_millis() as i64;
                db::exports::finish(&self.pool, export.id, rows, bytes, ms)
                    .await
                    .map_err(JobError::retry)?;
                metrics::counter!(EXPORT_ROWS, "format" => export.format.clone())
                    .increment(rows as u64);
                metrics::counter!(EXPORT_BYTES, "format" => export.format.clone())
                    .increment(bytes as u64);
                metrics::counter!(EXPORTS_COMPLETED, "format" => export.format.clone(), "outcome" => "done")
                    .increment(1);
                tracing::info!(
                    export_id = export.id,
                    rows,
                    bytes,
                    duration_ms = ms,
                    "export built"
                );
                record(
                    &mut *self.pool.acquire().await.map_err(JobError::retry)?,
                    Some(export.user_id),
                    &Event::ExportCompleted {
                        format: format_name(&export.format),
                        row_count_bucket: row_bucket(rows),
                        duration_ms: ms,
                    },
                )
                .await
                .map_err(JobError::retry)?;
                Ok(())
            }
            Err(Failure::Permanent(reason)) => {
                self.fail(&export, &reason).await?;
                Err(JobError::Permanent(anyhow::anyhow!(reason)))
            }
            Err(Failure::Transient(e)) => {
                if ctx.last_attempt {
                    self.fail(
                        &export,
                        "The export could not be built; the database was unavailable. Try again.",
                    )
                    .await?;
                }
                Err(JobError::retry(e))
            }
        }
    }
}

impl BuildExport {
    async fn fail(&self, export: &Export, reason: &str) -> Result<(), JobError> {
        db::exports::fail(&self.pool, export.id, reason)
            .await
            .map_err(JobError::retry)?;
        metrics::counter!(EXPORTS_COMPLETED, "format" => export.format.clone(), "outcome" => "failed")
            .increment(1);
        tracing::warn!(export_id = export.id, reason, "export failed");
        record(
            &mut *self.pool.acquire().await.map_err(JobError::retry)?,
            Some(export.user_id),
            &Event::ExportFailed {
                format: format_name(&export.format),
            },
        )
        .await
        .map_err(JobError::retry)?;
        Ok(())
    }

    /// Who asked and what: the owner's current rights decide what the
    /// export may contain (their entries only, amounts only with
    /// `SeeRates`); their profile's date format and clock (in the timezone
    /// stored with the request) how its times are written.
    async fn request(
        &self,
        export: &Export,
    ) -> Result<(Actor, ReportQuery, db::settings::Settings), Failure> {
        let query: ReportQuery = serde_json::from_value(export.params.clone())
            .map_err(|e| Failure::Permanent(format!("The export request is unreadable: {e}")))?;
        let owner = db::users::by_id(&self.pool, export.user_id)
            .await?
            .ok_or_else(|| {
                Failure::Permanent("The user who asked for this export no longer exists.".into())
            })?;
        let actor = Actor::new(&owner, export.timezone.parse().unwrap_or(chrono_tz::UTC));
        Ok((actor, query, db::settings::load(&self.pool).await?))
    }

    /// Builds and stores the file; returns (rows, bytes).
    async fn build(&self, export: &Export) -> Result<(i64, i64), Failure> {
        let (actor, query, settings) = self.request(export).await?;
        if export.format == "pdf" || export.layout == "summary" {
            let summary = reports::compute(&self.pool, &actor, &query, &settings)
                .await
                .map_err(refused)?;
            return if export.format == "pdf" {
                self.build_pdf(export, &actor, summary, &settings).await
            } else {
                self.build_summary(export, summary, &settings).await
            };
        }
        // The stored query names its days (no preset), so the week start does not matter.
        let filter = reports::resolve(&actor, &query, &settings.week_start)
            .map_err(refused)?
            .filter;
        let amounts = Amounts::for_actor(&actor, &settings);
        let total = db::reports::count(&self.pool, &filter).await?;
        self.begin_run(export.id, total).await?;
        let fmt = actor.format;
        match export.format.as_str() {
            "csv" => {
                let delimiter = csv_export::delimiter(&settings.export_delimiter);
                self.build_csv(export.id, &filter, &fmt, amounts, delimiter)
                    .await
            }
            "xlsx" => self.build_xlsx(export.id, filter, fmt, amounts).await,
            other => Err(Failure::Permanent(format!(
                "Unknown export format {other}."
            ))),
        }
    }

    /// A summary export: the report's lines, a few per group, built whole
    /// and stored like any file.
    async fn build_summary(
        &self,
        export: &Export,
        summary: Summary,
        settings: &db::settings::Settings,
    ) -> Result<(i64, i64), Failure> {
        let rows = summary.rows.len() as i64;
        self.begin_run(export.id, rows).await?;
        let bytes = match export.format.as_str() {
            "csv" => csv_export::summary_file(
                &summary,
                csv_export::delimiter(&settings.export_delimiter),
            )
            .map_err(|e| Failure::Transient(e.into()))?,
            "xlsx" => tokio::task::spawn_blocking(move || reports::xlsx::summary_file(&summary))
                .await
                .map_err(|e| Failure::Transient(e.into()))?
                .map_err(|e| Failure::Transient(e.into()))?,
            other => {
                return Err(Failure::Permanent(format!(
                    "Unknown export format {other}."
                )));
            }
        };
        self.store(export.id, &bytes).await?;
        Ok((rows, bytes.len() as i64))
    }

    /// A PDF report: the summary, then (unless it is a summary export)
    /// every entry, streamed into pages on a blocking thread.
    async fn build_pdf(
        &self,
        export: &Export,
        actor: &Actor,
        summary: Summary,
        settings: &db::settings::Settings,
    ) -> Result<(i64, i64), Failure> {
        let with_entries = export.layout != "summary";
        let total = if with_entries {
            db::reports::count(&self.pool, &summary.filter).await?
        } else {
            summary.rows.len() as i64
        };
        self.begin_run(export.id, total).await?;
        let fmt = actor.format;
        let heading = Heading {
            title: format!(
                "Time report, {} to {}",
                fmt.day(summary.from_day),
                fmt.day(summary.to_day)
            ),
            filters: reports::describe(&self.pool, &summary)
                .await
                .map_err(|e| Failure::Transient(e.into()))?,
            generated: format!("Generated {}", fmt.instant(chrono::Utc::now())),
        };
        let paper = Paper::parse(export.paper.as_deref().unwrap_or("")).unwrap_or_default();
        let amounts = Amounts::for_actor(actor, settings);
        let rounding = settings.rounding_minutes;
        let (pool, id) = (self.pool.clone(), export.id);
        let handle = tokio::runtime::Handle::current();
        let (rows, bytes) =
            tokio::task::spawn_blocking(move || -> Result<(i64, Vec<u8>), Failure> {
                let mut pdf = PdfReport::new(paper, heading, fmt, amounts, &summary);
                if !with_entries {
                    let file = pdf
                        .finish_summary_only()
                        .map_err(|e| Failure::Transient(anyhow::anyhow!(e)))?;
                    return Ok((summary.rows.len() as i64, file));
                }
                let mut rows = 0i64;
                let mut stream = db::reports::export_rows(&pool, &summary.filter, rounding);
                while let Some(row) = handle.block_on(stream.next()) {
                    pdf.push(row?);
                    rows += 1;
                    if rows % PROGRESS_EVERY == 0 {
                        handle.block_on(db::exports::progress(&pool, id, rows))?;
                    }
                }
                let file = pdf
                    .finish()
                    .map_err(|e| Failure::Transient(anyhow::anyhow!(e)))?;
                Ok((rows, file))
            })
            .await
            .map_err(|e| Failure::Transient(e.into()))??;
        self.store(export.id, &bytes).await?;
        Ok((rows, bytes.len() as i64))
    }

    /// Starts (or, after a crash, restarts) the build, unless the export
    /// was finished meanwhile.
    async fn begin_run(&self, id: i64, total: i64) -> Result<(), Failure> {
        if db::exports::begin_run(&self.pool, id, total).await? {
            Ok(())
        } else {
            Err(Failure::Permanent(
                "The export was already finished.".into(),
            ))
        }
    }

    /// Stores a file built whole, in chunks.
    async fn store(&self, id: i64, bytes: &[u8]) -> Result<(), Failure> {
        for (seq, chunk) in bytes.chunks(CHUNK).enumerate() {
            db::exports::add_chunk(&self.pool, id, seq as i32, chunk).await?;
        }
        Ok(())
    }

    async fn build_csv(
        &self,
        id: i64,
        filter: &ReportFilter,
        fmt: &LocalFormat,
        amounts: Option<Amounts>,
        delimiter: u8,
    ) -> Result<(i64, i64), Failure> {
        let rounding = amounts.as_ref().map_or(0, |a| a.rounding_minutes);
        let writer = || {
            csv::WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(Vec::with_capacity(CHUNK + 8192))
        };
        // The file's writes (its chunks and the progress) go, in order,
        // through a channel to a writer that runs beside the row stream:
        // the next chunk is built while PostgreSQL stores the last. Still
        // two connections per build (the stream's and the writer's); one
        // write waits in the channel at most, so memory stays at about
        // three chunks.
        let (writes, mut to_write) = tokio::sync::mpsc::channel::<Write>(1);
        let build = async move {
            // A send fails only once the writer has failed; its error is
            // the one try_join! returns.
            let mut out = writer();
            out.write_record(csv_export::header(amounts.is_some()))
                .map_err(|e| Failure::Transient(e.into()))?;
            let mut rows = 0i64;
            let mut stream = db::reports::export_rows(&self.pool, filter, rounding);
            while let Some(row) = stream.next().await {
                out.write_record(csv_export::record(&row?, fmt, amounts.as_ref()))
                    .map_err(|e| Failure::Transient(e.into()))?;
                rows += 1;
                if out.get_ref().len() >= CHUNK {
                    let chunk = std::mem::replace(&mut out, writer())
                        .into_inner()
                        .map_err(|e| Failure::Transient(anyhow::anyhow!("{e}")))?;
                    let _ = writes.send(Write::Chunk(chunk)).await;
                }
                if rows % PROGRESS_EVERY == 0 {
                    let _ = writes.send(Write::Progress(rows)).await;
                }
            }
            let rest = out
                .into_inner()
                .map_err(|e| Failure::Transient(anyhow::anyhow!("{e}")))?;
            let _ = writes.send(Write::Chunk(rest)).await;
            Ok::<_, Failure>(rows)
        };
        let write = async {
            let (mut bytes, mut seq) = (0i64, 0i32);
            while let Some(next) = to_write.recv().await {
                match next {
                    Write::Chunk(chunk) => {
                        db::exports::add_chunk(&self.pool, id, seq, &chunk).await?;
                        (bytes, seq) = (bytes + chunk.len() as i64, seq + 1);
                    }
                    Write::Progress(rows) => db::exports::progress(&self.pool, id, rows).await?,
                }
            }
            Ok::<_, Failure>(bytes)
        };
        Ok(tokio::try_join!(build, write)?)
    }

    async fn build_xlsx(
        &self,
        id: i64,
        filter: ReportFilter,
        fmt: LocalFormat,
        amounts: Option<Amounts>,
    ) -> Result<(i64, i64), Failure> {
        let pool = self.pool.clone();
        let rounding = amounts.as_ref().map_or(0, |a| a.rounding_minutes);
        let handle = tokio::runtime::Handle::current();
        // The whole build runs on a blocking thread; it waits for rows and
        // progress writes through the runtime handle.
        let file = tokio::task::spawn_blocking(move || -> Result<(i64, Vec<u8>), Failure> {
            let mut book =
                XlsxExport::new(fmt, amounts).map_err(|e| Failure::Transient(e.into()))?;
            let mut rows = 0i64;
            let mut stream = db::reports::export_rows(&pool, &filter, rounding);
            while let Some(row) = handle.block_on(stream.next()) {
                book.push(&row?).map_err(|e| Failure::Transient(e.into()))?;
                rows += 1;
                if rows % PROGRESS_EVERY == 0 {
                    handle.block_on(db::exports::progress(&pool, id, rows))?;
                }
            }
            Ok((
                rows,
                book.finish().map_err(|e| Failure::Transient(e.into()))?,
            ))
        })
        .await
        .map_err(|e| Failure::Transient(e.into()))??;
        let (rows, bytes) = file;
        self.store(id, &bytes).await?;
        Ok((rows, bytes.len() as i64))
    }
}
