//! The PDF report: the summary (totals, a bar per group, the grouped table
//! with subtotals), then every entry, on A4 or US Letter. Every page has the
//! header (the period, the filters, when the file was made) and its number.
//!
//! Laid out with `crate::pdf`'s fixed line heights, so a page holds a known
//! number of lines. The entries are drawn a page at a time as they stream in, so the builder
//! holds one page of rows (the finished pages are kept compressed until the
//! file is written).

use krilla::{Document, metadata::Metadata, page::PageSettings, surface::Surface};

use super::{
    Amounts, Summary,
    grouped::{self, Kind, Line},
};
use crate::{
    db::reports::ExportRow,
    domain::{
        formats::{Clock, LocalFormat},
        tracking::{format_cents, format_duration},
    },
    pdf::{
        BODY_TOP, Column, FACES, GAP, INK, LINE, MARGIN, MUTED, RULE, SIZE, SMALL, TOP, TableLine,
        draw_table, fit, number, rect, rule, text, text_column,
    },
};

pub use crate::pdf::Paper;

/// What the header of every page says.
#[derive(Debug, Clone)]
pub struct Heading {
    /// `Time report, 01.11.2026 to 30.11.2026`.
    pub title: String,
    /// The filters in words: `Grouped by client, then project · Everyone`.
    pub filters: String,
    /// `Generated 07.12.2026 21:05`.
    pub generated: String,
}

/// The longest bar list in the summary's chart; the rest are in the table.
const CHART_BARS: usize = 12;
const BAR: (u8, u8, u8) = (37, 99, 235);
const BAR_FAINT: (u8, u8, u8) = (191, 208, 247);

/// A PDF report being built. Blocking: use it off the async executor.
pub struct PdfReport {
    doc: Document,
    paper: Paper,
    heading: Heading,
    fmt: LocalFormat,
    amounts: Option<Amounts>,
    pages: usize,
    /// The entries of the page being filled.
    pending: Vec<ExportRow>,
    entry_columns: Vec<Column>,
    /// Whether the entries' heading has been drawn.
    entries_started: bool,
}

impl PdfReport {
    /// Starts the file with the summary's pages.
    pub fn new(
        paper: Paper,
        heading: Heading,
        fmt: LocalFormat,
        amounts: Option<Amounts>,
        summary: &Summary,
    ) -> Self {
        let mut doc = Document::new();
        doc.set_metadata(
            Metadata::new()
                .title(heading.title.clone())
                .creator("TimeTracker".into()),
        );
        let usable = paper.size().0 - 2.0 * MARGIN;
        let mut report = Self {
            doc,
            paper,
            heading,
            fmt,
            entry_columns: entry_columns(usable, amounts.is_some(), fmt.clock),
            amounts,
            pages: 0,
            pending: Vec::new(),
            entries_started: false,
        };
        report.summary(summary);
        report
    }

    /// How many body lines fit under the header on a page.
    fn lines_per_page(&self) -> usize {
        let (_, height) = self.paper.size();
        ((height - BODY_TOP - TOP - LINE) / LINE) as usize
    }

