//! One typed configuration, read once from environment variables.
//!
//! Rule: every variable is listed in `.env.example` and `docs/configuration.md`;
//! a bad value stops start-up with an error that names the variable; secrets are
//! wrapped in [`Secret`] so they never reach a log line or a `Debug` print.

use std::{fmt, net::SocketAddr, str::FromStr, time::Duration};

use anyhow::{Context, anyhow, bail};

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The wrapped value; call it only where the secret is used.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Settings shared by the web process, the worker and the CLI.
#[derive(Debug, Clone)]
pub struct Config {
    /// Public HTTP listener of the web process (`HTTP_ADDR`).
    pub http_addr: SocketAddr,
    /// Internal `/metrics` listener of the web process (`WEB_METRICS_ADDR`).
    pub web_metrics_addr: SocketAddr,
    /// Internal `/metrics` and health listener of the worker (`WORKER_METRICS_ADDR`).
    pub worker_metrics_addr: SocketAddr,
    /// The URL users type to reach the app (`PUBLIC_URL`), used in printed links.
    pub public_url: String,
    /// PostgreSQL connection string (`DATABASE_URL`).
    pub database_url: Secret<String>,
    /// The worker's own connection string (`WORKER_DATABASE_URL`), when the
    /// web goes through a pooler the worker cannot use (LISTEN/NOTIFY,
    /// advisory locks and long transactions need a session); the worker
    /// uses `DATABASE_URL` when it is unset.
    pub worker_database_url: Option<Secret<String>>,
    /// Pool size per process (`DATABASE_MAX_CONNECTIONS`).
    pub database_max_connections: u32,
    /// How long a request waits for a pooled connection before a 503 (`DATABASE_ACQUIRE_TIMEOUT_SECONDS`).
    pub database_acquire_timeout: Duration,
    /// Key for sessions, CSRF and keyed hashes (`SECRET_KEY`); generated and kept in the database when unset.
    pub secret_key: Option<Secret<String>>,
    /// Fixed one-time setup token (`SETUP_TOKEN`); a random one is generated when unset.
    pub setup_token: Option<Secret<String>>,
    /// Whether cookies carry `Secure` (`COOKIE_SECURE`; default: true unless `PUBLIC_URL` is plain http).
    pub cookie_secure: bool,
    /// Session lifetime (`SESSION_TTL_HOURS`).
    pub session_ttl: Duration,
    /// Use the last `X-Forwarded-For` hop as the client address (`TRUST_PROXY_HEADERS`).
    pub trust_proxy_headers: bool,
    /// `tracing` filter directives (`LOG_LEVEL`), e.g. `info` or `info,sqlx=warn`.
    pub log_level: String,
    /// JSON log file (`LOG_FILE`), rotated daily as `<stem>.<date>.<ext>`; empty disables the file.
    pub log_file: Option<String>,
    /// Finished jobs are deleted after this long (`JOB_RETENTION_DAYS`).
    pub job_retention: Duration,
    /// Dead jobs are deleted after this long (`DEAD_JOB_RETENTION_DAYS`).
    pub dead_job_retention: Duration,
    /// Export files are deleted this long after they were built (`EXPORT_RETENTION_DAYS`).
    pub export_retention: Duration,
    /// Project key of the operator's own PostHog (`POSTHOG_API_KEY`); product analytics needs it.
    pub posthog_api_key: Option<Secret<String>>,
    /// Ingestion host of that PostHog (`POSTHOG_HOST`).
    pub posthog_host: String,
    /// Log analytics payloads instead of sending them (`TIMETRACKER_ANALYTICS_DEBUG`).
    pub analytics_debug: bool,
    /// Ingestion host of the makers' PostHog for install telemetry (`TELEMETRY_POSTHOG_HOST`).
    pub telemetry_host: String,
    /// Project key for install telemetry (`TELEMETRY_POSTHOG_KEY`); official builds may compile one in.
    pub telemetry_key: Option<Secret<String>>,
    /// `DO_NOT_TRACK=1` or `TIMETRACKER_TELEMETRY=0`: install telemetry is off whatever was chosen.
    pub telemetry_forced_off: bool,
    /// `FEATURE_<NAME>` overrides of the declared feature flags.
    pub feature_overrides: std::collections::BTreeMap<&'static str, bool>,
    /// Where errors and panics are reported (`SENTRY_DSN`); unset means no Sentry traffic.
    pub sentry_dsn: Option<Secret<String>>,
    /// Share of requests and jobs traced to Sentry, 0 to 1 (`SENTRY_TRACES_SAMPLE_RATE`).
    pub sentry_traces_sample_rate: f32,
    /// Deployment environment name sent with events and errors (`APP_ENV`).
    pub environment: String,
    /// Jobs a worker runs at once per queue (`WORKER_CONCURRENCY`).
    pub worker_concurrency: usize,
    /// Worker heartbeat; a worker silent for three of them is presumed dead (`WORKER_HEARTBEAT_SECONDS`).
    pub worker_heartbeat: Duration,
    /// How often the maintenance job runs (`MAINTENANCE_INTERVAL_SECONDS`).
    pub maintenance_interval: Duration,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests can pass their own values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let parse = |name: &str, default: &str| -> anyhow::Result<String> {
            Ok(get(name).unwrap_or_else(|| default.to_owned()))
        };

