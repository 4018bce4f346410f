//! Logs and error reporting.

use anyhow::bail;

use super::{Secret, Vars};

#[derive(Debug, Clone)]
pub struct Observability {
    /// `tracing` filter directives (`LOG_LEVEL`), e.g. `info` or `info,sqlx=warn`.
    pub log_level: String,
    /// JSON log file (`LOG_FILE`), rotated daily as `<stem>.<date>.<ext>`; empty disables the file.
    pub log_file: Option<String>,
    /// Where errors and panics are reported (`SENTRY_DSN`); unset means no Sentry traffic.
    pub sentry_dsn: Option<Secret<String>>,
    /// Share of requests and jobs traced to Sentry, 0 to 1 (`SENTRY_TRACES_SAMPLE_RATE`).
    pub sentry_traces_sample_rate: f32,
    /// Deployment environment name sent with events and errors (`APP_ENV`).
    pub environment: String,
}

impl Observability {
    pub fn from_vars(vars: &Vars) -> anyhow::Result<Self> {
        let sentry_dsn = vars.get("SENTRY_DSN");
        if let Some(dsn) = &sentry_dsn {
            // The parse error would echo the DSN, whose key is a secret.
            if dsn.parse::<sentry::types::Dsn>().is_err() {
                bail!("SENTRY_DSN is not a valid Sentry DSN (https://<key>@<host>/<project>)");
            }
        }
        let sentry_traces_sample_rate: f32 = vars.parsed("SENTRY_TRACES_SAMPLE_RATE", "0")?;
        if !(0.0..=1.0).contains(&sentry_traces_sample_rate) {
            bail!(
                "SENTRY_TRACES_SAMPLE_RATE must be between 0 and 1, got {sentry_traces_sample_rate}"
            );
        }
        Ok(Self {
            log_level: vars.or("LOG_LEVEL", "info"),
            log_file: match vars.raw("LOG_FILE") {
                Some(v) if v.trim().is_empty() => None,
                Some(v) => Some(v),
                None => Some("logs/app.jsonl".to_owned()),
            },
            sentry_dsn: sentry_dsn.map(Secret::new),
            sentry_traces_sample_rate,
            environment: vars.or("APP_ENV", "production"),
        })
    }
}
