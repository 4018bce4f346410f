//! The analytics outbox, the consent switches and the delivery log.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use uuid::Uuid;

/// Inserts an event if product analytics is switched on and the user has not
/// opted out, all decided in the same statement (and transaction) as the
/// caller's change, and with it, in the same statement, the `wake` job that
/// delivers it (unless one is already waiting under its key): one round trip
/// per event.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_if_consented(
    conn: &mut PgConnection,
    uuid: Uuid,
    event: &str,
    user_id: Option<i64>,
    properties: &serde_json::Value,
    occurred_at: DateTime<Utc>,
    wake: &super::jobs::NewUniqueJob,
) -> Result<(), sqlx::Error> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH ev AS (
             INSERT INTO analytics_events (uuid, event, user_id, properties, occurred_at)
             SELECT $1, $2, $3, $4, $5
             WHERE (SELECT analytics_enabled FROM installation WHERE id = 1)
               AND NOT coalesce((SELECT analytics_opt_out FROM users WHERE id = $3), false)
             RETURNING 1
         )
         {}",
            super::jobs::insert_unique_sql(6, "EXISTS (SELECT 1 FROM ev)")
        )
    });
    let q = sqlx::query(AssertSqlSafe(SQL.as_str()))
        .bind(uuid)
        .bind(event)
        .bind(user_id)
        .bind(properties)
        .bind(occurred_at);
    super::jobs::bind_unique(q, wake).execute(conn).await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingEvent {
    pub id: i64,
    pub uuid: Uuid,
    pub event: String,
    pub user_id: Option<i64>,
    pub properties: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
    pub attempts: i32,
}

/// Locks up to `limit` due events for this transaction (other workers skip them).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_due(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<PendingEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, uuid, event, user_id, properties, occurred_at, attempts FROM analytics_events
         WHERE status = 'pending' AND next_attempt_at <= now()
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_sent(conn: &mut PgConnection, ids: &[i64]) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE analytics_events SET status = 'sent', sent_at = now(), attempts = attempts + 1 WHERE id = ANY($1)")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_dead(
    conn: &mut PgConnection,
    ids: &[i64],
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE analytics_events SET status = 'dead', last_error = $2, attempts = attempts + 1 WHERE id = ANY($1)")
        .bind(ids)
        .bind(error)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn postpone(
    conn: &mut PgConnection,
    ids: &[i64],
    delay_seconds: f64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE analytics_events SET attempts = attempts + 1, last_error = $3,
                next_attempt_at = now() + make_interval(secs => $2)
         WHERE id = ANY($1)",
    )
    .bind(ids)
    .bind(delay_seconds)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops every pending event (consent was withdrawn or nothing is configured); returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn discard_pending(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let r =
        sqlx::query("UPDATE analytics_events SET status = 'discarded' WHERE status = 'pending'")
            .execute(pool)
            .await?;
    Ok(r.rows_affected())
}

/// Drops the pending events of users who opted out; returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn discard_pending_of_opted_out(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE analytics_events e SET status = 'discarded'
         FROM users u
         WHERE u.id = e.user_id AND u.analytics_opt_out AND e.status = 'pending'",
    )
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

