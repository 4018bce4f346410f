//! Waiting for something that happens in the background, with a bound.

use std::time::Duration;

/// What one look found: the awaited value, or not yet. `Option` says only
/// that; `Result<T, String>` also says what it saw instead, which the
/// failure shows.
pub trait Look<T> {
    fn found(self) -> Result<T, String>;
}

impl<T> Look<T> for Option<T> {
    fn found(self) -> Result<T, String> {
        self.ok_or_else(String::new)
    }
}

impl<T> Look<T> for Result<T, String> {
    fn found(self) -> Result<T, String> {
        self
    }
}

/// Looks with `check` until it finds what it waits for, and returns that;
/// fails the test, saying what never happened (and what the last look saw),
/// once `within` has passed. It looks again after 10 ms, then twice as long
/// each time up to every 250 ms, so a short-lived state (a job running) is
/// seen.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future,
    Fut::Output: Look<T>,
{
    let deadline = tokio::time::Instant::now() + within;
    let mut pause = Duration::from_millis(10);
    loop {
        let seen = match check().await.found() {
            Ok(found) => return found,
            Err(seen) => seen,
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {within:?}{}{seen}",
            if seen.is_empty() {
                ""
            } else {
                "; last seen:\n"
            }
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}
