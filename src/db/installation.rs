//! The single `installation` row: install id, generated secret, setup state and consent.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// What the app knows about this installation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Installation {
    pub install_id: Uuid,
    pub setup_completed_at: Option<DateTime<Utc>>,
    pub telemetry_consent: bool,
    pub telemetry_consent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_ping_at: Option<DateTime<Utc>>,
    pub last_ping_version: Option<String>,
}

/// Creates the row on first start with a random install id and secret; no-op afterwards.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn ensure(pool: &PgPool, install_id: Uuid, secret_key: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO installation (id, install_id, secret_key) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(install_id)
    .bind(secret_key)
    .execute(pool)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(pool: &PgPool) -> Result<Installation, sqlx::Error> {
    sqlx::query_as(
        "SELECT install_id, setup_completed_at, telemetry_consent, telemetry_consent_at, created_at,
                last_ping_at, last_ping_version
         FROM installation WHERE id = 1",
    )
    .fetch_one(pool)
    .await
}

/// The generated secret key (used only when `SECRET_KEY` is not configured).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn stored_secret_key(pool: &PgPool) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT secret_key FROM installation WHERE id = 1")
        .fetch_one(pool)
        .await
}

/// Returns the pending setup token, storing `candidate` first if none exists yet,
/// so every web replica prints and accepts the same token. `None` once setup is done.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn pending_setup_token(
    pool: &PgPool,
    candidate: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE installation SET setup_token = coalesce(setup_token, $1)
         WHERE id = 1 AND setup_completed_at IS NULL
         RETURNING setup_token",
    )
    .bind(candidate)
    .fetch_optional(pool)
    .await
    .map(Option::flatten)
}

/// Marks setup complete and records the telemetry choice. Returns false when
/// another request completed setup first (the row lock serialises them).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn complete_setup(
    conn: &mut PgConnection,
    telemetry_consent: bool,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE installation
         SET setup_completed_at = now(), setup_token = NULL,
             telemetry_consent = $1,
             telemetry_consent_at = CASE WHEN $1 THEN now() END
         WHERE id = 1 AND setup_completed_at IS NULL",
    )
    .bind(telemetry_consent)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn setup_complete(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT setup_completed_at IS NOT NULL FROM installation WHERE id = 1")
        .fetch_optional(pool)
        .await
        .map(|v| v.unwrap_or(false))
}

/// Records the admin's install-telemetry choice. Consent given again after it
/// was withdrawn gets a fresh random install id, so the two periods cannot be
/// linked. Returns whether consent is now on.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_telemetry_consent(
    conn: &mut PgConnection,
    consent: bool,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE installation SET
             install_id = CASE WHEN $1 AND NOT telemetry_consent AND telemetry_consent_at IS NOT NULL
                               THEN gen_random_uuid() ELSE install_id END,
             telemetry_consent_at = CASE WHEN $1 AND NOT telemetry_consent THEN now() ELSE telemetry_consent_at END,
             telemetry_consent = $1
         WHERE id = 1 RETURNING telemetry_consent",
    )
    .bind(consent)
    .fetch_one(conn)
    .await
}

/// Notes that a ping left for this version.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_ping(pool: &PgPool, version: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE installation SET last_ping_at = now(), last_ping_version = $1 WHERE id = 1",
    )
    .bind(version)
    .execute(pool)
    .await?;
    Ok(())
}