    /// The summary: headline figures, the chart and the table.
    fn summary(&mut self, summary: &Summary) {
        let subgrouped = summary.subgroup.is_some();
        let usable = self.paper.size().0 - 2.0 * MARGIN;
        let mut columns = vec![Column {
            title: summary.group.label(),
            width: 0.0,
            right: false,
        }];
        if let Some(sub) = summary.subgroup {
            columns.push(Column {
                title: sub.label(),
                width: 0.0,
                right: false,
            });
        }
        columns.push(number("Hours", 70.0));
        columns.push(number("Billable", 70.0));
        if summary.amount_cents.is_some() {
            columns.push(number("Amount", 85.0));
        }
        let fixed: f32 = columns.iter().map(|c| c.width).sum();
        let keys = if subgrouped { 2.0 } else { 1.0 };
        for c in columns.iter_mut().filter(|c| c.width == 0.0) {
            c.width = (usable - fixed) / keys;
        }
        let lines: Vec<TableLine> = grouped::lines(&summary.rows, subgrouped)
            .into_iter()
            .map(|line| summary_line(&line, subgrouped, summary))
            .collect();
        let mut figures = format!(
            "Total {} · billable {}",
            format_duration(summary.total_seconds),
            format_duration(summary.billable_seconds)
        );
        if let Some(cents) = summary.amount_cents {
            figures.push_str(&format!(
                " · amount {} {}",
                format_cents(cents),
                summary.currency
            ));
        }
        if summary.rounding_minutes > 0 {
            figures.push_str(&format!(
                " · each entry rounded to {} minutes",
                summary.rounding_minutes
            ));
        }
        let bars = chart_bars(summary);
        // Page 1: the heading, the figures, the chart, then as much of the
        // table as fits; the rest continues on further pages.
        let per_page = self.lines_per_page();
        // Above the table on page 1: the heading (2 lines), the figures
        // (1.5), the chart (a line a bar, its caption, 1 more) and the
        // table's heading.
        let first = per_page.saturating_sub(bars.len() + 7).max(1);
        let mut rest: &[TableLine] = &lines;
        let mut first_page = true;
        loop {
            let take = if first_page { first } else { per_page - 1 };
            let (now, later) = rest.split_at(take.min(rest.len()));
            rest = later;
            let (figures, bars) = (&figures, &bars);
            self.page(|s| {
                let mut y = BODY_TOP;
                if first_page {
                    text(s, &FACES.1, 12.0, INK, MARGIN, y + 10.0, "Summary");
                    y += LINE * 2.0;
                    text(s, &FACES.0, SIZE, INK, MARGIN, y + 9.0, figures);
                    y += LINE * 1.5;
                    y = draw_chart(s, bars, MARGIN, y, usable);
                    y += LINE * 0.5;
                }
                draw_table(s, &columns, now, MARGIN, y);
            });
            first_page = false;
            if rest.is_empty() {
                break;
            }
        }
    }

    /// Adds an entry; a page is drawn each time one fills.
    pub fn push(&mut self, row: ExportRow) {
        self.pending.push(row);
        let capacity = self.lines_per_page() - 1 - usize::from(!self.entries_started) * 2;
        if self.pending.len() >= capacity {
            self.flush_entries();
        }
    }

    fn flush_entries(&mut self) {
        let rows = std::mem::take(&mut self.pending);
        let lines: Vec<TableLine> = rows
            .iter()
            .map(|e| entry_line(e, &self.fmt, self.amounts.is_some()))
            .collect();
        let columns = self.entry_columns.clone();
        let heading = !self.entries_started;
        self.entries_started = true;
        self.page(|s| {
            let mut y = BODY_TOP;
            if heading {
                text(s, &FACES.1, 12.0, INK, MARGIN, y + 10.0, "Entries");
                y += LINE * 2.0;
            }
            draw_table(s, &columns, &lines, MARGIN, y);
        });
    }

    /// Adds a page: its header and footer, and `body` drawn between them.
    /// (A krilla page has one surface: asking for another starts it over.)
    fn page(&mut self, body: impl FnOnce(&mut Surface)) {
        self.pages += 1;
        let number = self.pages;
        let (width, height) = self.paper.size();
        let heading = &self.heading;
        let mut page = self.doc.start_page_with(
            PageSettings::from_wh(width, height).expect("the paper sizes are valid"),
        );
        let mut s = page.surface();
        let (regular, bold) = (&FACES.0, &FACES.1);
        let right = width - MARGIN;
        text(&mut s, bold, 10.0, INK, MARGIN, TOP + 8.0, &heading.title);
        let generated_width = regular.width(&heading.generated, SMALL);
        text(
            &mut s,
            regular,
            SMALL,
            MUTED,
            right - generated_width,
            TOP + 8.0,
            &heading.generated,
        );
        let filters = fit(regular, &heading.filters, SMALL, width - 2.0 * MARGIN);
        text(&mut s, regular, SMALL, MUTED, MARGIN, TOP + 20.0, &filters);
        rule(&mut s, MARGIN, right, TOP + 27.0, RULE);
        let footer = height - TOP + 10.0;
        text(&mut s, regular, SMALL, MUTED, MARGIN, footer, "TimeTracker");
        let label = format!("Page {number}");
        let label_width = regular.width(&label, SMALL);
        text(
            &mut s,
            regular,
            SMALL,
            MUTED,
            right - label_width,
            footer,
            &label,
        );
        body(&mut s);
        s.finish();
        page.finish();
    }

