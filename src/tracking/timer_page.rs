//! The timer page's week at a glance: seconds per day of the viewer's week
//! (Today and This week come from it) and the projects tracked most in the
//! last 7 days, from the user's recent entries (`db::timer_page` reads them
//! in a window around now wide enough for any timezone); each entry is
//! clipped to each day it covers, in the viewer's timezone (daylight-saving
//! days have 23 or 25 hours), a running timer counting to now.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{Actor, timesheet::sunday_first};
use crate::{
    db::entries::Span,
    domain::{periods::week_of, tracking::start_of_day},
};

/// How many projects the glance lists.
pub const TOP: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glance {
    /// The seven days of the viewer's week.
    pub days: Vec<NaiveDate>,
    /// Seconds on each of them.
    pub daily: Vec<i64>,
    pub today: NaiveDate,
    pub today_seconds: i64,
    /// From the week's first day to the end of today.
    pub week_seconds: i64,
    /// The last 7 days (today included), largest first.
    pub top: Vec<(String, i64)>,
}

/// Seconds of `spans` inside `[from, to)`.
fn clipped(
    spans: &[Span],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> impl Iterator<Item = (&Span, i64)> {
    spans.iter().filter_map(move |s| {
        let seconds = (s.ended_at.min(to) - s.started_at.max(from)).num_seconds();
        (seconds > 0).then_some((s, seconds))
    })
}

/// The glance from the spans that reach into the week or the last 7 days.
pub fn glance(spans: &[Span], today: NaiveDate, first: NaiveDate, tz: chrono_tz::Tz) -> Glance {
    let days: Vec<NaiveDate> = (0..7).map(|i| first + Duration::days(i)).collect();
    let daily: Vec<i64> = days
        .iter()
        .map(|d| {
            clipped(
                spans,
                start_of_day(*d, tz),
                start_of_day(*d + Duration::days(1), tz),
            )
            .map(|(_, s)| s)
            .sum()
        })
        .collect();
    let at = days.iter().position(|d| *d == today).unwrap_or_default();
    let mut by_project: HashMap<&str, i64> = HashMap::new();
    let (from, to) = (
        start_of_day(today - Duration::days(6), tz),
        start_of_day(today + Duration::days(1), tz),
    );
    for (span, seconds) in clipped(spans, from, to) {
        *by_project.entry(span.project_name.as_str()).or_default() += seconds;
    }
    let mut top: Vec<(String, i64)> = by_project
        .into_iter()
        .map(|(name, seconds)| (name.to_owned(), seconds))
        .collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(TOP);
    Glance {
        today_seconds: daily[at],
        week_seconds: daily[..=at].iter().sum(),
        days,
        daily,
        today,
        top,
    }
}

/// The actor's glance now, from the spans of their recent entries
/// (`db::timer_page`, which reads them with the rest of the timer page).
pub fn week_at_a_glance(spans: &[Span], actor: &Actor, installation_week_start: &str) -> Glance {
    let tz = actor.timezone;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let first = week_of(today, sunday_first(actor, installation_week_start));
    glance(spans, today, first, tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(project: &str, start: &str, end: &str) -> Span {
        Span {
            project_name: project.into(),
            started_at: start.parse().expect("start"),
            ended_at: end.parse().expect("end"),
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("day")
    }

    #[test]
    fn entries_count_on_each_day_they_cover_in_the_timezone() {
        let ny: chrono_tz::Tz = "America/New_York".parse().expect("tz");
        // US clocks spring forward on Sunday 2026-03-08 (a 23-hour day).
        let spans = [
            // 23:00 on the 7th to 01:00 on the 8th, local (EST, UTC-5).
            span("A", "2026-03-08T04:00:00Z", "2026-03-08T06:00:00Z"),
            // 01:00 to 04:00 local on the 8th spans the skipped hour: 2 h.
            span("B", "2026-03-08T06:00:00Z", "2026-03-08T08:00:00Z"),
        ];
        let g = glance(&spans, d("2026-03-08"), d("2026-03-02"), ny);
        assert_eq!(g.daily, [0, 0, 0, 0, 0, 3600, 3 * 3600]);
        assert_eq!(g.today_seconds, 3 * 3600);
        assert_eq!(g.week_seconds, 4 * 3600);
        assert_eq!(
            g.top,
            [("A".to_owned(), 7200), ("B".to_owned(), 7200)],
            "ties by name"
        );
    }

    #[test]
    fn the_recent_entries_window_covers_every_day_the_glance_counts() {
        use crate::db::entries::{RECENT_DAYS_AHEAD, RECENT_DAYS_BACK};
        // The first and last instants the glance counts, every hour of two
        // weeks around New York's autumn clock change (a 25-hour day), in
        // the timezones furthest ahead of and behind UTC, with either week
        // start. A finished entry lasts at most 24 hours.
        let (mut widest_back, mut widest_ahead) = (Duration::zero(), Duration::zero());
        for tz in ["Pacific/Kiritimati", "Etc/GMT+12", "America/New_York"] {
            let tz: chrono_tz::Tz = tz.parse().expect("tz");
            for hour in 0..14 * 24 {
                let now = "2026-10-26T00:30:00Z"
                    .parse::<DateTime<Utc>>()
                    .expect("now")
                    + Duration::hours(hour);
                let today = now.with_timezone(&tz).date_naive();
                for sunday in [false, true] {
                    let first = week_of(today, sunday);
                    let from = start_of_day(first.min(today - Duration::days(6)), tz);
                    let to = start_of_day(
                        (first + Duration::days(7)).max(today + Duration::days(1)),
                        tz,
                    );
                    widest_back = widest_back.max(now - from + Duration::hours(24));
                    widest_ahead = widest_ahead.max(to - now);
                }
            }
        }
        assert!(
            widest_back < Duration::days(RECENT_DAYS_BACK),
            "{widest_back}"
        );
        assert!(
            widest_ahead <= Duration::days(RECENT_DAYS_AHEAD),
            "{widest_ahead}"
        );
        // Nor wider than a day more than it must be.
        assert!(
            widest_back > Duration::days(RECENT_DAYS_BACK - 1),
            "{widest_back}"
        );
        assert!(
            widest_ahead > Duration::days(RECENT_DAYS_AHEAD - 1),
            "{widest_ahead}"
        );
    }

    #[test]
    fn the_top_projects_are_the_last_seven_days_largest_first() {
        let utc = chrono_tz::UTC;
        let spans = [
            span("Old", "2026-11-23T09:00:00Z", "2026-11-23T19:00:00Z"),
            span("Edge", "2026-11-24T23:00:00Z", "2026-11-25T01:00:00Z"),
            span("Big", "2026-11-30T09:00:00Z", "2026-11-30T12:00:00Z"),
            span("Big", "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"),
        ];
        // Today Tuesday 1 December: the last 7 days start on 25 November.
        let g = glance(&spans, d("2026-12-01"), d("2026-11-30"), utc);
        assert_eq!(
            g.top,
            [("Big".to_owned(), 4 * 3600), ("Edge".to_owned(), 3600)]
        );
        assert_eq!(g.daily[..2], [3 * 3600, 3600]);
        assert_eq!(g.week_seconds, 4 * 3600, "to the end of today");
    }
}
