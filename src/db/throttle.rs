//! Login throttle counters: failures per key inside a fixed window.

use sqlx::PgPool;

/// One key's failures in the current window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Counter {
    pub key: String,
    pub failures: i32,
    /// Whole seconds since the last failure.
    pub since_last_failure: i64,
    /// Whole seconds since the window started.
    pub since_window_start: i64,
}

/// The counters of `keys` whose window has not expired (absent keys have none).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn counters(
    pool: &PgPool,
    keys: &[String],
    window_seconds: i64,
) -> Result<Vec<Counter>, sqlx::Error> {
    sqlx::query_as(
        "SELECT key, failures,
                floor(extract(epoch FROM now() - last_failure_at))::bigint AS since_last_failure,
                floor(extract(epoch FROM now() - window_start))::bigint AS since_window_start
         FROM login_throttle
         WHERE key = ANY($1) AND window_start > now() - make_interval(secs => $2)",
    )
    .bind(keys)
    .bind(window_seconds as f64)
    .fetch_all(pool)
    .await
}

/// Counts one failure for each of `keys`, starting a new window where the old one expired.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_failures(
    pool: &PgPool,
    keys: &[String],
    window_seconds: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_throttle (key, failures, window_start, last_failure_at)
         SELECT k, 1, now(), now() FROM unnest($1::text[]) AS k
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN login_throttle.window_start > now() - make_interval(secs => $2)
                           THEN login_throttle.failures + 1 ELSE 1 END,
           window_start = CASE WHEN login_throttle.window_start > now() - make_interval(secs => $2)
                           THEN login_throttle.window_start ELSE now() END,
           last_failure_at = now()",
    )
    .bind(keys)
    .bind(window_seconds as f64)
    .execute(pool)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn clear(pool: &PgPool, keys: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE key = ANY($1)")
        .bind(keys)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes windows older than `window_seconds`; returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_expired(pool: &PgPool, window_seconds: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM login_throttle WHERE window_start <= now() - make_interval(secs => $1)",
    )
    .bind(window_seconds as f64)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}
