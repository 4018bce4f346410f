//! The weekly timesheet: one user's week as a grid of rows (a project and
//! maybe a task) by days, and the actions on it. A cell is the time of one
//! row on one day; setting it creates, resizes or removes entries by the
//! rules of [`crate::domain::timesheet::reconcile`], with the same checks
//! as the entry forms. A save (the grid, one API cell, a copied week) is one
//! transaction with one summarising `timesheet.saved` event.

use crate::observability::metrics::TIME_ENTRIES_CREATED;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

use super::{
    Actor,
    entries::{check_project_and_task, checked, lock_for_write, refuse_overlap},
};
use crate::{
    analytics::{Event, record},
    db::{self, timesheet::WeekEntry},
    domain::{
        ValidationError,
        timesheet::{CellEntry, Change, DAYS, day_of, days, new_entry_start, reconcile, week_of},
        tracking::{EntryTimes, SANE_YEARS, start_of_day},
    },
    error::AppError,
};

/// Whose week, and who acts on it: a person's own week, or (for those who
/// manage the team's time) someone else's, read in that person's timezone
/// and week start. Holding one is the proof that the actor may.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// The user acting: their consent governs the save's event.
    acting: i64,
    /// The user whose week it is.
    pub person: Actor,
}

impl Sheet {
    /// The actor's own week.
    pub fn own(actor: &Actor) -> Self {
        Self {
            acting: actor.user_id,
            person: actor.clone(),
        }
    }

    /// The week of `user_id` (`None`: the actor's own). Someone else's is
    /// for those who manage the team's time; to others, and for an unknown
    /// or deactivated person, it is not found.
    pub async fn of(pool: &PgPool, actor: &Actor, user_id: Option<i64>) -> Result<Self, AppError> {
        let Some(id) = user_id.filter(|id| *id != actor.user_id) else {
            return Ok(Self::own(actor));
        };
        actor.require_owner(id)?;
        let person = db::users::by_id(pool, id)
            .await?
            .filter(|u| u.active)
            .ok_or(AppError::NotFound)?;
        Ok(Self {
            acting: actor.user_id,
            person: Actor::from(&person),
        })
    }

    /// Whether it is someone else's week.
    pub fn is_someone_elses(&self) -> bool {
        self.acting != self.person.user_id
    }
}

/// A week of the grid.
#[derive(Debug, Clone)]
pub struct Week {
    pub first_day: NaiveDate,
    pub days: [NaiveDate; DAYS],
    pub rows: Vec<Row>,
    /// Seconds per day over all rows.
    pub day_seconds: [i64; DAYS],
    pub seconds: i64,
}

/// A project (and maybe one of its tasks) across the week.
#[derive(Debug, Clone)]
pub struct Row {
    pub project_id: i64,
    pub project_name: String,
    pub client_name: Option<String>,
    pub task_id: Option<i64>,
    pub task_name: Option<String>,
    /// An archived project's time is shown, not changed.
    pub read_only: bool,
    pub cells: [Cell; DAYS],
    pub seconds: i64,
}

/// One row on one day.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cell {
    /// Finished time, plus a running timer's time so far.
    pub seconds: i64,
    pub entries: usize,
    pub running: bool,
}

impl Row {
    fn key(&self) -> (i64, Option<i64>) {
        (self.project_id, self.task_id)
    }
}

impl Week {
    /// The row of a project and task, if the week has it.
    pub fn row(&self, project_id: i64, task_id: Option<i64>) -> Option<&Row> {
        self.rows.iter().find(|r| r.key() == (project_id, task_id))
    }

    /// The index of `day` in the week.
    pub fn index_of(&self, day: NaiveDate) -> Option<usize> {
        self.days.iter().position(|d| *d == day)
    }
}

/// Whether the actor's weeks start on Sunday (their profile, else the installation's setting).
pub fn sunday_first(actor: &Actor, installation_week_start: &str) -> bool {
    actor
        .week_start
        .as_deref()
        .unwrap_or(installation_week_start)
        == "sunday"
}

/// The first day of the person's week that holds `day`.
pub async fn week_start(
    pool: &PgPool,
    sheet: &Sheet,
    day: NaiveDate,
) -> Result<NaiveDate, AppError> {
    let settings = db::settings::load(pool).await?;
    Ok(week_of(
        day,
        sunday_first(&sheet.person, &settings.week_start),
    ))
}

