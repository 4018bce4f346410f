//! Personal API tokens (only their SHA-256 is stored).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::users::User;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    pool: &PgPool,
    user_id: i64,
    name: &str,
    token_hash: &[u8],
    prefix: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(name)
    .bind(token_hash)
    .bind(prefix)
    .bind(expires_at)
    .fetch_one(pool)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(pool: &PgPool, user_id: i64) -> Result<Vec<ApiToken>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, prefix, created_at, expires_at, last_used_at, revoked_at FROM api_tokens
         WHERE user_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// Revokes one of the user's tokens. False if there is no such live token.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke(pool: &PgPool, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL")
        .bind(id)
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The active user behind a live token; records its use at most once a minute.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn user_for(pool: &PgPool, token_hash: &[u8]) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "WITH t AS (
             UPDATE api_tokens SET last_used_at = now()
             WHERE token_hash = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
             RETURNING id
         )
         SELECT u.id, u.username, u.display_name, u.email, u.role, u.active, u.timezone, u.date_format, u.clock, u.week_start, u.created_at
         FROM api_tokens k JOIN users u ON u.id = k.user_id
         WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AND u.active",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}
