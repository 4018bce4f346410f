//! Time entries: the filtered, paginated list, manual entry, edit and delete.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::{
    EntryRow, FieldErrors, Layout,
    confirm::{self, ConfirmForm, Question},
    flash::{self, Flash},
    optional_id, people_for, render,
};
use crate::{
    auth::CurrentUser,
    db::{self, entries::EntryFilter, projects::Project, tasks::Task, users::User},
    domain::{
        Permission, ValidationError,
        formats::LocalFormat,
        tracking::{EntryTimes, format_duration, parse_duration, split_tags, start_of_day},
    },
    error::AppError,
    http::extract::{Form, Path, Query},
    state::AppState,
    tracking::{Actor, entries},
};

const PAGE_SIZE: i64 = 50;

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ListQuery {
    from: String,
    to: String,
    project_id: String,
    user_id: String,
    page: Option<i64>,
}

/// One day of the entries page, with the time tracked that day on this page.
struct Day {
    label: String,
    subtotal: String,
    entries: Vec<EntryRow>,
}

/// Groups entries (newest first) into days in `tz`, each with its subtotal.
fn by_day(entries: &[db::entries::NamedEntry], format: &LocalFormat) -> Vec<Day> {
    let mut days: Vec<(chrono::NaiveDate, i64, Vec<EntryRow>)> = Vec::new();
    for e in entries {
        let day = e.entry.started_at.with_timezone(&format.tz).date_naive();
        let seconds = e.entry.duration_seconds.unwrap_or_default();
        match days.last_mut() {
            Some((d, total, rows)) if *d == day => {
                *total += seconds;
                rows.push(EntryRow::new(e, format));
            }
            _ => days.push((day, seconds, vec![EntryRow::new(e, format)])),
        }
    }
    days.into_iter()
        .map(|(day, seconds, entries)| Day {
            label: format.day_with_weekday(day),
            subtotal: format_duration(seconds),
            entries,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "entries.html")]
struct EntriesPage {
    layout: Layout,
    filter: ListQuery,
    projects: Vec<Project>,
    users: Vec<User>,
    /// Whether the viewer sees everyone's time (a person picker, a user column).
    sees_team: bool,
    /// The page's entries by day (in the viewer's timezone), newest first.
    days: Vec<Day>,
    total: i64,
    total_duration: String,
    page: i64,
    pages: i64,
    prev_page: Option<String>,
    next_page: Option<String>,
    error: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<ListQuery>,
    Flash(notice): Flash,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    let mut error = None;
    let mut filter = EntryFilter {
        user_id: Some(actor.user_id),
        ..Default::default()
    };
    if actor.can(Permission::ManageTeamTime) {
        filter.user_id = match query.user_id.as_str() {
            "" => Some(actor.user_id),
            "all" => None,
            id => Some(
                id.parse()
                    .map_err(|_| AppError::BadRequest("user_id must be a user id or all".into()))?,
            ),
        };
    }
    filter.project_id = optional_id("project_id", &query.project_id)?;
    for (raw, slot, shift) in [
        (&query.from, &mut filter.from, 0),
        (&query.to, &mut filter.to, 1),
    ] {
        if !raw.is_empty() {
            match actor.format.parse_day("date", raw) {
                Ok(d) => *slot = Some(start_of_day(d + Duration::days(shift), actor.timezone)),
                Err(e) => error = Some(e.message),
            }
        }
    }
    let page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let (rows, total) =
        db::entries::list(&state.pool, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let total_seconds = db::entries::list_seconds(&state.pool, &filter).await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let link = |p: i64| {
        let q = ListQuery {
            page: Some(p),
            ..query.clone()
        };
        format!(
            "/entries?{}",
            serde_urlencoded::to_string([
                ("from", q.from.as_str()),
                ("to", q.to.as_str()),
                ("project_id", q.project_id.as_str()),
                ("user_id", q.user_id.as_str()),
                ("page", &p.to_string()),
            ])
            .unwrap_or_default()
        )
    };
    // A bad filter still shows the page, with the message by the filter, but
    // says so in its status too.
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = render(&EntriesPage {
        layout: Layout::for_user("Entries", &current).with_notice(notice),
        projects: db::projects::list(&state.pool, true).await?,
        users: if actor.can(Permission::ManageTeamTime) {
            db::users::page(&state.pool, 500, 0).await?.0
        } else {
            Vec::new()
        },
        sees_team: actor.can(Permission::ManageTeamTime),
        days: by_day(&rows, &actor.format),
        total,
        total_duration: format_duration(total_seconds),
        page,
        pages,
        prev_page: (page > 1).then(|| link(page - 1)),
        next_page: (page < pages).then(|| link(page + 1)),
        error,
        filter: query,
    })?;
    Ok((status, body).into_response())
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct EntryForm {
    /// Whose entry a new one is: empty for the viewer's own; managers and
    /// administrators may choose anyone.
    user_id: String,
    project_id: String,
    task_id: String,
    start: String,
    end: String,
    duration: String,
    notes: String,
    tags: String,
    billable: String,
}

#[derive(Template)]
#[template(path = "entry_form.html")]
struct EntryFormPage {
    layout: Layout,
    editing: Option<i64>,
    form: EntryForm,
    /// Whom a new entry may be booked for: empty unless the viewer manages
    /// the team's time.
    people: Vec<User>,
    projects: Vec<Project>,
    tasks: Vec<Task>,
    timezone: String,
    errors: FieldErrors,
}

async fn form_page(
    state: &AppState,
    current: &CurrentUser,
    editing: Option<i64>,
    form: EntryForm,
    errors: Vec<ValidationError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let page = EntryFormPage {
        layout: Layout::for_user(
            if editing.is_some() {
                "Edit entry"
            } else {
                "Add an entry"
            },
            current,
        ),
        editing,
        form,
        people: if editing.is_none() {
            people_for(state, current).await?
        } else {
            Vec::new()
        },
        projects: db::projects::list(&state.pool, false).await?,
        tasks: db::tasks::open_for_pickers(&state.pool).await?,
        timezone: current.user.timezone.clone(),
        errors: errors.into(),
    };
    Ok((status, render(&page)?).into_response())
}

/// Turns the form into service input; errors name their field.
fn parse_form(form: &EntryForm, actor: &Actor) -> Result<entries::EntryInput, ValidationError> {
    let project_id = optional_id("project_id", &form.project_id)?
        .ok_or_else(|| ValidationError::new("project_id", "Choose a project."))?;
    let start = actor.format.parse_instant("start", &form.start)?;
    let end = if !form.duration.trim().is_empty() {
        EntryTimes::from_duration(start, parse_duration(&form.duration)?, Utc::now())?.end
    } else if !form.end.trim().is_empty() {
        actor.format.parse_instant("end", &form.end)?
    } else {
        return Err(ValidationError::new("end", "Enter an end or a duration."));
    };
    Ok(entries::EntryInput {
        project_id,
        task_id: optional_id("task_id", &form.task_id)?,
        start,
        end,
        notes: form.notes.clone(),
        tags: split_tags(&form.tags),
        billable: match form.billable.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
    })
}

/// Re-renders the form for a rule violation; other errors propagate.
async fn rejected(
    state: &AppState,
    current: &CurrentUser,
    editing: Option<i64>,
    form: EntryForm,
    error: AppError,
) -> Result<Response, AppError> {
    match error {
        AppError::Validation(e) => {
            form_page(
                state,
                current,
                editing,
                form,
                vec![e],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        AppError::Conflict { message, .. } => {
            form_page(
                state,
                current,
                editing,
                form,
                vec![ValidationError::new("form", message)],
                StatusCode::CONFLICT,
            )
            .await
        }
        e => Err(e),
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Response, AppError> {
    let format = Actor::from(&current).format;
    let now = Utc::now();
    let form = EntryForm {
        start: format.instant(now - Duration::hours(1)),
        end: format.instant(now),
        ..Default::default()
    };
    form_page(&state, &current, None, form, Vec::new(), StatusCode::OK).await
}

pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<EntryForm>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    let owner = optional_id("user_id", &form.user_id).map(|id| id.unwrap_or(actor.user_id));
    let result = match (owner, parse_form(&form, &actor)) {
        (Ok(owner), Ok(input)) => entries::create(&state.pool, &actor, owner, &input).await,
        (Err(e), _) | (_, Err(e)) => Err(e.into()),
    };
    match result {
        Ok(_) => Ok(flash::redirect(&state, "/entries", "Entry added.")),
        Err(e) => rejected(&state, &current, None, form, e).await,
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    let named = entries::get(&state.pool, &actor, id).await?;
    // Said before the person types anything: saving would be refused.
    let frozen: Vec<ValidationError> = named
        .invoice_number
        .iter()
        .map(|number| {
            ValidationError::new(
                "form",
                format!("This entry is on invoice {number}, so it cannot change. Cancel the invoice to change it."),
            )
        })
        .collect();
    let entry = named.entry;
    let local = |t: chrono::DateTime<Utc>| actor.format.instant(t);
    let form = EntryForm {
        project_id: entry.project_id.to_string(),
        task_id: entry.task_id.map(|t| t.to_string()).unwrap_or_default(),
        start: local(entry.started_at),
        end: entry.ended_at.map(local).unwrap_or_default(),
        duration: String::new(),
        notes: entry.notes,
        tags: entry.tags.join(", "),
        billable: if entry.billable { "yes" } else { "no" }.into(),
        // An edited entry keeps its owner.
        user_id: String::new(),
    };
    form_page(&state, &current, Some(id), form, frozen, StatusCode::OK).await
}

pub async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<EntryForm>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    // Check access first, so a stranger gets 404 rather than a validation message.
    entries::get(&state.pool, &actor, id).await?;
    let result = match parse_form(&form, &actor) {
        Ok(input) => entries::update(&state.pool, &actor, id, &input).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => Ok(flash::redirect(&state, "/entries", "Entry saved.")),
        Err(e) => rejected(&state, &current, Some(id), form, e).await,
    }
}

pub async fn delete(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    if !confirm.confirmed() {
        let row = EntryRow::new(&entries::get(&state.pool, &actor, id).await?, &actor.format);
        return confirm::page(
            &current,
            Question {
                question: &format!(
                    "Delete the entry of {} on {} ({})?",
                    row.start, row.project, row.duration
                ),
                consequence: "This cannot be undone.",
                action: &format!("/entries/{id}/delete"),
                button: "Delete entry",
                danger: true,
                cancel: "/entries",
                carry: &[],
            },
        );
    }
    entries::delete(&state.pool, &actor, id).await?;
    Ok(flash::redirect(&state, "/entries", "Entry deleted."))
}

/// `POST /entries/bulk`: one action on the selected entries (`ids`, repeated),
/// each done on its own; deleting asks first like a single delete.
pub async fn bulk(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let mut ids = Vec::new();
    for (k, v) in &pairs {
        if k == "ids" {
            ids.push(
                v.parse::<i64>()
                    .map_err(|_| ValidationError::new("ids", "Choose entries from the list."))?,
            );
        }
    }
    if ids.is_empty() {
        return Ok(flash::redirect(&state, "/entries", "Select entries first."));
    }
    let action = match field("action") {
        "delete" => entries::BulkAction::Delete,
        "move" => entries::BulkAction::MoveToProject(
            optional_id("project_id", field("project_id"))?.ok_or_else(|| {
                ValidationError::new("project_id", "Choose the project to move them to.")
            })?,
        ),
        "billable" => entries::BulkAction::SetBillable(true),
        "not_billable" => entries::BulkAction::SetBillable(false),
        _ => {
            return Err(ValidationError::new(
                "action",
                "Choose delete, move, billable or not billable.",
            )
            .into());
        }
    };
    if action == entries::BulkAction::Delete && field("confirm") != "yes" {
        let carry: Vec<(&str, String)> = ids
            .iter()
            .map(|id| ("ids", id.to_string()))
            .chain([("action", "delete".to_owned())])
            .collect();
        return confirm::page(
            &current,
            Question {
                question: &format!("Delete {} selected entries?", ids.len()),
                consequence: "This cannot be undone.",
                action: "/entries/bulk",
                button: "Delete entries",
                danger: true,
                cancel: "/entries",
                carry: &carry,
            },
        );
    }
    let outcomes = entries::bulk(&state.pool, &Actor::from(&current), &ids, action).await?;
    let done = outcomes.iter().filter(|(_, r)| r.is_ok()).count();
    let failed: Vec<String> = outcomes
        .iter()
        .filter_map(|(id, r)| r.as_ref().err().map(|e| format!("#{id}: {e}")))
        .collect();
    let verb = match action {
        entries::BulkAction::Delete => "deleted",
        entries::BulkAction::MoveToProject(_) => "moved",
        entries::BulkAction::SetBillable(_) => "changed",
    };
    let mut notice = format!("{done} entries {verb}.");
    if !failed.is_empty() {
        notice.push_str(&format!(
            " {} could not be changed: {}",
            failed.len(),
            failed.join("; ")
        ));
    }
    Ok(flash::redirect(&state, "/entries", &notice))
}
