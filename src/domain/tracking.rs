//! Time-tracking rules: entry times, durations, rounding, money and tags.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::ValidationError;

/// The longest a single entry may last.
pub const MAX_ENTRY_SECONDS: i64 = 24 * 3600;

/// A validated start and end of a finished entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryTimes {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl EntryTimes {
    /// Checks the rules: end after start, at most 24 h, not more than a day in the future.
    pub fn new(
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        if !SANE_YEARS.contains(&start.year()) || !SANE_YEARS.contains(&end.year()) {
            return Err(ValidationError::new(
                "start",
                "Enter a year between 1900 and 9999.",
            ));
        }
        if end <= start {
            return Err(ValidationError::new(
                "end",
                "The end must be after the start.",
            ));
        }
        if (end - start).num_seconds() > MAX_ENTRY_SECONDS {
            return Err(ValidationError::new(
                "end",
                "An entry can last at most 24 hours.",
            ));
        }
        if end > now + Duration::days(1) {
            return Err(ValidationError::new(
                "end",
                "An entry cannot end more than a day in the future.",
            ));
        }
        Ok(Self { start, end })
    }

    /// A start plus a duration in seconds.
    pub fn from_duration(
        start: DateTime<Utc>,
        seconds: i64,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        if seconds <= 0 {
            return Err(ValidationError::new(
                "duration",
                "Enter a duration longer than zero.",
            ));
        }
        if seconds > MAX_ENTRY_SECONDS {
            return Err(ValidationError::new(
                "duration",
                "An entry can last at most 24 hours.",
            ));
        }
        let end = start
            .checked_add_signed(Duration::seconds(seconds))
            .ok_or_else(|| ValidationError::new("start", "That start is out of range."))?;
        Self::new(start, end, now)
    }

    pub fn seconds(&self) -> i64 {
        (self.end - self.start).num_seconds()
    }
}

/// Parses `2026-11-27T09:30` (an HTML `datetime-local` value) in the user's timezone.
/// A time skipped by a daylight-saving change is refused; a repeated one takes the earlier instant.
pub fn parse_local(
    field: &'static str,
    raw: &str,
    tz: Tz,
) -> Result<DateTime<Utc>, ValidationError> {
    let raw = raw.trim();
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M"))
        .map_err(|_| ValidationError::new(field, "Enter a date and time like 2026-11-27T09:30."))?;
    local_instant(field, naive, tz)
}

/// The instant a wall-clock time in `tz` names. A time skipped by a
/// daylight-saving change is refused; a repeated one takes the earlier instant.
pub fn local_instant(
    field: &'static str,
    naive: NaiveDateTime,
    tz: Tz,
) -> Result<DateTime<Utc>, ValidationError> {
    if !SANE_YEARS.contains(&naive.year()) {
        return Err(ValidationError::new(
            field,
            "Enter a year between 1900 and 9999.",
        ));
    }
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(ValidationError::new(
            field,
            "That time does not exist in your timezone (the clocks changed). Pick another.",
        )),
    }
}

