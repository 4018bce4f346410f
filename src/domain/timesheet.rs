//! The week grid's rules, without I/O: which week a day belongs to, which
//! day an entry counts for, what a typed cell means, and how a cell's new
//! total becomes changes to entries ([`reconcile`]).
//!
//! Rule: a cell never silently loses detail. It creates, resizes or removes
//! one entry; when that would drop an entry's notes, or choose among several
//! entries which to remove, it refuses and says where to do it instead.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

pub use super::periods::week_of;
use super::{
    ValidationError,
    tracking::{MAX_ENTRY_SECONDS, format_duration, local_instant, parse_duration},
};

/// Days in a week.
pub const DAYS: usize = 7;

/// The seven days from `first`.
pub fn days(first: NaiveDate) -> [NaiveDate; DAYS] {
    std::array::from_fn(|i| first + Duration::days(i as i64))
}

/// The day an entry counts for: the local date of its start.
pub fn day_of(start: DateTime<Utc>, tz: Tz) -> NaiveDate {
    start.with_timezone(&tz).date_naive()
}

/// What a cell holds when typed: empty, `0` or `-` clear it; otherwise any
/// duration [`parse_duration`] reads, at most 24 hours.
pub fn parse_cell(raw: &str) -> Result<i64, ValidationError> {
    let s = raw.trim();
    if s.is_empty() || s == "-" || s.trim_start_matches('0').is_empty() || s == "0:00" {
        return Ok(0);
    }
    parse_duration(s).map_err(|e| ValidationError::new("duration", e.message))
}

/// How a cell's time is shown: `1:30` (no seconds unless there are some).
pub fn format_cell(seconds: i64) -> String {
    if seconds == 0 {
        return String::new();
    }
    if seconds % 60 == 0 {
        format!("{}:{:02}", seconds / 3600, (seconds % 3600) / 60)
    } else {
        format_duration(seconds)
    }
}

/// Where a new entry of a cell starts: 09:00 local on its day, or right
/// after the day's latest entry of the user when that ends later, so a new
/// entry does not overlap the others.
pub fn new_entry_start(
    day: NaiveDate,
    tz: Tz,
    latest_end: Option<DateTime<Utc>>,
) -> Result<DateTime<Utc>, ValidationError> {
    let nine = local_instant(
        "duration",
        day.and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default()),
        tz,
    )?;
    Ok(latest_end.map_or(nine, |end| end.max(nine)))
}

/// One entry of a cell, as [`reconcile`] needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellEntry {
    pub id: i64,
    pub start: DateTime<Utc>,
    /// `None` while it runs.
    pub seconds: Option<i64>,
    /// It has notes or tags that removing it would lose.
    pub has_detail: bool,
}

/// What setting a cell does to its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The cell already holds that time.
    Nothing,
    /// A new entry of this many seconds.
    Create { seconds: i64 },
    /// This entry keeps its start and lasts this many seconds.
    Resize { id: i64, seconds: i64 },
    /// This entry goes.
    Delete { id: i64 },
}

/// A change and what to tell the user about it (when one of several
/// entries was adjusted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub change: Change,
    pub note: Option<String>,
}