        let public_url = parse("PUBLIC_URL", "http://127.0.0.1:8080")?
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("PUBLIC_URL must start with http:// or https://, got {public_url:?}");
        }
        let database_url = get("DATABASE_URL").ok_or_else(|| {
            anyhow!("DATABASE_URL is not set (e.g. postgres://user:pass@localhost/timetracker)")
        })?;
        let secret_key = get("SECRET_KEY");
        if secret_key.as_ref().is_some_and(|key| key.len() < 32) {
            bail!("SECRET_KEY must be at least 32 characters long");
        }
        let cookie_secure = match get("COOKIE_SECURE") {
            Some(v) => parse_bool("COOKIE_SECURE", &v)?,
            None => public_url.starts_with("https://"),
        };
        let sentry_dsn = get("SENTRY_DSN");
        if let Some(dsn) = &sentry_dsn {
            // The parse error would echo the DSN, whose key is a secret.
            if dsn.parse::<sentry::types::Dsn>().is_err() {
                bail!("SENTRY_DSN is not a valid Sentry DSN (https://<key>@<host>/<project>)");
            }
        }
        let sentry_traces_sample_rate: f32 = typed(
            "SENTRY_TRACES_SAMPLE_RATE",
            &parse("SENTRY_TRACES_SAMPLE_RATE", "0")?,
        )?;
        if !(0.0..=1.0).contains(&sentry_traces_sample_rate) {
            bail!(
                "SENTRY_TRACES_SAMPLE_RATE must be between 0 and 1, got {sentry_traces_sample_rate}"
            );
        }
        let log_file = match lookup("LOG_FILE") {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(v),
            None => Some("logs/app.jsonl".to_owned()),
        };

        Ok(Self {
            http_addr: typed("HTTP_ADDR", &parse("HTTP_ADDR", "127.0.0.1:8080")?)?,
            web_metrics_addr: typed(
                "WEB_METRICS_ADDR",
                &parse("WEB_METRICS_ADDR", "127.0.0.1:9464")?,
            )?,
            worker_metrics_addr: typed(
                "WORKER_METRICS_ADDR",
                &parse("WORKER_METRICS_ADDR", "127.0.0.1:9465")?,
            )?,
            public_url,
            database_url: Secret::new(database_url),
            worker_database_url: get("WORKER_DATABASE_URL").map(Secret::new),
            database_max_connections: positive(
                "DATABASE_MAX_CONNECTIONS",
                &parse("DATABASE_MAX_CONNECTIONS", "10")?,
            )?,
            database_acquire_timeout: Duration::from_secs(positive(
                "DATABASE_ACQUIRE_TIMEOUT_SECONDS",
                &parse("DATABASE_ACQUIRE_TIMEOUT_SECONDS", "5")?,
            )?),
            secret_key: secret_key.map(Secret::new),
            setup_token: get("SETUP_TOKEN").map(Secret::new),
            cookie_secure,
            session_ttl: hours(positive(
                "SESSION_TTL_HOURS",
                &parse("SESSION_TTL_HOURS", "168")?,
            )?),
            trust_proxy_headers: parse_bool(
                "TRUST_PROXY_HEADERS",
                &parse("TRUST_PROXY_HEADERS", "false")?,
            )?,
            log_level: parse("LOG_LEVEL", "info")?,
            log_file,
            job_retention: hours(
                24 * positive::<u64>("JOB_RETENTION_DAYS", &parse("JOB_RETENTION_DAYS", "14")?)?,
            ),
            dead_job_retention: hours(
                24 * positive::<u64>(
                    "DEAD_JOB_RETENTION_DAYS",
                    &parse("DEAD_JOB_RETENTION_DAYS", "90")?,
                )?,
            ),
            export_retention: hours(
                24 * positive::<u64>(
                    "EXPORT_RETENTION_DAYS",
                    &parse("EXPORT_RETENTION_DAYS", "7")?,
                )?,
            ),
            telemetry_host: get("TELEMETRY_POSTHOG_HOST")
                .unwrap_or_else(|| crate::build_info::TELEMETRY_HOST.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            telemetry_key: get("TELEMETRY_POSTHOG_KEY")
                .or_else(|| crate::build_info::TELEMETRY_KEY.map(str::to_owned))
                .map(Secret::new),
            telemetry_forced_off: telemetry_forced_off(&get)?,
            feature_overrides: crate::flags::overrides_from(get)?,
            posthog_api_key: get("POSTHOG_API_KEY").map(Secret::new),
            posthog_host: parse("POSTHOG_HOST", "https://us.i.posthog.com")?
                .trim_end_matches('/')
                .to_owned(),
            analytics_debug: parse_bool(
                "TIMETRACKER_ANALYTICS_DEBUG",
                &parse("TIMETRACKER_ANALYTICS_DEBUG", "false")?,
            )?,
            sentry_dsn: sentry_dsn.map(Secret::new),
            sentry_traces_sample_rate,
            environment: parse("APP_ENV", "production")?,
            worker_concurrency: positive(
                "WORKER_CONCURRENCY",
                &parse("WORKER_CONCURRENCY", "16")?,
            )?,
            worker_heartbeat: Duration::from_secs(positive(
                "WORKER_HEARTBEAT_SECONDS",
                &parse("WORKER_HEARTBEAT_SECONDS", "2")?,
            )?),
            maintenance_interval: Duration::from_secs(positive(
                "MAINTENANCE_INTERVAL_SECONDS",
                &parse("MAINTENANCE_INTERVAL_SECONDS", "3600")?,
            )?),
        })
    }
}