/// The outbox at a glance.
#[derive(Debug, Clone, Default)]
pub struct QueueState {
    /// Events per status.
    pub counts: Vec<(String, i64)>,
    /// Age in seconds of the oldest pending event.
    pub oldest_pending_seconds: Option<f64>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn queue_state(pool: &PgPool) -> Result<QueueState, sqlx::Error> {
    // Pending events that failed at least once are shown as "retrying".
    let counts = sqlx::query_as(
        "SELECT CASE WHEN status = 'pending' AND attempts > 0 THEN 'retrying' ELSE status END, count(*)
         FROM analytics_events GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    let oldest = sqlx::query_scalar(
        "SELECT extract(epoch FROM now() - min(occurred_at))::float8 FROM analytics_events WHERE status = 'pending'",
    )
    .fetch_one(pool)
    .await?;
    Ok(QueueState {
        counts,
        oldest_pending_seconds: oldest,
    })
}

/// Seconds until the earliest pending event may be sent (negative when one
/// is due now), or `None` when nothing is pending.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn next_attempt_in(pool: &PgPool) -> Result<Option<f64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 FROM analytics_events WHERE status = 'pending'",
    )
    .fetch_one(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    pub channel: String,
    pub sent_at: DateTime<Utc>,
    pub status: Option<i32>,
    pub events: i32,
    pub result: String,
    pub payload: serde_json::Value,
}

/// Records a payload as sent, and keeps about the 50 newest: in the same
/// statement it deletes the rows 50 to 99 ids below the new one, so every row
/// goes once 50 more came after it (an id of a rolled-back insert is a gap,
/// so a few fewer may be kept). A bounded range of the primary key, because
/// any "all but the newest 50" (`NOT IN`, or `id <=` the 51st newest) walked
/// every dead index entry or heap page the last vacuum left: 0.46 and then
/// 1.18 ms a batch under make bench S2 (`pg_stat_statements`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn log_delivery(
    conn: &mut PgConnection,
    channel: &str,
    status: Option<u16>,
    events: usize,
    result: &str,
    payload: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH new AS (
             INSERT INTO analytics_deliveries (channel, status, events, result, payload)
             VALUES ($1, $2, $3, $4, $5) RETURNING id
         )
         DELETE FROM analytics_deliveries
         WHERE id <= (SELECT id FROM new) - 50 AND id > (SELECT id FROM new) - 100",
    )
    .bind(channel)
    .bind(status.map(i32::from))
    .bind(events as i32)
    .bind(result)
    .bind(payload)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn recent_deliveries(pool: &PgPool, limit: i64) -> Result<Vec<Delivery>, sqlx::Error> {
    sqlx::query_as(
        "SELECT channel, sent_at, status, events, result, payload FROM analytics_deliveries ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn enabled(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT analytics_enabled FROM installation WHERE id = 1")
        .fetch_one(pool)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_enabled(pool: &PgPool, enabled: bool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE installation SET analytics_enabled = $1, analytics_changed_at = now() WHERE id = 1",
    )
    .bind(enabled)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records (or, with `None`, clears) a configuration error reported by PostHog.
/// Clearing touches the row only when an error is set, so the common case
/// takes no row lock inside a delivery transaction.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_error(conn: &mut PgConnection, error: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE installation SET analytics_error = $1, analytics_error_at = CASE WHEN $1 IS NULL THEN NULL ELSE now() END
         WHERE id = 1 AND analytics_error IS DISTINCT FROM $1",
    )
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn error(pool: &PgPool) -> Result<Option<(String, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT analytics_error, analytics_error_at FROM installation WHERE id = 1 AND analytics_error IS NOT NULL",
    )
    .fetch_optional(pool)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_opt_out(
    conn: &mut PgConnection,
    user_id: i64,
    opt_out: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET analytics_opt_out = $2 WHERE id = $1")
        .bind(user_id)
        .bind(opt_out)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops the events of `user_id` that wait for delivery (pending, retrying,
/// or dead and so retryable by an admin); returns how many. Events a worker
/// is sending right now are locked by it: this waits for that delivery to
/// end, then finds them sent.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn discard_pending_of_user(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE analytics_events SET status = 'discarded' WHERE user_id = $1 AND status IN ('pending', 'dead')",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn opted_out(pool: &PgPool, user_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT analytics_opt_out FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await
}

/// The role of each user, for the person properties sent with `auth.login`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn role(conn: &mut PgConnection, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

/// An event not delivered yet, as the Telemetry page lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Undelivered {
    pub id: i64,
    pub event: String,
    /// `waiting`, `retrying` (pending after a failed attempt) or `dead`.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// Declared properties only: no personal data.
    pub properties: serde_json::Value,
}

/// The states of an undelivered event, as the Telemetry page names them.
pub const UNDELIVERED_STATES: [&str; 3] = ["dead", "retrying", "waiting"];

/// Which undelivered events an operator looks at or acts on; `None` is any.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventFilter {
    /// A catalogue event name.
    pub event: Option<&'static str>,
    /// One of [`UNDELIVERED_STATES`].
    pub state: Option<&'static str>,
}

/// The SQL of an undelivered event matching `$1` (event) and `$2` (state).
const MATCHING: &str = "status IN ('pending', 'dead')
    AND ($1::text IS NULL OR event = $1)
    AND ($2::text IS NULL OR (CASE WHEN status = 'dead' THEN 'dead' WHEN attempts > 0 THEN 'retrying' ELSE 'waiting' END) = $2)";

/// The matching events, the dead first, then the retrying and waiting ones by
/// their next attempt; at most `limit`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn undelivered(
    pool: &PgPool,
    f: EventFilter,
    limit: i64,
) -> Result<Vec<Undelivered>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, event,
                CASE WHEN status = 'dead' THEN 'dead' WHEN attempts > 0 THEN 'retrying' ELSE 'waiting' END AS state,
                attempts, next_attempt_at, last_error, properties
         FROM analytics_events WHERE {MATCHING}
         ORDER BY status = 'dead' DESC, attempts > 0 DESC, next_attempt_at, id LIMIT $3"
    )))
    .bind(f.event)
    .bind(f.state)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many undelivered events match.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_undelivered(pool: &PgPool, f: EventFilter) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM analytics_events WHERE {MATCHING}"
    )))
    .bind(f.event)
    .bind(f.state)
    .fetch_one(pool)
    .await
}

/// Sends one undelivered event at the next run; false when it is not undelivered.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn retry_one(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE analytics_events SET status = 'pending', next_attempt_at = now(), last_error = NULL
         WHERE id = $1 AND status IN ('pending', 'dead')",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Discards one undelivered event; false when it is not undelivered.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn discard_one(pool: &PgPool, id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE analytics_events SET status = 'discarded' WHERE id = $1 AND status IN ('pending', 'dead')",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Sends every matching undelivered event at the next run; returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn retry_undelivered(
    conn: &mut PgConnection,
    f: EventFilter,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(AssertSqlSafe(format!(
        "UPDATE analytics_events SET status = 'pending', next_attempt_at = now(), last_error = NULL
         WHERE {MATCHING}"
    )))
    .bind(f.event)
    .bind(f.state)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Discards every matching undelivered event; returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn discard_undelivered(pool: &PgPool, f: EventFilter) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(AssertSqlSafe(format!(
        "UPDATE analytics_events SET status = 'discarded' WHERE {MATCHING}"
    )))
    .bind(f.event)
    .bind(f.state)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

/// Deletes sent and discarded events older than `before`; returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn prune(pool: &PgPool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM analytics_events WHERE status IN ('sent', 'discarded') AND coalesce(sent_at, occurred_at) < $1",
    )
    .bind(before)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}
