//! The weekly timesheet: read a week, set a cell, add a row, copy last week.
//! The caller's own week, or with `user_id` (managers and administrators)
//! someone else's; always in its owner's timezone and week start.

use axum::extract::State;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ErrorEnvelope, Json};
use crate::{
    auth::CurrentUser,
    domain::{
        ValidationError,
        timesheet::{Change, format_cell, parse_cell},
    },
    error::AppError,
    http::extract::Query,
    state::AppState,
    tracking::{
        Actor,
        timesheet::{self, SetCell, Sheet, Week},
    },
};

/// A calendar day, `YYYY-MM-DD`, years 1900 to 9999.
fn day(field: &'static str, raw: &str) -> Result<NaiveDate, ValidationError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| crate::domain::tracking::SANE_YEARS.contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| {
            ValidationError::new(field, "Enter a real day, YYYY-MM-DD, years 1900 to 9999.")
        })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct WeekQuery {
    /// Any day of the week (`YYYY-MM-DD`); default: today.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    week: Option<String>,
    /// Whose week (managers and administrators); default: yours. Another
    /// user's week is not found for a plain user.
    #[param(minimum = 1)]
    user_id: Option<i64>,
}

/// A week of the grid.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimesheetWeek {
    /// Whose week it is.
    user_id: i64,
    /// The week's first day (the user's week start).
    first_day: NaiveDate,
    /// The seven days, from `first_day`.
    days: Vec<NaiveDate>,
    rows: Vec<TimesheetRow>,
    /// Seconds per day, over all rows.
    day_seconds: Vec<i64>,
    seconds: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimesheetRow {
    project_id: i64,
    project: String,
    task_id: Option<i64>,
    task: Option<String>,
    /// The project is archived: its cells cannot be set.
    read_only: bool,
    /// One per day, from `first_day`.
    cells: Vec<TimesheetCell>,
    seconds: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimesheetCell {
    date: NaiveDate,
    /// Finished time plus a running timer's time so far.
    seconds: i64,
    /// How many entries make it up.
    entries: usize,
    running: bool,
}

impl TimesheetWeek {
    fn new(sheet: &Sheet, w: Week) -> Self {
        Self {
            user_id: sheet.person.user_id,
            first_day: w.first_day,
            days: w.days.to_vec(),
            day_seconds: w.day_seconds.to_vec(),
            seconds: w.seconds,
            rows: w
                .rows
                .into_iter()
                .map(|r| TimesheetRow {
                    project_id: r.project_id,
                    project: r.project_name,
                    task_id: r.task_id,
                    task: r.task_name,
                    read_only: r.read_only,
                    seconds: r.seconds,
                    cells: r
                        .cells
                        .iter()
                        .zip(w.days)
                        .map(|(c, date)| TimesheetCell {
                            date,
                            seconds: c.seconds,
                            entries: c.entries,
                            running: c.running,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Whose week: `user_id`'s, or the caller's own.
async fn sheet(
    state: &AppState,
    current: &CurrentUser,
    user_id: Option<i64>,
) -> Result<Sheet, AppError> {
    Sheet::of(&state.pool, &Actor::from(current), user_id).await
}

async fn first_day(
    state: &AppState,
    sheet: &Sheet,
    week: Option<&str>,
) -> Result<NaiveDate, AppError> {
    let given = match week {
        Some(w) => day("week", w)?,
        None => Utc::now()
            .with_timezone(&sheet.person.timezone)
            .date_naive(),
    };
    timesheet::week_start(&state.pool, sheet, given).await
}

/// A week: a row per project (and task) put on it or tracked in it.
#[utoipa::path(get, path = "/api/v1/timesheet", tag = "timesheet", params(WeekQuery),
    responses((status = 200, body = TimesheetWeek), (status = 404, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(q): Query<WeekQuery>,
) -> Result<Json<TimesheetWeek>, AppError> {
    let sheet = sheet(&state, &current, q.user_id).await?;
    let first = first_day(&state, &sheet, q.week.as_deref()).await?;
    let week = timesheet::week(&state.pool, &sheet, first).await?;
    Ok(Json(TimesheetWeek::new(&sheet, week)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimesheetCellBody {
    /// Whose week (managers and administrators); default: yours.
    #[schema(minimum = 1)]
    #[serde(default)]
    user_id: Option<i64>,
    #[schema(minimum = 1)]
    project_id: i64,
    #[schema(minimum = 1)]
    task_id: Option<i64>,
    /// The day, `YYYY-MM-DD`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    date: String,
    /// The day's time for the row, as typed: `1:30`, `1h 30m`, `90m`, `1.5`,
    /// `1,5`; empty or `0` clears the cell.
    #[schema(max_length = 50)]
    duration: String,
}

/// What setting a cell did, and the totals afterwards.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimesheetCellSaved {
    /// `nothing`, `created`, `resized` or `deleted`.
    #[schema(pattern = "^(nothing|created|resized|deleted)$")]
    change: &'static str,
    /// The cell's time now.
    seconds: i64,
    /// How the cell shows it, e.g. `1:30`; empty when cleared.
    display: String,
    /// Said when one of several entries of the day absorbed the change.
    note: Option<String>,
    row_seconds: i64,
    day_seconds: i64,
    week_seconds: i64,
}

/// Sets a day's time for a row: creates, resizes or removes one entry so
/// the cell holds `duration`. 422 when the duration cannot be read, the
/// project is archived, or the change would drop detail (an entry with
/// notes, or one of several entries); 409 when it would overlap another entry.
#[utoipa::path(put, path = "/api/v1/timesheet/cells", tag = "timesheet", request_body = TimesheetCellBody,
    responses((status = 200, body = TimesheetCellSaved), (status = 409, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn set_cell(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<TimesheetCellBody>,
) -> Result<Json<TimesheetCellSaved>, AppError> {
    let sheet = sheet(&state, &current, body.user_id).await?;
    let date = day("date", &body.date)?;
    let seconds = parse_cell(&body.duration)?;
    let input = SetCell {
        project_id: body.project_id,
        task_id: body.task_id,
        day: date,
        seconds,
    };
    let saved = match timesheet::save_cells(&state.pool, &sheet, &[input]).await? {
        Ok(saved) => saved.cells.into_iter().next().ok_or(AppError::NotFound)?,
        Err(timesheet::Refused(mut cells)) => return Err(cells.swap_remove(0).1),
    };
    let first = timesheet::week_start(&state.pool, &sheet, date).await?;
    let week = timesheet::week(&state.pool, &sheet, first).await?;
    let i = week.index_of(date).unwrap_or_default();
    let row = week.row(body.project_id, body.task_id);
    let cell = row.map(|r| r.cells[i].seconds).unwrap_or_default();
    Ok(Json(TimesheetCellSaved {
        change: match saved.change {
            Change::Nothing => "nothing",
            Change::Create { .. } => "created",
            Change::Resize { .. } => "resized",
            Change::Delete { .. } => "deleted",
        },
        seconds: cell,
        display: format_cell(cell),
        note: saved.note,
        row_seconds: row.map(|r| r.seconds).unwrap_or_default(),
        day_seconds: week.day_seconds[i],
        week_seconds: week.seconds,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimesheetRowBody {
    /// Whose week (managers and administrators); default: yours.
    #[schema(minimum = 1)]
    #[serde(default)]
    user_id: Option<i64>,
    /// Any day of the week, `YYYY-MM-DD`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    week: String,
    #[schema(minimum = 1)]
    project_id: i64,
    #[schema(minimum = 1)]
    task_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimesheetRowAdded {
    /// `false` when the week had the row already.
    added: bool,
}

/// Puts a row (an active project, maybe one of its tasks) on a week, so it
/// shows while its cells are empty.
#[utoipa::path(post, path = "/api/v1/timesheet/rows", tag = "timesheet", request_body = TimesheetRowBody,
    responses((status = 200, body = TimesheetRowAdded), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn add_row(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<TimesheetRowBody>,
) -> Result<Json<TimesheetRowAdded>, AppError> {
    let sheet = sheet(&state, &current, body.user_id).await?;
    let first = first_day(&state, &sheet, Some(&body.week)).await?;
    let added =
        timesheet::add_row(&state.pool, &sheet, first, body.project_id, body.task_id).await?;
    Ok(Json(TimesheetRowAdded { added }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimesheetCopyBody {
    /// Whose week (managers and administrators); default: yours.
    #[schema(minimum = 1)]
    #[serde(default)]
    user_id: Option<i64>,
    /// Any day of the week to copy into, `YYYY-MM-DD`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    week: String,
    /// Also copy the times into cells that are still empty.
    #[serde(default)]
    with_times: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimesheetCopied {
    rows_added: usize,
    cells_set: usize,
    /// Why some cells were not copied.
    refused: Vec<String>,
}

/// Copies the previous week's rows (of active projects) onto a week, and
/// with `with_times` their times into the cells that are still empty.
#[utoipa::path(post, path = "/api/v1/timesheet/copy", tag = "timesheet", request_body = TimesheetCopyBody,
    responses((status = 200, body = TimesheetCopied), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn copy(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<TimesheetCopyBody>,
) -> Result<Json<TimesheetCopied>, AppError> {
    let sheet = sheet(&state, &current, body.user_id).await?;
    let first = first_day(&state, &sheet, Some(&body.week)).await?;
    let c = timesheet::copy_previous_week(&state.pool, &sheet, first, body.with_times).await?;
    Ok(Json(TimesheetCopied {
        rows_added: c.rows_added,
        cells_set: c.cells_set,
        refused: c.refused,
    }))
}