/// The change that makes a cell (the entries of one row on one day) total
/// `target` seconds. One entry or none: create, resize or delete it (an
/// entry with notes or tags is not deleted). Several: the latest one
/// absorbs the difference, and the plan says so; clearing them, or a
/// difference larger than the latest entry, is refused.
pub fn reconcile(entries: &[CellEntry], target: i64) -> Result<Plan, ValidationError> {
    let refuse = |m: String| Err(ValidationError::new("duration", m));
    if !(0..=MAX_ENTRY_SECONDS).contains(&target) {
        return refuse("A day holds at most 24 hours.".into());
    }
    if entries.iter().any(|e| e.seconds.is_none()) {
        return refuse("The timer is running on this row today. Stop it first.".into());
    }
    let total: i64 = entries.iter().filter_map(|e| e.seconds).sum();
    let plan = |change| Ok(Plan { change, note: None });
    if total == target {
        return plan(Change::Nothing);
    }
    match entries {
        [] => plan(Change::Create { seconds: target }),
        [only] if target == 0 => {
            if only.has_detail {
                refuse("This entry has notes or tags. Delete it on the entries page.".into())
            } else {
                plan(Change::Delete { id: only.id })
            }
        }
        [only] => plan(Change::Resize {
            id: only.id,
            seconds: target,
        }),
        several => {
            let n = several.len();
            if target == 0 {
                return refuse(format!(
                    "This day holds {n} entries for this row. Delete them on the entries page."
                ));
            }
            let latest = several
                .iter()
                .max_by_key(|e| (e.start, e.id))
                .expect("several entries");
            let seconds = latest.seconds.unwrap_or_default() + target - total;
            if seconds <= 0 {
                return refuse(format!(
                    "This day holds {n} entries for this row and the latest lasts only {}. Change them on the entries page.",
                    format_cell(latest.seconds.unwrap_or_default())
                ));
            }
            Ok(Plan {
                change: Change::Resize {
                    id: latest.id,
                    seconds,
                },
                note: Some(format!(
                    "This day holds {n} entries for this row; the latest now lasts {}.",
                    format_cell(seconds)
                )),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tracking::start_of_day;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    fn entry(id: i64, start: &str, seconds: i64, has_detail: bool) -> CellEntry {
        CellEntry {
            id,
            start: utc(start),
            seconds: Some(seconds),
            has_detail,
        }
    }

    #[test]
    fn cells_read_every_duration_and_clear_on_empty_or_zero() {
        for (given, seconds) in [
            ("1:30", 5400),
            ("1h30m", 5400),
            ("1h 30min", 5400),
            ("90m", 5400),
            ("1.5", 5400),
            ("1,5", 5400),
            ("", 0),
            ("  ", 0),
            ("0", 0),
            ("00", 0),
            ("0:00", 0),
            ("-", 0),
        ] {
            assert_eq!(parse_cell(given), Ok(seconds), "{given:?}");
        }
        for bad in ["abc", "25", "1:75", "-1:00", "24:30", "1h 1h", "1e2"] {
            assert!(parse_cell(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(format_cell(5400), "1:30");
        assert_eq!(format_cell(5415), "1:30:15");
        assert_eq!(format_cell(0), "");
    }

    #[test]
    fn an_empty_cell_creates_one_entry_and_a_single_entry_is_resized_or_removed() {
        assert_eq!(
            reconcile(&[], 5400),
            Ok(Plan {
                change: Change::Create { seconds: 5400 },
                note: None
            })
        );
        assert_eq!(reconcile(&[], 0).map(|p| p.change), Ok(Change::Nothing));
        let one = [entry(7, "2026-11-30T08:00:00Z", 3600, false)];
        assert_eq!(reconcile(&one, 3600).map(|p| p.change), Ok(Change::Nothing));
        assert_eq!(
            reconcile(&one, 1800).map(|p| p.change),
            Ok(Change::Resize {
                id: 7,
                seconds: 1800
            })
        );
        assert_eq!(
            reconcile(&one, 0).map(|p| p.change),
            Ok(Change::Delete { id: 7 })
        );
    }

    #[test]
    fn detail_is_never_dropped_silently() {
        let noted = [entry(7, "2026-11-30T08:00:00Z", 3600, true)];
        let e = reconcile(&noted, 0).expect_err("refused");
        assert!(e.message.contains("notes"), "{}", e.message);
        // Resizing keeps the notes, so it is allowed.
        assert!(reconcile(&noted, 7200).is_ok());

        let several = [
            entry(1, "2026-11-30T08:00:00Z", 3600, false),
            entry(3, "2026-11-30T13:00:00Z", 1800, false),
            entry(2, "2026-11-30T10:00:00Z", 3600, false),
        ];
        let more = reconcile(&several, 4 * 3600).expect("grows");
        assert_eq!(
            more.change,
            Change::Resize {
                id: 3,
                seconds: 1800 + (4 * 3600 - 9000)
            },
            "the latest entry absorbs the difference"
        );
        assert!(
            more.note.expect("says so").contains("3 entries"),
            "the user is told"
        );
        assert_eq!(
            reconcile(&several, 2 * 3600 + 600).map(|p| p.change),
            Ok(Change::Resize {
                id: 3,
                seconds: 600
            })
        );
        assert!(
            reconcile(&several, 3600).is_err(),
            "would need to remove the latest and shorten another"
        );
        assert!(reconcile(&several, 0).is_err(), "which to delete?");
    }

    #[test]
    fn a_running_timer_and_more_than_a_day_are_refused() {
        let running = [CellEntry {
            id: 1,
            start: utc("2026-11-30T08:00:00Z"),
            seconds: None,
            has_detail: false,
        }];
        assert!(reconcile(&running, 3600).is_err());
        assert!(reconcile(&[], 24 * 3600 + 1).is_err());
        assert!(reconcile(&[], -1).is_err());
    }

    #[test]
    fn a_week_is_seven_days_from_its_first() {
        let first = NaiveDate::from_ymd_opt(2026, 11, 30).expect("day");
        let d = days(first);
        assert_eq!(d[0], first);
        assert_eq!(d[6], NaiveDate::from_ymd_opt(2026, 12, 6).expect("day"));
    }

    #[test]
    fn days_follow_the_timezone_across_a_daylight_saving_change() {
        let berlin: Tz = "Europe/Berlin".parse().expect("tz");
        // Clocks go back on Sunday 2026-10-25: that day has 25 hours.
        let first = week_of(NaiveDate::from_ymd_opt(2026, 10, 25).expect("d"), false);
        let d = days(first);
        let length = |i: usize| {
            (start_of_day(d[i] + Duration::days(1), berlin) - start_of_day(d[i], berlin))
                .num_hours()
        };
        assert_eq!(length(6), 25);
        assert_eq!(length(0), 24);
        // 23:30 UTC on Sunday is already Monday 00:30 in Berlin (UTC+1 again).
        assert_eq!(
            day_of(utc("2026-10-25T23:30:00Z"), berlin),
            NaiveDate::from_ymd_opt(2026, 10, 26).expect("monday")
        );
        // 22:30 UTC on the Saturday is still Saturday (UTC+2 then).
        assert_eq!(
            day_of(utc("2026-10-24T21:30:00Z"), berlin),
            NaiveDate::from_ymd_opt(2026, 10, 24).expect("saturday")
        );
        // A new entry starts at 09:00 local time on either side of the change.
        assert_eq!(
            new_entry_start(d[5], berlin, None),
            Ok(utc("2026-10-24T07:00:00Z"))
        );
        assert_eq!(
            new_entry_start(d[6], berlin, None),
            Ok(utc("2026-10-25T08:00:00Z"))
        );
        // After the day's latest entry when that ends later.
        assert_eq!(
            new_entry_start(d[6], berlin, Some(utc("2026-10-25T12:00:00Z"))),
            Ok(utc("2026-10-25T12:00:00Z"))
        );
        assert_eq!(
            new_entry_start(d[6], berlin, Some(utc("2026-10-25T06:00:00Z"))),
            Ok(utc("2026-10-25T08:00:00Z"))
        );
    }
}
