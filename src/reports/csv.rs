//! The CSV export, streamed: rows come from a database cursor and leave in
//! chunks of about 64 KiB through a small bounded channel, so memory stays
//! constant whatever the row count, and a client that goes away stops the query.

use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use sqlx::PgPool;

use super::{Amounts, Summary, grouped};
use crate::{
    db::reports::{ExportRow, Group, ReportFilter, export_rows},
    domain::{
        formats::LocalFormat,
        tracking::{format_cents, format_decimal_hours, format_duration},
    },
};

/// The columns every export has.
pub const HEADER: [&str; 13] = [
    "ID",
    "User",
    "Project",
    "Client",
    "Task",
    "Start",
    "End",
    "Duration (hours)",
    "Duration (h:mm:ss)",
    "Notes",
    "Tags",
    "Billable",
    "Source",
];

/// The columns added for whoever may see rates ([`Amounts`]).
pub const AMOUNT_HEADER: [&str; 4] = ["Rounded (hours)", "Hourly rate", "Amount", "Currency"];

/// The header of an export, with the amount columns when `amounts`.
pub fn header(amounts: bool) -> Vec<&'static str> {
    let mut header = HEADER.to_vec();
    if amounts {
        header.extend(AMOUNT_HEADER);
    }
    header
}

const CHUNK: usize = 64 * 1024;

/// The delimiter byte for the admin setting (`,`, `;` or `tab`).
pub fn delimiter(setting: &str) -> u8 {
    match setting {
        ";" => b';',
        "tab" => b'\t',
        _ => b',',
    }
}

/// Text a spreadsheet would run as a formula gets a leading apostrophe.
pub(crate) fn safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// One CSV record for an entry, times in the viewer's timezone and format
/// ([`LocalFormat::export_instant`]); with `amounts`, the rounded hours, the
/// rate, the amount (empty for non-billable time) and the currency.
pub fn record(row: &ExportRow, fmt: &LocalFormat, amounts: Option<&Amounts>) -> Vec<String> {
    let mut record = vec![
        row.id.to_string(),
        safe(&row.username),
        safe(&row.project),
        safe(row.client.as_deref().unwrap_or("")),
        safe(row.task.as_deref().unwrap_or("")),
        fmt.export_instant(row.started_at),
        fmt.export_instant(row.ended_at),
        format_decimal_hours(row.duration_seconds),
        format_duration(row.duration_seconds),
        safe(&row.notes),
        safe(&row.tags.join(", ")),
        if row.billable { "yes" } else { "no" }.to_owned(),
        row.source.clone(),
    ];
    if let Some(amounts) = amounts {
        record.extend([
            format_decimal_hours(row.rounded_seconds),
            format_cents(row.rate_cents),
            row.amount_cents.map(format_cents).unwrap_or_default(),
            amounts.currency.clone(),
        ]);
    }
    record
}

/// The header of a summary export: the groupings, the time, and the amount
/// when the summary has one.
pub fn summary_header(summary: &Summary) -> Vec<&'static str> {
    let mut header = vec![summary.group.label()];
    header.extend(summary.subgroup.map(Group::label));
    header.extend(["Hours", "Duration (h:mm:ss)", "Billable hours"]);
    if summary.amount_cents.is_some() {
        header.extend(["Amount", "Currency"]);
    }
    header
}

/// A summary export as CSV: its lines with subtotals and the total.
pub fn summary_file(summary: &Summary, delimiter: u8) -> Result<Vec<u8>, csv::Error> {
    let mut out = writer(delimiter);
    out.write_record(summary_header(summary))?;
    let subgrouped = summary.subgroup.is_some();
    for line in grouped::lines(&summary.rows, subgrouped) {
        let mut record: Vec<String> = line.keys(subgrouped).iter().map(|k| safe(k)).collect();
        record.extend([
            format_decimal_hours(line.seconds),
            format_duration(line.seconds),
            format_decimal_hours(line.billable_seconds),
        ]);
        if summary.amount_cents.is_some() {
            record.extend([
                format_cents(line.amount_cents.unwrap_or(0)),
                summary.currency.clone(),
            ]);
        }
        out.write_record(record)?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

fn writer(delimiter: u8) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::with_capacity(CHUNK + 4096))
}

/// The export as a stream of byte chunks (header first).
pub fn stream(
    pool: PgPool,
    filter: ReportFilter,
    delimiter: u8,
    fmt: LocalFormat,
    amounts: Option<Amounts>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let mut out = writer(delimiter);
        let _ = out.write_record(header(amounts.is_some()));
        let rounding = amounts.as_ref().map_or(0, |a| a.rounding_minutes);
        let mut rows = export_rows(&pool, &filter, rounding);
        while let Some(row) = rows.next().await {
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    tracing::error!(error = %e, "CSV export query failed");
                    let _ = tx
                        .send(Err(std::io::Error::other("export query failed")))
                        .await;
                    return;
                }
            };
            if out
                .write_record(record(&row, &fmt, amounts.as_ref()))
                .is_err()
            {
                return;
            }
            if out.get_ref().len() >= CHUNK {
                let chunk = std::mem::replace(&mut out, writer(delimiter))
                    .into_inner()
                    .unwrap_or_default();
                if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                    return; // the client went away
                }
            }
        }
        let rest = out.into_inner().unwrap_or_default();
        if !rest.is_empty() {
            let _ = tx.send(Ok(Bytes::from(rest))).await;
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_look_like_formulas_are_neutralised() {
        assert_eq!(safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe("-2+3"), "'-2+3");
        assert_eq!(safe("plain"), "plain");
    }

    #[test]
    fn delimiters_follow_the_setting() {
        assert_eq!(delimiter(";"), b';');
        assert_eq!(delimiter("tab"), b'\t');
        assert_eq!(delimiter(","), b',');
    }
}
