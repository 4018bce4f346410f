//! The operator console, shared by the admin pages and the admin JSON API:
//! the overview of the queues and worker processes (read once, for both),
//! its per-minute throughput picture, and the reading of job-list input (a
//! queue of [`QUEUES`], a state of [`STATES`], a search term, a time range
//! and the keyset cursor `<RFC 3339>,<job id>`).

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::PgPool;

use super::QUEUES;
use crate::{
    db::{
        self,
        jobs::{HourStats, JobFilter, JobRow, STATES},
        queues::{Pause, Process},
    },
    domain::ValidationError,
};

/// Minutes of throughput the overview shows.
pub const MINUTES: usize = 60;

/// One queue as the overview shows it.
#[derive(Debug, Clone)]
pub struct QueueOverview {
    pub name: String,
    /// Jobs per state, in the order of [`STATES`].
    pub counts: [i64; STATES.len()],
    /// Seconds the oldest due job has waited to start.
    pub oldest_ready: Option<f64>,
    /// The last hour's attempts and timings.
    pub hour: Option<HourStats>,
    pub paused: Option<Pause>,
    /// Finished attempts (ok, retried, dead) per minute, the oldest first.
    pub minutes: Vec<[i64; 3]>,
}

/// The queues and the worker processes.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The app's queues in [`QUEUES`] order, then any other queue with jobs.
    pub queues: Vec<QueueOverview>,
    pub processes: Vec<Process>,
    /// Silence after which a worker process is presumed dead (apalis rescues
    /// a worker's jobs after three missed heartbeats).
    pub dead_after_seconds: u64,
}

/// Silence after which a worker process is presumed dead: three missed
/// heartbeats, when apalis hands its jobs to another worker.
pub fn presumed_dead_after(heartbeat: Duration) -> u64 {
    heartbeat.as_secs().max(1) * 3
}

/// Reads the overview: its independent queries run at once.
pub async fn overview(pool: &PgPool, heartbeat: Duration) -> Result<Overview, sqlx::Error> {
    let dead_after_seconds = presumed_dead_after(heartbeat);
    let (counts, ages, hours, paused, minutes, processes) = tokio::try_join!(
        db::jobs::counts(pool),
        db::jobs::oldest_ready_age(pool),
        db::jobs::hour_stats(pool),
        db::queues::paused(pool),
        db::jobs::minutes(pool),
        db::queues::processes(pool, dead_after_seconds as f64),
    )?;
    let mut names: Vec<String> = QUEUES.iter().map(|q| (*q).to_owned()).collect();
    for c in &counts {
        if !names.contains(&c.queue) {
            names.push(c.queue.clone());
        }
    }
    let queues = names
        .into_iter()
        .map(|name| {
            let mut row = QueueOverview {
                counts: [0; STATES.len()],
                oldest_ready: ages.iter().find(|(q, _)| *q == name).map(|(_, a)| *a),
                hour: hours.iter().find(|h| h.queue == name).cloned(),
                paused: paused.iter().find(|p| p.queue == name).cloned(),
                minutes: vec![[0; 3]; MINUTES],
                name,
            };
            for c in counts.iter().filter(|c| c.queue == row.name) {
                if let Some(i) = STATES.iter().position(|s| *s == c.state) {
                    row.counts[i] = c.count;
                }
            }
            for m in minutes.iter().filter(|m| m.queue == row.name) {
                if let Ok(ago) = usize::try_from(m.ago)
                    && ago < MINUTES
                {
                    row.minutes[MINUTES - 1 - ago] = [m.ok, m.retried, m.dead];
                }
            }
            row
        })
        .collect();
    Ok(Overview {
        queues,
        processes,
        dead_after_seconds,
    })
}

/// A bar of the throughput picture.
#[derive(Debug, Clone, PartialEq)]
pub struct SparkBar {
    pub x: f64,
    pub y: f64,
    pub height: f64,
    /// `ok`, `retried` or `dead` (the CSS class gives the colour).
    pub outcome: &'static str,
    pub count: i64,
}