/// `DO_NOT_TRACK` true or `TIMETRACKER_TELEMETRY` false turns install
/// telemetry off. A value that is neither true nor false stops start-up: an
/// operator who wrote `DO_NOT_TRACK=yess` must not be left guessing whether
/// it took.
fn telemetry_forced_off(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<bool> {
    let do_not_track = match get("DO_NOT_TRACK") {
        Some(v) => parse_bool("DO_NOT_TRACK", &v)?,
        None => false,
    };
    let allowed = match get("TIMETRACKER_TELEMETRY") {
        Some(v) => parse_bool("TIMETRACKER_TELEMETRY", &v)?,
        None => true,
    };
    Ok(do_not_track || !allowed)
}

fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

fn typed<T: FromStr>(name: &str, value: &str) -> anyhow::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    value
        .trim()
        .parse()
        .with_context(|| format!("{name} has an invalid value {value:?}"))
}

fn positive<T: FromStr + PartialOrd + Default>(name: &str, value: &str) -> anyhow::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let n: T = typed(name, value)?;
    if n <= T::default() {
        bail!("{name} must be greater than zero, got {value:?}");
    }
    Ok(n)
}

fn parse_bool(name: &str, value: &str) -> anyhow::Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => bail!("{name} must be true or false, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_apply_when_only_the_database_is_given() {
        let c = config(&[("DATABASE_URL", "postgres://x")]).expect("valid");
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
        assert!(
            !c.cookie_secure,
            "plain http public URL means no Secure flag"
        );
        assert_eq!(c.log_file.as_deref(), Some("logs/app.jsonl"));
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = config(&[("DATABASE_URL", "postgres://x"), ("HTTP_ADDR", "nope")]).unwrap_err();
        assert!(err.to_string().contains("HTTP_ADDR"), "{err}");
        let err = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("WORKER_CONCURRENCY", "0"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("WORKER_CONCURRENCY"), "{err}");
        let err = config(&[]).unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }

    #[test]
    fn sentry_settings_are_checked_without_echoing_the_dsn() {
        let err = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("SENTRY_DSN", "not a dsn with secretkey"),
        ])
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("SENTRY_DSN"), "{message}");
        assert!(!message.contains("secretkey"), "{message}");
        let err = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("SENTRY_TRACES_SAMPLE_RATE", "1.5"),
        ])
        .unwrap_err();
        assert!(
            err.to_string().contains("SENTRY_TRACES_SAMPLE_RATE"),
            "{err}"
        );
        let c = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("SENTRY_DSN", "http://public@127.0.0.1:9/1"),
        ])
        .expect("valid");
        assert!(c.sentry_dsn.is_some());
        assert_eq!(c.sentry_traces_sample_rate, 0.0);
    }

    #[test]
    fn telemetry_switches_take_only_true_or_false() {
        let forced_off = |vars: &[(&str, &str)]| {
            let mut all = vec![("DATABASE_URL", "postgres://x")];
            all.extend_from_slice(vars);
            config(&all).map(|c| c.telemetry_forced_off)
        };
        assert!(!forced_off(&[]).expect("valid"));
        assert!(forced_off(&[("DO_NOT_TRACK", "1")]).expect("valid"));
        assert!(!forced_off(&[("DO_NOT_TRACK", "0")]).expect("valid"));
        assert!(forced_off(&[("TIMETRACKER_TELEMETRY", "false")]).expect("valid"));
        assert!(!forced_off(&[("TIMETRACKER_TELEMETRY", "on")]).expect("valid"));
        for name in ["DO_NOT_TRACK", "TIMETRACKER_TELEMETRY"] {
            let err = forced_off(&[(name, "maybe")]).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn an_unset_telemetry_host_is_the_compiled_in_one_without_a_trailing_slash() {
        let c = config(&[("DATABASE_URL", "postgres://x")]).expect("valid");
        assert_eq!(c.telemetry_host, crate::build_info::TELEMETRY_HOST);
        let c = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("TELEMETRY_POSTHOG_HOST", "http://127.0.0.1:9/"),
        ])
        .expect("valid");
        assert_eq!(c.telemetry_host, "http://127.0.0.1:9");
    }

    #[test]
    fn secrets_are_not_printed_by_debug() {
        let c = config(&[
            ("DATABASE_URL", "postgres://u:hunter2@x"),
            ("SECRET_KEY", &"k".repeat(40)),
        ])
        .expect("valid");
        let printed = format!("{c:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("kkkk"),
            "{printed}"
        );
    }

    #[test]
    fn https_public_url_turns_secure_cookies_on() {
        let c = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("PUBLIC_URL", "https://tt.example.org/"),
        ])
        .expect("valid");
        assert!(c.cookie_secure);
        assert_eq!(c.public_url, "https://tt.example.org");
    }
}
