//! Single sign-on: who a provider's `sub` is here, the sign-ins sent to the
//! provider and not back yet, and the latest refused sign-ins.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

/// The account linked to a provider's subject.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn user_for_subject(
    pool: &PgPool,
    issuer: &str,
    subject: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2")
        .bind(issuer)
        .bind(subject)
        .fetch_optional(pool)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn link(
    conn: &mut PgConnection,
    issuer: &str,
    subject: &str,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO user_identities (issuer, subject, user_id) VALUES ($1, $2, $3)")
        .bind(issuer)
        .bind(subject)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_sign_in(
    pool: &PgPool,
    state_hash: &[u8],
    secrets_sealed: &[u8],
    next: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sso_sign_ins (state_hash, secrets_sealed, next, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(state_hash)
    .bind(secrets_sealed)
    .bind(next)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Takes (deletes and returns) the unexpired sign-in of a `state`: a state
/// works once. Expired ones go too.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn take_sign_in(
    pool: &PgPool,
    state_hash: &[u8],
) -> Result<Option<(Vec<u8>, String)>, sqlx::Error> {
    let taken: Option<(Vec<u8>, String, bool)> = sqlx::query_as(
        "DELETE FROM sso_sign_ins WHERE state_hash = $1 OR expires_at < now()
         RETURNING secrets_sealed, next, state_hash = $1 AND expires_at >= now()",
    )
    .bind(state_hash)
    .fetch_all(pool)
    .await?
    .into_iter()
    .find(|(_, _, this)| *this);
    Ok(taken.map(|(sealed, next, _)| (sealed, next)))
}

/// A refused sign-in; keeps the latest 20.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_refusal(
    pool: &PgPool,
    reason: &str,
    claim_names: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH added AS (INSERT INTO sso_refusals (reason, claim_names) VALUES ($1, $2) RETURNING id)
         DELETE FROM sso_refusals WHERE id <= (SELECT id FROM added) - 20",
    )
    .bind(reason)
    .bind(claim_names)
    .execute(pool)
    .await?;
    Ok(())
}

/// A refused sign-in as the administrators' page lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Refusal {
    pub at: DateTime<Utc>,
    pub reason: String,
    pub claim_names: Vec<String>,
}

/// The latest refused sign-ins, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn refusals(pool: &PgPool) -> Result<Vec<Refusal>, sqlx::Error> {
    sqlx::query_as("SELECT at, reason, claim_names FROM sso_refusals ORDER BY id DESC LIMIT 20")
        .fetch_all(pool)
        .await
}
