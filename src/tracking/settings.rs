//! Admin settings that drive behaviour.

use sqlx::PgPool;

use super::Actor;
use crate::{
    analytics::{Event, record},
    db::{self, settings::Settings},
    domain::{Permission, ValidationError},
    error::AppError,
};

/// Raw settings fields from a form or the API.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub currency: String,
    pub rounding_minutes: String,
    pub timer_policy: String,
    pub allow_overlaps: bool,
    pub week_start: String,
    pub export_delimiter: String,
    pub long_timer_hours: String,
    pub auto_stop_long_timers: bool,
}

pub const ROUNDING_CHOICES: [i32; 7] = [0, 1, 5, 6, 10, 15, 30];

pub fn parse(input: &SettingsInput) -> Result<Settings, ValidationError> {
    let currency = input.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ValidationError::new(
            "currency",
            "Use a three-letter currency code such as EUR or USD.",
        ));
    }
    let rounding_minutes = input
        .rounding_minutes
        .trim()
        .parse()
        .ok()
        .filter(|m| ROUNDING_CHOICES.contains(m))
        .ok_or_else(|| {
            ValidationError::new(
                "rounding_minutes",
                "Choose none, 1, 5, 6, 10, 15 or 30 minutes.",
            )
        })?;
    let timer_policy = match input.timer_policy.trim() {
        p @ ("stop_previous" | "refuse") => p.to_owned(),
        _ => {
            return Err(ValidationError::new(
                "timer_policy",
                "Choose what starting a second timer does.",
            ));
        }
    };
    let week_start = match input.week_start.trim() {
        w @ ("monday" | "sunday") => w.to_owned(),
        _ => {
            return Err(ValidationError::new(
                "week_start",
                "Weeks start on monday or sunday.",
            ));
        }
    };
    let export_delimiter = match input.export_delimiter.trim_matches(' ') {
        d @ ("," | ";" | "tab") => d.to_owned(),
        _ => {
            return Err(ValidationError::new(
                "export_delimiter",
                "Choose comma, semicolon or tab.",
            ));
        }
    };
    let long_timer_hours = input
        .long_timer_hours
        .trim()
        .parse()
        .ok()
        .filter(|h| (1..=24).contains(h))
        .ok_or_else(|| {
            ValidationError::new(
                "long_timer_hours",
                "Enter a whole number of hours from 1 to 24.",
            )
        })?;
    Ok(Settings {
        currency,
        rounding_minutes,
        timer_policy,
        allow_overlaps: input.allow_overlaps,
        week_start,
        export_delimiter,
        long_timer_hours,
        auto_stop_long_timers: input.auto_stop_long_timers,
    })
}

/// Saves new settings; returns the names of the settings that changed.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    input: &SettingsInput,
) -> Result<Vec<&'static str>, AppError> {
    actor.require(Permission::Administer)?;
    let new = parse(input)?;
    let mut tx = pool.begin().await?;
    let old = db::settings::get(&mut tx).await?;
    db::settings::update(&mut tx, &new).await?;
    let mut changed = Vec::new();
    for (name, differs) in [
        ("currency", old.currency != new.currency),
        (
            "rounding_minutes",
            old.rounding_minutes != new.rounding_minutes,
        ),
        ("timer_policy", old.timer_policy != new.timer_policy),
        ("allow_overlaps", old.allow_overlaps != new.allow_overlaps),
        ("week_start", old.week_start != new.week_start),
        (
            "export_delimiter",
            old.export_delimiter != new.export_delimiter,
        ),
        (
            "long_timer_hours",
            old.long_timer_hours != new.long_timer_hours,
        ),
        (
            "auto_stop_long_timers",
            old.auto_stop_long_timers != new.auto_stop_long_timers,
        ),
    ] {
        if differs {
            changed.push(name);
        }
    }
    let event = Event::SettingsUpdated {
        changed_keys: changed.clone(),
    };
    record(&mut tx, Some(actor.user_id), &event).await?;
    tx.commit().await?;
    Ok(changed)
}