fn check_day(field: &'static str, day: NaiveDate) -> Result<(), ValidationError> {
    if SANE_YEARS.contains(&chrono::Datelike::year(&day)) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "Enter a year between 1900 and 9999.",
        ))
    }
}

/// The person's week from `first_day` (already a week start): the rows they
/// put on it and every row with an entry in it, by project and task name.
pub async fn week(pool: &PgPool, sheet: &Sheet, first_day: NaiveDate) -> Result<Week, AppError> {
    check_day("week", first_day)?;
    let person = &sheet.person;
    let tz = person.timezone;
    let days = days(first_day);
    let from = start_of_day(first_day, tz);
    let to = start_of_day(first_day + Duration::days(DAYS as i64), tz);
    let (entries, stored) = tokio::try_join!(
        db::timesheet::week_entries(pool, person.user_id, from, to),
        db::timesheet::rows(pool, person.user_id, first_day),
    )?;
    let now = Utc::now();
    let mut rows: Vec<Row> = Vec::new();
    for s in stored {
        ensure(
            &mut rows,
            Row {
                project_id: s.project_id,
                project_name: s.project_name,
                client_name: s.client_name,
                task_id: s.task_id,
                task_name: s.task_name,
                read_only: s.project_archived,
                cells: Default::default(),
                seconds: 0,
            },
        );
    }
    let mut day_seconds = [0i64; DAYS];
    for e in entries {
        let Some(i) = days.iter().position(|d| *d == day_of(e.started_at, tz)) else {
            continue;
        };
        let seconds = running_or_finished(&e, now);
        let at = ensure(&mut rows, row_of(&e));
        let row = &mut rows[at];
        let cell = &mut row.cells[i];
        cell.seconds += seconds;
        cell.entries += 1;
        cell.running |= e.duration_seconds.is_none();
        row.seconds += seconds;
        day_seconds[i] += seconds;
    }
    rows.sort_by(|a, b| {
        (
            a.project_name.to_lowercase(),
            a.task_name.as_deref().map(str::to_lowercase),
        )
            .cmp(&(
                b.project_name.to_lowercase(),
                b.task_name.as_deref().map(str::to_lowercase),
            ))
    });
    Ok(Week {
        first_day,
        days,
        rows,
        seconds: day_seconds.iter().sum(),
        day_seconds,
    })
}

/// The index of `r`'s row in `rows`, added when missing.
fn ensure(rows: &mut Vec<Row>, r: Row) -> usize {
    match rows.iter().position(|x| x.key() == r.key()) {
        Some(i) => i,
        None => {
            rows.push(r);
            rows.len() - 1
        }
    }
}

fn running_or_finished(e: &WeekEntry, now: DateTime<Utc>) -> i64 {
    e.duration_seconds
        .unwrap_or_else(|| (now - e.started_at).num_seconds().max(0))
}

fn row_of(e: &WeekEntry) -> Row {
    Row {
        project_id: e.project_id,
        project_name: e.project_name.clone(),
        client_name: e.client_name.clone(),
        task_id: e.task_id,
        task_name: e.task_name.clone(),
        read_only: e.project_archived,
        cells: Default::default(),
        seconds: 0,
    }
}

/// A cell to set: this row on this day totals `seconds` afterwards.
#[derive(Debug, Clone, Copy)]
pub struct SetCell {
    pub project_id: i64,
    pub task_id: Option<i64>,
    pub day: NaiveDate,
    pub seconds: i64,
}

/// What setting a cell did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellSaved {
    pub change: Change,
    /// Said when one of several entries absorbed the change.
    pub note: Option<String>,
}

/// What a save did, cell by cell in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Saved {
    pub cells: Vec<CellSaved>,
}

impl Saved {
    /// Cells whose entries changed.
    pub fn changed(&self) -> usize {
        self.cells
            .iter()
            .filter(|c| c.change != Change::Nothing)
            .count()
    }

    /// What the save said about cells where one of several entries absorbed
    /// the change.
    pub fn notes(&self) -> impl Iterator<Item = &str> {
        self.cells.iter().filter_map(|c| c.note.as_deref())
    }

    fn count(&self, of: fn(&Change) -> bool) -> usize {
        self.cells.iter().filter(|c| of(&c.change)).count()
    }

