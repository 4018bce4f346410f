//! How a person reads dates and times: their timezone, date order and clock.
//! Every page shows dates and times through one [`LocalFormat`], so tables,
//! headings and totals agree.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::{
    ValidationError,
    tracking::{SANE_YEARS, local_instant},
};

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
    /// ISO days and a 24-hour clock in UTC: for readers whose format the
    /// app does not know.
    pub fn iso() -> Self {
        Self {
            tz: chrono_tz::UTC,
            date: DateOrder::Iso,
            clock: Clock::H24,
        }
    }

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

impl LocalFormat {
    /// A day typed in this format, or in ISO (`2026-11-30`) always.
    pub fn parse_day(&self, field: &'static str, raw: &str) -> Result<NaiveDate, ValidationError> {
        let raw = raw.trim();
        let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(raw, self.date.pattern()))
            .map_err(|_| {
                ValidationError::new(field, format!("Enter a date like {}.", self.date.example()))
            })?;
        if !SANE_YEARS.contains(&chrono::Datelike::year(&day)) {
            return Err(ValidationError::new(
                field,
                "Enter a year between 1900 and 9999.",
            ));
        }
        Ok(day)
    }

    /// A time of day in the viewer's timezone and clock: `14:30`, `2:30 PM`.
    pub fn time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz)
            .format(self.clock.pattern())
            .to_string()
    }

    /// A date and time typed in this format (either clock), or in ISO
    /// (`2026-11-30T14:30`, as a browser's date-time field sends) always,
    /// as an instant in this timezone.
    pub fn parse_instant(
        &self,
        field: &'static str,
        raw: &str,
    ) -> Result<DateTime<Utc>, ValidationError> {
        let raw = raw.trim();
        let date = self.date.pattern();
        let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .map(|p| (*p).to_owned())
            .chain([format!("{date} %H:%M"), format!("{date} %I:%M %p")])
            .find_map(|p| NaiveDateTime::parse_from_str(raw, &p).ok())
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    format!("Enter a date and time like {}.", self.instant_example()),
                )
            })?;
        local_instant(field, naive, self.tz)
    }

    /// An instant for an export, to the second: RFC 3339 with its offset
    /// for ISO (`2026-11-30T14:30:05+01:00`), else this format's day and
    /// clock (`30.11.2026 14:30:05`, `11/30/2026 2:30:05 PM`).
    pub fn export_instant(&self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&self.tz);
        match self.date {
            DateOrder::Iso => local.to_rfc3339(),
            _ => format!(
                "{} {}",
                self.day(local.date_naive()),
                local.format(match self.clock {
                    Clock::H24 => "%H:%M:%S",
                    Clock::H12 => "%-I:%M:%S %p",
                })
            ),
        }
    }

    /// The spreadsheet number format that shows a date and time this way.
    pub fn spreadsheet_pattern(&self) -> &'static str {
        match (self.date, self.clock) {
            (DateOrder::Iso, Clock::H24) => "yyyy-mm-dd hh:mm:ss",
            (DateOrder::Iso, Clock::H12) => "yyyy-mm-dd h:mm:ss AM/PM",
            (DateOrder::DayMonthYear, Clock::H24) => "dd.mm.yyyy hh:mm:ss",
            (DateOrder::DayMonthYear, Clock::H12) => "dd.mm.yyyy h:mm:ss AM/PM",
            (DateOrder::MonthDayYear, Clock::H24) => "mm/dd/yyyy hh:mm:ss",
            (DateOrder::MonthDayYear, Clock::H12) => "mm/dd/yyyy h:mm:ss AM/PM",
        }
    }

    /// How a date and time is written in this format, for placeholders.
    pub fn instant_example(&self) -> String {
        match self.clock {
            Clock::H24 => format!("{} 14:30", self.date.example()),
            Clock::H12 => format!("{} 2:30 PM", self.date.example()),
        }
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
    fn typed_dates_and_times_are_read_in_the_format_and_in_iso() {
        let utc = |s: &str| s.parse::<DateTime<Utc>>().expect("instant");
        let f = LocalFormat {
            tz: chrono_tz::UTC,
            date: DateOrder::DayMonthYear,
            clock: Clock::H12,
        };
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).expect("day");
        assert_eq!(f.parse_day("d", "30.11.2026"), Ok(day));
        assert_eq!(f.parse_day("d", "2026-11-30"), Ok(day), "ISO always");
        assert!(f.parse_day("d", "11/30/2026").is_err());
        assert!(f.parse_day("d", "30.11.0201").is_err(), "absurd years");
        assert!(f.parse_day("d", "99999-12-31").is_err());
        assert_eq!(
            f.parse_instant("t", "30.11.2026 2:30 PM"),
            Ok(utc("2026-11-30T14:30:00Z"))
        );
        assert_eq!(
            f.parse_instant("t", "30.11.2026 14:30"),
            Ok(utc("2026-11-30T14:30:00Z"))
        );
        assert_eq!(
            f.parse_instant("t", "2026-11-30T14:30"),
            Ok(utc("2026-11-30T14:30:00Z"))
        );
        let e = f.parse_instant("t", "tomorrow").expect_err("bad");
        assert!(e.message.contains("30.11.2026 2:30 PM"), "{}", e.message);
        // The instant written back reads again as the same instant.
        let t = utc("2026-03-01T07:05:00Z");
        assert_eq!(f.parse_instant("t", &f.instant(t)), Ok(t));
    }

    #[test]
    fn exports_write_instants_to_the_second_in_the_format() {
        let t = "2026-11-30T13:30:05Z"
            .parse::<DateTime<Utc>>()
            .expect("instant");
        let berlin: Tz = "Europe/Berlin".parse().expect("tz");
        let f = |date, clock| LocalFormat {
            tz: berlin,
            date,
            clock,
        };
        assert_eq!(
            f(DateOrder::Iso, Clock::H24).export_instant(t),
            "2026-11-30T14:30:05+01:00"
        );
        assert_eq!(
            f(DateOrder::DayMonthYear, Clock::H24).export_instant(t),
            "30.11.2026 14:30:05"
        );
        assert_eq!(
            f(DateOrder::MonthDayYear, Clock::H12).export_instant(t),
            "11/30/2026 2:30:05 PM"
        );
        assert_eq!(
            f(DateOrder::MonthDayYear, Clock::H12).spreadsheet_pattern(),
            "mm/dd/yyyy h:mm:ss AM/PM"
        );
    }

    #[test]
    fn only_known_formats_are_accepted() {
        assert_eq!(DateOrder::parse("dmy"), Ok(DateOrder::DayMonthYear));
        assert!(DateOrder::parse("yyyy").is_err());
        assert_eq!(Clock::parse("12h"), Ok(Clock::H12));
        assert!(Clock::parse("13h").is_err());
    }
}
