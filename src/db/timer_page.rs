//! Everything the timer page reads, in one statement: the caller (the
//! request's credential, checked as `db::callers` defines it), the settings,
//! the running timer, the newest entries, the projects and open tasks for
//! the pickers, and the spans of the week's charts. Each part is the
//! statement of the function that reads it on its own (`entries::running`,
//! `projects::list`, …), put in a sub-select that PostgreSQL returns as JSON,
//! so the page costs one round trip, not seven (each on a pooled connection
//! of its own, with sqlx's ping when it went back).

use sqlx::{PgPool, QueryBuilder};

use super::{
    callers::{Caller, Kind, push_caller},
    entries::{NamedEntry, Span},
    projects::Project,
    settings::Settings,
    tasks::Task,
};

/// How many of the newest entries the page lists.
pub const NEWEST: i64 = 10;

#[derive(Debug, sqlx::FromRow)]
pub struct TimerPage {
    #[sqlx(flatten)]
    pub caller: Caller,
    #[sqlx(json)]
    pub settings: Settings,
    #[sqlx(json(nullable))]
    pub running: Option<NamedEntry>,
    /// The [`NEWEST`] newest entries, newest first.
    #[sqlx(json)]
    pub newest: Vec<NamedEntry>,
    /// Projects that are not archived.
    #[sqlx(json)]
    pub projects: Vec<Project>,
    /// Open tasks of those projects.
    #[sqlx(json)]
    pub tasks: Vec<Task>,
    /// The caller's recent entries as spans (`entries::recent_spans_sql`).
    #[sqlx(json)]
    pub spans: Vec<Span>,
}

/// The page for the caller the credential `hash` of `kind` stands for;
/// `None` when it is not live or its user not active.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn load(
    pool: &PgPool,
    kind: Kind,
    hash: &[u8],
) -> Result<Option<TimerPage>, sqlx::Error> {
    // An aggregate over a sub-select takes its rows in the sub-select's order.
    // json, not jsonb: the text goes out as it is built.
    let one = |sql: String| format!("(SELECT row_to_json(x) FROM ({sql}) x)");
    let all = |sql: String| format!("(SELECT coalesce(json_agg(x), '[]'::json) FROM ({sql}) x)");
    let mut q = QueryBuilder::new("WITH ");
    push_caller(&mut q, kind, hash);
    q.push(format_args!(
        " SELECT caller.*, {} AS settings, {} AS running, {} AS newest, {} AS projects,
                 {} AS tasks, {} AS spans
          FROM caller",
        one(super::settings::get_sql()),
        one(super::entries::running_sql("caller.id")),
        all(super::entries::newest_sql("caller.id", NEWEST)),
        all(super::projects::list_sql(false)),
        all(super::tasks::open_for_pickers_sql()),
        all(super::entries::recent_spans_sql("caller.id")),
    ));
    q.build_query_as().fetch_optional(pool).await
}
