//! Users: accounts, roles and the last-admin rule.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::domain::{Permission, Role, Username};

/// A user row without the password hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    /// How the app names the person; empty means the username.
    pub display_name: String,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub timezone: String,
    /// `iso`, `dmy` or `mdy` (`domain::formats::DateOrder`).
    pub date_format: String,
    /// `24h` or `12h`.
    pub clock: String,
    /// `monday`, `sunday`, or empty for the installation's setting.
    pub week_start: String,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn role(&self) -> Role {
        Role::from_stored(&self.role)
    }

    /// Whether this person's role grants `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        self.role().can(permission)
    }

    /// The display name, or the username when there is none.
    pub fn name(&self) -> &str {
        if self.display_name.is_empty() {
            &self.username
        } else {
            &self.display_name
        }
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
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn credentials(
    pool: &PgPool,
    username: &str,
) -> Result<Option<(i64, bool, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, active, password_hash FROM users WHERE lower(username) = lower($1)")
        .bind(username)
        .fetch_optional(pool)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn password_hash(pool: &PgPool, id: i64) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn exists(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_id(pool: &PgPool, id: i64) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, username, display_name, email, role, active, timezone, date_format, clock, week_start, created_at FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// One page of users ordered by name, and the total count.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn page(pool: &PgPool, limit: i64, offset: i64) -> Result<(Vec<User>, i64), sqlx::Error> {
    let users = sqlx::query_as(
        "SELECT id, username, display_name, email, role, active, timezone, date_format, clock, week_start, created_at
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

#[tracing::instrument(level = "debug", skip_all)]
pub async fn count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await
}

/// Locks the active admins' rows and returns their ids. Callers that would
/// remove an admin call this first in their transaction, so two concurrent
/// demotions cannot both pass the last-admin check.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_active_admins(conn: &mut PgConnection) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM users WHERE role = 'admin' AND active ORDER BY id FOR UPDATE",
    )
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_role(conn: &mut PgConnection, id: i64, role: Role) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE users SET role = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(role.as_str())
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
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

#[tracing::instrument(level = "debug", skip_all)]
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

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_timezone(pool: &PgPool, id: i64, timezone: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET timezone = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(timezone)
        .execute(pool)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_display_name(
    conn: &mut PgConnection,
    id: i64,
    display_name: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE users SET display_name = $2 WHERE id = $1")
        .bind(id)
        .bind(display_name)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_email(conn: &mut PgConnection, id: i64, email: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE users SET email = $2 WHERE id = $1")
        .bind(id)
        .bind(email)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Stores a one-time password reset link's token hash for `user_id`;
/// `created_by` is the administrator who made it, `None` when the person
/// asked for it by mail.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_password_reset(
    conn: &mut PgConnection,
    token_hash: &[u8],
    user_id: i64,
    created_by: Option<i64>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO password_resets (token_hash, user_id, created_by, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(created_by)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The active accounts whose email address is `email` (case aside), at most `limit`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn active_ids_with_email(
    conn: &mut PgConnection,
    email: &str,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM users WHERE active AND lower(email) = lower($1) ORDER BY id LIMIT $2",
    )
    .bind(email)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The user of a reset link that is unused and not expired (and active).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn password_reset_user(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, u.email, u.role, u.active, u.timezone, u.date_format, u.clock, u.week_start, u.created_at
         FROM password_resets r JOIN users u ON u.id = r.user_id
         WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now() AND u.active",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await
}

/// Marks a reset link used (and every other open link of that user); false
/// when it was no longer valid (used meanwhile: the row is locked first).
/// Revokes a user's unused reset links (on deactivation: a link made before
/// must not work again after a reactivation).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_password_resets(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn use_password_reset(
    conn: &mut PgConnection,
    token_hash: &[u8],
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE password_resets SET used_at = now()
         WHERE user_id = $2 AND used_at IS NULL
           AND EXISTS (SELECT 1 FROM password_resets WHERE token_hash = $1 AND user_id = $2
                       AND used_at IS NULL AND expires_at > now())",
    )
    .bind(token_hash)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// A user's own formats, already checked.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_formats(
    conn: &mut PgConnection,
    id: i64,
    date_format: &str,
    clock: &str,
    week_start: &str,
) -> Result<bool, sqlx::Error> {
    let r =
        sqlx::query("UPDATE users SET date_format = $2, clock = $3, week_start = $4 WHERE id = $1")
            .bind(id)
            .bind(date_format)
            .bind(clock)
            .bind(week_start)
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
}
