//! Login rate limit: at most [`ACCOUNT_LIMIT`] failures per account name and
//! [`ADDRESS_LIMIT`] per client address in a [`WINDOW_SECONDS`] window. Counters
//! are in PostgreSQL so every replica enforces the same limit; account names are
//! stored only as keyed hashes.

use std::net::IpAddr;

use crate::{db, error::AppError, startup::AppState};

pub const ACCOUNT_LIMIT: i32 = 5;
pub const ADDRESS_LIMIT: i32 = 20;
pub const WINDOW_SECONDS: i64 = 15 * 60;

fn keys(state: &AppState, username: &str, address: IpAddr) -> [(String, i32); 2] {
    let account = hex::encode(
        state
            .keys
            .mac("login-throttle", username.trim().to_lowercase().as_bytes()),
    );
    [
        (format!("account:{account}"), ACCOUNT_LIMIT),
        (format!("address:{address}"), ADDRESS_LIMIT),
    ]
}

/// Refuses with 429 when either counter is at its limit.
pub async fn check(state: &AppState, username: &str, address: IpAddr) -> Result<(), AppError> {
    for (key, limit) in keys(state, username, address) {
        if db::throttle::failures(&state.pool, &key, WINDOW_SECONDS).await? >= limit {
            metrics::counter!("timetracker_logins_total", "outcome" => "throttled").increment(1);
            return Err(AppError::TooManyRequests {
                retry_after_seconds: WINDOW_SECONDS as u64,
            });
        }
    }
    Ok(())
}

pub async fn record_failure(
    state: &AppState,
    username: &str,
    address: IpAddr,
) -> Result<(), AppError> {
    for (key, _) in keys(state, username, address) {
        db::throttle::record_failure(&state.pool, &key, WINDOW_SECONDS).await?;
    }
    Ok(())
}

/// A successful login clears the account's counter (not the address's).
pub async fn record_success(
    state: &AppState,
    username: &str,
    address: IpAddr,
) -> Result<(), AppError> {
    let [(account, _), _] = keys(state, username, address);
    db::throttle::clear(&state.pool, &account).await?;
    Ok(())
}