/// The throughput picture: one stacked column a minute, `ok` at the bottom.
#[derive(Debug, Clone, PartialEq)]
pub struct Spark {
    pub width: f64,
    pub height: f64,
    pub bar_width: f64,
    pub bars: Vec<SparkBar>,
    /// The busiest minute's total (the picture's scale).
    pub max: i64,
    /// Totals over the whole range: ok, retried, dead.
    pub totals: [i64; 3],
}

/// Draws `minutes` (ok, retried, dead each) as stacked columns 3 units wide.
pub fn spark(minutes: &[[i64; 3]]) -> Spark {
    let (bar, height) = (3.0, 32.0);
    let max = minutes
        .iter()
        .map(|m| m.iter().sum::<i64>())
        .max()
        .unwrap_or(0);
    let scale = if max > 0 { height / max as f64 } else { 0.0 };
    let mut bars = Vec::new();
    let mut totals = [0; 3];
    for (i, minute) in minutes.iter().enumerate() {
        let mut base = height;
        for (k, (count, outcome)) in minute.iter().zip(["ok", "retried", "dead"]).enumerate() {
            totals[k] += count;
            if *count == 0 {
                continue;
            }
            // At least one unit, so a single dead job is visible.
            let h = (*count as f64 * scale).max(1.0);
            base -= h;
            bars.push(SparkBar {
                x: i as f64 * bar,
                y: base,
                height: h,
                outcome,
                count: *count,
            });
        }
    }
    Spark {
        width: minutes.len() as f64 * bar,
        height,
        bar_width: bar - 0.6,
        bars,
        max,
        totals,
    }
}

/// Longest search term (job ids and request ids are far shorter).
pub const MAX_SEARCH: usize = 200;
/// Longest cursor.
pub const MAX_CURSOR: usize = 300;

/// One of the app's queues, or none for an empty field.
pub fn queue(raw: &str) -> Result<Option<&'static str>, ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    QUEUES
        .iter()
        .copied()
        .find(|q| *q == raw)
        .map(Some)
        .ok_or_else(|| ValidationError::new("queue", "Choose a queue from the list."))
}

/// The raw fields of a job-list filter, as a form or an address gives them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields<'a> {
    pub queue: &'a str,
    pub state: &'a str,
    pub search: &'a str,
    /// An instant: RFC 3339, or `YYYY-MM-DDTHH:MM[:SS]` in UTC (what a
    /// `datetime-local` field sends; the console shows UTC).
    pub from: &'a str,
    pub to: &'a str,
    pub after: &'a str,
}

/// An instant of the time-range filter, or none for an empty field.
fn instant(field: &'static str, raw: &str) -> Result<Option<DateTime<Utc>>, ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
                .map(|t| t.and_utc())
        })
        .map(Some)
        .map_err(|_| {
            ValidationError::new(
                field,
                "Enter a date and time like 2026-12-01T09:30 (UTC), or leave it empty.",
            )
        })
}

