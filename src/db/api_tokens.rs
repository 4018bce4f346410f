//! Personal API tokens (only their SHA-256 is stored).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

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
