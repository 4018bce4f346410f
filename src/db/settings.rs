//! The single `settings` row (admin-editable behaviour).

use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Deserialize)]
pub struct Settings {
    pub currency: String,
    pub rounding_minutes: i32,
    pub timer_policy: String,
    pub allow_overlaps: bool,
    pub week_start: String,
    pub export_delimiter: String,
    pub long_timer_hours: i32,
    pub auto_stop_long_timers: bool,
}

/// The columns of [`Settings`], from `settings s`.
pub(super) const COLUMNS: &str =
    "s.currency, s.rounding_minutes, s.timer_policy, s.allow_overlaps, s.week_start,
                        s.export_delimiter, s.long_timer_hours, s.auto_stop_long_timers";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(conn: &mut PgConnection) -> Result<Settings, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(get_sql()))
        .fetch_one(conn)
        .await
}

/// [`get`]'s statement.
pub(super) fn get_sql() -> String {
    format!("SELECT {COLUMNS} FROM settings s WHERE s.id = 1")
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn load(pool: &PgPool) -> Result<Settings, sqlx::Error> {
    get(&mut *pool.acquire().await?).await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(conn: &mut PgConnection, s: &Settings) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE settings SET currency = $1, rounding_minutes = $2, timer_policy = $3, allow_overlaps = $4,
                week_start = $5, export_delimiter = $6, long_timer_hours = $7, auto_stop_long_timers = $8,
                updated_at = now()
         WHERE id = 1",
    )
    .bind(&s.currency)
    .bind(s.rounding_minutes)
    .bind(&s.timer_policy)
    .bind(s.allow_overlaps)
    .bind(&s.week_start)
    .bind(&s.export_delimiter)
    .bind(s.long_timer_hours)
    .bind(s.auto_stop_long_timers)
    .execute(conn)
    .await?;
    Ok(())
}
