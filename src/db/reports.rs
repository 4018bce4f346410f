//! Report aggregates and the export row stream, computed in SQL.
//!
//! Rounding is applied per entry at report time (never stored): each finished
//! entry's duration is rounded to the nearest step, as `domain::tracking::round_seconds`
//! does, and amounts are `rounded seconds × hourly rate` (project rate, else the
//! client's default) for billable entries, rounded to the cent per entry.

use chrono::{DateTime, Utc};
use futures_util::Stream;
use sqlx::{AssertSqlSafe, PgPool};

/// What a report or export covers.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// `None` means every user (managers and administrators only).
    pub user_id: Option<i64>,
    pub project_id: Option<i64>,
    pub client_id: Option<i64>,
    pub task_id: Option<i64>,
    pub tag: Option<String>,
    pub billable: Option<bool>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// A grouping dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Project,
    Client,
    User,
    Task,
    Day,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Project,
        Group::Client,
        Group::User,
        Group::Task,
        Group::Day,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Project => "project",
            Group::Client => "client",
            Group::User => "user",
            Group::Task => "task",
            Group::Day => "day",
        }
    }

    /// The heading people read: `Project`, `Task`.
    pub fn label(self) -> &'static str {
        match self {
            Group::Project => "Project",
            Group::Client => "Client",
            Group::User => "User",
            Group::Task => "Task",
            Group::Day => "Day",
        }
    }

    /// The SQL expression of the group key; `$10` is the viewer's timezone name.
    fn key(self) -> &'static str {
        match self {
            Group::Project => "p.name",
            Group::Client => "coalesce(c.name, '(no client)')",
            Group::User => "u.username",
            Group::Task => "coalesce(t.name, '(no task)')",
            Group::Day => "to_char(e.started_at AT TIME ZONE $10, 'YYYY-MM-DD')",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct SummaryRow {
    pub key: String,
    pub subkey: String,
    pub seconds: i64,
    pub billable_seconds: i64,
    /// `None` once `reports::summary` hid it from a viewer who may not see
    /// rates and amounts.
    pub amount_cents: Option<i64>,
}

/// Binds a [`ReportFilter`] to `$1`–`$8` of a query using [`FROM`]; one macro
/// because `query`, `query_as` and `query_scalar` have different types.
///
/// The statement is not kept prepared (sqlx's `persistent(false)`: parsed
/// anew each time, as PostgreSQL's unnamed statement), so PostgreSQL plans it
/// for the values at hand. A report's range and filters decide which index
/// pays: kept prepared, PostgreSQL switched to a generic plan after five runs
/// that, not knowing the user or the range, read every user's entries in the
/// range (a year of one user's 3,660 entries among 1M: 81 ms instead of 4,
/// for the export's count and again for its rows). Planning costs well under
/// a millisecond of a report.
macro_rules! bind_filter {
    ($query:expr, $f:expr) => {
        $query
            .persistent(false)
            .bind($f.from)
            .bind($f.to)
            .bind($f.user_id)
            .bind($f.project_id)
            .bind($f.client_id)
            .bind($f.task_id)
            .bind($f.tag.clone())
            .bind($f.billable)
    };
}

const FROM: &str = "FROM time_entries e
                    JOIN users u ON u.id = e.user_id
                    JOIN projects p ON p.id = e.project_id
                    LEFT JOIN clients c ON c.id = p.client_id
                    LEFT JOIN tasks t ON t.id = e.task_id
                    WHERE e.ended_at IS NOT NULL
                      AND e.started_at >= $1 AND e.started_at < $2
                      AND ($3::bigint IS NULL OR e.user_id = $3)
                      AND ($4::bigint IS NULL OR e.project_id = $4)
                      AND ($5::bigint IS NULL OR p.client_id = $5)
                      AND ($6::bigint IS NULL OR e.task_id = $6)
                      AND ($7::text IS NULL OR $7 = ANY (e.tags))
                      AND ($8::boolean IS NULL OR e.billable = $8)";

/// Totals grouped by `group` and, optionally, `subgroup`, rounded per entry to
/// `rounding_minutes` (0 = exact seconds).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn summary(
    pool: &PgPool,
    f: &ReportFilter,
    group: Group,
    subgroup: Option<Group>,
    rounding_minutes: i32,
    timezone: &str,
) -> Result<Vec<SummaryRow>, sqlx::Error> {
    let subkey = subgroup.map_or("''", Group::key);
    let sql = format!(
        "WITH r AS (
             SELECT {key} AS key, {subkey} AS subkey, e.billable,
                    to_char(e.started_at AT TIME ZONE $10, 'YYYY-MM-DD') AS local_day,
                    coalesce(p.hourly_rate_cents, c.default_hourly_rate_cents, 0) AS rate,
                    CASE WHEN $9 = 0 THEN e.duration_seconds
                         ELSE ((e.duration_seconds + $9 * 30) / ($9 * 60)) * ($9 * 60) END AS seconds
             {FROM}
         )
         SELECT key, subkey, sum(seconds)::bigint AS seconds,
                coalesce(sum(seconds) FILTER (WHERE billable), 0)::bigint AS billable_seconds,
                coalesce(sum((seconds * rate + 1800) / 3600) FILTER (WHERE billable), 0)::bigint AS amount_cents
         FROM r GROUP BY key, subkey ORDER BY key, subkey",
        key = group.key(),
    );
    bind_filter!(sqlx::query_as(AssertSqlSafe(sql)), f)
        .bind(i64::from(rounding_minutes))
        .bind(timezone)
        .fetch_all(pool)
        .await
}

/// One entry as exported.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub id: i64,
    pub username: String,
    pub project: String,
    pub client: Option<String>,
    pub task: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub duration_seconds: i64,
    pub notes: String,
    pub tags: Vec<String>,
    pub billable: bool,
    pub source: String,
}

const ROW: &str =
    "SELECT e.id, u.username, p.name AS project, c.name AS client, t.name AS task, e.started_at,
                          e.ended_at, e.duration_seconds, e.notes, e.tags, e.billable, e.source";

/// Every finished entry the filter matches, oldest first, streamed from the
/// database row by row (constant memory, whatever the range).
pub fn export_rows<'a>(
    pool: &'a PgPool,
    f: &'a ReportFilter,
) -> impl Stream<Item = Result<ExportRow, sqlx::Error>> + Send + 'a {
    bind_filter!(
        sqlx::query_as(AssertSqlSafe(format!(
            "{ROW} {FROM} ORDER BY e.started_at, e.id"
        ))),
        f
    )
    .fetch(pool)
}

/// One page of the matching entries, newest first (the detailed report).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn detail(
    pool: &PgPool,
    f: &ReportFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<ExportRow>, sqlx::Error> {
    bind_filter!(
        sqlx::query_as(AssertSqlSafe(format!(
            "{ROW} {FROM} ORDER BY e.started_at DESC, e.id DESC LIMIT $9 OFFSET $10"
        ))),
        f
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}

/// How many finished entries the filter matches.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count(pool: &PgPool, f: &ReportFilter) -> Result<i64, sqlx::Error> {
    bind_filter!(
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) {FROM}"))),
        f
    )
    .fetch_one(pool)
    .await
}
