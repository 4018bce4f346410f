//! Feature flags, declared here with a default.
//!
//! A flag's value comes from, in order: the environment (`FEATURE_<NAME>`),
//! the admin's choice (Admin → Telemetry), PostHog's remote evaluation (cached
//! in the database by the worker, only while product analytics is on; never
//! fetched during a request), then the default.

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::config::Config;

/// A declared flag.
pub struct Flag {
    pub name: &'static str,
    pub description: &'static str,
    pub default: bool,
}

pub const XLSX_EXPORTS: &str = "xlsx_exports";
pub const API_TOKEN_CREATION: &str = "api_token_creation";

/// Every flag.
pub const FLAGS: &[Flag] = &[
    Flag {
        name: XLSX_EXPORTS,
        description: "Offer XLSX background exports (a kill switch).",
        default: true,
    },
    Flag {
        name: API_TOKEN_CREATION,
        description: "Let users create personal API tokens (a kill switch; existing tokens keep working).",
        default: true,
    },
];

/// Where a flag's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Environment,
    Admin,
    PostHog,
    Default,
}

impl Source {
    pub fn describe(self) -> &'static str {
        match self {
            Source::Environment => "environment override",
            Source::Admin => "administrator",
            Source::PostHog => "PostHog",
            Source::Default => "default",
        }
    }
}

/// The environment variable that overrides `name`.
pub fn env_var(name: &str) -> String {
    format!("FEATURE_{}", name.to_ascii_uppercase())
}

/// Reads the `FEATURE_<NAME>` overrides of every declared flag.
pub fn overrides_from(vars: &crate::config::Vars) -> anyhow::Result<BTreeMap<&'static str, bool>> {
    let mut overrides = BTreeMap::new();
    for flag in FLAGS {
        if let Some(value) = vars.flag(&env_var(flag.name))? {
            overrides.insert(flag.name, value);
        }
    }
    Ok(overrides)
}

/// The value of one flag and its source.
pub async fn value(
    pool: &PgPool,
    config: &Config,
    name: &str,
) -> Result<(bool, Source), sqlx::Error> {
    let Some(flag) = FLAGS.iter().find(|f| f.name == name) else {
        return Ok((false, Source::Default));
    };
    if let Some(v) = config.analytics.feature_overrides.get(flag.name) {
        return Ok((*v, Source::Environment));
    }
    let stored: Option<(Option<bool>, Option<bool>)> =
        sqlx::query_as("SELECT admin_value, remote_value FROM feature_flags WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(match stored {
        Some((Some(v), _)) => (v, Source::Admin),
        Some((None, Some(v))) => (v, Source::PostHog),
        _ => (flag.default, Source::Default),
    })
}

/// Whether a flag is on.
pub async fn enabled(pool: &PgPool, config: &Config, name: &str) -> Result<bool, sqlx::Error> {
    Ok(value(pool, config, name).await?.0)
}

/// Sets (or, with `None`, clears) the admin's choice for a declared flag.
pub async fn set_admin(pool: &PgPool, name: &str, value: Option<bool>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO feature_flags (name, admin_value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET admin_value = excluded.admin_value",
    )
    .bind(name)
    .bind(value)
    .execute(pool)
    .await?;
    Ok(())
}

/// Stores a good remote evaluation of a flag.
pub async fn set_remote(pool: &PgPool, name: &str, value: bool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO feature_flags (name, remote_value, remote_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET remote_value = excluded.remote_value, remote_at = now()",
    )
    .bind(name)
    .bind(value)
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_are_read_per_declared_flag() {
        let off = |k: &str| (k == "FEATURE_XLSX_EXPORTS").then(|| "off".to_owned());
        let o = overrides_from(&crate::config::Vars::new(&off)).expect("valid");
        assert_eq!(o.get(XLSX_EXPORTS), Some(&false));
        assert_eq!(o.get(API_TOKEN_CREATION), None);
        let maybe = |k: &str| (k == "FEATURE_API_TOKEN_CREATION").then(|| "maybe".to_owned());
        let err = overrides_from(&crate::config::Vars::new(&maybe)).unwrap_err();
        assert!(err.to_string().contains("FEATURE_API_TOKEN_CREATION"));
    }
}
