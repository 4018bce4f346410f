//! Reports and exports: the filters users may ask for, the summary with
//! report-time rounding and amounts, and the streamed CSV export.
//!
//! Rule: a plain user's report or export always covers only their own entries
//! and shows no amount; only those who manage the team's time may choose
//! another user or everyone, and only those who see rates get amounts
//! (`domain::access`).

pub mod charts;
pub mod csv;
pub mod exports;
pub mod grouped;
pub mod pdf;
pub mod saved;
pub mod xlsx;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use sqlx::PgPool;

use crate::{
    analytics::{Event, record},
    db::{
        self,
        reports::{Group, ReportFilter, SummaryRow},
    },
    domain::{Permission, ValidationError, periods::Preset, tracking::start_of_day},
    error::AppError,
    tracking::Actor,
};

/// Report parameters as they arrive from a form, a query string or the API.
#[derive(
    Debug,
    Clone,
    Default,
    serde::Deserialize,
    serde::Serialize,
    utoipa::ToSchema,
    utoipa::IntoParams,
)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// A named period (`today`, `yesterday`, `this_week`, `last_week`,
    /// `this_month`, `last_month`, `this_year`, `last_year`), which replaces
    /// `from` and `to`; `custom` or empty takes them.
    #[param(
        pattern = r"^(today|yesterday|this_week|last_week|this_month|last_month|this_year|last_year|custom)?$"
    )]
    #[schema(
        pattern = r"^(today|yesterday|this_week|last_week|this_month|last_month|this_year|last_year|custom)?$"
    )]
    pub preset: String,
    /// First day (inclusive), `YYYY-MM-DD` in the viewer's timezone, years
    /// 1900 to 9999; default: first of this month.
    #[param(pattern = r"^\s*([0-9]{4}-[0-9]{2}-[0-9]{2})?\s*$")]
    #[schema(pattern = r"^\s*([0-9]{4}-[0-9]{2}-[0-9]{2})?\s*$")]
    pub from: String,
    /// Last day (inclusive), at most ten years after `from`; default: today.
    #[param(pattern = r"^\s*([0-9]{4}-[0-9]{2}-[0-9]{2})?\s*$")]
    #[schema(pattern = r"^\s*([0-9]{4}-[0-9]{2}-[0-9]{2})?\s*$")]
    pub to: String,
    /// Rows by `project` (default), `client`, `user`, `task` or `day`.
    #[param(pattern = r"^(project|client|user|task|day)?$")]
    #[schema(pattern = r"^(project|client|user|task|day)?$")]
    pub group: String,
    /// A second grouping inside each row; `none` or empty for none.
    #[param(pattern = r"^(none|project|client|user|task|day)?$")]
    #[schema(pattern = r"^(none|project|client|user|task|day)?$")]
    pub subgroup: String,
    /// A user id, `all` (managers and administrators), or empty for yourself.
    #[param(pattern = r"^\s*(all|[+-]?[0-9]+)?\s*$")]
    #[schema(pattern = r"^\s*(all|[+-]?[0-9]+)?\s*$")]
    pub user_id: String,
    #[param(pattern = r"^\s*([+-]?[0-9]+)?\s*$")]
    #[schema(pattern = r"^\s*([+-]?[0-9]+)?\s*$")]
    pub project_id: String,
    #[param(pattern = r"^\s*([+-]?[0-9]+)?\s*$")]
    #[schema(pattern = r"^\s*([+-]?[0-9]+)?\s*$")]
    pub client_id: String,
    #[param(pattern = r"^\s*([+-]?[0-9]+)?\s*$")]
    #[schema(pattern = r"^\s*([+-]?[0-9]+)?\s*$")]
    pub task_id: String,
    /// Only entries with this tag.
    pub tag: String,
    /// `yes`, `no` or empty for both.
    #[param(pattern = r"^\s*(yes|no)?\s*$")]
    #[schema(pattern = r"^\s*(yes|no)?\s*$")]
    pub billable: String,
}

impl ReportQuery {
    /// The filters that are set, as (name, value), in a stable order: the
    /// hidden fields of a form that repeats the report.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        [
            ("preset", &self.preset),
            ("from", &self.from),
            ("to", &self.to),
            ("group", &self.group),
            ("subgroup", &self.subgroup),
            ("user_id", &self.user_id),
            ("project_id", &self.project_id),
            ("client_id", &self.client_id),
            ("task_id", &self.task_id),
            ("tag", &self.tag),
            ("billable", &self.billable),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }

    /// The filters that are set as a query string (`preset=last_month&group=task`),
    /// for links that open the same report.
    pub fn query_string(&self) -> String {
        serde_urlencoded::to_string(self.fields()).unwrap_or_default()
    }
}

