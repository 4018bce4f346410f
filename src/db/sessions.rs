//! Sessions stored in PostgreSQL so every web replica sees them. Only the
//! SHA-256 of the cookie token is stored.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::users::User;

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    pool: &PgPool,
    token_hash: &[u8],
    user_id: i64,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(user_id)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

/// The active user behind a live session. Refreshes `last_seen_at` at most once a minute.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn user_for(pool: &PgPool, token_hash: &[u8]) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "WITH s AS (
             UPDATE sessions SET last_seen_at = now()
             WHERE token_hash = $1 AND expires_at > now() AND last_seen_at < now() - interval '1 minute'
             RETURNING user_id
         )
         SELECT u.id, u.username, u.display_name, u.email, u.role, u.active, u.timezone, u.date_format, u.clock, u.week_start, u.created_at
         FROM sessions x JOIN users u ON u.id = x.user_id
         WHERE x.token_hash = $1 AND x.expires_at > now() AND u.active",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(pool: &PgPool, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends every session of a user except `keep` (e.g. after a password change).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_for_user(
    conn: &mut PgConnection,
    user_id: i64,
    keep: Option<&[u8]>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)",
    )
    .bind(user_id)
    .bind(keep)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes expired sessions; returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_expired(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= now()")
        .execute(pool)
        .await?;
    Ok(r.rows_affected())
}