/// A job-list filter from its raw fields; empty fields mean "any".
pub fn filter(fields: Fields<'_>) -> Result<JobFilter, ValidationError> {
    let Fields {
        queue,
        state,
        search,
        from,
        to,
        after,
    } = fields;
    if search.chars().count() > MAX_SEARCH {
        return Err(ValidationError::new(
            "q",
            "Search for a job id or a request id (at most 200 characters).",
        ));
    }
    if after.chars().count() > MAX_CURSOR {
        return Err(ValidationError::new(
            "after",
            "That page cursor is broken: start from the first page.",
        ));
    }
    let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(JobFilter {
        queue: self::queue(queue)?.map(str::to_owned),
        state: some(state)
            .map(|s| {
                STATES
                    .iter()
                    .copied()
                    .find(|x| *x == s)
                    .ok_or_else(|| ValidationError::new("state", "Choose a state from the list."))
            })
            .transpose()?,
        search: some(search),
        from: instant("from", from)?,
        to: instant("to", to)?,
        after: some(after)
            .map(|a| {
                a.split_once(',')
                    .and_then(|(t, id)| {
                        Some((
                            DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc),
                            id.to_owned(),
                        ))
                    })
                    .ok_or_else(|| {
                        ValidationError::new(
                            "after",
                            "That page cursor is broken: start from the first page.",
                        )
                    })
            })
            .transpose()?,
    })
    .and_then(|f| match (f.from, f.to) {
        (Some(a), Some(b)) if a >= b => Err(ValidationError::new(
            "to",
            "The end of the time range must be after its start.",
        )),
        _ => Ok(f),
    })
}

/// The cursor that continues the list after `last`.
pub fn cursor(last: &JobRow) -> String {
    format!("{},{}", last.at.to_rfc3339(), last.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_or_refused_by_name() {
        let f = filter(Fields {
            queue: " report_export ",
            state: "dead",
            search: " abc ",
            from: "2026-11-30T08:00",
            to: "2026-11-30T12:00:00+01:00",
            after: "2026-11-30T10:00:00+00:00,01ABC",
        })
        .expect("ok");
        assert_eq!(
            f.from.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-30T08:00:00+00:00"),
            "a datetime-local value is UTC"
        );
        assert_eq!(
            f.to.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-30T11:00:00+00:00")
        );
        assert_eq!(f.queue.as_deref(), Some("report_export"));
        assert_eq!(f.state, Some("dead"));
        assert_eq!(f.search.as_deref(), Some("abc"));
        assert_eq!(f.after.expect("cursor").1, "01ABC");
        let field = |f: Fields<'_>| filter(f).expect_err("refused").field;
        assert!(filter(Fields::default()).expect("empty").queue.is_none());
        let none = Fields::default();
        assert_eq!(
            field(Fields {
                queue: "nope",
                ..none
            }),
            "queue"
        );
        assert_eq!(
            field(Fields {
                state: "sleeping",
                ..none
            }),
            "state"
        );
        assert_eq!(
            field(Fields {
                after: "yesterday",
                ..none
            }),
            "after"
        );
        let long = "x".repeat(201);
        assert_eq!(
            field(Fields {
                search: &long,
                ..none
            }),
            "q"
        );
        assert_eq!(
            field(Fields {
                from: "last week",
                ..none
            }),
            "from"
        );
        assert_eq!(
            field(Fields {
                from: "2026-11-30T12:00",
                to: "2026-11-30T11:00",
                ..none
            }),
            "to",
            "an empty or backwards range"
        );
    }
}

#[cfg(test)]
mod spark_tests {
    use super::*;

    #[test]
    fn columns_stack_ok_retried_dead_and_scale_to_the_busiest_minute() {
        let mut minutes = vec![[0; 3]; MINUTES];
        minutes[0] = [4, 0, 0];
        minutes[59] = [1, 2, 1];
        let s = spark(&minutes);
        assert_eq!((s.max, s.totals), (4, [5, 2, 1]));
        assert_eq!(s.width, 180.0);
        let first: Vec<_> = s.bars.iter().filter(|b| b.x == 0.0).collect();
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].y, first[0].height), (0.0, 32.0), "full height");
        let last: Vec<_> = s.bars.iter().filter(|b| b.x == 177.0).collect();
        assert_eq!(
            last.iter()
                .map(|b| (b.outcome, b.height))
                .collect::<Vec<_>>(),
            [("ok", 8.0), ("retried", 16.0), ("dead", 8.0)]
        );
        assert_eq!(last[2].y, 0.0, "stacked to the top");
        assert!(spark(&vec![[0; 3]; MINUTES]).bars.is_empty());
    }
}