/// Years accepted in input; keeps date arithmetic far from chrono's and PostgreSQL's limits.
pub const SANE_YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// The UTC instant where `date` begins in `tz` (midnight, or the first existing time after it).
pub fn start_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut t = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    // A few zones skip midnight on DST days; walk forward to the first real minute.
    for _ in 0..180 {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => return x.with_timezone(&Utc),
            LocalResult::None => t += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// Parses a duration: `1:30`, `1:30:15`, `1.5` or `1,5` (hours), `90m`,
/// `2h`, `1h30m`, `1h 30min`, `2 hours 15 minutes`.
pub fn parse_duration(raw: &str) -> Result<i64, ValidationError> {
    let bad = || ValidationError::new("duration", "Enter a duration like 1:30, 1.5 or 2h 15m.");
    let s = raw.trim().to_ascii_lowercase();
    if s.is_empty() {
        return Err(bad());
    }
    let seconds = if s.contains(':') {
        let parts: Vec<&str> = s.split(':').collect();
        let nums: Option<Vec<i64>> = parts
            .iter()
            .map(|p| {
                let p = p.trim();
                // Digits only: no sign, no spaces inside.
                (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| p.parse::<i64>().ok())
                    .flatten()
            })
            .collect();
        match nums.as_deref() {
            Some([h, m]) if *m < 60 && *h <= 24 => h * 3600 + m * 60,
            Some([h, m, sec]) if *m < 60 && *sec < 60 && *h <= 24 => h * 3600 + m * 60 + sec,
            _ => return Err(bad()),
        }
    } else if s.bytes().any(|b| b.is_ascii_alphabetic()) {
        with_units(&s).ok_or_else(bad)?
    } else {
        hours(&s).ok_or_else(bad)?
    };
    if seconds <= 0 {
        return Err(ValidationError::new(
            "duration",
            "Enter a duration longer than zero.",
        ));
    }
    if seconds > MAX_ENTRY_SECONDS {
        return Err(ValidationError::new(
            "duration",
            "An entry can last at most 24 hours.",
        ));
    }
    Ok(seconds)
}

/// Decimal hours, `1.5` or `1,5`, as seconds.
fn hours(s: &str) -> Option<i64> {
    number(s).map(|h| (h * 3600.0).round() as i64)
}

/// A plain non-negative decimal number (`.` or `,`), at most 24 thousand.
fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
    {
        return None;
    }
    s.replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n <= 24_000.0)
}

/// Hours then minutes with units: `2h`, `90m`, `1h30m`, `1h 30min`,
/// `1.5 hours`, `2 hrs 15 mins`. Each unit at most once, hours first.
fn with_units(s: &str) -> Option<i64> {
    let (mut rest, mut total, mut seen_hours, mut seen_minutes) = (s.trim(), 0.0, false, false);
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
            .unwrap_or(rest.len());
        let n = number(&rest[..digits])?;
        rest = rest[digits..].trim_start();
        let letters = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..letters];
        rest = rest[letters..].trim_start();
        match unit {
            "h" | "hr" | "hrs" | "hour" | "hours" if !seen_hours && !seen_minutes => {
                seen_hours = true;
                total += n * 3600.0;
            }
            "m" | "min" | "mins" | "minute" | "minutes" if !seen_minutes => {
                seen_minutes = true;
                total += n * 60.0;
            }
            _ => return None,
        }
    }
    Some(f64::round(total) as i64)
}

/// Seconds as decimal hours to the hundredth: `1.50`.
pub fn format_decimal_hours(seconds: i64) -> String {
    format!("{:.2}", seconds as f64 / 3600.0)
}

/// `H:MM:SS`, e.g. `1:05:09`.
pub fn format_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
}

/// Rounds to the nearest multiple of `minutes` (halves round up); 0 leaves the value alone.
pub fn round_seconds(seconds: i64, minutes: i32) -> i64 {
    if minutes <= 0 {
        return seconds;
    }
    let step = i64::from(minutes) * 60;
    ((seconds + step / 2) / step) * step
}

/// Billable amount in cents for `seconds` at `rate_cents` per hour, rounded to the nearest cent.
pub fn amount_cents(seconds: i64, rate_cents: i64) -> i64 {
    let product = i128::from(seconds) * i128::from(rate_cents);
    ((product + 1800) / 3600) as i64
}

/// Parses a money amount like `85`, `85.5` or `85,50` into cents. Empty means none.
pub fn parse_cents(field: &'static str, raw: &str) -> Result<Option<i64>, ValidationError> {
    let s = raw.trim().replace(',', ".");
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || ValidationError::new(field, "Enter an amount like 85 or 85.50.");
    let (units, fraction) = s.split_once('.').unwrap_or((&s, ""));
    if units.is_empty()
        || fraction.len() > 2
        || !units.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let units: i64 = units.parse().map_err(|_| bad())?;
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    units
        .checked_mul(100)
        .and_then(|u| u.checked_add(cents))
        .filter(|c| *c <= 10_000_000_000)
        .map(Some)
        .ok_or_else(|| ValidationError::new(field, "That amount is too large."))
}

