//! The weekly timesheet page (`/timesheet`): the grid, saving it, adding a
//! row, copying last week. Saving without the page's script posts every
//! cell; cells that did not change are skipped, and the save is all or
//! nothing: when any cell is refused, every cell keeps what was typed and
//! each refused one says why. With the script each
//! cell saves itself through the JSON API (`PUT /api/v1/timesheet/cells`).
//! Managers and administrators choose whose week (`?user=ID`); every link
//! and form of the page carries that choice.

use std::collections::HashMap;

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{Duration, NaiveDate, Utc};
use serde::Deserialize;

use super::{
    Layout,
    flash::{self, Flash},
    optional_id, people_for, render,
};
use crate::{
    auth::CurrentUser,
    db::{self, projects::Project, tasks::Task, users::User},
    domain::{
        LocalPath, ValidationError,
        formats::LocalFormat,
        timesheet::{DAYS, format_cell, parse_cell, week_of},
    },
    error::AppError,
    http::extract::{Form, Query},
    state::AppState,
    tracking::{
        Actor,
        timesheet::{self, SetCell, Sheet, Week},
    },
};

/// A cell's form field: `c.{project}.{task or 0}.{day 0-6}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CellKey {
    project_id: i64,
    task_id: Option<i64>,
    day: usize,
}

impl CellKey {
    fn parse(name: &str) -> Option<Self> {
        let mut parts = name.strip_prefix("c.")?.split('.');
        let project_id = parts.next()?.parse().ok().filter(|p| *p > 0)?;
        let task: i64 = parts.next()?.parse().ok().filter(|t| *t >= 0)?;
        let day = parts.next()?.parse().ok().filter(|d| *d < DAYS)?;
        parts.next().is_none().then_some(Self {
            project_id,
            task_id: (task > 0).then_some(task),
            day,
        })
    }

    fn name(&self) -> String {
        format!(
            "c.{}.{}.{}",
            self.project_id,
            self.task_id.unwrap_or(0),
            self.day
        )
    }
}

/// A day column's heading.
struct DayColumn {
    /// `Mon`
    weekday: String,
    /// `30.11.2026`
    date: String,
    /// For screen readers and the API: `2026-11-30`.
    iso: String,
    is_today: bool,
    total: String,
}

struct CellView {
    name: String,
    value: String,
    label: String,
    entries: usize,
    running: bool,
    error: Option<String>,
}

struct RowView {
    project_id: i64,
    task_id: Option<i64>,
    label: String,
    client: Option<String>,
    read_only: bool,
    cells: Vec<CellView>,
    total: String,
}

#[derive(Template)]
#[template(path = "timesheet.html")]
struct TimesheetPage {
    layout: Layout,
    /// Whose week, when it is not the viewer's: their id and name.
    person: Option<(i64, String)>,
    /// `&user=ID` for the page's links, or empty for one's own week.
    user_param: String,
    /// Whose week the viewer may open (empty: only their own).
    people: Vec<User>,
    week: String,
    heading: String,
    previous: String,
    next: String,
    this_week: String,
    is_this_week: bool,
    days: Vec<DayColumn>,
    /// The day a phone shows (today in this week, else the first).
    shown_day: usize,
    rows: Vec<RowView>,
    total: String,
    projects: Vec<Project>,
    tasks: Vec<Task>,
    error: Option<String>,
}

/// Which week, and on a phone which of its days.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WeekQuery {
    /// Any day of the week, in the viewer's format or ISO; empty: this week.
    week: String,
    /// 0 to 6.
    day: String,
    /// Whose week (a user id); empty: the viewer's own.
    user: String,
}

fn parse_day_index(raw: &str) -> Result<Option<usize>, ValidationError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    raw.trim()
        .parse::<usize>()
        .ok()
        .filter(|d| *d < DAYS)
        .map(Some)
        .ok_or_else(|| ValidationError::new("day", "Choose a day from 0 to 6."))
}

