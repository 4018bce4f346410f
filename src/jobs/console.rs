//! The operator console's reading of job-list input, shared by the admin
//! pages and the admin JSON API: a queue of [`QUEUES`], a state of
//! [`STATES`], a search term, and the keyset cursor (`<RFC 3339>,<job id>`).

use chrono::{DateTime, Utc};

use super::QUEUES;
use crate::{
    db::jobs::{JobFilter, JobRow, STATES},
    domain::ValidationError,
};

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

/// A job-list filter from its raw fields; empty fields mean "any".
pub fn filter(
    queue: &str,
    state: &str,
    search: &str,
    after: &str,
) -> Result<JobFilter, ValidationError> {
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
        let f = filter(
            " report_export ",
            "dead",
            " abc ",
            "2026-11-30T10:00:00+00:00,01ABC",
        )
        .expect("ok");
        assert_eq!(f.queue.as_deref(), Some("report_export"));
        assert_eq!(f.state, Some("dead"));
        assert_eq!(f.search.as_deref(), Some("abc"));
        assert_eq!(f.after.expect("cursor").1, "01ABC");
        assert!(filter("", "", "", "").expect("empty").queue.is_none());
        assert_eq!(
            filter("nope", "", "", "").expect_err("queue").field,
            "queue"
        );
        assert_eq!(
            filter("", "sleeping", "", "").expect_err("state").field,
            "state"
        );
        assert_eq!(
            filter("", "", "", "yesterday").expect_err("cursor").field,
            "after"
        );
        assert_eq!(
            filter("", "", &"x".repeat(201), "")
                .expect_err("long")
                .field,
            "q"
        );
    }
}
