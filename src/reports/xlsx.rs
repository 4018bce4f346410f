//! The XLSX export writer (rust_xlsxwriter in constant-memory mode: rows go to
//! a temporary file as they are written, not into memory).

use chrono::{DateTime, Datelike, Timelike, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::csv::HEADER;
use crate::{db::reports::ExportRow, domain::formats::LocalFormat};

/// A workbook being filled row by row. Blocking: use it off the async executor.
pub struct XlsxExport {
    workbook: Workbook,
    row: u32,
    fmt: LocalFormat,
    /// Start and end are date cells shown in the viewer's format.
    when: Format,
}

impl XlsxExport {
    pub fn new(fmt: LocalFormat) -> Result<Self, XlsxError> {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name("Time entries")?;
        let bold = Format::new().set_bold();
        for (col, title) in HEADER.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *title, &bold)?;
        }
        sheet.set_column_width(5, 20)?;
        sheet.set_column_width(6, 20)?;
        Ok(Self {
            workbook,
            row: 1,
            when: Format::new().set_num_format(fmt.spreadsheet_pattern()),
            fmt,
        })
    }

    fn sheet(&mut self) -> Result<&mut Worksheet, XlsxError> {
        self.workbook.worksheet_from_index(0)
    }

    /// Appends one entry: numbers as numbers, text as text.
    pub fn push(&mut self, e: &ExportRow) -> Result<(), XlsxError> {
        let row = self.row;
        let (start, end) = (self.local(e.started_at)?, self.local(e.ended_at)?);
        let when = self.when.clone();
        let sheet = self.sheet()?;
        sheet.write_number(row, 0, e.id as f64)?;
        sheet.write_string(row, 1, &e.username)?;
        sheet.write_string(row, 2, &e.project)?;
        sheet.write_string(row, 3, e.client.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 4, e.task.as_deref().unwrap_or(""))?;
        sheet.write_datetime_with_format(row, 5, &start, &when)?;
        sheet.write_datetime_with_format(row, 6, &end, &when)?;
        sheet.write_number(row, 7, (e.duration_seconds as f64 / 36.0).round() / 100.0)?;
        sheet.write_string(
            row,
            8,
            crate::domain::tracking::format_duration(e.duration_seconds),
        )?;
        sheet.write_string(row, 9, &e.notes)?;
        sheet.write_string(row, 10, e.tags.join(", "))?;
        sheet.write_string(row, 11, if e.billable { "yes" } else { "no" })?;
        sheet.write_string(row, 12, &e.source)?;
        self.row += 1;
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

    /// The finished file.
    pub fn finish(mut self) -> Result<Vec<u8>, XlsxError> {
        self.workbook.save_to_buffer()
    }
}
