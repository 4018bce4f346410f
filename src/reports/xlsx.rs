//! The XLSX export writer (rust_xlsxwriter in constant-memory mode: rows go to
//! a temporary file as they are written, not into memory).

use chrono_tz::Tz;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::csv::HEADER;
use crate::db::reports::ExportRow;

/// A workbook being filled row by row. Blocking: use it off the async executor.
pub struct XlsxExport {
    workbook: Workbook,
    row: u32,
    tz: Tz,
}

impl XlsxExport {
    pub fn new(tz: Tz) -> Result<Self, XlsxError> {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name("Time entries")?;
        let bold = Format::new().set_bold();
        for (col, title) in HEADER.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *title, &bold)?;
        }
        Ok(Self {
            workbook,
            row: 1,
            tz,
        })
    }

    fn sheet(&mut self) -> Result<&mut Worksheet, XlsxError> {
        self.workbook.worksheet_from_index(0)
    }

    /// Appends one entry: numbers as numbers, text as text.
    pub fn push(&mut self, e: &ExportRow) -> Result<(), XlsxError> {
        let (row, tz) = (self.row, self.tz);
        let sheet = self.sheet()?;
        sheet.write_number(row, 0, e.id as f64)?;
        sheet.write_string(row, 1, &e.username)?;
        sheet.write_string(row, 2, &e.project)?;
        sheet.write_string(row, 3, e.client.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 4, e.task.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 5, e.started_at.with_timezone(&tz).to_rfc3339())?;
        sheet.write_string(row, 6, e.ended_at.with_timezone(&tz).to_rfc3339())?;
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

    /// The finished file.
    pub fn finish(mut self) -> Result<Vec<u8>, XlsxError> {
        self.workbook.save_to_buffer()
    }
}
