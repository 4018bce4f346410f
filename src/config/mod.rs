//! One typed configuration, read once from environment variables.
//!
//! Rule: every variable is listed in `.env.example` and `docs/configuration.md`;
//! a bad value stops start-up with an error that names the variable; secrets are
//! wrapped in [`Secret`] so they never reach a log line or a `Debug` print.
//! One file per concern (web, auth, database, worker, analytics, mail, oidc,
//! observability), each reading its own variables through [`Vars`].

mod analytics;
mod auth;
mod database;
mod mail;
mod observability;
mod oidc;
mod vars;
mod web;
mod worker;

use std::fmt;

pub use analytics::Analytics;
pub use auth::Auth;
pub use database::Database;
pub use mail::{Mail, Smtp, SmtpSecurity};
pub use observability::Observability;
pub use oidc::{Oidc, PasswordSignIn};
pub use vars::Vars;
pub use web::Web;
pub use worker::Worker;

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

/// Settings shared by the web process, the worker and the CLI, by concern.
#[derive(Debug, Clone)]
pub struct Config {
    pub web: Web,
    pub auth: Auth,
    pub database: Database,
    pub worker: Worker,
    pub analytics: Analytics,
    pub mail: Mail,
    /// Single sign-on, when an OpenID provider is configured.
    pub oidc: Option<Oidc>,
    pub observability: Observability,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests can pass their own values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let vars = Vars::new(&lookup);
        let web = Web::from_vars(&vars)?;
        Ok(Self {
            auth: Auth::from_vars(&vars, &web.public_url)?,
            web,
            database: Database::from_vars(&vars)?,
            worker: Worker::from_vars(&vars)?,
            analytics: Analytics::from_vars(&vars)?,
            mail: Mail::from_vars(&vars)?,
            oidc: Oidc::from_vars(&vars)?,
            observability: Observability::from_vars(&vars)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule above, checked: every variable name this module reads (a
    /// quoted upper-case name in `src/config/`) is in `.env.example` and in
    /// `docs/configuration.md`'s table.
    #[test]
    fn every_variable_read_is_in_the_example_and_the_docs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |path: &str| std::fs::read_to_string(root.join(path)).expect(path);
        let (example, docs) = (read(".env.example"), read("docs/configuration.md"));
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(root.join("src/config")).expect("src/config") {
            let source = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
            for quoted in source.split('"').skip(1).step_by(2) {
                let is_name = quoted.len() > 2
                    && quoted.starts_with(|c: char| c.is_ascii_uppercase())
                    && quoted
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                // `CARGO_MANIFEST_DIR` is this test's own, not a setting.
                let documented = example.contains(quoted) && docs.contains(&format!("`{quoted}`"));
                if is_name && !quoted.starts_with("CARGO_") && !documented {
                    missing.push(quoted.to_owned());
                }
            }
        }
        assert!(
            missing.is_empty(),
            "not in .env.example and docs/configuration.md: {missing:?}"
        );
    }

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
        assert_eq!(c.web.http_addr.to_string(), "127.0.0.1:8080");
        assert!(
            !c.auth.cookie_secure,
            "plain http public URL means no Secure flag"
        );
        assert_eq!(c.observability.log_file.as_deref(), Some("logs/app.jsonl"));
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
        assert!(c.observability.sentry_dsn.is_some());
        assert_eq!(c.observability.sentry_traces_sample_rate, 0.0);
    }

    #[test]
    fn telemetry_switches_take_only_true_or_false() {
        let forced_off = |vars: &[(&str, &str)]| {
            let mut all = vec![("DATABASE_URL", "postgres://x")];
            all.extend_from_slice(vars);
            config(&all).map(|c| c.analytics.telemetry_forced_off)
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
        assert_eq!(
            c.analytics.telemetry_host,
            crate::build_info::TELEMETRY_HOST
        );
        let c = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("TELEMETRY_POSTHOG_HOST", "http://127.0.0.1:9/"),
        ])
        .expect("valid");
        assert_eq!(c.analytics.telemetry_host, "http://127.0.0.1:9");
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
        assert!(c.auth.cookie_secure);
        assert_eq!(c.web.public_url, "https://tt.example.org");
    }
}
