//! The report's pictures as data, then as geometry for inline SVG: hours
//! over time (stacked bars by day, week or month, split by a grouping) and
//! the share of each group (horizontal bars, billable part solid). No I/O:
//! the inputs are summary rows; the page renders the geometry
//! (`templates/chart_*.html`), and tests read the same numbers back from
//! the SVG's `data-` attributes.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};

use crate::{
    db::reports::SummaryRow,
    domain::{formats::LocalFormat, periods::week_of, tracking::format_duration},
};

/// Most series a chart shows; the rest are summed as "Other".
pub const MAX_SERIES: usize = 6;

/// Fill colours of the series, then of "Other" (good contrast on the light
/// and the dark theme).
pub const PALETTE: [&str; MAX_SERIES + 1] = [
    "#3f6fd8", "#e07b00", "#2e9d4a", "#9b59b6", "#d64541", "#1e9fa8", "#8a93a3",
];

/// The width of the bars over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Week,
    Month,
}

impl Bucket {
    /// Days up to a month, weeks up to half a year, else months.
    pub fn for_range(from: NaiveDate, to: NaiveDate) -> Self {
        match (to - from).num_days() + 1 {
            ..=31 => Self::Day,
            32..=183 => Self::Week,
            _ => Self::Month,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// The first day of the bucket holding `day`.
    fn start(self, day: NaiveDate, sunday_first: bool) -> NaiveDate {
        match self {
            Self::Day => day,
            Self::Week => week_of(day, sunday_first),
            Self::Month => day.with_day(1).unwrap_or(day),
        }
    }

    fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => start + Duration::days(1),
            Self::Week => start + Duration::days(7),
            Self::Month => (start + Duration::days(32)).with_day(1).unwrap_or(start),
        }
    }
}

/// One bar over time: seconds per series (same order as [`TimeChart::series`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub start: NaiveDate,
    pub label: String,
    pub seconds: Vec<i64>,
}

impl Column {
    pub fn total(&self) -> i64 {
        self.seconds.iter().sum()
    }
}

/// Hours over time, stacked by series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeChart {
    pub bucket: Bucket,
    /// Series names, the largest first; "Other" last when there are more.
    pub series: Vec<String>,
    pub columns: Vec<Column>,
    /// A column drawn in the highlight colour (today on the timer page).
    pub marked: Option<NaiveDate>,
}

/// The colour of a marked column.
pub const HIGHLIGHT: &str = "#e07b00";

/// The timer page's strip: hours on each day of a week, today marked.
pub fn week_strip(days: &[NaiveDate], seconds: &[i64], today: NaiveDate) -> TimeChart {
    TimeChart {
        bucket: Bucket::Day,
        series: vec!["Tracked".to_owned()],
        columns: days
            .iter()
            .zip(seconds)
            .map(|(d, s)| Column {
                start: *d,
                label: if *d == today {
                    "Today".to_owned()
                } else {
                    d.format("%a").to_string()
                },
                seconds: vec![*s],
            })
            .collect(),
        marked: Some(today),
    }
}

/// The names of the largest series by total seconds (at most
/// [`MAX_SERIES`], counting "Other"), and each key's series index.
fn series_of(totals: &HashMap<&str, i64>) -> (Vec<String>, HashMap<String, usize>) {
    let mut keys: Vec<(&str, i64)> = totals.iter().map(|(k, v)| (*k, *v)).collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let fits = keys.len() <= MAX_SERIES;
    let named = if fits { keys.len() } else { MAX_SERIES - 1 };
    let mut series: Vec<String> = keys[..named].iter().map(|(k, _)| (*k).to_owned()).collect();
    let mut index: HashMap<String, usize> = series
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), i))
        .collect();
    if !fits {
        series.push("Other".to_owned());
        for (k, _) in &keys[named..] {
            index.insert((*k).to_owned(), named);
        }
    }
    (series, index)
}

