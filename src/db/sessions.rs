//! Sessions stored in PostgreSQL so every web replica sees them. Only the
//! SHA-256 of the cookie token is stored.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

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
