//! The summary report page (with a bar per group) and the streamed CSV download.

use askama::Template;
use axum::{
    body::Body,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{Layout, extract::Query, render};
use crate::{
    auth::CurrentUser,
    db::{self, clients::Client, projects::Project, reports::Group, tasks::Task, users::User},
    domain::tracking::{format_cents, format_duration},
    error::AppError,
    reports::{self, ReportQuery, Summary},
    startup::AppState,
    tracking::Actor,
};

struct Row {
    key: String,
    subkey: String,
    duration: String,
    amount: String,
    percent: i64,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    layout: Layout,
    q: ReportQuery,
    groups: Vec<&'static str>,
    group: String,
    subgroup: String,
    projects: Vec<Project>,
    clients: Vec<Client>,
    users: Vec<User>,
    is_admin: bool,
    summary: Option<Summary>,
    rows: Vec<Row>,
    total: String,
    billable: String,
    amount: String,
    csv_link: String,
    query_fields: Vec<(String, String)>,
    xlsx_allowed: bool,
    tasks: Vec<Task>,
    detail: Vec<EntryLine>,
    detail_page: i64,
    detail_pages: i64,
    detail_prev: Option<String>,
    detail_next: Option<String>,
    error: Option<String>,
}

/// One entry of the detailed list.
struct EntryLine {
    user: String,
    start: String,
    project: String,
    task: String,
    notes: String,
    tags: String,
    duration: String,
    billable: bool,
}

const DETAIL_PAGE_SIZE: i64 = 50;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct DetailQuery {
    detail_page: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(mut q): Query<ReportQuery>,
    Query(dq): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    let detail_page = dq.detail_page.unwrap_or(1).clamp(1, 1_000_000);
    let (summary, error, status) = match reports::summary(&state.pool, &actor, &q).await {
        Ok(s) => (Some(s), None, StatusCode::OK),
        Err(AppError::Validation(e)) => (None, Some(e.message), StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => return Err(e),
    };
    if let Some(s) = &summary {
        // Show the range the report covers, defaults included.
        q.from = actor.format.day(s.from_day);
        q.to = actor.format.day(s.to_day);
    }
    // The detailed list: the same entries as the summary, one page at a time.
    let (detail, detail_total) = match &summary {
        Some(s) => (
            db::reports::detail(
                &state.pool,
                &s.filter,
                DETAIL_PAGE_SIZE,
                (detail_page - 1) * DETAIL_PAGE_SIZE,
            )
            .await?,
            db::reports::count(&state.pool, &s.filter).await?,
        ),
        None => (Vec::new(), 0),
    };
    let detail_pages = ((detail_total + DETAIL_PAGE_SIZE - 1) / DETAIL_PAGE_SIZE).max(1);
    let query_string = serde_urlencoded::to_string(&q).unwrap_or_default();
    let detail_link = |page: i64| format!("/reports?{query_string}&detail_page={page}");
    let max = summary
        .as_ref()
        .and_then(|s| s.rows.iter().map(|r| r.seconds).max())
        .unwrap_or(0)
        .max(1);
    let rows = summary
        .as_ref()
        .map(|s| {
            s.rows
                .iter()
                .map(|r| Row {
                    key: r.key.clone(),
                    subkey: r.subkey.clone(),
                    duration: format_duration(r.seconds),
                    amount: format_cents(r.amount_cents),
                    percent: r.seconds * 100 / max,
                })
                .collect()
        })
        .unwrap_or_default();
    let page = ReportsPage {
        layout: Layout::for_user("Reports", &current),
        groups: Group::ALL.iter().map(|g| g.as_str()).collect(),
        group: summary
            .as_ref()
            .map_or("project", |s| s.group.as_str())
            .to_owned(),
        subgroup: summary
            .as_ref()
            .and_then(|s| s.subgroup)
            .map_or("", |g| g.as_str())
            .to_owned(),
        projects: db::projects::list(&state.pool, true).await?,
        clients: db::clients::list(&state.pool, true).await?,
        users: if actor.is_admin {
            db::users::page(&state.pool, 500, 0).await?.0
        } else {
            Vec::new()
        },
        is_admin: actor.is_admin,
        total: summary
            .as_ref()
            .map(|s| format_duration(s.total_seconds))
            .unwrap_or_default(),
        billable: summary
            .as_ref()
            .map(|s| format_duration(s.billable_seconds))
            .unwrap_or_default(),
        amount: summary
            .as_ref()
            .map(|s| format_cents(s.amount_cents))
            .unwrap_or_default(),
        csv_link: format!(
            "/reports/export.csv?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        ),
        // The same filters as hidden fields, for the background-export buttons.
        query_fields: serde_urlencoded::from_str(
            &serde_urlencoded::to_string(&q).unwrap_or_default(),
        )
        .unwrap_or_default(),
        xlsx_allowed: crate::flags::enabled(&state.pool, &state.config, crate::flags::XLSX_EXPORTS)
            .await?,
        tasks: db::tasks::list(&state.pool, None, 500, 0).await?.0,
        detail: detail
            .iter()
            .map(|e| EntryLine {
                user: e.username.clone(),
                start: actor.format.instant(e.started_at),
                project: e.project.clone(),
                task: e.task.clone().unwrap_or_default(),
                notes: e.notes.clone(),
                tags: e.tags.join(", "),
                duration: format_duration(e.duration_seconds),
                billable: e.billable,
            })
            .collect(),
        detail_page,
        detail_pages,
        detail_prev: (detail_page > 1).then(|| detail_link(detail_page - 1)),
        detail_next: (detail_page < detail_pages).then(|| detail_link(detail_page + 1)),
        summary,
        rows,
        error,
        q,
    };
    Ok((status, render(&page)?).into_response())
}

/// Streams every matching entry as CSV, with the admin's delimiter.
pub async fn export_csv(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    let resolved = reports::resolve(&actor, &q)?;
    let settings = db::settings::load(&state.pool).await?;
    let filename = format!("timetracker-{}-{}.csv", resolved.from_day, resolved.to_day);
    let body = reports::csv::stream(
        state.pool.clone(),
        resolved.filter,
        reports::csv::delimiter(&settings.export_delimiter),
        actor.format,
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
