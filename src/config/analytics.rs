//! Product analytics (the operator's PostHog), install telemetry (the
//! makers' PostHog) and feature-flag overrides.

use std::collections::BTreeMap;

use super::{Secret, Vars};

#[derive(Debug, Clone)]
pub struct Analytics {
    /// Project key of the operator's own PostHog (`POSTHOG_API_KEY`); product analytics needs it.
    pub posthog_api_key: Option<Secret<String>>,
    /// Ingestion host of that PostHog (`POSTHOG_HOST`).
    pub posthog_host: String,
    /// Log analytics payloads instead of sending them (`TIMETRACKER_ANALYTICS_DEBUG`).
    pub debug: bool,
    /// Ingestion host of the makers' PostHog for install telemetry (`TELEMETRY_POSTHOG_HOST`).
    pub telemetry_host: String,
    /// Project key for install telemetry (`TELEMETRY_POSTHOG_KEY`); official builds may compile one in.
    pub telemetry_key: Option<Secret<String>>,
    /// `DO_NOT_TRACK=1` or `TIMETRACKER_TELEMETRY=0`: install telemetry is off whatever was chosen.
    pub telemetry_forced_off: bool,
    /// `FEATURE_<NAME>` overrides of the declared feature flags.
    pub feature_overrides: BTreeMap<&'static str, bool>,
}

impl Analytics {
    pub fn from_vars(vars: &Vars) -> anyhow::Result<Self> {
        Ok(Self {
            posthog_api_key: vars.get("POSTHOG_API_KEY").map(Secret::new),
            posthog_host: vars.url("POSTHOG_HOST", "https://us.i.posthog.com"),
            debug: vars.bool("TIMETRACKER_ANALYTICS_DEBUG", false)?,
            telemetry_host: vars.url("TELEMETRY_POSTHOG_HOST", crate::build_info::TELEMETRY_HOST),
            telemetry_key: vars
                .get("TELEMETRY_POSTHOG_KEY")
                .or_else(|| crate::build_info::TELEMETRY_KEY.map(str::to_owned))
                .map(Secret::new),
            telemetry_forced_off: telemetry_forced_off(vars)?,
            feature_overrides: crate::flags::overrides_from(vars)?,
        })
    }
}

/// `DO_NOT_TRACK` true or `TIMETRACKER_TELEMETRY` false turns install
/// telemetry off. A value that is neither true nor false stops start-up: an
/// operator who wrote `DO_NOT_TRACK=yess` must not be left guessing whether
/// it took.
fn telemetry_forced_off(vars: &Vars) -> anyhow::Result<bool> {
    let do_not_track = vars.bool("DO_NOT_TRACK", false)?;
    let allowed = vars.bool("TIMETRACKER_TELEMETRY", true)?;
    Ok(do_not_track || !allowed)
}
