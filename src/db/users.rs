//! Users: accounts, roles and the last-admin rule.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::domain::{Role, Username};

/// A user row without the password hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin.as_str()
    }
}

/// Fields of a new user, already validated.
pub struct NewUser<'a> {
    pub username: &'a Username,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub timezone: &'a str,
}

/// Inserts a user; a taken username surfaces as a unique violation.
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut PgConnection, user: &NewUser<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (username, email, password_hash, role, timezone)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user.username.as_str())
    .bind(user.email)
    .bind(user.password_hash)
    .bind(user.role.as_str())
    .bind(user.timezone)
    .fetch_one(conn)
    .await
}

/// The id, active flag and password hash for a login attempt (case-insensitive name).
#[tracing::instrument(skip_all)]
pub async fn credentials(
    pool: &PgPool,
    username: &str,
) -> Result<Option<(i64, bool, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, active, password_hash FROM users WHERE lower(username) = lower($1)")
        .bind(username)
        .fetch_optional(pool)
        .await
}

#[tracing::instrument(skip_all)]
pub async fn password_hash(pool: &PgPool, id: i64) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
}

#[tracing::instrument(skip_all)]
pub async fn exists(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

#[tracing::instrument(skip_all)]
pub async fn by_id(pool: &PgPool, id: i64) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, username, email, role, active, timezone, created_at FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// One page of users ordered by name, and the total count.
#[tracing::instrument(skip_all)]
pub async fn page(pool: &PgPool, limit: i64, offset: i64) -> Result<(Vec<User>, i64), sqlx::Error> {
    let users = sqlx::query_as(
        "SELECT id, username, email, role, active, timezone, created_at
         FROM users ORDER BY lower(username) LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await?;
    Ok((users, total))
}

#[tracing::instrument(skip_all)]
pub async fn count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await
}

/// Locks the active admins' rows and returns their ids. Callers that would
/// remove an admin call this first in their transaction, so two concurrent
/// demotions cannot both pass the last-admin check.
#[tracing::instrument(skip_all)]
pub async fn lock_active_admins(conn: &mut PgConnection) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM users WHERE role = 'admin' AND active ORDER BY id FOR UPDATE",
    )
    .fetch_all(conn)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn set_role(conn: &mut PgConnection, id: i64, role: Role) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE users SET role = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(role.as_str())
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

#[tracing::instrument(skip_all)]
pub async fn set_active(
    conn: &mut PgConnection,
    id: i64,
    active: bool,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE users SET active = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(active)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

#[tracing::instrument(skip_all)]
pub async fn set_password_hash(
    conn: &mut PgConnection,
    id: i64,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn set_timezone(pool: &PgPool, id: i64, timezone: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET timezone = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(timezone)
        .execute(pool)
        .await?;
    Ok(())
}
