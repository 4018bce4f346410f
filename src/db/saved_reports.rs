//! Saved reports: a user's named report filters.

use sqlx::PgPool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SavedReport {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// A `reports::ReportQuery`.
    pub params: serde_json::Value,
}

/// The user's saved reports by name.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(pool: &PgPool, user_id: i64) -> Result<Vec<SavedReport>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, name, params FROM saved_reports WHERE user_id = $1 ORDER BY lower(name), id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// Saves `params` under `name`, replacing the user's report of that name
/// (letter case aside); `true` when it was new.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn upsert(
    pool: &PgPool,
    user_id: i64,
    name: &str,
    params: &serde_json::Value,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO saved_reports (user_id, name, params) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, lower(name)) DO UPDATE SET name = excluded.name, params = excluded.params
         RETURNING xmax = 0",
    )
    .bind(user_id)
    .bind(name)
    .bind(params)
    .fetch_one(pool)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(pool: &PgPool, id: i64) -> Result<Option<SavedReport>, sqlx::Error> {
    sqlx::query_as("SELECT id, user_id, name, params FROM saved_reports WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM saved_reports WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
