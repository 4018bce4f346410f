//! The anonymous install ping: exactly these fields, nothing else.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::build_info::VERSION;

/// Everything an install ping carries. Documented field by field in `docs/telemetry.md`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InstallPing {
    /// PostHog event name.
    pub event: &'static str,
    /// The random install id; not derived from anything about the host.
    pub distinct_id: Uuid,
    pub properties: InstallProperties,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InstallProperties {
    pub app_version: &'static str,
    pub os: &'static str,
    pub arch: &'static str,
    /// `docker` or `binary`.
    pub deployment: &'static str,
    /// Users, as a coarse bucket: `1`, `2-5`, `6-20`, `21-100` or `101+`.
    pub user_count_bucket: &'static str,
    /// Day the installation was created (no time of day).
    pub first_seen: NaiveDate,
    #[serde(rename = "$process_person_profile")]
    pub process_person_profile: bool,
    #[serde(rename = "$geoip_disable")]
    pub geoip_disable: bool,
}

/// Why a ping is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PingKind {
    /// Consent was given.
    Install,
    /// The app version changed since the last ping.
    Update,
    /// The daily heartbeat (or "send a ping now").
    Heartbeat,
}

impl PingKind {
    pub fn event(self) -> &'static str {
        match self {
            PingKind::Install => "telemetry.install",
            PingKind::Update => "telemetry.update",
            PingKind::Heartbeat => "telemetry.heartbeat",
        }
    }

    /// What the next ping of an installation will be.
    pub fn next(last_ping_version: Option<&str>) -> Self {
        match last_ping_version {
            None => PingKind::Install,
            Some(v) if v != VERSION => PingKind::Update,
            Some(_) => PingKind::Heartbeat,
        }
    }
}

/// The ping for an installation with this id, creation time and user count.
pub fn build(
    kind: PingKind,
    install_id: Uuid,
    created_at: DateTime<Utc>,
    users: i64,
) -> InstallPing {
    InstallPing {
        event: kind.event(),
        distinct_id: install_id,
        properties: InstallProperties {
            app_version: VERSION,
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            deployment: deployment(),
            user_count_bucket: bucket(users),
            first_seen: created_at.date_naive(),
            process_person_profile: false,
            geoip_disable: true,
        },
    }
}

/// `docker` inside a container, `binary` otherwise.
pub fn deployment() -> &'static str {
    if std::path::Path::new("/.dockerenv").exists() {
        "docker"
    } else {
        "binary"
    }
}

fn bucket(users: i64) -> &'static str {
    match users {
        ..=1 => "1",
        2..=5 => "2-5",
        6..=20 => "6-20",
        21..=100 => "21-100",
        _ => "101+",
    }
}

/// The minute of the UTC day when this installation's daily heartbeat is due:
/// spread over the day by the install id, so installations do not ping together.
pub fn heartbeat_minute(install_id: Uuid) -> u32 {
    (install_id.as_u128() % 1440) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_ping_depends_on_what_was_sent_last() {
        assert_eq!(PingKind::next(None), PingKind::Install);
        assert_eq!(PingKind::next(Some("0.0.0-old")), PingKind::Update);
        assert_eq!(PingKind::next(Some(VERSION)), PingKind::Heartbeat);
    }

    #[test]
    fn user_counts_are_bucketed() {
        assert_eq!(bucket(0), "1");
        assert_eq!(bucket(1), "1");
        assert_eq!(bucket(5), "2-5");
        assert_eq!(bucket(6), "6-20");
        assert_eq!(bucket(100), "21-100");
        assert_eq!(bucket(5000), "101+");
    }

    #[test]
    fn the_ping_has_only_the_documented_fields() {
        let ping = build(PingKind::Heartbeat, Uuid::nil(), Utc::now(), 3);
        let json = serde_json::to_value(&ping).expect("serialises");
        let mut keys: Vec<_> = json["properties"]
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "$geoip_disable",
                "$process_person_profile",
                "app_version",
                "arch",
                "deployment",
                "first_seen",
                "os",
                "user_count_bucket"
            ]
        );
    }
}