/// `1234` cents as `12.34`.
pub fn format_cents(cents: i64) -> String {
    format!(
        "{}{}.{:02}",
        if cents < 0 { "-" } else { "" },
        cents.abs() / 100,
        cents.abs() % 100
    )
}

/// Parses comma-separated tags: trimmed, de-duplicated, at most 20 of at most 50 characters.
/// The tags of a comma-separated form field, as typed (checked by [`parse_tags`]).
pub fn split_tags(raw: &str) -> Vec<String> {
    raw.split(',').map(str::to_owned).collect()
}

/// Tags as given (a list): trimmed, empty ones dropped, duplicates (ignoring
/// letter case) dropped; at most 20 of at most 50 characters, none with a
/// comma (the pages list and take tags separated by commas).
pub fn parse_tags(given: &[String]) -> Result<Vec<String>, ValidationError> {
    let mut tags: Vec<String> = Vec::new();
    for tag in given.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if tag.contains(',') {
            return Err(ValidationError::new(
                "tags",
                "A tag may not contain a comma.",
            ));
        }
        if tag.chars().count() > 50 {
            return Err(ValidationError::new(
                "tags",
                "A tag has at most 50 characters.",
            ));
        }
        super::text::visible("tags", tag)?;
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.to_owned());
        }
    }
    if tags.len() > 20 {
        return Err(ValidationError::new("tags", "Use at most 20 tags."));
    }
    Ok(tags)
}

/// Free-text notes: at most 5000 characters.
pub fn parse_notes(raw: &str) -> Result<String, ValidationError> {
    let notes = raw.trim();
    if notes.chars().count() > 5000 {
        return Err(ValidationError::new(
            "notes",
            "Notes have at most 5000 characters.",
        ));
    }
    Ok(notes.to_owned())
}

