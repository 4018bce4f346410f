//! Login throttle counters: failures per key inside a fixed window.

use sqlx::PgPool;

/// Failures recorded for `key` in the current window (0 when the window expired).
#[tracing::instrument(skip_all)]
pub async fn failures(pool: &PgPool, key: &str, window_seconds: i64) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT failures FROM login_throttle
         WHERE key = $1 AND window_start > now() - make_interval(secs => $2)",
    )
    .bind(key)
    .bind(window_seconds as f64)
    .fetch_optional(pool)
    .await
    .map(|v| v.unwrap_or(0))
}

/// Counts one failure for `key`, starting a new window when the old one expired.
#[tracing::instrument(skip_all)]
pub async fn record_failure(
    pool: &PgPool,
    key: &str,
    window_seconds: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_throttle (key, failures, window_start) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN login_throttle.window_start > now() - make_interval(secs => $2)
                           THEN login_throttle.failures + 1 ELSE 1 END,
           window_start = CASE WHEN login_throttle.window_start > now() - make_interval(secs => $2)
                           THEN login_throttle.window_start ELSE now() END",
    )
    .bind(key)
    .bind(window_seconds as f64)
    .execute(pool)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn clear(pool: &PgPool, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes windows older than `window_seconds`; returns how many.
#[tracing::instrument(skip_all)]
pub async fn delete_expired(pool: &PgPool, window_seconds: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM login_throttle WHERE window_start <= now() - make_interval(secs => $1)",
    )
    .bind(window_seconds as f64)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}
