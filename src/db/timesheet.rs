//! The week grid: a user's entries of one week with what the grid shows of
//! them, the rows they put on a week, and the entries of one cell.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

/// An entry of the week, with its row's names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WeekEntry {
    pub id: i64,
    pub project_id: i64,
    pub project_name: String,
    pub project_archived: bool,
    pub client_name: Option<String>,
    pub task_id: Option<i64>,
    pub task_name: Option<String>,
    pub started_at: DateTime<Utc>,
    /// `None` while it runs.
    pub duration_seconds: Option<i64>,
}

/// A row someone put on a week, with its names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredRow {
    pub project_id: i64,
    pub project_name: String,
    pub project_archived: bool,
    pub client_name: Option<String>,
    pub task_id: Option<i64>,
    pub task_name: Option<String>,
}

/// The user's entries that start in `[from, to)`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn week_entries(
    pool: &PgPool,
    user_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<WeekEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.id, e.project_id, p.name AS project_name, p.archived AS project_archived,
                c.name AS client_name, e.task_id, t.name AS task_name, e.started_at, e.duration_seconds
         FROM time_entries e
         JOIN projects p ON p.id = e.project_id
         LEFT JOIN clients c ON c.id = p.client_id
         LEFT JOIN tasks t ON t.id = e.task_id
         WHERE e.user_id = $1 AND e.started_at >= $2 AND e.started_at < $3
         ORDER BY e.started_at, e.id",
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

/// The rows the user put on the week starting `week_start`, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn rows(
    pool: &PgPool,
    user_id: i64,
    week_start: NaiveDate,
) -> Result<Vec<StoredRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.project_id, p.name AS project_name, p.archived AS project_archived,
                c.name AS client_name, r.task_id, t.name AS task_name
         FROM timesheet_rows r
         JOIN projects p ON p.id = r.project_id
         LEFT JOIN clients c ON c.id = p.client_id
         LEFT JOIN tasks t ON t.id = r.task_id
         WHERE r.user_id = $1 AND r.week_start = $2
         ORDER BY r.id",
    )
    .bind(user_id)
    .bind(week_start)
    .fetch_all(pool)
    .await
}

/// Puts a row on a week; `false` when it was there already.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_row(
    conn: &mut PgConnection,
    user_id: i64,
    week_start: NaiveDate,
    project_id: i64,
    task_id: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let added = sqlx::query(
        "INSERT INTO timesheet_rows (user_id, week_start, project_id, task_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, week_start, project_id, coalesce(task_id, 0)) DO NOTHING",
    )
    .bind(user_id)
    .bind(week_start)
    .bind(project_id)
    .bind(task_id)
    .execute(conn)
    .await?;
    Ok(added.rows_affected() == 1)
}

/// One entry of a cell.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CellEntryRow {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub duration_seconds: Option<i64>,
    pub has_detail: bool,
}

/// The entries of one row (project and task) that start in `[from, to)`,
/// locked until the transaction ends.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn cell_entries(
    conn: &mut PgConnection,
    user_id: i64,
    project_id: i64,
    task_id: Option<i64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CellEntryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, started_at, duration_seconds, (notes <> '' OR cardinality(tags) > 0) AS has_detail
         FROM time_entries
         WHERE user_id = $1 AND project_id = $2 AND task_id IS NOT DISTINCT FROM $3
           AND started_at >= $4 AND started_at < $5
         ORDER BY started_at, id
         FOR UPDATE",
    )
    .bind(user_id)
    .bind(project_id)
    .bind(task_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

/// When the user's latest finished entry that starts in `[from, to)` ends.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn latest_end(
    conn: &mut PgConnection,
    user_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT max(ended_at) FROM time_entries WHERE user_id = $1 AND started_at >= $2 AND started_at < $3",
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_one(conn)
    .await
}

/// Gives a finished entry a new end.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_end(
    conn: &mut PgConnection,
    id: i64,
    ended_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE time_entries SET ended_at = $2, updated_at = now() WHERE id = $1 AND ended_at IS NOT NULL")
        .bind(id)
        .bind(ended_at)
        .execute(conn)
        .await?;
    Ok(())
}
