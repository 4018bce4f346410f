//! Clients, projects and tasks pages. Everyone sees them; admins change them.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    Layout,
    confirm::{self, ConfirmForm, Question},
    extract::{Form, Path, Query},
    field_error,
    flash::{self, Flash},
    optional_id, render,
};
use crate::{
    auth::{AdminUser, CurrentUser},
    db::{self, clients::Client, projects::Project, tasks::Task, users::User},
    domain::{
        ValidationError,
        formats::LocalFormat,
        tracking::{format_cents, format_duration, parse_cents},
    },
    error::AppError,
    startup::AppState,
    tracking::{
        Actor,
        catalog::{
            self, ClientInput, Clients, ProjectInput, Projects, TASK_STATUSES, TaskInput,
            TaskPriority, Tasks,
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

fn client_input(f: &ClientForm) -> Result<ClientInput, ValidationError> {
    Ok(ClientInput {
        name: f.name.clone(),
        contact_name: f.contact_name.clone(),
        email: f.email.clone(),
        phone: f.phone.clone(),
        default_hourly_rate_cents: parse_cents("default_hourly_rate", &f.default_hourly_rate)?,
    })
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    layout: Layout,
    clients: Vec<Client>,
    is_admin: bool,
    currency: String,
    editing: Option<i64>,
    form: ClientForm,
    errors: Vec<ValidationError>,
}

impl ClientsPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

async fn clients_page(
    state: &AppState,
    current: &CurrentUser,
    notice: Option<String>,
    editing: Option<i64>,
    form: ClientForm,
    errors: Vec<ValidationError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let page = ClientsPage {
        layout: Layout::for_user("Clients", current).with_notice(notice),
        clients: db::clients::list(&state.pool, true).await?,
        is_admin: current.user.is_admin(),
        currency: db::settings::load(&state.pool).await?.currency,
        editing,
        form,
        errors,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn clients(
    State(state): State<AppState>,
    current: CurrentUser,
    Flash(n): Flash,
) -> Result<Response, AppError> {
    clients_page(
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

pub async fn create_client(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<ClientForm>,
) -> Result<Response, AppError> {
    let result = match client_input(&form) {
        Ok(input) => catalog::create::<Clients>(&state.pool, &Actor::from(&current), &input)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(flash::redirect(&state, "/clients", "Client created.")),
        Err(e) => {
            let (status, errors) = form_errors(e)?;
            clients_page(&state, &current, None, None, form, errors, status).await
        }
    }
}

pub async fn edit_client(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Actor::from(&current).require_admin()?;
    let c = db::clients::get(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = ClientForm {
        name: c.name,
        contact_name: c.contact_name,
        email: c.email,
        phone: c.phone,
        default_hourly_rate: c
            .default_hourly_rate_cents
            .map(format_cents)
            .unwrap_or_default(),
    };
    clients_page(
        &state,
        &current,
        None,
        Some(id),
        form,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn update_client(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ClientForm>,
) -> Result<Response, AppError> {
    let result = match client_input(&form) {
        Ok(input) => {
            catalog::update::<Clients>(&state.pool, &Actor::from(&current), id, &input).await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(flash::redirect(&state, "/clients", "Client saved.")),
        Err(e) => {
            let (status, errors) = form_errors(e)?;
            clients_page(&state, &current, None, Some(id), form, errors, status).await
        }
    }
}

pub async fn archive_client(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    catalog::archive::<Clients>(&state.pool, &Actor::from(&current), id, true).await?;
    Ok(flash::redirect(&state, "/clients", "Client archived."))
}

pub async fn unarchive_client(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    catalog::archive::<Clients>(&state.pool, &Actor::from(&current), id, false).await?;
    Ok(flash::redirect(&state, "/clients", "Client restored."))
}

pub async fn delete_client(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let current = admin.0;
    if !confirm.confirmed() {
        let client = db::clients::get(&state.pool, id)
            .await?
            .ok_or(AppError::NotFound)?;
        return confirm::page(
            &current,
            Question {
                question: &format!("Delete the client “{}”?", client.name),
                consequence: "This cannot be undone. A client with projects cannot be deleted; archive it instead.",
                action: &format!("/clients/{id}/delete"),
                button: "Delete client",
                cancel: "/clients",
                carry: &[],
            },
        );
    }
    catalog::delete::<Clients>(&state.pool, &Actor::from(&current), id).await?;
    Ok(flash::redirect(&state, "/clients", "Client deleted."))
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

fn project_input(f: &ProjectForm) -> Result<ProjectInput, ValidationError> {
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

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    layout: Layout,
    projects: Vec<Project>,
    /// Seconds tracked per project id.
    tracked: std::collections::HashMap<i64, i64>,
    clients: Vec<Client>,
    is_admin: bool,
    currency: String,
    editing: Option<i64>,
    form: ProjectForm,
    errors: Vec<ValidationError>,
}

impl ProjectsPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }

    /// Tracked time as h:mm:ss.
    fn tracked(&self, project: &i64) -> String {
        format_duration(self.tracked.get(project).copied().unwrap_or(0))
    }

    /// Tracked time as a percentage of the estimate, when there is one.
    fn used_percent(&self, p: &Project) -> Option<i64> {
        let estimate = p.estimated_seconds.filter(|e| *e > 0)?;
        Some(self.tracked.get(&p.id).copied().unwrap_or(0) * 100 / estimate)
    }
}

async fn projects_page(
    state: &AppState,
    current: &CurrentUser,
    notice: Option<String>,
    editing: Option<i64>,
    form: ProjectForm,
    errors: Vec<ValidationError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let page = ProjectsPage {
        layout: Layout::for_user("Projects", current).with_notice(notice),
        projects: db::projects::list(&state.pool, true).await?,
        tracked: db::projects::tracked_seconds(&state.pool)
            .await?
            .into_iter()
            .collect(),
        clients: db::clients::list(&state.pool, false).await?,
        is_admin: current.user.is_admin(),
        currency: db::settings::load(&state.pool).await?.currency,
        editing,
        form,
        errors,
    };
    Ok((status, render(&page)?).into_response())
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
    projects_page(&state, &current, n, None, form, Vec::new(), StatusCode::OK).await
}

pub async fn create_project(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<ProjectForm>,
) -> Result<Response, AppError> {
    let result = match project_input(&form) {
        Ok(input) => catalog::create::<Projects>(&state.pool, &Actor::from(&current), &input)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(flash::redirect(&state, "/projects", "Project created.")),
        Err(e) => {
            let (status, errors) = form_errors(e)?;
            projects_page(&state, &current, None, None, form, errors, status).await
        }
    }
}

pub async fn edit_project(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Actor::from(&current).require_admin()?;
    let p = db::projects::get(&mut *state.pool.acquire().await?, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = ProjectForm {
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
    };
    projects_page(
        &state,
        &current,
        None,
        Some(id),
        form,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn update_project(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ProjectForm>,
) -> Result<Response, AppError> {
    let result = match project_input(&form) {
        Ok(input) => {
            catalog::update::<Projects>(&state.pool, &Actor::from(&current), id, &input).await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(flash::redirect(&state, "/projects", "Project saved.")),
        Err(e) => {
            let (status, errors) = form_errors(e)?;
            projects_page(&state, &current, None, Some(id), form, errors, status).await
        }
    }
}

pub async fn archive_project(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    catalog::archive::<Projects>(&state.pool, &Actor::from(&current), id, true).await?;
    Ok(flash::redirect(
        &state,
        "/projects",
        "Project archived. Its entries are kept.",
    ))
}

pub async fn unarchive_project(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    catalog::archive::<Projects>(&state.pool, &Actor::from(&current), id, false).await?;
    Ok(flash::redirect(&state, "/projects", "Project restored."))
}

pub async fn delete_project(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let current = admin.0;
    if !confirm.confirmed() {
        let project = db::projects::get(&mut *state.pool.acquire().await?, id)
            .await?
            .ok_or(AppError::NotFound)?;
        return confirm::page(
            &current,
            Question {
                question: &format!("Delete the project “{}”?", project.name),
                consequence: "This cannot be undone. A project with time entries cannot be deleted; archive it instead.",
                action: &format!("/projects/{id}/delete"),
                button: "Delete project",
                cancel: "/projects",
                carry: &[],
            },
        );
    }
    catalog::delete::<Projects>(&state.pool, &Actor::from(&current), id).await?;
    Ok(flash::redirect(&state, "/projects", "Project deleted."))
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
    is_admin: bool,
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
    errors: Vec<ValidationError>,
}

impl TasksPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
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
    let is_admin = current.user.is_admin();
    let body = TasksPage {
        layout: Layout::for_user("Tasks", current).with_notice(notice),
        tasks,
        projects: db::projects::list(&state.pool, false).await?,
        users: if is_admin {
            db::users::page(&state.pool, 500, 0).await?.0
        } else {
            Vec::new()
        },
        is_admin,
        user_id: current.user.id,
        statuses: TASK_STATUSES,
        priorities: TaskPriority::ALL,
        editing,
        page,
        pages,
        prev_page: (page > 1).then(|| page - 1),
        next_page: (page < pages).then(|| page + 1),
        form,
        errors,
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

fn task_input(form: &TaskForm, format: &LocalFormat) -> Result<TaskInput, ValidationError> {
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

pub async fn create_task(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<TaskForm>,
) -> Result<Response, AppError> {
    // Authorisation (the extractor) before validation: a user learns nothing from the form.
    let current = admin.0;
    let result = match task_input(&form, &Actor::from(&current).format) {
        Ok(input) => catalog::create::<Tasks>(&state.pool, &Actor::from(&current), &input)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(flash::redirect(&state, "/tasks", "Task created.")),
        Err(e) => {
            let (status, errors) = form_errors(e)?;
            tasks_page(&state, &current, 1, None, None, form, errors, status).await
        }
    }
}

/// The tasks page with the form filled in from the task, to edit it.
pub async fn edit_task(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let t = db::tasks::get(&mut *state.pool.acquire().await?, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = TaskForm {
        project_id: t.project_id.to_string(),
        name: t.name,
        priority: t.priority,
        assignee_id: t.assignee_id.map(|a| a.to_string()).unwrap_or_default(),
        due_date: t
            .due_date
            .map(|d| Actor::from(&admin.0).format.day(d))
            .unwrap_or_default(),
    };
    tasks_page(
        &state,
        &admin.0,
        1,
        None,
        Some(id),
        form,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn update_task(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<TaskForm>,
) -> Result<Response, AppError> {
    let current = admin.0;
    let result = match task_input(&form, &Actor::from(&current).format) {
        Ok(input) => {
            catalog::update::<Tasks>(&state.pool, &Actor::from(&current), id, &input).await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(flash::redirect(&state, "/tasks", "Task saved.")),
        Err(e) => {
            let (status, errors) = form_errors(e)?;
            tasks_page(&state, &current, 1, None, Some(id), form, errors, status).await
        }
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

pub async fn delete_task(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let current = admin.0;
    if !confirm.confirmed() {
        let task = db::tasks::get(&mut *state.pool.acquire().await?, id)
            .await?
            .ok_or(AppError::NotFound)?;
        return confirm::page(
            &current,
            Question {
                question: &format!("Delete the task “{}” of {}?", task.name, task.project_name),
                consequence: "This cannot be undone. Time entries of the task keep their time and lose the task.",
                action: &format!("/tasks/{id}/delete"),
                button: "Delete task",
                cancel: "/tasks",
                carry: &[],
            },
        );
    }
    catalog::delete::<Tasks>(&state.pool, &Actor::from(&current), id).await?;
    Ok(flash::redirect(&state, "/tasks", "Task deleted."))
}
