//! Background exports and their stored file chunks.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Export {
    pub id: i64,
    pub user_id: i64,
    pub format: String,
    /// `entries` (every matching entry) or `summary` (the grouped report).
    pub layout: String,
    /// `a4` or `letter` for a PDF, else `None`.
    pub paper: Option<String>,
    pub params: serde_json::Value,
    pub timezone: String,
    pub status: String,
    pub rows_done: i64,
    pub rows_total: Option<i64>,
    pub byte_size: Option<i64>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, user_id, format, layout, paper, params, timezone, status, rows_done, rows_total, byte_size, duration_ms,
                       error, created_at, finished_at";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    conn: &mut PgConnection,
    user_id: i64,
    format: &str,
    layout: &str,
    paper: Option<&str>,
    params: &serde_json::Value,
    timezone: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO exports (user_id, format, layout, paper, params, timezone)
         VALUES ($1, $2, $5, $6, $3, $4) RETURNING id",
    )
    .bind(user_id)
    .bind(format)
    .bind(params)
    .bind(timezone)
    .bind(layout)
    .bind(paper)
    .fetch_one(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(pool: &PgPool, id: i64) -> Result<Option<Export>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM exports WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_for_user(
    pool: &PgPool,
    user_id: i64,
    limit: i64,
) -> Result<Vec<Export>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM exports WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    )))
    .bind(user_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Starts (or restarts, after a crash) a run: drops partial chunks, resets progress.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn begin_run(pool: &PgPool, id: i64, rows_total: i64) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM export_chunks WHERE export_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let r = sqlx::query(
        "UPDATE exports SET status = 'running', rows_done = 0, rows_total = $2, started_at = now(), error = NULL
         WHERE id = $1 AND status IN ('pending', 'running')",
    )
    .bind(id)
    .bind(rows_total)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(r.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn progress(pool: &PgPool, id: i64, rows_done: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE exports SET rows_done = $2 WHERE id = $1")
        .bind(id)
        .bind(rows_done)
        .execute(pool)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_chunk(pool: &PgPool, id: i64, seq: i32, data: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO export_chunks (export_id, seq, data) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(seq)
        .bind(data)
        .execute(pool)
        .await?;
    Ok(())
}

/// The stored file's chunk number `seq`, or `None` past the last one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn chunk(pool: &PgPool, id: i64, seq: i32) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT data FROM export_chunks WHERE export_id = $1 AND seq = $2")
        .bind(id)
        .bind(seq)
        .fetch_optional(pool)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn finish(
    pool: &PgPool,
    id: i64,
    rows: i64,
    bytes: i64,
    duration_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE exports SET status = 'done', rows_done = $2, rows_total = $2, byte_size = $3, duration_ms = $4,
                finished_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(rows)
    .bind(bytes)
    .bind(duration_ms)
    .execute(pool)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn fail(pool: &PgPool, id: i64, reason: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM export_chunks WHERE export_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE exports SET status = 'failed', error = $2, finished_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Expires files of exports that finished before `before`: the chunks go, the row stays as a record.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn expire(pool: &PgPool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE exports SET status = 'expired' WHERE status IN ('done', 'failed') AND finished_at < $1 RETURNING id",
    )
    .bind(before)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM export_chunks WHERE export_id = ANY($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ids.len() as u64)
}
