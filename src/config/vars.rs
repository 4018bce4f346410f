//! Reading environment variables: a blank value counts as unset, and every
//! error names its variable.

use std::{str::FromStr, time::Duration};

use anyhow::{Context, bail};

/// The variables, through a lookup (the process environment, or a test's map).
pub struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Vars<'a> {
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The value as set, blank included (for variables where blank means
    /// "off", like `LOG_FILE`).
    pub fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    /// The value, when set and not blank.
    pub fn get(&self, name: &str) -> Option<String> {
        self.raw(name).filter(|v| !v.trim().is_empty())
    }

    /// The value, or `default`.
    pub fn or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    /// A URL without its trailing slash, or `default`.
    pub fn url(&self, name: &str, default: &str) -> String {
        self.or(name, default).trim_end_matches('/').to_owned()
    }

    /// The value parsed as `T`, or `default` parsed.
    pub fn parsed<T: FromStr>(&self, name: &str, default: &str) -> anyhow::Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        let value = self.or(name, default);
        value
            .trim()
            .parse()
            .with_context(|| format!("{name} has an invalid value {value:?}"))
    }

    /// A number greater than zero.
    pub fn positive<T: FromStr + PartialOrd + Default>(
        &self,
        name: &str,
        default: &str,
    ) -> anyhow::Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        let n: T = self.parsed(name, default)?;
        if n <= T::default() {
            bail!(
                "{name} must be greater than zero, got {:?}",
                self.or(name, default)
            );
        }
        Ok(n)
    }

    /// A positive number of seconds.
    pub fn seconds(&self, name: &str, default: &str) -> anyhow::Result<Duration> {
        Ok(Duration::from_secs(self.positive(name, default)?))
    }

    /// A positive number of hours.
    pub fn hours(&self, name: &str, default: &str) -> anyhow::Result<Duration> {
        Ok(Duration::from_secs(
            3600 * self.positive::<u64>(name, default)?,
        ))
    }

    /// A positive number of days.
    pub fn days(&self, name: &str, default: &str) -> anyhow::Result<Duration> {
        Ok(Duration::from_secs(
            86_400 * self.positive::<u64>(name, default)?,
        ))
    }

    /// True or false (`1`/`0`, `yes`/`no`, `on`/`off`), when set.
    pub fn flag(&self, name: &str) -> anyhow::Result<Option<bool>> {
        self.get(name)
            .map(|v| match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                other => bail!("{name} must be true or false, got {other:?}"),
            })
            .transpose()
    }

    /// True or false, or `default`.
    pub fn bool(&self, name: &str, default: bool) -> anyhow::Result<bool> {
        Ok(self.flag(name)?.unwrap_or(default))
    }
}