/// Longest range a report may cover.
const MAX_DAYS: i64 = 3660;

fn id(field: &'static str, raw: &str) -> Result<Option<i64>, ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| ValidationError::new(field, "Choose an item from the list."))
}

/// The resolved filter and the days it covers.
pub struct Resolved {
    pub filter: ReportFilter,
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
}

/// Checks the query and what the actor may see. Week presets start on the
/// actor's first day of the week, else on `installation_week_start`.
pub fn resolve(
    actor: &Actor,
    q: &ReportQuery,
    installation_week_start: &str,
) -> Result<Resolved, AppError> {
    let today = Utc::now().with_timezone(&actor.timezone).date_naive();
    let sunday_first = crate::tracking::timesheet::sunday_first(actor, installation_week_start);
    let (from_day, to_day) = match Preset::parse(&q.preset)?.range(today, sunday_first) {
        Some(range) => range,
        None => (
            if q.from.trim().is_empty() {
                today.with_day(1).unwrap_or(today)
            } else {
                actor.format.parse_day("from", &q.from)?
            },
            if q.to.trim().is_empty() {
                today
            } else {
                actor.format.parse_day("to", &q.to)?
            },
        ),
    };
    if to_day < from_day {
        return Err(
            ValidationError::new("to", "The last day must not be before the first.").into(),
        );
    }
    if (to_day - from_day).num_days() > MAX_DAYS {
        return Err(ValidationError::new("to", "A report covers at most ten years.").into());
    }
    let user_id = match q.user_id.trim() {
        "" => Some(actor.user_id),
        "all" if actor.can(Permission::ManageTeamTime) => None,
        "all" => {
            return Err(AppError::Forbidden(
                "You can only report on your own time.".into(),
            ));
        }
        raw => {
            let requested = id("user_id", raw)?;
            if !actor.can(Permission::ManageTeamTime) && requested != Some(actor.user_id) {
                return Err(AppError::Forbidden(
                    "You can only report on your own time.".into(),
                ));
            }
            requested
        }
    };
    let billable = match q.billable.trim() {
        "" => None,
        "yes" => Some(true),
        "no" => Some(false),
        _ => return Err(ValidationError::new("billable", "Choose yes, no or both.").into()),
    };
    Ok(Resolved {
        filter: ReportFilter {
            user_id,
            project_id: id("project_id", &q.project_id)?,
            client_id: id("client_id", &q.client_id)?,
            task_id: id("task_id", &q.task_id)?,
            tag: Some(q.tag.trim().to_owned()).filter(|t| !t.is_empty()),
            billable,
            from: start_of_day(from_day, actor.timezone),
            to: start_of_day(to_day + Duration::days(1), actor.timezone),
        },
        from_day,
        to_day,
    })
}

/// The money columns of an export, for whoever may see rates: the
/// installation's currency and the rounding its amounts use.
#[derive(Debug, Clone)]
pub struct Amounts {
    pub currency: String,
    pub rounding_minutes: i32,
}

impl Amounts {
    /// `Some` only for an actor who may see rates and amounts.
    pub fn for_actor(actor: &Actor, settings: &db::settings::Settings) -> Option<Self> {
        actor.can(Permission::SeeRates).then(|| Self {
            currency: settings.currency.clone(),
            rounding_minutes: settings.rounding_minutes,
        })
    }
}

/// A summary report with its totals.
pub struct Summary {
    pub group: Group,
    pub subgroup: Option<Group>,
    pub rows: Vec<SummaryRow>,
    pub total_seconds: i64,
    pub billable_seconds: i64,
    /// The billable amount, or `None` for a viewer who may not see rates and
    /// amounts (then no row has one either).
    pub amount_cents: Option<i64>,
    pub rounding_minutes: i32,
    pub currency: String,
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    /// The resolved filter, for the detailed list of the same entries.
    pub filter: ReportFilter,
    /// The viewer's weeks start on Sunday (for the charts' week buckets).
    pub sunday_first: bool,
}

/// The query's grouping and second grouping (none when empty or `none`).
pub fn grouping(q: &ReportQuery) -> Result<(Group, Option<Group>), ValidationError> {
    let group = if q.group.is_empty() {
        Group::Project
    } else {
        Group::parse(&q.group).ok_or_else(|| {
            ValidationError::new("group", "Group by project, client, user, task or day.")
        })?
    };
    let subgroup = match q.subgroup.as_str() {
        "" | "none" => None,
        raw => Some(Group::parse(raw).ok_or_else(|| {
            ValidationError::new("subgroup", "Choose a second grouping or none.")
        })?),
    };
    Ok((group, subgroup))
}

