//! Named periods of the calendar: weeks (starting on the person's first
//! day of the week) and the report presets (today, last month, …), as
//! inclusive ranges of days. No I/O; "today" is given.

use chrono::{Datelike, Duration, NaiveDate};

use super::ValidationError;

/// The first day of the week holding `day`, weeks starting on Sunday when
/// `sunday` is set, else on Monday.
pub fn week_of(day: NaiveDate, sunday: bool) -> NaiveDate {
    let into = if sunday {
        day.weekday().num_days_from_sunday()
    } else {
        day.weekday().num_days_from_monday()
    };
    day - Duration::days(i64::from(into))
}

/// A report's range by name; `Custom` takes the typed days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Today,
    Yesterday,
    ThisWeek,
    LastWeek,
    ThisMonth,
    LastMonth,
    ThisYear,
    LastYear,
    Custom,
}

impl Preset {
    pub const ALL: [Self; 9] = [
        Self::Today,
        Self::Yesterday,
        Self::ThisWeek,
        Self::LastWeek,
        Self::ThisMonth,
        Self::LastMonth,
        Self::ThisYear,
        Self::LastYear,
        Self::Custom,
    ];

    /// From a query string; empty means the typed days (`Custom`).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(Self::Custom);
        }
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == raw)
            .ok_or_else(|| ValidationError::new("preset", "Choose a period from the list."))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Today => "today",
            Self::Yesterday => "yesterday",
            Self::ThisWeek => "this_week",
            Self::LastWeek => "last_week",
            Self::ThisMonth => "this_month",
            Self::LastMonth => "last_month",
            Self::ThisYear => "this_year",
            Self::LastYear => "last_year",
            Self::Custom => "custom",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Today => "Today",
            Self::Yesterday => "Yesterday",
            Self::ThisWeek => "This week",
            Self::LastWeek => "Last week",
            Self::ThisMonth => "This month",
            Self::LastMonth => "Last month",
            Self::ThisYear => "This year",
            Self::LastYear => "Last year",
            Self::Custom => "Custom range",
        }
    }

    /// The first and last day (inclusive) seen from `today`; `None` for `Custom`.
    pub fn range(self, today: NaiveDate, sunday_first: bool) -> Option<(NaiveDate, NaiveDate)> {
        let first_of_month = |d: NaiveDate| d.with_day(1).unwrap_or(d);
        let year = |y: i32| {
            (
                NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(today),
                NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(today),
            )
        };
        let week = week_of(today, sunday_first);
        Some(match self {
            Self::Today => (today, today),
            Self::Yesterday => (today - Duration::days(1), today - Duration::days(1)),
            Self::ThisWeek => (week, week + Duration::days(6)),
            Self::LastWeek => (week - Duration::days(7), week - Duration::days(1)),
            Self::ThisMonth => {
                let first = first_of_month(today);
                (
                    first,
                    first_of_month(first + Duration::days(32)) - Duration::days(1),
                )
            }
            Self::LastMonth => {
                let first = first_of_month(today);
                (
                    first_of_month(first - Duration::days(1)),
                    first - Duration::days(1),
                )
            }
            Self::ThisYear => year(today.year()),
            Self::LastYear => year(today.year() - 1),
            Self::Custom => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("day")
    }

    #[test]
    fn weeks_start_on_the_chosen_day() {
        let wed = d(2026, 12, 2);
        assert_eq!(week_of(wed, false), d(2026, 11, 30));
        assert_eq!(week_of(wed, true), d(2026, 11, 29));
        assert_eq!(week_of(d(2026, 11, 29), true), d(2026, 11, 29));
        assert_eq!(week_of(d(2026, 11, 29), false), d(2026, 11, 23));
    }

    #[test]
    fn presets_are_whole_calendar_periods() {
        let today = d(2026, 3, 4); // a Wednesday
        let r = |p: Preset, sunday| p.range(today, sunday);
        assert_eq!(r(Preset::Today, false), Some((today, today)));
        assert_eq!(
            r(Preset::Yesterday, false),
            Some((d(2026, 3, 3), d(2026, 3, 3)))
        );
        assert_eq!(
            r(Preset::ThisWeek, false),
            Some((d(2026, 3, 2), d(2026, 3, 8)))
        );
        assert_eq!(
            r(Preset::ThisWeek, true),
            Some((d(2026, 3, 1), d(2026, 3, 7)))
        );
        assert_eq!(
            r(Preset::LastWeek, false),
            Some((d(2026, 2, 23), d(2026, 3, 1)))
        );
        assert_eq!(
            r(Preset::ThisMonth, false),
            Some((d(2026, 3, 1), d(2026, 3, 31)))
        );
        assert_eq!(
            r(Preset::LastMonth, false),
            Some((d(2026, 2, 1), d(2026, 2, 28)))
        );
        assert_eq!(
            r(Preset::ThisYear, false),
            Some((d(2026, 1, 1), d(2026, 12, 31)))
        );
        assert_eq!(
            r(Preset::LastYear, false),
            Some((d(2025, 1, 1), d(2025, 12, 31)))
        );
        assert_eq!(r(Preset::Custom, false), None);
        // Month ends and the year boundary.
        assert_eq!(
            Preset::LastMonth.range(d(2026, 1, 15), false),
            Some((d(2025, 12, 1), d(2025, 12, 31)))
        );
        assert_eq!(
            Preset::ThisMonth.range(d(2028, 2, 10), false),
            Some((d(2028, 2, 1), d(2028, 2, 29))),
            "a leap February"
        );
        assert_eq!(
            Preset::LastWeek.range(d(2026, 1, 1), false),
            Some((d(2025, 12, 22), d(2025, 12, 28)))
        );
    }

    #[test]
    fn presets_parse_from_their_names_only() {
        for p in Preset::ALL {
            assert_eq!(Preset::parse(p.as_str()), Ok(p));
        }
        assert_eq!(Preset::parse(""), Ok(Preset::Custom));
        assert!(Preset::parse("next_week").is_err());
    }
}