/// Builds the time chart from rows keyed by series (`key`) and local day
/// (`subkey`, `YYYY-MM-DD`), covering every bucket from `from` to `to`.
pub fn time_chart(
    rows: &[SummaryRow],
    from: NaiveDate,
    to: NaiveDate,
    sunday_first: bool,
    fmt: &LocalFormat,
) -> TimeChart {
    let bucket = Bucket::for_range(from, to);
    let mut totals: HashMap<&str, i64> = HashMap::new();
    for r in rows {
        *totals.entry(r.key.as_str()).or_default() += r.seconds;
    }
    let (series, index) = series_of(&totals);
    let mut columns = Vec::new();
    let mut start = bucket.start(from, sunday_first);
    while start <= to {
        columns.push(Column {
            start,
            label: match bucket {
                Bucket::Day => format!("{} {}", start.format("%a"), start.day()),
                Bucket::Week => fmt.day(start),
                Bucket::Month => start.format("%b %Y").to_string(),
            },
            seconds: vec![0; series.len()],
        });
        start = bucket.next(start);
    }
    for r in rows {
        let Ok(day) = NaiveDate::parse_from_str(&r.subkey, "%Y-%m-%d") else {
            continue;
        };
        let at = bucket.start(day, sunday_first);
        if let (Some(col), Some(s)) = (
            columns.iter_mut().find(|c| c.start == at),
            index.get(&r.key),
        ) {
            col.seconds[*s] += r.seconds;
        }
    }
    TimeChart {
        bucket,
        series,
        columns,
        marked: None,
    }
}

/// One group's share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub key: String,
    pub seconds: i64,
    pub billable_seconds: i64,
    /// Of the total, rounded to whole percent.
    pub percent: i64,
}

/// The share of each group (summing sub-rows), the largest first, at most
/// [`MAX_SERIES`] bars counting "Other".
pub fn shares(rows: &[SummaryRow]) -> Vec<Share> {
    let mut totals: HashMap<&str, (i64, i64)> = HashMap::new();
    for r in rows {
        let t = totals.entry(r.key.as_str()).or_default();
        t.0 += r.seconds;
        t.1 += r.billable_seconds;
    }
    let seconds: HashMap<&str, i64> = totals.iter().map(|(k, v)| (*k, v.0)).collect();
    let (series, index) = series_of(&seconds);
    let mut out: Vec<Share> = series
        .into_iter()
        .map(|key| Share {
            key,
            seconds: 0,
            billable_seconds: 0,
            percent: 0,
        })
        .collect();
    for (k, (s, b)) in totals {
        if let Some(i) = index.get(k) {
            out[*i].seconds += s;
            out[*i].billable_seconds += b;
        }
    }
    let total: i64 = out.iter().map(|s| s.seconds).sum();
    for s in &mut out {
        s.percent = if total > 0 {
            (s.seconds * 100 + total / 2) / total
        } else {
            0
        };
    }
    out
}

/// A rectangle of the SVG, with what it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub fill: &'static str,
    /// 1 for billable (solid) or a whole bar, less for the non-billable part.
    pub opacity: f64,
    pub series: String,
    pub seconds: i64,
    /// The tooltip, e.g. `Website · Mon 30: 3:15:00`.
    pub title: String,
}

/// A text of the SVG.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub x: f64,
    pub y: f64,
    pub text: String,
    /// `start`, `middle` or `end`.
    pub anchor: &'static str,
}

/// An SVG picture: its size, bars, labels and horizontal grid lines (y).
#[derive(Debug, Clone, PartialEq)]
pub struct Svg {
    pub width: f64,
    pub height: f64,
    pub bars: Vec<Bar>,
    pub labels: Vec<Label>,
    pub grid: Vec<f64>,
    pub left: f64,
    pub right: f64,
}

/// A round step for the hour axis: about four lines up to `max_hours`.
fn hour_step(max_hours: f64) -> f64 {
    [
        1.0, 2.0, 4.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
    ]
    .into_iter()
    .find(|s| max_hours / s <= 5.0)
    .unwrap_or(2000.0)
}

