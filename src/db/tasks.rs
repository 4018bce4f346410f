//! Tasks of projects.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct Task {
    pub id: i64,
    pub project_id: i64,
    pub project_name: String,
    pub name: String,
    pub status: String,
    pub priority: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub due_date: Option<NaiveDate>,
}

/// Validated task fields.
pub struct TaskFields {
    pub project_id: i64,
    pub name: String,
    pub priority: String,
    pub assignee_id: Option<i64>,
    pub due_date: Option<NaiveDate>,
}

const SELECT: &str = "SELECT t.id, t.project_id, p.name AS project_name, t.name, t.status, t.priority,
                             t.assignee_id, u.username AS assignee_name, t.due_date
                      FROM tasks t JOIN projects p ON p.id = t.project_id LEFT JOIN users u ON u.id = t.assignee_id";

/// Tasks, optionally of one project, open ones first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    pool: &PgPool,
    project_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Task>, i64), sqlx::Error> {
    let tasks = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE ($1::bigint IS NULL OR t.project_id = $1)
         ORDER BY t.status = 'done', t.due_date NULLS LAST, lower(t.name) LIMIT $2 OFFSET $3"
    )))
    .bind(project_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(
        "SELECT count(*) FROM tasks WHERE ($1::bigint IS NULL OR project_id = $1)",
    )
    .bind(project_id)
    .fetch_one(pool)
    .await?;
    Ok((tasks, total))
}

/// Open tasks of active projects, for pickers.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn open_for_pickers(pool: &PgPool) -> Result<Vec<Task>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(open_for_pickers_sql()))
        .fetch_all(pool)
        .await
}

/// [`open_for_pickers`]'s statement.
pub(super) fn open_for_pickers_sql() -> String {
    format!(
        "{SELECT} WHERE t.status <> 'done' AND NOT p.archived ORDER BY lower(p.name), lower(t.name) LIMIT 1000"
    )
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(conn: &mut PgConnection, id: i64) -> Result<Option<Task>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE t.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(conn: &mut PgConnection, t: &TaskFields) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO tasks (project_id, name, status, priority, assignee_id, due_date)
         VALUES ($1, $2, 'todo', $3, $4, $5) RETURNING id",
    )
    .bind(t.project_id)
    .bind(&t.name)
    .bind(&t.priority)
    .bind(t.assignee_id)
    .bind(t.due_date)
    .fetch_one(conn)
    .await
}

/// Changes a task's fields (not its status); false when there is no such task.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(conn: &mut PgConnection, id: i64, t: &TaskFields) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE tasks SET project_id = $2, name = $3, priority = $4, assignee_id = $5,
                due_date = $6, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(t.project_id)
    .bind(&t.name)
    .bind(&t.priority)
    .bind(t.assignee_id)
    .bind(t.due_date)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_status(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE tasks SET status = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(status)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM tasks WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}
