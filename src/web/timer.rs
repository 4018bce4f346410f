//! The timer page (`/`): the running timer, start and stop, today's and this week's
//! totals, and recent entries.

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
};
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::{
    EntryRow, Layout,
    charts::Chart,
    flash::{self, Flash},
    optional_id, render,
};
use crate::{
    auth::{Credential, CurrentUser},
    db::{self, entries::NamedEntry, projects::Project, reports::SummaryRow, tasks::Task},
    domain::{
        Permission, ValidationError,
        tracking::{format_duration, split_tags},
    },
    error::AppError,
    http::extract::{Form, Path},
    reports::charts,
    state::AppState,
    tracking::{
        Actor, Who, timer,
        timer_page::{Glance, week_at_a_glance},
    },
};

/// Entries shorter than this (in seconds) are offered for discarding right after they end.
const SHORT_ENTRY_SECONDS: i64 = 60;

#[derive(Template)]
#[template(path = "timer.html")]
struct TimerPage {
    layout: Layout,
    running: Option<NamedEntry>,
    running_elapsed: String,
    long_running: bool,
    long_timer_hours: i32,
    projects: Vec<Project>,
    tasks: Vec<Task>,
    /// Whether the viewer may create projects (an empty picker links there).
    manages_catalog: bool,
    /// The running timer's start in the viewer's timezone, for the edit form.
    running_start_local: String,
    /// The entry just stopped, when it lasted under a minute: offer to discard it.
    too_short: Option<EntryRow>,
    /// Seconds tracked today and this week, the running timer up to now
    /// included (the page's script counts on from there while it runs).
    /// Seconds (for the live count) and as h:mm:ss.
    today_seconds: i64,
    today: String,
    week_seconds: i64,
    week: String,
    /// Hours per day of this week (SVG markup).
    week_chart: String,
    /// The most tracked projects of the last 7 days (SVG markup), empty when none.
    top_chart: String,
    recent: Vec<EntryRow>,
    error: Option<String>,
}