impl TimeChart {
    /// Stacked bars, the first series at the bottom; a hour axis on the left.
    pub fn svg(&self) -> Svg {
        let (width, height, left, right, top, bottom) = (560.0, 220.0, 36.0, 8.0, 10.0, 24.0);
        let max = self
            .columns
            .iter()
            .map(Column::total)
            .max()
            .unwrap_or(0)
            .max(1);
        let step = hour_step(max as f64 / 3600.0);
        let top_hours = (max as f64 / 3600.0 / step).ceil().max(1.0) * step;
        let plot = height - top - bottom;
        let scale = plot / (top_hours * 3600.0);
        let band = (width - left - right) / self.columns.len().max(1) as f64;
        let mut svg = Svg {
            width,
            height,
            bars: Vec::new(),
            labels: Vec::new(),
            grid: Vec::new(),
            left,
            right: width - right,
        };
        let mut h = 0.0;
        while h <= top_hours + f64::EPSILON {
            let y = top + plot - h * 3600.0 * scale;
            svg.grid.push(y);
            svg.labels.push(Label {
                x: left - 4.0,
                y: y + 4.0,
                text: format!("{h}h"),
                anchor: "end",
            });
            h += step;
        }
        let every = self.columns.len().div_ceil(12).max(1);
        for (i, col) in self.columns.iter().enumerate() {
            let x = left + i as f64 * band + band * 0.15;
            let mut base = top + plot;
            for (s, seconds) in col.seconds.iter().enumerate() {
                if *seconds == 0 {
                    continue;
                }
                let height = *seconds as f64 * scale;
                base -= height;
                svg.bars.push(Bar {
                    x,
                    y: base,
                    width: band * 0.7,
                    height,
                    fill: if self.marked == Some(col.start) {
                        HIGHLIGHT
                    } else {
                        PALETTE[s.min(MAX_SERIES)]
                    },
                    opacity: 1.0,
                    series: self.series[s].clone(),
                    seconds: *seconds,
                    title: format!(
                        "{} · {}: {}",
                        self.series[s],
                        col.label,
                        format_duration(*seconds)
                    ),
                });
            }
            if i % every == 0 {
                svg.labels.push(Label {
                    x: x + band * 0.35,
                    y: height - 8.0,
                    text: col.label.clone(),
                    anchor: "middle",
                });
            }
        }
        svg
    }
}