    /// The one event that sums up a save, or none when nothing changed.
    fn event(&self) -> Option<Event> {
        let changed = self.changed();
        (changed > 0).then(|| Event::TimesheetSaved {
            cells_changed: changed,
            entries_created: self.count(|c| matches!(c, Change::Create { .. })),
            entries_resized: self.count(|c| matches!(c, Change::Resize { .. })),
            entries_deleted: self.count(|c| matches!(c, Change::Delete { .. })),
        })
    }
}

/// The cells a save refused, each by its index in the cells given and the
/// reason (a 422 or 409 error); nothing of that save was kept.
#[derive(Debug)]
pub struct Refused(pub Vec<(usize, AppError)>);

/// Sets cells of the sheet's week in one transaction: every cell is
/// saved, or (when any is refused) none is, and every refused cell is named.
/// One `timesheet.saved` event sums the save up. Errors other than a cell's
/// 422 or 409 (a lost database, an unknown project) end the save at once.
pub async fn save_cells(
    pool: &PgPool,
    sheet: &Sheet,
    cells: &[SetCell],
) -> Result<Result<Saved, Refused>, AppError> {
    let mut tx = pool.begin().await?;
    let mut saved = Saved::default();
    let mut refused = Vec::new();
    for (i, input) in cells.iter().enumerate() {
        match apply_cell_alone(&mut tx, &sheet.person, *input).await {
            Ok(cell) => saved.cells.push(cell),
            Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
                refused.push((i, e));
            }
            Err(e) => return Err(e),
        }
    }
    if !refused.is_empty() {
        tx.rollback().await?;
        return Ok(Err(Refused(refused)));
    }
    finish(tx, sheet, &saved).await?;
    Ok(Ok(saved))
}

/// Records the save's event and commits it.
async fn finish(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    sheet: &Sheet,
    saved: &Saved,
) -> Result<(), AppError> {
    if let Some(event) = saved.event() {
        record(&mut tx, Some(sheet.acting), &event).await?;
    }
    tx.commit().await?;
    let created = saved.count(|c| matches!(c, Change::Create { .. }));
    metrics::counter!(TIME_ENTRIES_CREATED, "source" => "manual").increment(created as u64);
    Ok(())
}

/// [`apply_cell`] inside a savepoint: a refusal, whether the checks' or the
/// database's (the trigger that freezes an invoiced entry aborts the
/// statement, and with it the transaction), undoes only this cell's writes
/// and leaves the transaction usable for the next cell.
async fn apply_cell_alone(
    conn: &mut PgConnection,
    person: &Actor,
    input: SetCell,
) -> Result<CellSaved, AppError> {
    let mut cell = sqlx::Connection::begin(conn).await?;
    match apply_cell(&mut cell, person, input).await {
        Ok(saved) => {
            cell.commit().await?;
            Ok(saved)
        }
        Err(e) => {
            cell.rollback().await?;
            Err(e)
        }
    }
}