/// The timer page for the request's credential, which the page's one
/// statement checks (`db::timer_page`); 401 (the sign-in page) when it
/// stands for nobody.
async fn page(
    state: &AppState,
    credential: &Credential,
    headers: &HeaderMap,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Html<String>, AppError> {
    let db::timer_page::TimerPage {
        caller,
        settings,
        running,
        newest,
        projects,
        tasks,
        spans,
    } = db::timer_page::load(&state.pool, credential.kind, &credential.hash)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let current = CurrentUser::checked(state, credential, caller, headers).await?;
    let actor = Actor::from(&current);
    let now = Utc::now();
    let glance = week_at_a_glance(&spans, &actor, &settings.week_start);
    let (week_chart, top_chart) = glance_charts(&actor, &glance)?;
    let elapsed = running
        .as_ref()
        .map_or(0, |r| (now - r.entry.started_at).num_seconds());
    let running_start_local = running
        .as_ref()
        .map(|r| actor.format.instant(r.entry.started_at))
        .unwrap_or_default();
    // A start and stop of a few seconds is usually a slip: the page offers to
    // discard it while it is the latest entry and a few minutes old.
    let too_short = newest
        .first()
        .filter(|e| {
            e.entry
                .duration_seconds
                .is_some_and(|d| d < SHORT_ENTRY_SECONDS)
                && e.entry
                    .ended_at
                    .is_some_and(|end| now - end < Duration::minutes(10))
        })
        .map(|e| EntryRow::new(e, &actor.format));
    render(&TimerPage {
        running_start_local,
        too_short,
        layout: Layout::for_user("Timer", &current).with_notice(notice),
        running_elapsed: format_duration(elapsed),
        long_running: running.is_some() && elapsed > i64::from(settings.long_timer_hours) * 3600,
        long_timer_hours: settings.long_timer_hours,
        running,
        projects,
        tasks,
        manages_catalog: actor.can(Permission::ManageCatalog),
        today_seconds: glance.today_seconds,
        today: format_duration(glance.today_seconds),
        week_seconds: glance.week_seconds,
        week: format_duration(glance.week_seconds),
        week_chart,
        top_chart,
        recent: newest
            .iter()
            .map(|e| EntryRow::new(e, &actor.format))
            .collect(),
        error,
    })
}

/// The timer page's two small charts.
fn glance_charts(actor: &Actor, glance: &Glance) -> Result<(String, String), AppError> {
    let (days, top) = (&glance.days, &glance.top);
    let strip = charts::week_strip(days, &glance.daily, glance.today);
    let week = Chart {
        id: "chart-week",
        kind: "week",
        title: "Hours per day this week".into(),
        description: format!(
            "One bar per day from {} to {}, today in orange: {}.",
            actor.format.day(days[0]),
            actor.format.day(days[days.len() - 1]),
            strip
                .columns
                .iter()
                .map(|c| format!("{} {}", c.label, format_duration(c.total())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        svg: strip.svg(),
        legend: Vec::new(),
        billable_note: false,
    }
    .markup()?;
    if top.is_empty() {
        return Ok((week, String::new()));
    }
    let rows: Vec<SummaryRow> = top
        .iter()
        .map(|(name, seconds)| SummaryRow {
            key: name.clone(),
            subkey: String::new(),
            seconds: *seconds,
            billable_seconds: 0,
            amount_cents: None,
        })
        .collect();
    let shares = charts::shares(&rows);
    let top_chart = Chart {
        id: "chart-top",
        kind: "top",
        title: "Top projects of the last 7 days".into(),
        description: shares
            .iter()
            .map(|s| format!("{} {} ({} %)", s.key, format_duration(s.seconds), s.percent))
            .collect::<Vec<_>>()
            .join(", "),
        svg: charts::shares_svg(&shares, false),
        legend: Vec::new(),
        billable_note: false,
    }
    .markup()?;
    Ok((week, top_chart))
}

pub async fn show(
    State(state): State<AppState>,
    credential: Credential,
    headers: HeaderMap,
    Flash(notice): Flash,
) -> Result<Html<String>, AppError> {
    page(&state, &credential, &headers, notice, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartForm {
    project_id: String,
    task_id: String,
    notes: String,
    tags: String,
}

pub async fn start(
    State(state): State<AppState>,
    current: CurrentUser,
    credential: Credential,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Result<Response, AppError> {
    let input = timer::StartTimer {
        project_id: optional_id("project_id", &form.project_id)?.unwrap_or_default(),
        task_id: optional_id("task_id", &form.task_id)?,
        notes: form.notes,
        tags: split_tags(&form.tags),
    };
    match timer::start(&state.pool, Who::Checked(&Actor::from(&current)), &input).await {
        Ok(_) => Ok(Redirect::to("/").into_response()),
        Err(e) => refused(&state, &credential, &headers, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    project_id: String,
    task_id: String,
    notes: String,
    tags: String,
    /// Local date and time, `YYYY-MM-DDTHH:MM`.
    start: String,
    /// Or: how many minutes ago it started.
    minutes_ago: String,
}

/// `POST /timer/edit`: changes the running timer in place.
pub async fn edit(
    State(state): State<AppState>,
    current: CurrentUser,
    credential: Credential,
    headers: HeaderMap,
    Form(form): Form<EditForm>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    let parsed = (|| -> Result<timer::EditTimer, ValidationError> {
        let minutes = form.minutes_ago.trim();
        let started_at = if !minutes.is_empty() {
            let m: i64 = minutes
                .parse()
                .ok()
                .filter(|m| (0..=24 * 60).contains(m))
                .ok_or_else(|| {
                    ValidationError::new("minutes_ago", "Enter minutes from 0 to 1440.")
                })?;
            Some(Utc::now() - Duration::minutes(m))
        } else if !form.start.trim().is_empty() {
            Some(actor.format.parse_instant("start", &form.start)?)
        } else {
            None
        };
        Ok(timer::EditTimer {
            project_id: optional_id("project_id", &form.project_id)?.unwrap_or_default(),
            task_id: optional_id("task_id", &form.task_id)?,
            notes: form.notes.clone(),
            tags: split_tags(&form.tags),
            started_at,
        })
    })();
    let result = match parsed {
        Ok(input) => timer::edit(&state.pool, &actor, &input).await.map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(flash::redirect(&state, "/", "Timer changed.")),
        Err(e) => refused(&state, &credential, &headers, e).await,
    }
}

/// The timer page again, with the reason a start or change was refused by
/// the message (422 for bad input, 409 for a conflict); other errors as usual.
async fn refused(
    state: &AppState,
    credential: &Credential,
    headers: &HeaderMap,
    e: AppError,
) -> Result<Response, AppError> {
    let (status, message) = match e {
        AppError::Validation(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.message),
        AppError::Conflict { message, .. } => (StatusCode::CONFLICT, message),
        e => return Err(e),
    };
    Ok((
        status,
        page(state, credential, headers, None, Some(message)).await?,
    )
        .into_response())
}

pub async fn stop(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Response, AppError> {
    let entry = timer::stop(&state.pool, Who::Checked(&Actor::from(&current))).await?;
    let notice = format!(
        "Stopped after {}.",
        format_duration(entry.duration_seconds.unwrap_or_default())
    );
    Ok(flash::redirect(&state, "/", &notice))
}

pub async fn restart(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    timer::restart(&state.pool, &Actor::from(&current), id).await?;
    Ok(Redirect::to("/").into_response())
}