    /// The finished file.
    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        if !self.pending.is_empty() || !self.entries_started {
            self.flush_entries();
        }
        self.doc.finish().map_err(|e| format!("{e:?}"))
    }

    /// Ends the file after the summary, without the entries.
    pub fn finish_summary_only(self) -> Result<Vec<u8>, String> {
        self.doc.finish().map_err(|e| format!("{e:?}"))
    }
}

/// The entries' columns across `usable` points; the notes take what is left.
fn entry_columns(usable: f32, amounts: bool, clock: Clock) -> Vec<Column> {
    let time = match clock {
        Clock::H24 => 64.0,
        Clock::H12 => 92.0,
    };
    let mut columns = vec![
        text_column("Day", 54.0),
        text_column("Time", time),
        text_column("User", 56.0),
        text_column("Project", 76.0),
        text_column("Task", 60.0),
        text_column("Notes", 0.0),
        number("Duration", 48.0),
    ];
    if amounts {
        columns.push(number("Amount", 54.0));
    }
    let fixed: f32 = columns.iter().map(|c| c.width).sum();
    if let Some(notes) = columns.iter_mut().find(|c| c.width == 0.0) {
        notes.width = (usable - fixed).max(40.0);
    }
    columns
}

fn summary_line(line: &Line, subgrouped: bool, summary: &Summary) -> TableLine {
    let mut cells = line.keys(subgrouped);
    cells.push(format_duration(line.seconds));
    cells.push(format_duration(line.billable_seconds));
    if summary.amount_cents.is_some() {
        cells.push(format!(
            "{} {}",
            format_cents(line.amount_cents.unwrap_or(0)),
            summary.currency
        ));
    }
    TableLine {
        cells,
        bold: line.kind != Kind::Row,
    }
}

fn entry_line(e: &ExportRow, fmt: &LocalFormat, amounts: bool) -> TableLine {
    let start = e.started_at.with_timezone(&fmt.tz);
    let mut cells = vec![
        fmt.day(start.date_naive()),
        format!("{}–{}", fmt.time(e.started_at), fmt.time(e.ended_at)),
        e.username.clone(),
        e.project.clone(),
        e.task.clone().unwrap_or_default(),
        e.notes.replace(['\n', '\r', '\t'], " "),
        format_duration(e.duration_seconds),
    ];
    if amounts {
        cells.push(e.amount_cents.map(format_cents).unwrap_or_default());
    }
    TableLine { cells, bold: false }
}

/// The chart's bars: the largest groups by time, with their billable part.
fn chart_bars(summary: &Summary) -> Vec<(String, i64, i64)> {
    let mut totals: Vec<(String, i64, i64)> = Vec::new();
    for row in &summary.rows {
        match totals.last_mut() {
            Some((key, seconds, billable)) if *key == row.key => {
                *seconds += row.seconds;
                *billable += row.billable_seconds;
            }
            _ => totals.push((row.key.clone(), row.seconds, row.billable_seconds)),
        }
    }
    totals.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    totals.truncate(CHART_BARS);
    totals
}