/// Whose week the request names (`user`), checked against the viewer.
async fn sheet(state: &AppState, current: &CurrentUser, raw: &str) -> Result<Sheet, AppError> {
    let user_id = optional_id("user", raw)?;
    Sheet::of(&state.pool, &Actor::from(current), user_id).await
}

/// The first day of the week `raw` names (as the viewer types dates; today's
/// when empty), and of this week, in the person's timezone and week start,
/// from one read of the settings.
async fn weeks(
    state: &AppState,
    current: &CurrentUser,
    sheet: &Sheet,
    raw: &str,
) -> Result<(NaiveDate, NaiveDate), AppError> {
    let settings = db::settings::load(&state.pool).await?;
    let person = &sheet.person;
    let sunday = timesheet::sunday_first(person, &settings.week_start);
    let today = Utc::now().with_timezone(&person.timezone).date_naive();
    let day = if raw.trim().is_empty() {
        today
    } else {
        Actor::from(current).format.parse_day("week", raw)?
    };
    Ok((week_of(day, sunday), week_of(today, sunday)))
}

fn row_label(r: &timesheet::Row) -> String {
    match &r.task_name {
        Some(t) => format!("{} · {t}", r.project_name),
        None => r.project_name.clone(),
    }
}

/// The page for `week`, with the `typed` value and error (empty: none) of
/// each cell after a refused save.
#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    current: &CurrentUser,
    sheet: &Sheet,
    week: &Week,
    this_week: NaiveDate,
    shown_day: Option<usize>,
    typed: &HashMap<CellKey, (String, String)>,
    notice: Option<String>,
) -> Result<TimesheetPage, AppError> {
    let actor = Actor::from(current);
    let fmt: &LocalFormat = &actor.format;
    let today = Utc::now()
        .with_timezone(&sheet.person.timezone)
        .date_naive();
    let days: Vec<DayColumn> = week
        .days
        .iter()
        .zip(week.day_seconds)
        .map(|(d, seconds)| DayColumn {
            weekday: d.format("%a").to_string(),
            date: fmt.day(*d),
            iso: d.to_string(),
            is_today: *d == today,
            total: format_cell(seconds),
        })
        .collect();
    let rows = week
        .rows
        .iter()
        .map(|r| {
            let label = row_label(r);
            RowView {
                project_id: r.project_id,
                task_id: r.task_id,
                client: r.client_name.clone(),
                read_only: r.read_only,
                total: format_cell(r.seconds),
                cells: r
                    .cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let key = CellKey {
                            project_id: r.project_id,
                            task_id: r.task_id,
                            day: i,
                        };
                        let (value, error) = match typed.get(&key) {
                            Some((raw, e)) => (raw.clone(), (!e.is_empty()).then(|| e.clone())),
                            None => (format_cell(c.seconds), None),
                        };
                        CellView {
                            name: key.name(),
                            value,
                            label: format!("{label}, {}", fmt.day_with_weekday(week.days[i])),
                            entries: c.entries,
                            running: c.running,
                            error,
                        }
                    })
                    .collect(),
                label,
            }
        })
        .collect();
    let shown_day = shown_day
        .or_else(|| week.index_of(today))
        .unwrap_or_default();
    let person = if sheet.is_someone_elses() {
        let user = db::users::by_id(&state.pool, sheet.person.user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        Some((user.id, user.name().to_owned()))
    } else {
        None
    };
    let title = match &person {
        Some((_, name)) => format!("Timesheet of {name}"),
        None => "Timesheet".to_owned(),
    };
    Ok(TimesheetPage {
        layout: Layout::for_user(&title, current).with_notice(notice),
        user_param: user_param(sheet),
        person,
        people: people_for(state, current).await?,
        week: week.first_day.to_string(),
        heading: format!(
            "{} – {}",
            fmt.day(week.first_day),
            fmt.day(week.days[DAYS - 1])
        ),
        previous: (week.first_day - Duration::days(7)).to_string(),
        next: (week.first_day + Duration::days(7)).to_string(),
        this_week: this_week.to_string(),
        is_this_week: this_week == week.first_day,
        days,
        shown_day,
        rows,
        total: match format_cell(week.seconds) {
            t if t.is_empty() => "0:00".to_owned(),
            t => t,
        },
        projects: db::projects::list(&state.pool, false).await?,
        tasks: db::tasks::open_for_pickers(&state.pool).await?,
        error: None,
    })
}

