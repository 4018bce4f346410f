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

/// An entry's duration as reports count it: rounded to the nearest step of
/// `$9` minutes (0 = exact seconds), as `domain::tracking::round_seconds` does.
const ROUNDED_SECONDS: &str = "CASE WHEN $9 = 0 THEN e.duration_seconds
                                    ELSE ((e.duration_seconds + $9 * 30) / ($9 * 60)) * ($9 * 60) END";

/// An entry's hourly rate in cents: its project's, else its client's default.
const RATE_CENTS: &str = "coalesce(p.hourly_rate_cents, c.default_hourly_rate_cents, 0)";

/// An entry's amount in cents: the rounded time at the rate, rounded half up
/// to the cent; NULL for non-billable time. Reports sum it, exports show it,
/// so a file's amounts add up to the report's total.
fn amount_cents() -> String {
    format!("CASE WHEN e.billable THEN (({ROUNDED_SECONDS}) * {RATE_CENTS} + 1800) / 3600 END")
}

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
                    {ROUNDED_SECONDS} AS seconds, {amount} AS amount
             {FROM}
         )
         SELECT key, subkey, sum(seconds)::bigint AS seconds,
                coalesce(sum(seconds) FILTER (WHERE billable), 0)::bigint AS billable_seconds,
                coalesce(sum(amount), 0)::bigint AS amount_cents
         FROM r GROUP BY key, subkey ORDER BY key, subkey",
        key = group.key(),
        amount = amount_cents(),
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
    /// The duration as reports count it (rounded as the settings say).
    pub rounded_seconds: i64,
    pub rate_cents: i64,
    /// `None` for non-billable time.
    pub amount_cents: Option<i64>,
}

/// The columns of an [`ExportRow`]; `$9` is the rounding step in minutes.
fn row() -> String {
    format!(
        "SELECT e.id, u.username, p.name AS project, c.name AS client, t.name AS task, e.started_at,
                e.ended_at, e.duration_seconds, e.notes, e.tags, e.billable, e.source,
                ({ROUNDED_SECONDS})::bigint AS rounded_seconds, {RATE_CENTS}::bigint AS rate_cents,
                ({amount})::bigint AS amount_cents",
        amount = amount_cents()
    )
}

/// Every finished entry the filter matches, oldest first, streamed from the
/// database row by row (constant memory, whatever the range).
pub fn export_rows<'a>(
    pool: &'a PgPool,
    f: &'a ReportFilter,
    rounding_minutes: i32,
) -> impl Stream<Item = Result<ExportRow, sqlx::Error>> + Send + 'a {
    bind_filter!(
        sqlx::query_as(AssertSqlSafe(format!(
            "{} {FROM} ORDER BY e.started_at, e.id",
            row()
        ))),
        f
    )
    .bind(i64::from(rounding_minutes))
    .fetch(pool)
}

/// One page of the matching entries, newest first (the detailed report).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn detail(
    pool: &PgPool,
    f: &ReportFilter,
    rounding_minutes: i32,
    limit: i64,
    offset: i64,
) -> Result<Vec<ExportRow>, sqlx::Error> {
    bind_filter!(
        sqlx::query_as(AssertSqlSafe(format!(
            "{} {FROM} ORDER BY e.started_at DESC, e.id DESC LIMIT $10 OFFSET $11",
            row()
        ))),
        f
    )
    .bind(i64::from(rounding_minutes))
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

/// The names of what a filter narrows to, each `None` when the filter does
/// not name one (or it is gone).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct FilterNames {
    pub user: Option<String>,
    pub project: Option<String>,
    pub client: Option<String>,
    pub task: Option<String>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn filter_names(pool: &PgPool, f: &ReportFilter) -> Result<FilterNames, sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT username FROM users WHERE id = $1) AS \"user\",
                (SELECT name FROM projects WHERE id = $2) AS project,
                (SELECT name FROM clients WHERE id = $3) AS client,
                (SELECT name FROM tasks WHERE id = $4) AS task",
    )
    .bind(f.user_id)
    .bind(f.project_id)
    .bind(f.client_id)
    .bind(f.task_id)
    .fetch_one(pool)
    .await
}
