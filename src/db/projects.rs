//! Projects.

use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub client_id: Option<i64>,
    pub client_name: Option<String>,
    pub billable: bool,
    pub hourly_rate_cents: Option<i64>,
    pub estimated_seconds: Option<i64>,
    pub archived: bool,
}

/// Validated project fields.
pub struct ProjectFields {
    pub name: String,
    pub client_id: Option<i64>,
    pub billable: bool,
    pub hourly_rate_cents: Option<i64>,
    pub estimated_seconds: Option<i64>,
}

/// The columns of [`Project`], from `projects p LEFT JOIN clients c`.
pub(super) const COLUMNS: &str =
    "p.id, p.name, p.client_id, c.name AS client_name, p.billable, p.hourly_rate_cents,
     p.estimated_seconds, p.archived";
const FROM: &str = "FROM projects p LEFT JOIN clients c ON c.id = p.client_id";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(pool: &PgPool, include_archived: bool) -> Result<Vec<Project>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(list_sql(include_archived)))
        .fetch_all(pool)
        .await
}

/// [`list`]'s statement.
pub(super) fn list_sql(include_archived: bool) -> String {
    // Two statements, not `$1 OR NOT p.archived`: with the optional
    // predicate PostgreSQL planned the query anew on every execution.
    let filter = if include_archived {
        ""
    } else {
        "WHERE NOT p.archived"
    };
    format!("SELECT {COLUMNS} {FROM} {filter} ORDER BY p.archived, lower(p.name)")
}

/// Seconds tracked on each project with finished entries, by project id.
/// A scan of all entries: for the projects page, not for hot paths.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn tracked_seconds(pool: &PgPool) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT project_id, sum(duration_seconds)::bigint FROM time_entries
         WHERE ended_at IS NOT NULL GROUP BY project_id",
    )
    .fetch_all(pool)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(conn: &mut PgConnection, id: i64) -> Result<Option<Project>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} {FROM} WHERE p.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(conn: &mut PgConnection, p: &ProjectFields) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO projects (name, client_id, billable, hourly_rate_cents, estimated_seconds)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&p.name)
    .bind(p.client_id)
    .bind(p.billable)
    .bind(p.hourly_rate_cents)
    .bind(p.estimated_seconds)
    .fetch_one(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(
    conn: &mut PgConnection,
    id: i64,
    p: &ProjectFields,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE projects SET name = $2, client_id = $3, billable = $4, hourly_rate_cents = $5,
                estimated_seconds = $6, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(&p.name)
    .bind(p.client_id)
    .bind(p.billable)
    .bind(p.hourly_rate_cents)
    .bind(p.estimated_seconds)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_archived(
    conn: &mut PgConnection,
    id: i64,
    archived: bool,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE projects SET archived = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(archived)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes a project; one with time entries raises a foreign-key violation.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM projects WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}
