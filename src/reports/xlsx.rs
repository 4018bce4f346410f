//! The XLSX export writer (rust_xlsxwriter in constant-memory mode: rows go to
//! a temporary file as they are written, not into memory).
//!
//! Every cell has its spreadsheet type, so sums and filters work: numbers as
//! numbers, durations as numbers of days shown `[h]:mm:ss`, start and end as
//! dates in the viewer's format, billable as a boolean, rates and amounts as
//! numbers in the currency's format. The header row is frozen and filterable.

use chrono::{DateTime, Datelike, Timelike, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::{
    Amounts, Summary,
    csv::{header, summary_header},
    grouped::{self, Kind},
};
use crate::{db::reports::ExportRow, domain::formats::LocalFormat};

/// The number format of durations: hours past 24 keep counting.
pub const DURATION_FORMAT: &str = "[h]:mm:ss";

/// The number format of money in `currency`: `#,##0.00 "EUR"`.
pub fn money_format(currency: &str) -> String {
    let code: String = currency
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    format!("#,##0.00 \"{code}\"")
}

/// A workbook being filled row by row. Blocking: use it off the async executor.
pub struct XlsxExport {
    workbook: Workbook,
    row: u32,
    columns: u16,
    fmt: LocalFormat,
    amounts: Option<Amounts>,
    /// Start and end are date cells shown in the viewer's format.
    when: Format,
    duration: Format,
    money: Format,
}

impl XlsxExport {
    pub fn new(fmt: LocalFormat, amounts: Option<Amounts>) -> Result<Self, XlsxError> {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name("Time entries")?;
        let bold = Format::new().set_bold();
        let header = header(amounts.is_some());
        for (col, title) in header.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *title, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.set_column_width(5, 20)?;
        sheet.set_column_width(6, 20)?;
        sheet.set_column_width(9, 30)?;
        Ok(Self {
            workbook,
            row: 1,
            columns: header.len() as u16,
            when: Format::new().set_num_format(fmt.spreadsheet_pattern()),
            duration: Format::new().set_num_format(DURATION_FORMAT),
            money: Format::new().set_num_format(money_format(
                amounts.as_ref().map_or("", |a| a.currency.as_str()),
            )),
            fmt,
            amounts,
        })
    }

    fn sheet(&mut self) -> Result<&mut Worksheet, XlsxError> {
        self.workbook.worksheet_from_index(0)
    }

    /// Appends one entry: numbers as numbers, text as text.
    pub fn push(&mut self, e: &ExportRow) -> Result<(), XlsxError> {
        let (start, end) = (self.local(e.started_at)?, self.local(e.ended_at)?);
        // Borrowed field by field: the sheet (from the workbook) beside the
        // formats, with no copy per row.
        let Self {
            workbook,
            row,
            amounts,
            when,
            duration,
            money,
            ..
        } = self;
        let row = {
            let r = *row;
            *row += 1;
            r
        };
        let sheet = workbook.worksheet_from_index(0)?;
        sheet.write_number(row, 0, e.id as f64)?;
        sheet.write_string(row, 1, &e.username)?;
        sheet.write_string(row, 2, &e.project)?;
        sheet.write_string(row, 3, e.client.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 4, e.task.as_deref().unwrap_or(""))?;
        sheet.write_datetime_with_format(row, 5, &start, when)?;
        sheet.write_datetime_with_format(row, 6, &end, when)?;
        sheet.write_number(row, 7, hours(e.duration_seconds))?;
        sheet.write_number_with_format(row, 8, days(e.duration_seconds), duration)?;
        sheet.write_string(row, 9, &e.notes)?;
        sheet.write_string(row, 10, e.tags.join(", "))?;
        sheet.write_boolean(row, 11, e.billable)?;
        sheet.write_string(row, 12, &e.source)?;
        if let Some(amounts) = amounts {
            sheet.write_number(row, 13, hours(e.rounded_seconds))?;
            sheet.write_number_with_format(row, 14, e.rate_cents as f64 / 100.0, money)?;
            if let Some(cents) = e.amount_cents {
                sheet.write_number_with_format(row, 15, cents as f64 / 100.0, money)?;
            }
            sheet.write_string(row, 16, &amounts.currency)?;
        }
        Ok(())
    }

    /// The wall-clock time in the viewer's timezone (spreadsheets have no
    /// timezones).
    fn local(&self, t: DateTime<Utc>) -> Result<ExcelDateTime, XlsxError> {
        let l = t.with_timezone(&self.fmt.tz);
        let year =
            u16::try_from(l.year()).map_err(|_| XlsxError::DateTimeRangeError(l.to_rfc3339()))?;
        ExcelDateTime::from_ymd(year, l.month() as u8, l.day() as u8)?.and_hms(
            l.hour() as u16,
            l.minute() as u8,
            l.second() as f64,
        )
    }

    /// The finished file, its header a filter over every row written.
    pub fn finish(mut self) -> Result<Vec<u8>, XlsxError> {
        let (last_row, last_col) = (self.row - 1, self.columns - 1);
        self.sheet()?.autofilter(0, 0, last_row, last_col)?;
        self.workbook.save_to_buffer()
    }
}

/// A summary export as a workbook: one sheet, its lines with subtotals and
/// the total in bold, the same columns as the CSV's with typed cells.
pub fn summary_file(summary: &Summary) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Summary")?;
    let bold = Format::new().set_bold();
    let header = summary_header(summary);
    for (col, title) in header.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let subgrouped = summary.subgroup.is_some();
    let keys = if subgrouped { 2 } else { 1 };
    sheet.set_column_width(0, 30)?;
    if subgrouped {
        sheet.set_column_width(1, 30)?;
    }
    let plain = Format::new();
    let money = Format::new().set_num_format(money_format(&summary.currency));
    let duration = Format::new().set_num_format(DURATION_FORMAT);
    let mut row = 0u32;
    for line in grouped::lines(&summary.rows, subgrouped) {
        row += 1;
        let emphasis = if line.kind == Kind::Row {
            &plain
        } else {
            &bold
        };
        for (col, key) in line.keys(subgrouped).into_iter().enumerate() {
            sheet.write_string_with_format(row, col as u16, key, emphasis)?;
        }
        sheet.write_number_with_format(row, keys, hours(line.seconds), emphasis)?;
        sheet.write_number_with_format(
            row,
            keys + 1,
            days(line.seconds),
            &duration.clone().set_bold_if(line.kind != Kind::Row),
        )?;
        sheet.write_number_with_format(row, keys + 2, hours(line.billable_seconds), emphasis)?;
        if summary.amount_cents.is_some() {
            sheet.write_number_with_format(
                row,
                keys + 3,
                line.amount_cents.unwrap_or(0) as f64 / 100.0,
                &money.clone().set_bold_if(line.kind != Kind::Row),
            )?;
            sheet.write_string_with_format(row, keys + 4, &summary.currency, emphasis)?;
        }
    }
    sheet.autofilter(0, 0, row, header.len() as u16 - 1)?;
    workbook.save_to_buffer()
}

/// Bold, when `bold`.
trait BoldIf {
    fn set_bold_if(self, bold: bool) -> Self;
}

impl BoldIf for Format {
    fn set_bold_if(self, bold: bool) -> Self {
        if bold { self.set_bold() } else { self }
    }
}

/// Decimal hours to the hundredth, a number.
pub fn hours(seconds: i64) -> f64 {
    (seconds as f64 / 36.0).round() / 100.0
}

/// A duration as a spreadsheet's number of days.
pub fn days(seconds: i64) -> f64 {
    seconds as f64 / 86_400.0
}
