//! How a person reads dates and times: their timezone, date order and clock.
//! Every page shows dates and times through one [`LocalFormat`], so tables,
//! headings and totals agree.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::ValidationError;

/// The order of day, month and year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DateOrder {
    /// 2026-11-30
    #[default]
    Iso,
    /// 30.11.2026
    DayMonthYear,
    /// 11/30/2026
    MonthDayYear,
}

impl DateOrder {
    pub const ALL: [Self; 3] = [Self::Iso, Self::DayMonthYear, Self::MonthDayYear];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == raw.trim())
            .ok_or_else(|| {
                ValidationError::new("date_format", "Choose a date format from the list.")
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iso => "iso",
            Self::DayMonthYear => "dmy",
            Self::MonthDayYear => "mdy",
        }
    }

    /// An example, for the profile's choices.
    pub fn example(self) -> &'static str {
        match self {
            Self::Iso => "2026-11-30",
            Self::DayMonthYear => "30.11.2026",
            Self::MonthDayYear => "11/30/2026",
        }
    }

    fn pattern(self) -> &'static str {
        match self {
            Self::Iso => "%Y-%m-%d",
            Self::DayMonthYear => "%d.%m.%Y",
            Self::MonthDayYear => "%m/%d/%Y",
        }
    }
}

/// A 24-hour or a 12-hour clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    #[default]
    H24,
    H12,
}

impl Clock {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim() {
            "24h" => Ok(Self::H24),
            "12h" => Ok(Self::H12),
            _ => Err(ValidationError::new(
                "clock",
                "Choose a 24-hour or a 12-hour clock.",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::H24 => "24h",
            Self::H12 => "12h",
        }
    }

    fn pattern(self) -> &'static str {
        match self {
            Self::H24 => "%H:%M",
            Self::H12 => "%-I:%M %p",
        }
    }
}

/// A viewer's timezone, date order and clock.
#[derive(Debug, Clone, Copy)]
pub struct LocalFormat {
    pub tz: Tz,
    pub date: DateOrder,
    pub clock: Clock,
}

impl LocalFormat {
    /// A calendar day: `30.11.2026`.
    pub fn day(&self, day: NaiveDate) -> String {
        day.format(self.date.pattern()).to_string()
    }

    /// A calendar day with its weekday: `Monday, 30.11.2026`.
    pub fn day_with_weekday(&self, day: NaiveDate) -> String {
        format!("{}, {}", day.format("%A"), self.day(day))
    }

    /// An instant in the viewer's timezone: `30.11.2026 9:00 AM`.
    pub fn instant(&self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&self.tz);
        format!(
            "{} {}",
            self.day(local.date_naive()),
            local.format(self.clock.pattern())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instant_reads_in_each_format() {
        let t = "2026-11-30T08:05:00Z"
            .parse::<DateTime<Utc>>()
            .expect("instant");
        let berlin: Tz = "Europe/Berlin".parse().expect("tz");
        let f = |date, clock| {
            LocalFormat {
                tz: berlin,
                date,
                clock,
            }
            .instant(t)
        };
        assert_eq!(f(DateOrder::Iso, Clock::H24), "2026-11-30 09:05");
        assert_eq!(f(DateOrder::DayMonthYear, Clock::H24), "30.11.2026 09:05");
        assert_eq!(f(DateOrder::MonthDayYear, Clock::H12), "11/30/2026 9:05 AM");
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).expect("day");
        let dmy = LocalFormat {
            tz: berlin,
            date: DateOrder::DayMonthYear,
            clock: Clock::H24,
        };
        assert_eq!(dmy.day_with_weekday(day), "Monday, 30.11.2026");
    }

    #[test]
    fn only_known_formats_are_accepted() {
        assert_eq!(DateOrder::parse("dmy"), Ok(DateOrder::DayMonthYear));
        assert!(DateOrder::parse("yyyy").is_err());
        assert_eq!(Clock::parse("12h"), Ok(Clock::H12));
        assert!(Clock::parse("13h").is_err());
    }
}
