//! Clients, projects and tasks pages. Everyone sees them; managers and administrators change them
//! (`CatalogManager`) and alone see the rates.
//!
//! Rule: the three share one set of handlers ([`create`], [`edit`],
//! [`update`], [`archive`], [`delete`], generic over [`CataloguePage`]); a
//! resource brings only what differs: its form, its page and its words.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, de::DeserializeOwned};

use super::{
    FieldErrors, Layout,
    confirm::{self, ConfirmForm, Question},
    flash::{self, Flash},
    optional_id, render,
};
use crate::{
    auth::{CatalogManager, CurrentUser},
    db::{self, clients::Client, projects::Project, tasks::Task, users::User},
    domain::{
        Permission, ValidationError,
        formats::LocalFormat,
        tracking::{format_cents, format_duration, parse_cents},
    },
    error::AppError,
    http::extract::{Form, Path, Query},
    state::AppState,
    tracking::{
        Actor,
        catalog::{
            self, Archivable, ClientInput, Clients, ProjectInput, Projects, Resource,
            TASK_STATUSES, TaskInput, TaskPriority, Tasks,
        },
    },
};

/// Turns a rule violation into form errors (422/409); other errors propagate.
fn form_errors(error: AppError) -> Result<(StatusCode, Vec<ValidationError>), AppError> {
    match error {
        AppError::Validation(e) => Ok((StatusCode::UNPROCESSABLE_ENTITY, vec![e])),
        AppError::Conflict { message, .. } => Ok((
            StatusCode::CONFLICT,
            vec![ValidationError::new("form", message)],
        )),
        e => Err(e),
    }
}

/// What a catalogue page adds to a [`Resource`]: its form, its page and its words.
pub trait CataloguePage: Resource + Send + Sync + 'static {
    /// The list page, `/clients`; items live under `{PATH}/{id}/…`.
    const PATH: &'static str;
    /// For notices: `Client`.
    const TITLE: &'static str;
    /// What deleting one means, for the confirmation.
    const DELETE_CONSEQUENCE: &'static str;
    type Form: DeserializeOwned + Default + Send + 'static;

    /// The form as the service reads it.
    fn input(form: &Self::Form, format: &LocalFormat) -> Result<Self::Input, ValidationError>;

    /// The page with its form: a new item (`editing` none) or the item being
    /// edited, the form's errors and the status to answer with.
    fn page(
        state: &AppState,
        current: &CurrentUser,
        notice: Option<String>,
        editing: Option<i64>,
        form: Self::Form,
        errors: Vec<ValidationError>,
        status: StatusCode,
    ) -> impl Future<Output = Result<Response, AppError>> + Send;

    /// The form filled in from the stored item; `NotFound` when there is none.
    fn form_of(
        state: &AppState,
        current: &CurrentUser,
        id: i64,
    ) -> impl Future<Output = Result<Self::Form, AppError>> + Send;

    /// The item as the delete question names it: `the client “Acme”`.
    fn describe(state: &AppState, id: i64)
    -> impl Future<Output = Result<String, AppError>> + Send;

    /// The notice after archiving.
    fn archived_notice() -> String {
        format!("{} archived.", Self::TITLE)
    }
}

/// `POST {PATH}`: a new item.
pub async fn create<R: CataloguePage>(
    State(state): State<AppState>,
    editor: CatalogManager,
    Form(form): Form<R::Form>,
) -> Result<Response, AppError> {
    // Authorisation (the extractor) before validation: a user learns nothing from the form.
    let current = editor.0;
    let actor = Actor::from(&current);
    let result = match R::input(&form, &actor.format) {
        Ok(input) => catalog::create::<R>(&state.pool, &actor, &input)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(flash::redirect(
            &state,
            R::PATH,
            &format!("{} created.", R::TITLE),
        )),
        Err(e) => {
            let (status, errors) = form_errors(e)?;
            R::page(&state, &current, None, None, form, errors, status).await
        }
    }
}

