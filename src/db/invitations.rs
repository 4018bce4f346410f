//! Invitations by email: open ones (neither accepted nor revoked) are listed,
//! resent or revoked by those who may invite into their role (`roles`: the
//! caller's `Role::invitable`) and accepted once by the invitee.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

/// `SELECT` of [`Invitation`]'s columns, then `$rest` (the `WHERE` and after).
macro_rules! select_invitations {
    ($rest:literal) => {
        concat!(
            "SELECT id, email, role, invited_by, created_at, sent_at, expires_at FROM invitations ",
            $rest
        )
    };
}

/// An open invitation, as the Invitations page lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub invited_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// Inserts an open invitation; an address with one already open surfaces
/// as a unique violation.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    conn: &mut PgConnection,
    email: &str,
    role: &str,
    invited_by: i64,
    expires_at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO invitations (email, role, invited_by, expires_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(email)
    .bind(role)
    .bind(invited_by)
    .bind(expires_at)
    .fetch_one(conn)
    .await
}

/// The open invitations into one of `roles`, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn open(
    pool: &PgPool,
    roles: &[&str],
    limit: i64,
) -> Result<Vec<Invitation>, sqlx::Error> {
    sqlx::query_as(select_invitations!(
        "WHERE accepted_at IS NULL AND revoked_at IS NULL AND role = ANY($2)
         ORDER BY created_at DESC LIMIT $1"
    ))
    .bind(limit)
    .bind(roles)
    .fetch_all(pool)
    .await
}

/// An open, unexpired invitation by id (the worker's, when it sends).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn open_by_id(pool: &PgPool, id: i64) -> Result<Option<Invitation>, sqlx::Error> {
    sqlx::query_as(select_invitations!(
        "WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Gives an open invitation the token of the link just made (a link sent
/// before stops working); false when it is no longer open.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_token(pool: &PgPool, id: i64, token_hash: &[u8]) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE invitations SET token_hash = $2, sent_at = now()
         WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(token_hash)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The open, unexpired invitation a link's token belongs to.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_token(pool: &PgPool, token_hash: &[u8]) -> Result<Option<Invitation>, sqlx::Error> {
    sqlx::query_as(
        select_invitations!("WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()"),
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

/// The open, unexpired invitation of `email` (case aside), locked until the
/// caller's transaction ends (a single sign-on that accepts it).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_open_for_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<Invitation>, sqlx::Error> {
    sqlx::query_as(select_invitations!(
        "WHERE lower(email) = lower($1) AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() FOR UPDATE"
    ))
    .bind(email)
    .fetch_optional(conn)
    .await
}

/// [`by_token`], locked until the caller's transaction ends: an acceptance
/// holds it while it makes the account, so two at once make one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_by_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<Invitation>, sqlx::Error> {
    sqlx::query_as(
        select_invitations!("WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() FOR UPDATE"),
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await
}

/// Opens an open invitation into one of `roles` for another `expires_at`
/// and answers its role; `None` when there is no such open invitation.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn extend(
    conn: &mut PgConnection,
    id: i64,
    roles: &[&str],
    expires_at: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE invitations SET expires_at = $2
         WHERE id = $1 AND role = ANY($3) AND accepted_at IS NULL AND revoked_at IS NULL
         RETURNING role",
    )
    .bind(id)
    .bind(expires_at)
    .bind(roles)
    .fetch_optional(conn)
    .await
}

/// Revokes an open invitation into one of `roles`: its link stops working.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke(pool: &PgPool, id: i64, roles: &[&str]) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE invitations SET revoked_at = now()
         WHERE id = $1 AND role = ANY($2) AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(roles)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes the open invitations `user_id` made (on their deactivation: an
/// invitation must not outlive its inviter's access); returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_made_by(conn: &mut PgConnection, user_id: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE invitations SET revoked_at = now()
         WHERE invited_by = $1 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Marks an invitation accepted by the account just made.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn accept(conn: &mut PgConnection, id: i64, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE invitations SET accepted_at = now(), accepted_user_id = $2, token_hash = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether an account (active or not) already uses `email`, case aside.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn email_has_account(conn: &mut PgConnection, email: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))")
        .bind(email)
        .fetch_one(conn)
        .await
}
