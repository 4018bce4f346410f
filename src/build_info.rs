//! What the build compiled in: the version, the commit and where install
//! telemetry goes.
//!
//! Rule: every build-time variable (`TIMETRACKER_VERSION`, `TIMETRACKER_COMMIT`,
//! `TIMETRACKER_TELEMETRY_HOST`, `TIMETRACKER_TELEMETRY_KEY`) is read here and
//! nowhere else, and an empty or blank one counts as not given: a Dockerfile's
//! `ARG NAME=""` reaches the compiler as an empty string, not as unset.

/// Where install pings go when neither `TELEMETRY_POSTHOG_HOST` nor the build
/// names a host.
pub const DEFAULT_TELEMETRY_HOST: &str = "https://us.i.posthog.com";

/// The application version (`TIMETRACKER_VERSION`, else the crate version).
pub const VERSION: &str = match given(option_env!("TIMETRACKER_VERSION")) {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};

/// The commit the build was made from (`TIMETRACKER_COMMIT`), else `unknown`.
pub const COMMIT: &str = match given(option_env!("TIMETRACKER_COMMIT")) {
    Some(c) => c,
    None => "unknown",
};

/// The install-telemetry host compiled in (`TIMETRACKER_TELEMETRY_HOST`), else
/// [`DEFAULT_TELEMETRY_HOST`]. `TELEMETRY_POSTHOG_HOST` overrides it at run time.
pub const TELEMETRY_HOST: &str = match given(option_env!("TIMETRACKER_TELEMETRY_HOST")) {
    Some(h) => h,
    None => DEFAULT_TELEMETRY_HOST,
};

/// The install-telemetry project key compiled in (`TIMETRACKER_TELEMETRY_KEY`,
/// official builds only). `TELEMETRY_POSTHOG_KEY` overrides it at run time.
pub const TELEMETRY_KEY: Option<&str> = given(option_env!("TIMETRACKER_TELEMETRY_KEY"));

/// A build-time value, unless it is missing, empty or blank.
const fn given(value: Option<&'static str>) -> Option<&'static str> {
    match value {
        Some(v) if !v.trim_ascii().is_empty() => Some(v.trim_ascii()),
        _ => None,
    }
}

/// What `timetracker version` prints: the version and commit, then where
/// install telemetry would go (the key's presence only, never the key).
pub fn describe() -> String {
    format!(
        "timetracker {VERSION} ({COMMIT})\ninstall telemetry: host {TELEMETRY_HOST}, key {}\n",
        if TELEMETRY_KEY.is_some() {
            "compiled in"
        } else {
            "none"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_blank_build_value_counts_as_not_given() {
        assert_eq!(given(None), None);
        assert_eq!(given(Some("")), None);
        assert_eq!(given(Some("  ")), None);
        assert_eq!(
            given(Some(" https://t.example ")),
            Some("https://t.example")
        );
    }

    #[test]
    fn a_build_without_a_telemetry_host_sends_to_the_documented_default() {
        // This crate is compiled by `make test` without the variable, or
        // with it empty as the Dockerfile passes it.
        if given(option_env!("TIMETRACKER_TELEMETRY_HOST")).is_none() {
            assert_eq!(TELEMETRY_HOST, DEFAULT_TELEMETRY_HOST);
        }
        assert!(describe().contains(&format!("host {TELEMETRY_HOST},")));
        assert!(TELEMETRY_HOST.starts_with("http"), "{TELEMETRY_HOST}");
    }
}