/// Horizontal bars, one per share: with `split_billable` the billable part
/// solid and the rest faint, else each bar solid.
pub fn shares_svg(shares: &[Share], split_billable: bool) -> Svg {
    let (width, row, left, right) = (480.0, 34.0, 4.0, 130.0);
    let max = shares.iter().map(|s| s.seconds).max().unwrap_or(0).max(1);
    let scale = (width - left - right) / max as f64;
    let mut svg = Svg {
        width,
        height: row * shares.len().max(1) as f64 + 4.0,
        bars: Vec::new(),
        labels: Vec::new(),
        grid: Vec::new(),
        left,
        right: width - right,
    };
    for (i, s) in shares.iter().enumerate() {
        let y = 4.0 + i as f64 * row;
        let fill = PALETTE[i.min(MAX_SERIES)];
        if !split_billable {
            svg.bars.push(Bar {
                x: left,
                y: y + 15.0,
                width: s.seconds as f64 * scale,
                height: 12.0,
                fill,
                opacity: 1.0,
                series: s.key.clone(),
                seconds: s.seconds,
                title: format!("{}: {}", s.key, format_duration(s.seconds)),
            });
        }
        let (billable_part, rest_part) = if split_billable {
            (s.billable_seconds, s.seconds - s.billable_seconds)
        } else {
            (0, 0)
        };
        let billable = billable_part as f64 * scale;
        let rest = rest_part as f64 * scale;
        svg.labels.push(Label {
            x: left,
            y: y + 11.0,
            text: s.key.clone(),
            anchor: "start",
        });
        if billable_part > 0 {
            svg.bars.push(Bar {
                x: left,
                y: y + 15.0,
                width: billable,
                height: 12.0,
                fill,
                opacity: 1.0,
                series: s.key.clone(),
                seconds: s.billable_seconds,
                title: format!(
                    "{}: {} billable",
                    s.key,
                    format_duration(s.billable_seconds)
                ),
            });
        }
        if rest_part > 0 {
            svg.bars.push(Bar {
                x: left + billable,
                y: y + 15.0,
                width: rest,
                height: 12.0,
                fill,
                opacity: 0.4,
                series: s.key.clone(),
                seconds: s.seconds - s.billable_seconds,
                title: format!(
                    "{}: {} not billable",
                    s.key,
                    format_duration(s.seconds - s.billable_seconds)
                ),
            });
        }
        svg.labels.push(Label {
            x: width - 2.0,
            y: y + 26.0,
            text: format!("{} · {} %", format_duration(s.seconds), s.percent),
            anchor: "end",
        });
    }
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::formats::{Clock, DateOrder};

    fn row(key: &str, day: &str, seconds: i64, billable: i64) -> SummaryRow {
        SummaryRow {
            key: key.into(),
            subkey: day.into(),
            seconds,
            billable_seconds: billable,
            amount_cents: None,
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("day")
    }

    fn fmt() -> LocalFormat {
        LocalFormat {
            tz: chrono_tz::UTC,
            date: DateOrder::Iso,
            clock: Clock::H24,
        }
    }

    #[test]
    fn buckets_follow_the_length_of_the_range() {
        assert_eq!(
            Bucket::for_range(d("2026-11-01"), d("2026-11-30")),
            Bucket::Day
        );
        assert_eq!(
            Bucket::for_range(d("2026-10-01"), d("2026-11-30")),
            Bucket::Week
        );
        assert_eq!(
            Bucket::for_range(d("2026-01-01"), d("2026-12-31")),
            Bucket::Month
        );
    }

    #[test]
    fn days_are_columns_and_groups_are_stacked_series_largest_first() {
        let rows = [
            row("Alpha", "2026-11-02", 3600, 3600),
            row("Beta", "2026-11-02", 7200, 0),
            row("Beta", "2026-11-04", 1800, 0),
        ];
        let c = time_chart(&rows, d("2026-11-02"), d("2026-11-08"), false, &fmt());
        assert_eq!(c.bucket, Bucket::Day);
        assert_eq!(c.series, ["Beta", "Alpha"]);
        assert_eq!(c.columns.len(), 7, "empty days are columns too");
        assert_eq!(c.columns[0].seconds, [7200, 3600]);
        assert_eq!(c.columns[1].seconds, [0, 0]);
        assert_eq!(c.columns[2].seconds, [1800, 0]);
        assert_eq!(c.columns[0].label, "Mon 2");
        // The SVG: one bar per non-zero stack, heights proportional, stacked.
        let svg = c.svg();
        assert_eq!(svg.bars.len(), 3);
        let (beta, alpha) = (&svg.bars[0], &svg.bars[1]);
        assert_eq!((beta.series.as_str(), beta.seconds), ("Beta", 7200));
        assert_eq!((alpha.series.as_str(), alpha.seconds), ("Alpha", 3600));
        assert!((beta.height - 2.0 * alpha.height).abs() < 1e-9);
        assert!(
            (alpha.y + alpha.height - beta.y).abs() < 1e-9,
            "on top of Beta"
        );
        assert_eq!(
            svg.labels.iter().filter(|l| l.text.ends_with('h')).count(),
            4,
            "0h to 3h"
        );
    }

    #[test]
    fn weeks_and_months_sum_their_days_and_small_series_become_other() {
        let mut rows: Vec<SummaryRow> = (0..8)
            .map(|i| row(&format!("P{i}"), "2026-09-02", 3600 * (10 - i), 0))
            .collect();
        rows.push(row("P0", "2026-09-06", 1800, 0)); // a Sunday: the same Monday week
        rows.push(row("P0", "2026-09-07", 60, 0)); // the next week
        let c = time_chart(&rows, d("2026-09-01"), d("2026-11-30"), false, &fmt());
        assert_eq!(c.bucket, Bucket::Week);
        assert_eq!(c.columns[0].start, d("2026-08-31"));
        assert_eq!(c.series.len(), MAX_SERIES);
        assert_eq!(c.series[MAX_SERIES - 1], "Other");
        assert_eq!(c.columns[0].seconds[0], 36000 + 1800);
        assert_eq!(c.columns[1].seconds[0], 60);
        // P5, P6 and P7 (5 h, 4 h, 3 h) are "Other".
        assert_eq!(c.columns[0].seconds[MAX_SERIES - 1], 3600 * 12);
        // Sundays start the weeks when the user says so.
        let s = time_chart(&rows, d("2026-09-01"), d("2026-11-30"), true, &fmt());
        assert_eq!(s.columns[0].start, d("2026-08-30"));
        assert_eq!(s.columns[1].seconds[0], 1800 + 60);
        let m = time_chart(&rows, d("2026-01-01"), d("2026-12-31"), false, &fmt());
        assert_eq!(m.columns.len(), 12);
        assert_eq!(m.columns[8].label, "Sep 2026");
        assert_eq!(m.columns[8].seconds[0], 36000 + 1800 + 60);
    }

    #[test]
    fn the_week_strip_marks_today_and_draws_each_day() {
        let days: Vec<NaiveDate> = (0..7)
            .map(|i| d("2026-11-30") + Duration::days(i))
            .collect();
        let c = week_strip(&days, &[3600, 7200, 0, 0, 0, 0, 0], d("2026-12-01"));
        assert_eq!(c.columns[1].label, "Today");
        assert_eq!(c.columns[0].label, "Mon");
        let svg = c.svg();
        assert_eq!(svg.bars.len(), 2);
        assert_eq!((svg.bars[0].seconds, svg.bars[0].fill), (3600, PALETTE[0]));
        assert_eq!((svg.bars[1].seconds, svg.bars[1].fill), (7200, HIGHLIGHT));
        let solid = shares_svg(&shares(&[row("A", "", 3600, 0)]), false);
        assert_eq!(solid.bars.len(), 1);
        assert_eq!((solid.bars[0].seconds, solid.bars[0].opacity), (3600, 1.0));
    }

    #[test]
    fn shares_sum_subrows_and_split_billable() {
        let rows = [
            row("Alpha", "2026-11-02", 3600, 3600),
            row("Alpha", "2026-11-03", 3600, 0),
            row("Beta", "2026-11-02", 2400, 2400),
        ];
        let s = shares(&rows);
        assert_eq!(
            s,
            [
                Share {
                    key: "Alpha".into(),
                    seconds: 7200,
                    billable_seconds: 3600,
                    percent: 75
                },
                Share {
                    key: "Beta".into(),
                    seconds: 2400,
                    billable_seconds: 2400,
                    percent: 25
                },
            ]
        );
        let svg = shares_svg(&s, true);
        let alpha: Vec<&Bar> = svg.bars.iter().filter(|b| b.series == "Alpha").collect();
        assert_eq!(alpha.len(), 2, "billable and not");
        assert_eq!((alpha[0].seconds, alpha[0].opacity), (3600, 1.0));
        assert_eq!(alpha[1].seconds, 3600);
        assert!(alpha[1].opacity < 1.0);
        assert!(
            (alpha[1].x - (alpha[0].x + alpha[0].width)).abs() < 1e-9,
            "side by side"
        );
        let beta = svg.bars.iter().find(|b| b.series == "Beta").expect("beta");
        assert!((beta.width * 3.0 - (alpha[0].width + alpha[1].width)).abs() < 1e-6);
        assert!(svg.labels.iter().any(|l| l.text == "2:00:00 · 75 %"));
    }
}