/// `GET {PATH}/{id}/edit`: the page with the form filled in from the item.
pub async fn edit<R: CataloguePage>(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let form = R::form_of(&state, &editor.0, id).await?;
    R::page(
        &state,
        &editor.0,
        None,
        Some(id),
        form,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST {PATH}/{id}/edit`.
pub async fn update<R: CataloguePage>(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
    Form(form): Form<R::Form>,
) -> Result<Response, AppError> {
    let current = editor.0;
    let actor = Actor::from(&current);
    let result = match R::input(&form, &actor.format) {
        Ok(input) => catalog::update::<R>(&state.pool, &actor, id, &input).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(flash::redirect(
            &state,
            R::PATH,
            &format!("{} saved.", R::TITLE),
        )),
        Err(e) => {
            let (status, errors) = form_errors(e)?;
            R::page(&state, &current, None, Some(id), form, errors, status).await
        }
    }
}

/// `POST {PATH}/{id}/archive`.
pub async fn archive<R: CataloguePage + Archivable>(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    catalog::archive::<R>(&state.pool, &Actor::from(&editor.0), id, true).await?;
    Ok(flash::redirect(&state, R::PATH, &R::archived_notice()))
}

/// `POST {PATH}/{id}/unarchive`.
pub async fn unarchive<R: CataloguePage + Archivable>(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    catalog::archive::<R>(&state.pool, &Actor::from(&editor.0), id, false).await?;
    Ok(flash::redirect(
        &state,
        R::PATH,
        &format!("{} restored.", R::TITLE),
    ))
}

/// `POST {PATH}/{id}/delete`, after a confirmation.
pub async fn delete<R: CataloguePage>(
    State(state): State<AppState>,
    editor: CatalogManager,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let current = editor.0;
    if !confirm.confirmed() {
        let what = R::describe(&state, id).await?;
        return confirm::page(
            &current,
            Question {
                question: &format!("Delete {what}?"),
                consequence: R::DELETE_CONSEQUENCE,
                action: &format!("{}/{id}/delete", R::PATH),
                button: &format!("Delete {}", R::NOUN),
                danger: true,
                cancel: R::PATH,
                carry: &[],
            },
        );
    }
    catalog::delete::<R>(&state.pool, &Actor::from(&current), id).await?;
    Ok(flash::redirect(
        &state,
        R::PATH,
        &format!("{} deleted.", R::TITLE),
    ))
}

// ---- clients ----

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ClientForm {
    name: String,
    contact_name: String,
    email: String,
    phone: String,
    default_hourly_rate: String,
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    layout: Layout,
    /// Each client with its default rate as `12.50`.
    clients: Vec<(Client, Option<String>)>,
    /// Whether the viewer may change the catalogue (the forms and actions).
    manages_catalog: bool,
    /// Whether the viewer sees hourly rates (a column of the table).
    sees_rates: bool,
    currency: String,
    editing: Option<i64>,
    form: ClientForm,
    errors: FieldErrors,
}

impl CataloguePage for Clients {
    const PATH: &'static str = "/clients";
    const TITLE: &'static str = "Client";
    const DELETE_CONSEQUENCE: &'static str =
        "This cannot be undone. A client with projects cannot be deleted; archive it instead.";
    type Form = ClientForm;

    fn input(f: &ClientForm, _: &LocalFormat) -> Result<ClientInput, ValidationError> {
        Ok(ClientInput {
            name: f.name.clone(),
            contact_name: f.contact_name.clone(),
            email: f.email.clone(),
            phone: f.phone.clone(),
            default_hourly_rate_cents: parse_cents("default_hourly_rate", &f.default_hourly_rate)?,
        })
    }

    async fn page(
        state: &AppState,
        current: &CurrentUser,
        notice: Option<String>,
        editing: Option<i64>,
        form: ClientForm,
        errors: Vec<ValidationError>,
        status: StatusCode,
    ) -> Result<Response, AppError> {
        let sees_rates = current.user.can(Permission::SeeRates);
        let page = ClientsPage {
            layout: Layout::for_user("Clients", current).with_notice(notice),
            clients: db::clients::list(&state.pool, true)
                .await?
                .into_iter()
                .map(|c| {
                    let rate = c
                        .default_hourly_rate_cents
                        .filter(|_| sees_rates)
                        .map(format_cents);
                    (c, rate)
                })
                .collect(),
            manages_catalog: current.user.can(Permission::ManageCatalog),
            sees_rates,
            currency: db::settings::load(&state.pool).await?.currency,
            editing,
            form,
            errors: errors.into(),
        };
        Ok((status, render(&page)?).into_response())
    }

    async fn form_of(state: &AppState, _: &CurrentUser, id: i64) -> Result<ClientForm, AppError> {
        let c = db::clients::get(&state.pool, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(ClientForm {
            name: c.name,
            contact_name: c.contact_name,
            email: c.email,
            phone: c.phone,
            default_hourly_rate: c
                .default_hourly_rate_cents
                .map(format_cents)
                .unwrap_or_default(),
        })
    }

    async fn describe(state: &AppState, id: i64) -> Result<String, AppError> {
        let c = db::clients::get(&state.pool, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(format!("the client “{}”", c.name))
    }
}

pub async fn clients(
    State(state): State<AppState>,
    current: CurrentUser,
    Flash(n): Flash,
) -> Result<Response, AppError> {
    Clients::page(
        &state,
        &current,
        n,
        None,
        ClientForm::default(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

// ---- projects ----

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ProjectForm {
    name: String,
    client_id: String,
    billable: String,
    hourly_rate: String,
    estimated_hours: String,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    layout: Layout,
    projects: Vec<ProjectRow>,
    clients: Vec<Client>,
    /// Whether the viewer may change the catalogue (the forms and actions).
    manages_catalog: bool,
    /// Whether the viewer sees hourly rates (a column of the table).
    sees_rates: bool,
    currency: String,
    editing: Option<i64>,
    form: ProjectForm,
    errors: FieldErrors,
}

/// A project as its table row shows it, formatted before the template.
struct ProjectRow {
    project: Project,
    /// The hourly rate as `12.50`.
    rate: Option<String>,
    /// Tracked time as h:mm:ss.
    tracked: String,
    /// The estimate in hours (`2.5`), and the share of it tracked so far.
    estimate: Option<Estimate>,
}

struct Estimate {
    hours: String,
    percent: i64,
    /// The meter's value: the percentage, at most 100.
    meter: i64,
    over: bool,
}

impl ProjectRow {
    /// The row; without `sees_rates` it has no rate.
    fn new(project: Project, tracked_seconds: i64, sees_rates: bool) -> Self {
        let estimate = project.estimated_seconds.filter(|e| *e > 0).map(|seconds| {
            let percent = tracked_seconds * 100 / seconds;
            Estimate {
                hours: format!("{}", seconds as f64 / 3600.0),
                percent,
                meter: percent.min(100),
                over: percent > 100,
            }
        });
        Self {
            rate: project
                .hourly_rate_cents
                .filter(|_| sees_rates)
                .map(format_cents),
            tracked: format_duration(tracked_seconds),
            estimate,
            project,
        }
    }
}

impl CataloguePage for Projects {
    const PATH: &'static str = "/projects";
    const TITLE: &'static str = "Project";
    const DELETE_CONSEQUENCE: &'static str =
        "This cannot be undone. A project with time entries cannot be deleted; archive it instead.";
    type Form = ProjectForm;

    fn input(f: &ProjectForm, _: &LocalFormat) -> Result<ProjectInput, ValidationError> {
        let estimated = f.estimated_hours.trim().replace(',', ".");
        let estimated_seconds = if estimated.is_empty() {
            None
        } else {
            let hours: f64 = estimated
                .parse()
                .ok()
                .filter(|h: &f64| h.is_finite() && *h >= 0.0 && *h <= 1_000_000.0)
                .ok_or_else(|| {
                    ValidationError::new("estimated_hours", "Enter hours like 40 or 12.5.")
                })?;
            Some((hours * 3600.0).round() as i64)
        };
        Ok(ProjectInput {
            name: f.name.clone(),
            client_id: optional_id("client_id", &f.client_id)?,
            billable: f.billable == "on",
            hourly_rate_cents: parse_cents("hourly_rate", &f.hourly_rate)?,
            estimated_seconds,
        })
    }

    async fn page(
        state: &AppState,
        current: &CurrentUser,
        notice: Option<String>,
        editing: Option<i64>,
        form: ProjectForm,
        errors: Vec<ValidationError>,
        status: StatusCode,
    ) -> Result<Response, AppError> {
        let sees_rates = current.user.can(Permission::SeeRates);
        let page = ProjectsPage {
            layout: Layout::for_user("Projects", current).with_notice(notice),
            projects: {
                let tracked: std::collections::HashMap<i64, i64> =
                    db::projects::tracked_seconds(&state.pool)
                        .await?
                        .into_iter()
                        .collect();
                db::projects::list(&state.pool, true)
                    .await?
                    .into_iter()
                    .map(|p| {
                        let seconds = tracked.get(&p.id).copied().unwrap_or(0);
                        ProjectRow::new(p, seconds, sees_rates)
                    })
                    .collect()
            },
            clients: db::clients::list(&state.pool, false).await?,
            manages_catalog: current.user.can(Permission::ManageCatalog),
            sees_rates,
            currency: db::settings::load(&state.pool).await?.currency,
            editing,
            form,
            errors: errors.into(),
        };
        Ok((status, render(&page)?).into_response())
    }

    async fn form_of(state: &AppState, _: &CurrentUser, id: i64) -> Result<ProjectForm, AppError> {
        let p = db::projects::get(&mut *state.pool.acquire().await?, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(ProjectForm {
            name: p.name,
            client_id: p.client_id.map(|c| c.to_string()).unwrap_or_default(),
            billable: if p.billable {
                "on".into()
            } else {
                String::new()
            },
            hourly_rate: p.hourly_rate_cents.map(format_cents).unwrap_or_default(),
            estimated_hours: p
                .estimated_seconds
                .map(|s| format!("{}", s as f64 / 3600.0))
                .unwrap_or_default(),
        })
    }

    async fn describe(state: &AppState, id: i64) -> Result<String, AppError> {
        let p = db::projects::get(&mut *state.pool.acquire().await?, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(format!("the project “{}”", p.name))
    }

    fn archived_notice() -> String {
        "Project archived. Its entries are kept.".into()
    }
}

pub async fn projects(
    State(state): State<AppState>,
    current: CurrentUser,
    Flash(n): Flash,
) -> Result<Response, AppError> {
    let form = ProjectForm {
        billable: "on".into(),
        ..Default::default()
    };
    Projects::page(&state, &current, n, None, form, Vec::new(), StatusCode::OK).await
}

// ---- tasks ----

const TASK_PAGE_SIZE: i64 = 100;

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct TaskForm {
    project_id: String,
    name: String,
    priority: String,
    assignee_id: String,
    due_date: String,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    layout: Layout,
    tasks: Vec<Task>,
    projects: Vec<Project>,
    users: Vec<User>,
    /// Whether the viewer may change the catalogue (the forms and actions).
    manages_catalog: bool,
    user_id: i64,
    statuses: [&'static str; 3],
    priorities: [TaskPriority; 4],
    /// The task being edited, when the form edits one.
    editing: Option<i64>,
    page: i64,
    pages: i64,
    prev_page: Option<i64>,
    next_page: Option<i64>,
    form: TaskForm,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TasksQuery {
    page: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
async fn tasks_page(
    state: &AppState,
    current: &CurrentUser,
    page: i64,
    notice: Option<String>,
    editing: Option<i64>,
    form: TaskForm,
    errors: Vec<ValidationError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let page = page.clamp(1, 1_000_000);
    let (tasks, total) = db::tasks::list(
        &state.pool,
        None,
        TASK_PAGE_SIZE,
        (page - 1) * TASK_PAGE_SIZE,
    )
    .await?;
    let pages = ((total + TASK_PAGE_SIZE - 1) / TASK_PAGE_SIZE).max(1);
    let manages_catalog = current.user.can(Permission::ManageCatalog);
    let body = TasksPage {
        layout: Layout::for_user("Tasks", current).with_notice(notice),
        tasks,
        projects: db::projects::list(&state.pool, false).await?,
        users: if manages_catalog {
            db::users::page(&state.pool, 500, 0).await?.0
        } else {
            Vec::new()
        },
        manages_catalog,
        user_id: current.user.id,
        statuses: TASK_STATUSES,
        priorities: TaskPriority::ALL,
        editing,
        page,
        pages,
        prev_page: (page > 1).then(|| page - 1),
        next_page: (page < pages).then(|| page + 1),
        form,
        errors: errors.into(),
    };
    Ok((status, render(&body)?).into_response())
}

pub async fn tasks(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(q): Query<TasksQuery>,
    Flash(notice): Flash,
) -> Result<Response, AppError> {
    let form = TaskForm {
        priority: "medium".into(),
        ..Default::default()
    };
    tasks_page(
        &state,
        &current,
        q.page.unwrap_or(1),
        notice,
        None,
        form,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

impl CataloguePage for Tasks {
    const PATH: &'static str = "/tasks";
    const TITLE: &'static str = "Task";
    const DELETE_CONSEQUENCE: &'static str =
        "This cannot be undone. Time entries of the task keep their time and lose the task.";
    type Form = TaskForm;

    fn input(form: &TaskForm, format: &LocalFormat) -> Result<TaskInput, ValidationError> {
        let due_date = form.due_date.trim();
        Ok(TaskInput {
            project_id: optional_id("project_id", &form.project_id)?
                .ok_or_else(|| ValidationError::new("project_id", "Choose a project."))?,
            name: form.name.clone(),
            priority: TaskPriority::parse(&form.priority)?,
            assignee_id: optional_id("assignee_id", &form.assignee_id)?,
            due_date: if due_date.is_empty() {
                None
            } else {
                Some(format.parse_day("due_date", due_date)?)
            },
        })
    }

    async fn page(
        state: &AppState,
        current: &CurrentUser,
        notice: Option<String>,
        editing: Option<i64>,
        form: TaskForm,
        errors: Vec<ValidationError>,
        status: StatusCode,
    ) -> Result<Response, AppError> {
        tasks_page(state, current, 1, notice, editing, form, errors, status).await
    }

    async fn form_of(
        state: &AppState,
        current: &CurrentUser,
        id: i64,
    ) -> Result<TaskForm, AppError> {
        let t = db::tasks::get(&mut *state.pool.acquire().await?, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(TaskForm {
            project_id: t.project_id.to_string(),
            name: t.name,
            priority: t.priority,
            assignee_id: t.assignee_id.map(|a| a.to_string()).unwrap_or_default(),
            due_date: t
                .due_date
                .map(|d| Actor::from(current).format.day(d))
                .unwrap_or_default(),
        })
    }

    async fn describe(state: &AppState, id: i64) -> Result<String, AppError> {
        let t = db::tasks::get(&mut *state.pool.acquire().await?, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(format!("the task “{}” of {}", t.name, t.project_name))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatusForm {
    status: String,
}

pub async fn set_task_status(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, AppError> {
    catalog::set_task_status(&state.pool, &Actor::from(&current), id, &form.status).await?;
    Ok(flash::redirect(&state, "/tasks", "Task updated."))
}
