//! Login throttle: failures are counted per account *and* client address
//! together, per client address, and per account, in a [`WINDOW_SECONDS`]
//! window, in PostgreSQL (so every replica enforces the same limit; account
//! names are stored only as keyed hashes).
//!
//! Rules ([`LIMITS`]):
//! - one address guessing one account gets [`PAIR_FREE`] free failures, then
//!   must wait a delay that doubles with each further failure (2 s, 4 s, …,
//!   at most the window) before its next attempt counts;
//! - one address guessing many accounts is stopped for the rest of the window
//!   after [`ADDRESS_LIMIT`] failures;
//! - one account guessed from many addresses gets the same doubling delay,
//!   but only after [`ACCOUNT_FREE`] failures, a much higher ceiling.
//!
//! So someone who knows a username cannot lock its owner out: their failures
//! from their address delay only that address, and the owner, from another
//! address, signs in at once unless the account itself is under a large,
//! distributed attack, when every attempt waits the delay, never a lock. A
//! success clears the account's counters.

use crate::observability::metrics::LOGINS;
use std::net::IpAddr;

use crate::{db, error::AppError, state::AppState};

pub const WINDOW_SECONDS: i64 = 15 * 60;
/// Free failures of one address on one account.
pub const PAIR_FREE: i32 = 5;
/// Failures of one address across accounts before it is stopped.
pub const ADDRESS_LIMIT: i32 = 20;
/// Free failures of one account across all addresses.
pub const ACCOUNT_FREE: i32 = 50;

/// What happens once a key has used its free failures.
#[derive(Debug, Clone, Copy)]
enum Past {
    /// Each attempt waits 2^(failures − free + 1) s after the last failure.
    DoublingDelay,
    /// Stopped until the window ends.
    Stopped,
}

const LIMITS: [(&str, i32, Past); 3] = [
    ("pair", PAIR_FREE, Past::DoublingDelay),
    ("address", ADDRESS_LIMIT, Past::Stopped),
    ("account", ACCOUNT_FREE, Past::DoublingDelay),
];

/// The counter keys of this attempt, in the order of [`LIMITS`].
fn keys(state: &AppState, username: &str, address: IpAddr) -> [String; 3] {
    let account = hex::encode(
        state
            .keys
            .mac("login-throttle", username.trim().to_lowercase().as_bytes()),
    );
    [
        format!("pair:{account}:{address}"),
        format!("address:{address}"),
        format!("account:{account}"),
    ]
}

/// Seconds an attempt must still wait, given a key's state; 0 means go.
fn wait_seconds(past: Past, free: i32, counter: &db::throttle::Counter) -> i64 {
    if counter.failures < free {
        return 0;
    }
    let wait = match past {
        Past::DoublingDelay => {
            let over = (counter.failures - free).clamp(0, 20) as u32;
            (2i64 << over).min(WINDOW_SECONDS) - counter.since_last_failure
        }
        Past::Stopped => WINDOW_SECONDS - counter.since_window_start,
    };
    wait.max(0)
}

/// Refuses with 429 (and how long to wait) while any counter says wait.
pub async fn check(state: &AppState, username: &str, address: IpAddr) -> Result<(), AppError> {
    let keys = keys(state, username, address);
    let counters = db::throttle::counters(&state.pool, &keys, WINDOW_SECONDS).await?;
    let wait = LIMITS
        .iter()
        .zip(&keys)
        .filter_map(|((_, free, past), key)| {
            counters
                .iter()
                .find(|c| &c.key == key)
                .map(|c| wait_seconds(*past, *free, c))
        })
        .max()
        .unwrap_or(0);
    if wait > 0 {
        metrics::counter!(LOGINS, "outcome" => "throttled").increment(1);
        return Err(AppError::TooManyRequests {
            retry_after_seconds: wait as u64,
        });
    }
    Ok(())
}

pub async fn record_failure(
    state: &AppState,
    username: &str,
    address: IpAddr,
) -> Result<(), AppError> {
    let keys = keys(state, username, address);
    db::throttle::record_failures(&state.pool, &keys, WINDOW_SECONDS).await?;
    Ok(())
}

/// A success clears the account's counters (its own pair and the account
/// total), not the address's.
pub async fn record_success(
    state: &AppState,
    username: &str,
    address: IpAddr,
) -> Result<(), AppError> {
    let [pair, _, account] = keys(state, username, address);
    db::throttle::clear(&state.pool, &[pair, account]).await?;
    Ok(())
}

/// Links asked for by mail for one address in a window (whether or not an
/// account uses it, so the limit tells nothing).
pub const RESET_PER_ADDRESS: i32 = 3;
/// Links asked for from one client address in a window.
pub const RESET_PER_CLIENT: i32 = 10;

/// Counts one request for a password link by mail, refusing with 429 (and
/// how long to wait) once the address asked for, or the client address
/// asking, has used its requests of the window.
pub async fn count_reset_request(
    state: &AppState,
    email: &str,
    client: IpAddr,
) -> Result<(), AppError> {
    let asked = hex::encode(
        state
            .keys
            .mac("reset-throttle", email.trim().to_lowercase().as_bytes()),
    );
    let keys = [format!("reset:{asked}"), format!("reset-client:{client}")];
    let counters = db::throttle::counters(&state.pool, &keys, WINDOW_SECONDS).await?;
    let wait = keys
        .iter()
        .zip([RESET_PER_ADDRESS, RESET_PER_CLIENT])
        .filter_map(|(key, limit)| {
            counters
                .iter()
                .find(|c| &c.key == key)
                .map(|c| wait_seconds(Past::Stopped, limit, c))
        })
        .max()
        .unwrap_or(0);
    if wait > 0 {
        return Err(AppError::TooManyRequests {
            retry_after_seconds: wait as u64,
        });
    }
    db::throttle::record_failures(&state.pool, &keys, WINDOW_SECONDS).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(failures: i32, since_last: i64, since_start: i64) -> db::throttle::Counter {
        db::throttle::Counter {
            key: String::new(),
            failures,
            since_last_failure: since_last,
            since_window_start: since_start,
        }
    }

    #[test]
    fn the_delay_doubles_after_the_free_failures_and_is_capped() {
        let delay = |failures| wait_seconds(Past::DoublingDelay, 5, &counter(failures, 0, 0));
        assert_eq!(delay(4), 0);
        assert_eq!([delay(5), delay(6), delay(7), delay(8)], [2, 4, 8, 16]);
        assert_eq!(delay(40), WINDOW_SECONDS);
        let waited = wait_seconds(Past::DoublingDelay, 5, &counter(6, 3, 10));
        assert_eq!(waited, 1, "the time since the last failure counts");
        assert_eq!(wait_seconds(Past::DoublingDelay, 5, &counter(6, 9, 10)), 0);
    }

    #[test]
    fn a_stopped_address_waits_for_the_end_of_its_window() {
        let c = counter(20, 0, 100);
        assert_eq!(wait_seconds(Past::Stopped, 20, &c), WINDOW_SECONDS - 100);
        assert_eq!(wait_seconds(Past::Stopped, 20, &counter(19, 0, 100)), 0);
    }
}