/// A name of a client, project or task: 1–200 characters.
pub fn parse_name(raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ValidationError::new("name", "Enter a name."));
    }
    if name.chars().count() > 200 {
        return Err(ValidationError::new(
            "name",
            "A name has at most 200 characters.",
        ));
    }
    super::text::visible("name", name)?;
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("a timestamp")
    }

    #[test]
    fn entries_must_end_after_they_start_and_last_at_most_a_day() {
        let now = t("2026-11-27T12:00:00Z");
        assert!(EntryTimes::new(t("2026-11-27T09:00:00Z"), t("2026-11-27T10:00:00Z"), now).is_ok());
        assert_eq!(
            EntryTimes::new(t("2026-11-27T10:00:00Z"), t("2026-11-27T10:00:00Z"), now)
                .unwrap_err()
                .field,
            "end"
        );
        assert!(
            EntryTimes::new(t("2026-11-26T09:00:00Z"), t("2026-11-27T09:00:01Z"), now).is_err()
        );
        assert!(EntryTimes::new(t("2026-11-26T09:00:00Z"), t("2026-11-27T09:00:00Z"), now).is_ok());
        assert!(
            EntryTimes::new(t("2026-11-28T11:00:00Z"), t("2026-11-28T12:00:01Z"), now).is_err(),
            "too far ahead"
        );
        assert_eq!(
            EntryTimes::from_duration(t("2026-11-27T09:00:00Z"), 5400, now).map(|e| e.seconds()),
            Ok(5400)
        );
    }

    #[test]
    fn local_times_follow_the_users_timezone_across_daylight_saving() {
        let berlin: Tz = "Europe/Berlin".parse().expect("tz");
        assert_eq!(
            parse_local("start", "2026-07-01T09:00", berlin),
            Ok(t("2026-07-01T07:00:00Z"))
        );
        assert_eq!(
            parse_local("start", "2026-12-01T09:00", berlin),
            Ok(t("2026-12-01T08:00:00Z"))
        );
        // 2026-03-29 02:30 does not exist in Berlin; 2026-10-25 02:30 exists twice.
        assert!(parse_local("start", "2026-03-29T02:30", berlin).is_err());
        assert_eq!(
            parse_local("start", "2026-10-25T02:30", berlin),
            Ok(t("2026-10-25T00:30:00Z"))
        );
        assert!(parse_local("start", "yesterday", berlin).is_err());
        assert!(
            parse_local("start", "262143-01-01T00:00", berlin).is_err(),
            "absurd years are refused"
        );
        assert_eq!(
            start_of_day(NaiveDate::from_ymd_opt(2026, 7, 1).expect("date"), berlin),
            t("2026-06-30T22:00:00Z")
        );
    }

    #[test]
    fn durations_parse_in_the_usual_notations() {
        assert_eq!(parse_duration("1:30"), Ok(5400));
        assert_eq!(parse_duration("1:30:15"), Ok(5415));
        assert_eq!(parse_duration("1.5"), Ok(5400));
        assert_eq!(parse_duration("1,25"), Ok(4500));
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("2h 15m"), Ok(8100));
        assert_eq!(parse_duration("2h15m"), Ok(8100));
        for (given, seconds) in [
            ("1h30m", 5400),
            ("1h 30min", 5400),
            ("1H 30MIN", 5400),
            ("1 h 30 m", 5400),
            ("1.5h", 5400),
            ("1,5 hours", 5400),
            ("2 hrs 15 mins", 8100),
            ("45 minutes", 2700),
            ("1 hour", 3600),
            ("0:45", 2700),
            ("  8  ", 28800),
            ("24:00", 86400),
            ("0h 1m", 60),
        ] {
            assert_eq!(parse_duration(given), Ok(seconds), "{given:?}");
        }
        for bad in [
            "", "abc", "1:75", "-1", "0", "25", "1:2:3:4", "NaN", "inf", "1e3", "+1", "1:-5",
            "1: 30x", "30m 1h", "1h 1h", "2 days", "1h30", "h", "m30", ".", "1..5", "0:00", "0m",
            "24:01", "1,5,5", "1 30",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(format_duration(3909), "1:05:09");
    }

    #[test]
    fn rounding_goes_to_the_nearest_step_and_none_keeps_seconds() {
        assert_eq!(round_seconds(7 * 60, 15), 0);
        assert_eq!(round_seconds(8 * 60, 15), 15 * 60);
        assert_eq!(round_seconds(22 * 60 + 29, 15), 15 * 60);
        assert_eq!(round_seconds(22 * 60 + 30, 15), 30 * 60);
        assert_eq!(round_seconds(61, 0), 61);
        assert_eq!(round_seconds(3 * 60, 6), 6 * 60);
    }

    #[test]
    fn money_is_integer_cents() {
        assert_eq!(parse_cents("rate", "85"), Ok(Some(8500)));
        assert_eq!(parse_cents("rate", "85,5"), Ok(Some(8550)));
        assert_eq!(parse_cents("rate", "0.05"), Ok(Some(5)));
        assert_eq!(parse_cents("rate", " "), Ok(None));
        for bad in ["-1", "1.234", "abc", ".5", "1e3", "99999999999999999999"] {
            assert!(parse_cents("rate", bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(format_cents(123456), "1234.56");
        assert_eq!(amount_cents(5400, 10000), 15000);
        assert_eq!(amount_cents(1, 100), 0);
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        assert_eq!(
            parse_tags(&split_tags(" meeting, Meeting ,urgent,,")),
            Ok(vec!["meeting".to_owned(), "urgent".to_owned()])
        );
        assert!(parse_tags(&["x".repeat(51)]).is_err());
        assert!(parse_tags(&(0..21).map(|i| i.to_string()).collect::<Vec<_>>()).is_err());
        let e = parse_tags(&["a,b".to_owned()]).expect_err("a list's tag with a comma");
        assert_eq!(e.message, "A tag may not contain a comma.");
    }
}