/// The summary the actor asked for, recorded as a `report.viewed` event.
pub async fn summary(pool: &PgPool, actor: &Actor, q: &ReportQuery) -> Result<Summary, AppError> {
    let settings = db::settings::load(pool).await?;
    let summary = compute(pool, actor, q, &settings).await?;
    let viewed = Event::ReportViewed {
        report_type: "summary",
        grouping: summary.group.as_str(),
        subgrouping: summary.subgroup.map_or("none", Group::as_str),
        range_days: (summary.to_day - summary.from_day).num_days() + 1,
    };
    record(&mut *pool.acquire().await?, Some(actor.user_id), &viewed).await?;
    Ok(summary)
}

/// The summary of `q` as `actor` may see it (a summary export's rows).
pub async fn compute(
    pool: &PgPool,
    actor: &Actor,
    q: &ReportQuery,
    settings: &db::settings::Settings,
) -> Result<Summary, AppError> {
    let resolved = resolve(actor, q, &settings.week_start)?;
    let (group, subgroup) = grouping(q)?;
    let mut rows = db::reports::summary(
        pool,
        &resolved.filter,
        group,
        subgroup,
        settings.rounding_minutes,
        actor.timezone.name(),
    )
    .await?;
    let amount_cents = if actor.can(Permission::SeeRates) {
        Some(rows.iter().filter_map(|r| r.amount_cents).sum())
    } else {
        rows.iter_mut().for_each(|r| r.amount_cents = None);
        None
    };
    Ok(Summary {
        group,
        subgroup,
        total_seconds: rows.iter().map(|r| r.seconds).sum(),
        billable_seconds: rows.iter().map(|r| r.billable_seconds).sum(),
        amount_cents,
        rows,
        rounding_minutes: settings.rounding_minutes,
        currency: settings.currency.clone(),
        from_day: resolved.from_day,
        to_day: resolved.to_day,
        filter: resolved.filter,
        sunday_first: crate::tracking::timesheet::sunday_first(actor, &settings.week_start),
    })
}

/// A summary's grouping and filters in words, for the header of a printed
/// report: `Grouped by client, then project · Everyone · Billable only`.
pub async fn describe(pool: &PgPool, summary: &Summary) -> Result<String, AppError> {
    let f = &summary.filter;
    let names = db::reports::filter_names(pool, f).await?;
    let mut words = vec![match summary.subgroup {
        Some(sub) => format!(
            "Grouped by {}, then {}",
            summary.group.as_str(),
            sub.as_str()
        ),
        None => format!("Grouped by {}", summary.group.as_str()),
    }];
    words.push(match (f.user_id, names.user) {
        (None, _) => "Everyone".to_owned(),
        (Some(_), Some(name)) => format!("User: {name}"),
        (Some(id), None) => format!("User: #{id}"),
    });
    for (label, name) in [
        ("Project", names.project),
        ("Client", names.client),
        ("Task", names.task),
    ] {
        if let Some(name) = name {
            words.push(format!("{label}: {name}"));
        }
    }
    if let Some(tag) = &f.tag {
        words.push(format!("Tag: {tag}"));
    }
    match f.billable {
        Some(true) => words.push("Billable only".into()),
        Some(false) => words.push("Non-billable only".into()),
        None => {}
    }
    Ok(words.join(" · "))
}

/// The report's charts: hours over time split by `by`, and `by`'s shares.
pub struct Charts {
    pub by: Group,
    pub time: charts::TimeChart,
    pub shares: Vec<charts::Share>,
}

/// The charts of `summary`. The split is the report's grouping, or (when
/// that is the day) its second grouping, else the project; one more summary
/// query unless the report is already grouped that way by day.
pub async fn charts(pool: &PgPool, actor: &Actor, summary: &Summary) -> Result<Charts, AppError> {
    let by = match (summary.group, summary.subgroup) {
        (Group::Day, Some(sub)) if sub != Group::Day => sub,
        (Group::Day, _) => Group::Project,
        (group, _) => group,
    };
    let rows = if summary.group == by && summary.subgroup == Some(Group::Day) {
        summary.rows.clone()
    } else {
        db::reports::summary(
            pool,
            &summary.filter,
            by,
            Some(Group::Day),
            summary.rounding_minutes,
            actor.timezone.name(),
        )
        .await?
    };
    Ok(Charts {
        by,
        time: charts::time_chart(
            &rows,
            summary.from_day,
            summary.to_day,
            summary.sunday_first,
            &actor.format,
        ),
        shares: charts::shares(&rows),
    })
}
