//! Two-factor sign-in: each user's sealed seed and recovery codes, the
//! sign-ins waiting for their second step, and whether the installation
//! requires a second factor of administrators and managers.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

/// A user's second factor: confirmed, or still being enrolled.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TwoFactor {
    pub seed_sealed: Vec<u8>,
    pub confirmed: bool,
    pub last_step: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(pool: &PgPool, user_id: i64) -> Result<Option<TwoFactor>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seed_sealed, confirmed_at IS NOT NULL AS confirmed, last_step
         FROM two_factor WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await
}

/// Starts (or restarts) enrolment with a new sealed seed; a confirmed
/// factor is left alone (false).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn begin(pool: &PgPool, user_id: i64, seed_sealed: &[u8]) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO two_factor (user_id, seed_sealed) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET seed_sealed = $2, last_step = 0, created_at = now()
         WHERE two_factor.confirmed_at IS NULL",
    )
    .bind(user_id)
    .bind(seed_sealed)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records `step` as the last code accepted, if it is later than the last
/// one (false: that code, or a later one, was used already). With
/// `confirm`, also confirms an enrolment.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn use_step(
    conn: &mut PgConnection,
    user_id: i64,
    step: i64,
    confirm: bool,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE two_factor SET last_step = $2,
                confirmed_at = CASE WHEN $3 THEN coalesce(confirmed_at, now()) ELSE confirmed_at END
         WHERE user_id = $1 AND last_step < $2 AND ($3 OR confirmed_at IS NOT NULL)",
    )
    .bind(user_id)
    .bind(step)
    .bind(confirm)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Replaces the user's recovery codes.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_recovery_codes(
    conn: &mut PgConnection,
    user_id: i64,
    hashes: &[Vec<u8>],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::bytea[])")
        .bind(user_id)
        .bind(hashes)
        .execute(conn)
        .await?;
    Ok(())
}

/// Uses one unused recovery code; false when there is none with that hash.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn use_recovery_code(
    conn: &mut PgConnection,
    user_id: i64,
    hash: &[u8],
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE recovery_codes SET used_at = now()
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL
           AND EXISTS (SELECT 1 FROM two_factor t WHERE t.user_id = $1 AND t.confirmed_at IS NOT NULL)",
    )
    .bind(user_id)
    .bind(hash)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// How many recovery codes the user has left.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn recovery_codes_left(pool: &PgPool, user_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(pool)
        .await
}

/// Removes the user's second factor and recovery codes (switched off by
/// them, or reset by an administrator); false when they had none.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn remove(conn: &mut PgConnection, user_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let r = sqlx::query("DELETE FROM two_factor WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether administrators and managers must sign in with a second factor.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn required(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT require_two_factor FROM settings WHERE id = 1")
        .fetch_one(pool)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_required(conn: &mut PgConnection, required: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE settings SET require_two_factor = $1, updated_at = now() WHERE id = 1")
        .bind(required)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends `user_id`'s sessions if they have no confirmed second factor (given
/// a role that must have one); returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn end_user_sessions_without_factor(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM sessions s WHERE s.user_id = $1
           AND NOT EXISTS (SELECT 1 FROM two_factor t WHERE t.user_id = $1 AND t.confirmed_at IS NOT NULL)",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Ends the sessions of active users of `roles` who have no confirmed
/// second factor (when the requirement is switched on); returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn end_sessions_without_factor(
    conn: &mut PgConnection,
    roles: &[&str],
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM sessions s USING users u
         WHERE s.user_id = u.id AND u.role = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM two_factor t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL)",
    )
    .bind(roles)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// A sign-in waiting for its second step.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Challenge {
    pub user_id: i64,
    pub username: String,
    pub next: String,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_challenge(
    pool: &PgPool,
    token_hash: &[u8],
    user_id: i64,
    next: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sign_in_challenges (token_hash, user_id, next, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(next)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// The unexpired challenge of an active user the token names.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn challenge(pool: &PgPool, token_hash: &[u8]) -> Result<Option<Challenge>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.user_id, u.username, c.next FROM sign_in_challenges c JOIN users u ON u.id = c.user_id
         WHERE c.token_hash = $1 AND c.expires_at > now() AND u.active",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

/// Ends a challenge (its sign-in finished), and any expired ones.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn end_challenge(conn: &mut PgConnection, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sign_in_challenges WHERE token_hash = $1 OR expires_at < now()")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}