/// Sets one cell of `person`'s week inside `conn`'s transaction, and
/// keeps its row on the week. A 422 or 409 of its own checks comes before
/// any write; the database may still refuse one (an invoiced entry).
async fn apply_cell(
    conn: &mut PgConnection,
    person: &Actor,
    input: SetCell,
) -> Result<CellSaved, AppError> {
    check_day("date", input.day)?;
    let tz = person.timezone;
    let from = start_of_day(input.day, tz);
    let to = start_of_day(input.day + Duration::days(1), tz);
    let context = lock_for_write(conn, person.user_id, input.project_id, input.task_id).await?;
    if context.project.as_ref().is_some_and(|p| p.archived) {
        return Err(ValidationError::new(
            "project_id",
            "This project is archived: its time can be read, not changed.",
        )
        .into());
    }
    let (settings, project) = checked(context, input.task_id)?;
    let cell: Vec<CellEntry> = db::timesheet::cell_entries(
        conn,
        person.user_id,
        input.project_id,
        input.task_id,
        from,
        to,
    )
    .await?
    .into_iter()
    .map(|e| CellEntry {
        id: e.id,
        start: e.started_at,
        seconds: e.duration_seconds,
        has_detail: e.has_detail,
    })
    .collect();
    let plan = reconcile(&cell, input.seconds)?;
    let now = Utc::now();
    match plan.change {
        Change::Nothing => {}
        Change::Create { seconds } => {
            let latest = db::timesheet::latest_end(conn, person.user_id, from, to).await?;
            let start = new_entry_start(input.day, tz, latest)?;
            let times = EntryTimes::from_duration(start, seconds, now)?;
            refuse_overlap(conn, &settings, person.user_id, &times, None).await?;
            let fields = db::entries::EntryFields {
                user_id: person.user_id,
                project_id: project.id,
                task_id: input.task_id,
                started_at: times.start,
                ended_at: Some(times.end),
                notes: "",
                tags: &[],
                billable: project.billable,
                source: "manual",
            };
            db::entries::insert(conn, &fields).await?;
        }
        Change::Resize { id, seconds } => {
            let start = cell
                .iter()
                .find(|e| e.id == id)
                .map(|e| e.start)
                .ok_or(AppError::NotFound)?;
            let times = EntryTimes::from_duration(start, seconds, now)?;
            refuse_overlap(conn, &settings, person.user_id, &times, Some(id)).await?;
            db::timesheet::set_end(conn, id, times.end).await?;
        }
        Change::Delete { id } => {
            db::entries::delete(conn, id).await?;
        }
    }
    let first_day = week_of(input.day, sunday_first(person, &settings.week_start));
    db::timesheet::add_row(
        conn,
        person.user_id,
        first_day,
        input.project_id,
        input.task_id,
    )
    .await?;
    Ok(CellSaved {
        change: plan.change,
        note: plan.note,
    })
}

/// Puts a row (an active project, maybe one of its tasks) on the person's
/// week from `first_day`; `false` when the week had it already.
pub async fn add_row(
    pool: &PgPool,
    sheet: &Sheet,
    first_day: NaiveDate,
    project_id: i64,
    task_id: Option<i64>,
) -> Result<bool, AppError> {
    check_day("week", first_day)?;
    let mut tx = pool.begin().await?;
    check_project_and_task(&mut tx, project_id, task_id).await?;
    let added = db::timesheet::add_row(
        &mut tx,
        sheet.person.user_id,
        first_day,
        project_id,
        task_id,
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// What copying the previous week did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    pub rows_added: usize,
    pub cells_set: usize,
    /// Cells that could not be set, each with the reason.
    pub refused: Vec<String>,
}

/// Copies the previous week's rows (of active projects) onto the week from
/// `first_day`, and with `with_times` also their times into the cells that
/// are still empty; a cell that already holds time is left alone.
pub async fn copy_previous_week(
    pool: &PgPool,
    sheet: &Sheet,
    first_day: NaiveDate,
    with_times: bool,
) -> Result<Copied, AppError> {
    check_day("week", first_day)?;
    let previous = week(pool, sheet, first_day - Duration::days(DAYS as i64)).await?;
    let current = week(pool, sheet, first_day).await?;
    let person = &sheet.person;
    let mut copied = Copied::default();
    let mut saved = Saved::default();
    let mut tx = pool.begin().await?;
    for row in previous.rows.iter().filter(|r| !r.read_only) {
        if db::timesheet::add_row(
            &mut tx,
            person.user_id,
            first_day,
            row.project_id,
            row.task_id,
        )
        .await?
        {
            copied.rows_added += 1;
        }
        if !with_times {
            continue;
        }
        for (i, cell) in row.cells.iter().enumerate() {
            let empty = current
                .row(row.project_id, row.task_id)
                .is_none_or(|r| r.cells[i].entries == 0);
            if cell.seconds == 0 || cell.running || !empty {
                continue;
            }
            let input = SetCell {
                project_id: row.project_id,
                task_id: row.task_id,
                day: current.days[i],
                seconds: cell.seconds,
            };
            // A refused cell has written nothing (`apply_cell_alone`), so
            // the others are kept.
            match apply_cell_alone(&mut tx, person, input).await {
                Ok(cell) => {
                    copied.cells_set += 1;
                    saved.cells.push(cell);
                }
                Err(AppError::Validation(e)) => copied.refused.push(e.message),
                Err(AppError::Conflict { message, .. }) => copied.refused.push(message),
                Err(e) => return Err(e),
            }
        }
    }
    finish(tx, sheet, &saved).await?;
    Ok(copied)
}
