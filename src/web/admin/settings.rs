//! Admin settings page.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::web::{
    Layout,
    flash::{self, Flash},
    render,
};
use crate::{
    auth::AdminUser,
    db,
    error::AppError,
    http::extract::Form,
    state::AppState,
    tracking::{
        Actor,
        settings::{self, ROUNDING_CHOICES, SettingsInput},
    },
};

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct SettingsForm {
    currency: String,
    rounding_minutes: String,
    timer_policy: String,
    allow_overlaps: Option<String>,
    week_start: String,
    export_delimiter: String,
    long_timer_hours: String,
    auto_stop_long_timers: Option<String>,
}

/// What the form shows (checkboxes as booleans).
struct FormView {
    currency: String,
    rounding_minutes: String,
    timer_policy: String,
    allow_overlaps: bool,
    week_start: String,
    export_delimiter: String,
    long_timer_hours: String,
    auto_stop_long_timers: bool,
}

impl From<&SettingsInput> for FormView {
    fn from(i: &SettingsInput) -> Self {
        Self {
            currency: i.currency.clone(),
            rounding_minutes: i.rounding_minutes.clone(),
            timer_policy: i.timer_policy.clone(),
            allow_overlaps: i.allow_overlaps,
            week_start: i.week_start.clone(),
            export_delimiter: i.export_delimiter.clone(),
            long_timer_hours: i.long_timer_hours.clone(),
            auto_stop_long_timers: i.auto_stop_long_timers,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    layout: Layout,
    form: FormView,
    rounding_choices: [i32; 7],
    error: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    admin: AdminUser,
    Flash(n): Flash,
) -> Result<Response, AppError> {
    let s = db::settings::load(&state.pool).await?;
    let input = SettingsInput {
        currency: s.currency,
        rounding_minutes: s.rounding_minutes.to_string(),
        timer_policy: s.timer_policy,
        allow_overlaps: s.allow_overlaps,
        week_start: s.week_start,
        export_delimiter: s.export_delimiter,
        long_timer_hours: s.long_timer_hours.to_string(),
        auto_stop_long_timers: s.auto_stop_long_timers,
    };
    let page = SettingsPage {
        layout: Layout::for_user("Settings", &admin.0).with_notice(n),
        form: (&input).into(),
        rounding_choices: ROUNDING_CHOICES,
        error: None,
    };
    Ok(render(&page)?.into_response())
}

pub async fn save(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<SettingsForm>,
) -> Result<Response, AppError> {
    let input = SettingsInput {
        currency: form.currency,
        rounding_minutes: form.rounding_minutes,
        timer_policy: form.timer_policy,
        allow_overlaps: form.allow_overlaps.is_some(),
        week_start: form.week_start,
        export_delimiter: form.export_delimiter,
        long_timer_hours: form.long_timer_hours,
        auto_stop_long_timers: form.auto_stop_long_timers.is_some(),
    };
    match settings::update(&state.pool, &Actor::from(&admin.0), &input).await {
        Ok(changed) => {
            tracing::info!(changed = ?changed, "settings updated");
            Ok(flash::redirect(
                &state,
                "/admin/settings",
                "Settings saved.",
            ))
        }
        Err(AppError::Validation(e)) => {
            let page = SettingsPage {
                layout: Layout::for_user("Settings", &admin.0),
                form: (&input).into(),
                rounding_choices: ROUNDING_CHOICES,
                error: Some(e.message),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}
