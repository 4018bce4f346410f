//! Recording product events: always to the local log; to the outbox only when
//! the consent gate is open, in the caller's transaction.
//!
//! The gate at enqueue: the admin switched product analytics on, the user has
//! not opted out, and the request carried neither `Sec-GPC: 1` nor `DNT: 1`.
//! The worker checks the switch (and the PostHog key) again before sending.

use std::time::Duration;

use chrono::{SubsecRound, Utc};
use sqlx::PgConnection;

use super::events::{Event, emit};
use crate::{
    db,
    jobs::{self, AnalyticsFlush},
    observability::do_not_track,
};

/// Records `event` for `user_id` as part of the caller's transaction.
pub async fn record(
    conn: &mut PgConnection,
    user_id: Option<i64>,
    event: &Event,
) -> anyhow::Result<()> {
    emit(event);
    if do_not_track() {
        return Ok(());
    }
    let properties = serde_json::Value::Object(event.properties());
    // Millisecond precision: the timestamp is part of PostHog's deduplication key.
    let occurred_at = Utc::now().trunc_subsecs(3);
    // The event and its delivery job in one statement: the job goes in
    // only with the event, and not at all while one is waiting.
    let wake = jobs::unique(
        &AnalyticsFlush::default(),
        AnalyticsFlush::KEY,
        Duration::ZERO,
    )?;
    db::analytics::insert_if_consented(
        conn,
        uuid::Uuid::now_v7(),
        event.name(),
        user_id,
        &properties,
        occurred_at,
        &wake,
    )
    .await?;
    Ok(())
}

/// The PostHog `distinct_id` of a user: a keyed hash of the install secret and
/// the user id. Stable within one installation, unrelated across
/// installations, and never the id, username or email itself.
pub fn distinct_id(keys: &crate::auth::Keys, user_id: i64) -> String {
    hex::encode(&keys.mac("analytics-distinct-id", &user_id.to_be_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_ids_are_stable_per_install_and_differ_across_installs() {
        let a = crate::auth::Keys::new("installation a secret key, long enough");
        let b = crate::auth::Keys::new("installation b secret key, long enough");
        assert_eq!(distinct_id(&a, 1), distinct_id(&a, 1));
        assert_ne!(distinct_id(&a, 1), distinct_id(&a, 2));
        assert_ne!(
            distinct_id(&a, 1),
            distinct_id(&b, 1),
            "user 1 of two installs are different people"
        );
        assert_eq!(distinct_id(&a, 1).len(), 32);
    }
}