/// `GET /timesheet?week=…&day=…`
pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Flash(notice): Flash,
    Query(q): Query<WeekQuery>,
) -> Result<Response, AppError> {
    let sheet = sheet(&state, &current, &q.user).await?;
    let (first, this_week) = weeks(&state, &current, &sheet, &q.week).await?;
    let shown = parse_day_index(&q.day)?;
    let week = timesheet::week(&state.pool, &sheet, first).await?;
    let page = page(
        &state,
        &current,
        &sheet,
        &week,
        this_week,
        shown,
        &HashMap::new(),
        notice,
    )
    .await?;
    Ok(render(&page)?.into_response())
}

/// Rows one save may carry: far more than a week's grid shows, and a bound
/// on the work one request can ask for (each changed cell is a write).
pub const MAX_SAVED_ROWS: usize = 100;

/// `POST /timesheet`: every cell of the grid, as typed.
pub async fn save(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cells = fields.iter().filter(|(k, _)| k.starts_with("c.")).count();
    if cells > 7 * MAX_SAVED_ROWS {
        return Err(ValidationError::new(
            "cell",
            format!("One save holds at most {MAX_SAVED_ROWS} rows of a week ({} cells); this one had {cells}.", 7 * MAX_SAVED_ROWS),
        )
        .into());
    }
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let sheet = sheet(&state, &current, field("user")).await?;
    let (first, this_week) = weeks(&state, &current, &sheet, field("week")).await?;
    let before = timesheet::week(&state.pool, &sheet, first).await?;
    // Every cell as typed, for the page when the save is refused; the
    // changed ones to save.
    let mut typed: HashMap<CellKey, (String, String)> = HashMap::new();
    let (mut keys, mut inputs, mut unreadable) = (Vec::new(), Vec::new(), 0usize);
    for (name, raw) in &fields {
        if !name.starts_with("c.") {
            continue;
        }
        let key = CellKey::parse(name).ok_or_else(|| {
            ValidationError::new("cell", format!("The grid sent an unknown cell {name:?}."))
        })?;
        let seconds = match parse_cell(raw) {
            Ok(s) => s,
            Err(e) => {
                unreadable += 1;
                typed.insert(key, (raw.clone(), e.message));
                continue;
            }
        };
        typed.insert(key, (raw.clone(), String::new()));
        let now = before
            .row(key.project_id, key.task_id)
            .map(|r| r.cells[key.day])
            .unwrap_or_default();
        if now.running || now.seconds == seconds {
            continue;
        }
        keys.push(key);
        inputs.push(SetCell {
            project_id: key.project_id,
            task_id: key.task_id,
            day: before.days[key.day],
            seconds,
        });
    }
    let refused = if unreadable > 0 {
        unreadable
    } else {
        match timesheet::save_cells(&state.pool, &sheet, &inputs).await? {
            Ok(saved) => {
                let mut notice = match saved.changed() {
                    0 => "Nothing changed.".to_owned(),
                    1 => "1 cell saved.".to_owned(),
                    n => format!("{n} cells saved."),
                };
                for n in saved.notes() {
                    notice.push(' ');
                    notice.push_str(n);
                }
                return Ok(flash::redirect_local(
                    &state,
                    &week_path(&sheet, first),
                    &notice,
                ));
            }
            Err(timesheet::Refused(cells)) => {
                let count = cells.len();
                for (i, e) in cells {
                    let message = match e {
                        AppError::Validation(e) => e.message,
                        AppError::Conflict { message, .. } => message,
                        other => return Err(other),
                    };
                    if let Some(t) = typed.get_mut(&keys[i]) {
                        t.1 = message;
                    }
                }
                count
            }
        }
    };
    let week = timesheet::week(&state.pool, &sheet, first).await?;
    // On a phone the grid shows one day: open it on the first refused cell's.
    let first_refused = typed
        .iter()
        .filter(|(_, (_, message))| !message.is_empty())
        .map(|(key, _)| key.day)
        .min();
    let mut page = page(
        &state,
        &current,
        &sheet,
        &week,
        this_week,
        first_refused,
        &typed,
        None,
    )
    .await?;
    page.error = Some(match refused {
        1 => "Nothing was saved: one cell needs a change (see its message).".to_owned(),
        n => format!("Nothing was saved: {n} cells need a change (see their messages)."),
    });
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RowForm {
    week: String,
    user: String,
    project_id: String,
    task_id: String,
}

/// `POST /timesheet/rows`: adds a row to the week.
pub async fn add_row(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<RowForm>,
) -> Result<Response, AppError> {
    let sheet = sheet(&state, &current, &form.user).await?;
    let (first, _) = weeks(&state, &current, &sheet, &form.week).await?;
    let project_id = optional_id("project_id", &form.project_id)?
        .ok_or_else(|| ValidationError::new("project_id", "Choose a project."))?;
    let task_id = optional_id("task_id", &form.task_id)?;
    let added = timesheet::add_row(&state.pool, &sheet, first, project_id, task_id).await?;
    let notice = if added {
        "Row added."
    } else {
        "The week has that row already."
    };
    Ok(flash::redirect_local(
        &state,
        &week_path(&sheet, first),
        notice,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CopyForm {
    week: String,
    user: String,
    /// `rows` or `times`.
    copy: String,
}

/// `POST /timesheet/copy`: last week's rows, maybe with their times.
pub async fn copy(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<CopyForm>,
) -> Result<Response, AppError> {
    let sheet = sheet(&state, &current, &form.user).await?;
    let (first, _) = weeks(&state, &current, &sheet, &form.week).await?;
    let with_times = match form.copy.as_str() {
        "rows" => false,
        "times" => true,
        _ => {
            return Err(
                ValidationError::new("copy", "Copy rows, or rows with their times.").into(),
            );
        }
    };
    let copied = timesheet::copy_previous_week(&state.pool, &sheet, first, with_times).await?;
    let mut notice = format!(
        "Copied {} from last week{}.",
        plural(copied.rows_added, "new row", "new rows"),
        if with_times {
            format!(" and {}", plural(copied.cells_set, "cell", "cells"))
        } else {
            String::new()
        }
    );
    for r in &copied.refused {
        notice.push_str(" Not copied: ");
        notice.push_str(r);
    }
    Ok(flash::redirect_local(
        &state,
        &week_path(&sheet, first),
        &notice,
    ))
}

/// `&user=ID` when the sheet is someone else's week, else nothing.
fn user_param(sheet: &Sheet) -> String {
    if sheet.is_someone_elses() {
        format!("&user={}", sheet.person.user_id)
    } else {
        String::new()
    }
}

/// The sheet's week from `first`.
fn week_path(sheet: &Sheet, first: NaiveDate) -> LocalPath {
    LocalPath::or_root(&format!("/timesheet?week={first}{}", user_param(sheet)))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_names_round_trip_and_junk_is_refused() {
        let k = CellKey {
            project_id: 3,
            task_id: Some(9),
            day: 6,
        };
        assert_eq!(CellKey::parse(&k.name()), Some(k));
        let no_task = CellKey::parse("c.3.0.0").expect("no task");
        assert_eq!(no_task.task_id, None);
        for bad in [
            "c.3.0.7",
            "c.0.0.1",
            "c.3.-1.1",
            "c.3.0",
            "c.3.0.1.2",
            "x.3.0.1",
            "c.a.0.1",
        ] {
            assert_eq!(CellKey::parse(bad), None, "{bad}");
        }
    }
}