/// A bar per group (billable part solid, the rest faint), its time and
/// share; returns the y below it.
fn draw_chart(s: &mut Surface, bars: &[(String, i64, i64)], x: f32, y: f32, width: f32) -> f32 {
    let total: i64 = bars.iter().map(|b| b.1).sum::<i64>().max(1);
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1);
    let (label_width, value_width) = (140.0, 110.0);
    let bar_width = width - label_width - value_width - 2.0 * GAP;
    let mut y = y;
    for (key, seconds, billable) in bars {
        let label = fit(&FACES.0, key, SIZE, label_width);
        text(s, &FACES.0, SIZE, INK, x, y + 9.0, &label);
        let full = bar_width * *seconds as f32 / max as f32;
        let solid = bar_width * *billable as f32 / max as f32;
        rect(s, x + label_width + GAP, y + 2.0, full, 8.0, BAR_FAINT);
        rect(s, x + label_width + GAP, y + 2.0, solid, 8.0, BAR);
        let value = format!(
            "{} · {} %",
            format_duration(*seconds),
            seconds * 100 / total
        );
        let value_x = x + width - FACES.0.width(&value, SIZE);
        text(s, &FACES.0, SIZE, INK, value_x, y + 9.0, &value);
        y += LINE;
    }
    text(
        s,
        &FACES.0,
        SMALL,
        MUTED,
        x,
        y + 9.0,
        "The solid part of a bar is billable time.",
    );
    y + LINE * 1.5
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::formats::DateOrder;

    fn summary(rows: usize) -> Summary {
        use crate::db::reports::{Group, ReportFilter, SummaryRow};
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("a day");
        Summary {
            group: Group::Project,
            subgroup: Some(Group::Day),
            rows: (0..rows)
                .map(|i| SummaryRow {
                    key: format!("Project {}", i / 10),
                    subkey: format!("2026-11-{:02}", i % 10 + 1),
                    seconds: 3600,
                    billable_seconds: 1800,
                    amount_cents: Some(5000),
                })
                .collect(),
            total_seconds: rows as i64 * 3600,
            billable_seconds: rows as i64 * 1800,
            amount_cents: Some(rows as i64 * 5000),
            rounding_minutes: 0,
            currency: "EUR".into(),
            from_day: day,
            to_day: day,
            filter: ReportFilter::default(),
            sunday_first: false,
        }
    }

    fn report(rows: usize) -> PdfReport {
        let fmt = LocalFormat {
            tz: chrono_tz::UTC,
            date: DateOrder::Iso,
            clock: Clock::H24,
        };
        let heading = Heading {
            title: "Time report".into(),
            filters: "Grouped by project, then day".into(),
            generated: "Generated now".into(),
        };
        PdfReport::new(Paper::A4, heading, fmt, None, &summary(rows))
    }

    #[test]
    fn a_long_summary_continues_on_further_pages_and_a_short_one_fits_on_one() {
        // 20 rows, 2 subtotals and the total fit under the chart.
        assert_eq!(report(20).pages, 1);
        // 300 rows, 30 subtotals and the total: about 35 lines on the first
        // page, 53 on each further one.
        let long = report(300);
        assert_eq!(long.pages, 1 + (331 - 35usize).div_ceil(53));
        let pdf = long.finish_summary_only().expect("a pdf");
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn the_entry_columns_fill_the_page_width() {
        for paper in [Paper::A4, Paper::Letter] {
            let usable = paper.size().0 - 2.0 * MARGIN;
            for (amounts, clock, widest) in [
                (false, Clock::H24, "23:58–23:59"),
                (true, Clock::H12, "10:45 PM–11:59 PM"),
            ] {
                let columns = entry_columns(usable, amounts, clock);
                let total: f32 = columns.iter().map(|c| c.width).sum();
                assert!((total - usable).abs() < 0.01, "{total} of {usable}");
                let time = &columns[1];
                let needed = FACES.0.width(widest, SIZE);
                assert!(
                    needed <= time.width - GAP,
                    "{widest}: {needed} in {}",
                    time.width
                );
            }
        }
    }
}
