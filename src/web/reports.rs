//! The summary report page (with a bar per group) and the streamed CSV download.

use askama::Template;
use axum::{
    body::Body,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{
    Layout,
    charts::Chart,
    confirm::{self, ConfirmForm, Question},
    flash::{self, Flash},
    render,
};
use crate::{
    auth::CurrentUser,
    db::{self, clients::Client, projects::Project, reports::Group, tasks::Task, users::User},
    domain::{
        LocalPath, Permission,
        periods::Preset,
        tracking::{format_cents, format_decimal_hours, format_duration},
    },
    error::AppError,
    http::extract::{Form, Path, Query},
    reports::{
        self, Amounts, ReportQuery, Summary, charts,
        grouped::{self, Kind},
        pdf::Paper,
    },
    state::AppState,
    tracking::Actor,
};

/// A saved report in the list.
struct SavedLink {
    id: i64,
    name: String,
    link: String,
}

/// The time chart's numbers as a table, its fallback.
struct ChartTable {
    series: Vec<String>,
    rows: Vec<(String, Vec<String>, String)>,
}

/// A line of the report's table: a row, a group's subtotal or the total.
struct Row {
    key: String,
    subkey: String,
    duration: String,
    /// Empty for a viewer who may not see amounts.
    amount: String,
    /// The bar's length; `None` on subtotals and the total.
    percent: Option<i64>,
    /// `row`, `subtotal` or `total` (the line's class).
    kind: &'static str,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    layout: Layout,
    q: ReportQuery,
    /// (value, label) of each grouping.
    groups: Vec<(&'static str, &'static str)>,
    group: String,
    subgroup: String,
    group_label: &'static str,
    subgroup_label: &'static str,
    presets: Vec<(&'static str, &'static str)>,
    preset: String,
    time_chart: String,
    share_chart: String,
    chart_table: Option<ChartTable>,
    saved: Vec<SavedLink>,
    save_name: String,
    save_error: Option<String>,
    projects: Vec<Project>,
    clients: Vec<Client>,
    users: Vec<User>,
    /// Whether the viewer sees everyone's time (a person picker, a user column).
    sees_team: bool,
    summary: Option<Summary>,
    rows: Vec<Row>,
    total: String,
    billable: String,
    /// The total amount; `None` for a viewer who may not see amounts.
    amount: Option<String>,
    csv_link: String,
    query_fields: Vec<(&'static str, String)>,
    xlsx_allowed: bool,
    /// (value, label) of each PDF paper, and the one chosen by default.
    papers: [(&'static str, &'static str); 2],
    paper: &'static str,
    tasks: Vec<Task>,
    detail: Vec<EntryLine>,
    /// Hours shown as decimal numbers (`1.50`) rather than `1:30:00`.
    decimal: bool,
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
    /// Empty for non-billable time and for a viewer who may not see amounts.
    amount: String,
}

const DETAIL_PAGE_SIZE: i64 = 50;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct DetailQuery {
    detail_page: Option<i64>,
    /// `decimal` shows hours as `1.50`; anything else as `1:30:00`.
    hours: String,
}

/// How the page writes hours.
#[derive(Clone, Copy)]
struct Hours {
    decimal: bool,
}

impl Hours {
    fn show(self, seconds: i64) -> String {
        if self.decimal {
            format_decimal_hours(seconds)
        } else {
            format_duration(seconds)
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Flash(notice): Flash,
    Query(mut q): Query<ReportQuery>,
    Query(dq): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let detail_page = dq.detail_page.unwrap_or(1).clamp(1, 1_000_000);
    if q.preset.trim().is_empty() && q.from.trim().is_empty() && q.to.trim().is_empty() {
        // The page opens on a named period, which its picker then shows.
        q.preset = Preset::ThisWeek.as_str().to_owned();
    }
    let hours = Hours {
        decimal: dq.hours == "decimal",
    };
    report(&state, &current, q, detail_page, hours, notice, None).await
}

/// The report page for `q`; `save_error` is a refused "save this report"
/// (the name typed and why), shown beside its form with status 422.
async fn report(
    state: &AppState,
    current: &CurrentUser,
    mut q: ReportQuery,
    detail_page: i64,
    hours: Hours,
    notice: Option<String>,
    save_error: Option<(String, String)>,
) -> Result<Response, AppError> {
    let actor = Actor::from(current);
    let (summary, error, mut status) = match reports::summary(&state.pool, &actor, &q).await {
        Ok(s) => (Some(s), None, StatusCode::OK),
        Err(AppError::Validation(e)) => (None, Some(e.message), StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => return Err(e),
    };
    if save_error.is_some() {
        status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    let saved = reports::saved::list(&state.pool, &actor)
        .await?
        .into_iter()
        .map(|r| SavedLink {
            link: format!("/reports?{}", r.query.query_string()),
            id: r.id,
            name: r.name,
        })
        .collect();
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
                s.rounding_minutes,
                DETAIL_PAGE_SIZE,
                (detail_page - 1) * DETAIL_PAGE_SIZE,
            )
            .await?,
            db::reports::count(&state.pool, &s.filter).await?,
        ),
        None => (Vec::new(), 0),
    };
    let detail_pages = ((detail_total + DETAIL_PAGE_SIZE - 1) / DETAIL_PAGE_SIZE).max(1);
    let query_string = q.query_string();
    let hours_param = if hours.decimal { "&hours=decimal" } else { "" };
    let detail_link =
        |page: i64| format!("/reports?{query_string}{hours_param}&detail_page={page}");
    let max = summary
        .as_ref()
        .and_then(|s| s.rows.iter().map(|r| r.seconds).max())
        .unwrap_or(0)
        .max(1);
    let rows = summary
        .as_ref()
        .map(|s| {
            grouped::lines(&s.rows, s.subgroup.is_some())
                .into_iter()
                .map(|line| Row {
                    duration: hours.show(line.seconds),
                    amount: line.amount_cents.map(format_cents).unwrap_or_default(),
                    percent: (line.kind == Kind::Row).then_some(line.seconds * 100 / max),
                    kind: match line.kind {
                        Kind::Row => "row",
                        Kind::Subtotal => "subtotal",
                        Kind::Total => "total",
                    },
                    key: line.key,
                    subkey: line.subkey,
                })
                .collect()
        })
        .unwrap_or_default();
    let (time_chart, share_chart, chart_table) = match &summary {
        Some(s) if !s.rows.is_empty() => {
            let c = reports::charts(&state.pool, &actor, s).await?;
            chart_views(&c, s, &actor)?
        }
        _ => (String::new(), String::new(), None),
    };
    let group_label = summary.as_ref().map_or("Project", |s| s.group.label());
    let subgroup_label = summary
        .as_ref()
        .and_then(|s| s.subgroup)
        .map_or("", Group::label);
    let (save_name, save_error) = save_error.unzip();
    let sees_amounts = summary.as_ref().is_some_and(|s| s.amount_cents.is_some());
    let page = ReportsPage {
        layout: Layout::for_user("Reports", current).with_notice(notice),
        saved,
        save_name: save_name.unwrap_or_default(),
        save_error,
        groups: Group::ALL.iter().map(|g| (g.as_str(), g.label())).collect(),
        group_label,
        subgroup_label,
        presets: Preset::ALL
            .iter()
            .map(|p| (p.as_str(), p.label()))
            .collect(),
        preset: Preset::parse(&q.preset)
            .unwrap_or(Preset::Custom)
            .as_str()
            .to_owned(),
        time_chart,
        share_chart,
        chart_table,
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
        users: if actor.can(Permission::ManageTeamTime) {
            db::users::page(&state.pool, 500, 0).await?.0
        } else {
            Vec::new()
        },
        sees_team: actor.can(Permission::ManageTeamTime),
        total: summary
            .as_ref()
            .map(|s| hours.show(s.total_seconds))
            .unwrap_or_default(),
        billable: summary
            .as_ref()
            .map(|s| hours.show(s.billable_seconds))
            .unwrap_or_default(),
        amount: summary
            .as_ref()
            .and_then(|s| s.amount_cents)
            .map(format_cents),
        csv_link: format!("/reports/export.csv?{}", q.query_string()),
        // The same filters as hidden fields, for the export and save buttons.
        query_fields: q.fields(),
        papers: [("a4", "A4"), ("letter", "US Letter")],
        paper: Paper::for_format(&actor.format).as_str(),
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
                duration: hours.show(e.duration_seconds),
                billable: e.billable,
                amount: match (e.amount_cents, sees_amounts) {
                    (Some(cents), true) => format_cents(cents),
                    _ => String::new(),
                },
            })
            .collect(),
        decimal: hours.decimal,
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

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SaveForm {
    name: String,
    #[serde(flatten)]
    q: ReportQuery,
}

/// `POST /reports/saved`: the shown filters under a name.
pub async fn save(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<SaveForm>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    match reports::saved::save(&state.pool, &actor, &form.name, &form.q).await {
        Ok(new) => {
            let target = LocalPath::or_root(&format!("/reports?{}", form.q.query_string()));
            let notice = if new {
                format!("Saved as “{}”.", form.name.trim())
            } else {
                format!(
                    "The saved report “{}” now has these filters.",
                    form.name.trim()
                )
            };
            Ok(flash::redirect_local(&state, &target, &notice))
        }
        Err(AppError::Validation(e)) => {
            report(
                &state,
                &current,
                form.q,
                1,
                Hours { decimal: false },
                None,
                Some((form.name, e.message)),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// `POST /reports/saved/{id}/delete`, after a confirmation.
pub async fn delete_saved(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    if !confirm.confirmed() {
        let saved = reports::saved::own(&state.pool, &actor, id).await?;
        return confirm::page(
            &current,
            Question {
                question: &format!("Delete the saved report “{}”?", saved.name),
                consequence: "Only the saved filters go; no time entry changes.",
                action: &format!("/reports/saved/{id}/delete"),
                button: "Delete saved report",
                danger: true,
                cancel: "/reports",
                carry: &[],
            },
        );
    }
    let saved = reports::saved::delete(&state.pool, &actor, id).await?;
    Ok(flash::redirect(
        &state,
        "/reports",
        &format!("The saved report “{}” was deleted.", saved.name),
    ))
}

/// The two charts as SVG markup, and the time chart's table.
fn chart_views(
    c: &reports::Charts,
    s: &Summary,
    actor: &Actor,
) -> Result<(String, String, Option<ChartTable>), AppError> {
    let by = c.by.label().to_lowercase();
    let legend: Vec<(String, &'static str)> = c
        .time
        .series
        .iter()
        .enumerate()
        .map(|(i, name)| (name.clone(), charts::PALETTE[i.min(charts::MAX_SERIES)]))
        .collect();
    let range = format!(
        "{} to {}",
        actor.format.day(s.from_day),
        actor.format.day(s.to_day)
    );
    let time = Chart {
        id: "chart-time",
        kind: "time",
        title: format!("Hours per {} by {by}", c.time.bucket.as_str()),
        description: format!(
            "Stacked bars, one per {}, {range}; the table below the chart holds the same numbers.",
            c.time.bucket.as_str()
        ),
        svg: c.time.svg(),
        legend: legend.clone(),
        billable_note: false,
    }
    .markup()?;
    let share = Chart {
        id: "chart-share",
        kind: "share",
        title: format!("Share of each {by}"),
        description: format!(
            "Horizontal bars, the billable part solid and the rest faint, {range}; the report table holds the same numbers."
        ),
        svg: charts::shares_svg(&c.shares, true),
        legend: Vec::new(),
        billable_note: true,
    }
    .markup()?;
    let table = ChartTable {
        series: c.time.series.clone(),
        rows: c
            .time
            .columns
            .iter()
            .map(|col| {
                (
                    col.label.clone(),
                    col.seconds.iter().map(|x| format_duration(*x)).collect(),
                    format_duration(col.total()),
                )
            })
            .collect(),
    };
    Ok((time, share, Some(table)))
}

/// Streams every matching entry as CSV, with the admin's delimiter.
pub async fn export_csv(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    let settings = db::settings::load(&state.pool).await?;
    let resolved = reports::resolve(&actor, &q, &settings.week_start)?;
    let filename = format!("timetracker-{}-{}.csv", resolved.from_day, resolved.to_day);
    let body = reports::csv::stream(
        state.pool.clone(),
        resolved.filter,
        reports::csv::delimiter(&settings.export_delimiter),
        actor.format,
        Amounts::for_actor(&actor, &settings),
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
