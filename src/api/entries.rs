//! Time entries: list with filters and pagination, create, read, replace, delete.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ErrorEnvelope, Json, unless_unauthorized};
use crate::{
    auth::{Credential, CurrentUser},
    db::{
        self,
        entries::{Entry, EntryFilter},
    },
    domain::{Permission, ValidationError, tracking::SANE_YEARS},
    error::AppError,
    http::extract::{Path, Query},
    state::AppState,
    tracking::{Actor, entries},
};

/// A time entry. `end` and `duration_seconds` are null while the timer runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryJson {
    id: i64,
    user_id: i64,
    project_id: i64,
    task_id: Option<i64>,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    duration_seconds: Option<i64>,
    notes: String,
    tags: Vec<String>,
    billable: bool,
    source: String,
}

impl From<Entry> for EntryJson {
    fn from(e: Entry) -> Self {
        Self {
            id: e.id,
            user_id: e.user_id,
            project_id: e.project_id,
            task_id: e.task_id,
            start: e.started_at,
            end: e.ended_at,
            duration_seconds: e.duration_seconds,
            notes: e.notes,
            tags: e.tags,
            billable: e.billable,
            source: e.source,
        }
    }
}

pub const MAX_PER_PAGE: i64 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// RFC 3339 instant; entries starting at or after it.
    from: Option<DateTime<Utc>>,
    /// RFC 3339 instant; entries starting before it.
    to: Option<DateTime<Utc>>,
    project_id: Option<i64>,
    /// Admins: a user id, or `all`. Others: only their own id.
    #[param(pattern = r"^(all|[+-]?[0-9]+)?$")]
    user_id: Option<String>,
    /// Page number, from 1 (not with `after`).
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<i64>,
    /// Entries per page (default 50).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<i64>,
    /// `X-Next-After` of the previous page: the next page by keyset, as fast
    /// however deep (not with `page`).
    #[param(
        max_length = 60,
        pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2}),[0-9]+)?$"
    )]
    after: Option<String>,
    /// `true` adds `X-Total-Count` (a count of every match, the slow part of
    /// a deep list); without it the total is not computed.
    total: Option<bool>,
}

impl ListQuery {
    /// The query's filter, for the entries of `user_id` (`None`: everyone's).
    fn filter(&self, user_id: Option<i64>) -> EntryFilter {
        EntryFilter {
            user_id,
            project_id: self.project_id,
            from: self.from,
            to: self.to,
        }
    }
}

/// A keyset cursor: the start and id of a page's last entry.
type Cursor = (DateTime<Utc>, i64);

/// The cursor of a page that ends with `e`, as `X-Next-After` sends it.
fn cursor(e: &Entry) -> String {
    format!("{},{}", e.started_at.to_rfc3339(), e.id)
}

/// Reads `after`, or a clear error.
fn parse_cursor(raw: &str) -> Result<Cursor, AppError> {
    raw.split_once(',')
        .and_then(|(t, id)| {
            Some((
                DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc),
                id.parse().ok()?,
            ))
        })
        .ok_or_else(|| {
            ValidationError::new(
                "after",
                "after must be the X-Next-After of the previous page.",
            )
            .into()
        })
}

/// `page`/`per_page` into limit and offset, or a clear error.
pub fn pagination(page: Option<i64>, per_page: Option<i64>) -> Result<(i64, i64), AppError> {
    let per_page = per_page.unwrap_or(50);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ValidationError::new("per_page", "per_page must be between 1 and 200.").into());
    }
    let page = page.unwrap_or(1);
    if !(1..=1_000_000).contains(&page) {
        return Err(ValidationError::new("page", "page must be between 1 and 1000000.").into());
    }
    Ok((per_page, (page - 1) * per_page))
}

/// Entries, newest first; your own unless a manager or administrator asks for
/// a user or `all`.
/// The next page: `after` = this page's `X-Next-After` (sent while more
/// entries follow), or `page`. The total only with `total=true`.
#[utoipa::path(get, path = "/api/v1/time-entries", tag = "time entries", params(ListQuery),
    responses((status = 200, body = Vec<EntryJson>, headers(
                  ("X-Next-After" = String, description = "Pass as `after` for the next page; absent on the last page"),
                  ("X-Total-Count" = i64, description = "Matching entries; only with `total=true`"))),
              (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    credential: Credential,
    query: Result<Query<ListQuery>, AppError>,
) -> Result<Response, AppError> {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return Err(unless_unauthorized(&state, &credential, e).await),
    };
    if matches!(q.user_id.as_deref(), None | Some("")) && q.total != Some(true) {
        // The default request, the caller's own entries without the total:
        // the statement that reads them checks the credential too, one
        // round trip (db::callers).
        let (limit, offset, after) = match window(&q) {
            Ok(window) => window,
            Err(e) => return Err(unless_unauthorized(&state, &credential, e).await),
        };
        let own = db::entries::own_page(
            &state.pool,
            credential.kind,
            &credential.hash,
            &q.filter(None),
            limit + 1,
            offset,
            after,
        )
        .await?
        .ok_or(AppError::Unauthorized)?;
        credential.record_use(&state.pool, own.touch).await?;
        return Ok(respond(own.entries, limit, None));
    }
    let actor = Actor::from(&credential.check(&state.pool).await?);
    let user_id = match q.user_id.as_deref() {
        None | Some("") => Some(actor.user_id),
        Some("all") if actor.can(Permission::ManageTeamTime) => None,
        Some("all") => {
            return Err(AppError::Forbidden(
                "You can only list your own entries.".into(),
            ));
        }
        Some(raw) => {
            let id: i64 = raw.parse().map_err(|_| {
                ValidationError::new("user_id", "user_id must be a user id or all.")
            })?;
            if !actor.can(Permission::ManageTeamTime) && id != actor.user_id {
                return Err(AppError::Forbidden(
                    "You can only list your own entries.".into(),
                ));
            }
            Some(id)
        }
    };
    let (limit, offset, after) = window(&q)?;
    let filter = q.filter(user_id);
    // One row more than the page says whether another follows.
    if q.total == Some(true) {
        let (rows, total) = tokio::try_join!(
            db::entries::page(&state.pool, &filter, limit + 1, offset, after),
            db::entries::count(&state.pool, &filter),
        )?;
        Ok(respond(rows, limit, Some(total)))
    } else {
        let rows = db::entries::page(&state.pool, &filter, limit + 1, offset, after).await?;
        Ok(respond(rows, limit, None))
    }
}

/// The page's size, offset and keyset cursor, or the input's error.
fn window(q: &ListQuery) -> Result<(i64, i64, Option<Cursor>), AppError> {
    let (limit, offset) = pagination(q.page, q.per_page)?;
    let after = match (q.after.as_deref().filter(|a| !a.is_empty()), q.page) {
        (Some(_), Some(_)) => {
            return Err(
                ValidationError::new("after", "Use either page or after, not both.").into(),
            );
        }
        (Some(raw), None) => Some(parse_cursor(raw)?),
        (None, _) => None,
    };
    for (field, instant) in [("from", q.from), ("to", q.to)] {
        if instant.is_some_and(|t| !SANE_YEARS.contains(&t.year())) {
            return Err(ValidationError::new(field, "Use a year between 1900 and 9999.").into());
        }
    }
    Ok((limit, offset, after))
}

/// The page of `rows` (read one beyond `limit`: whether another page
/// follows), with the next page's cursor and the total when asked for.
fn respond(mut rows: Vec<Entry>, limit: i64, total: Option<i64>) -> Response {
    let mut headers = HeaderMap::new();
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        if let Some(next) = rows.last().map(cursor)
            && let Ok(value) = HeaderValue::from_str(&next)
        {
            headers.insert("x-next-after", value);
        }
    }
    if let Some(total) = total {
        headers.insert("x-total-count", HeaderValue::from(total));
    }
    let body: Vec<EntryJson> = rows.into_iter().map(Into::into).collect();
    (headers, Json(body)).into_response()
}

/// Body of create and replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    project_id: i64,
    task_id: Option<i64>,
    start: DateTime<Utc>,
    /// Either `end` or `duration_seconds`, not both.
    end: Option<DateTime<Utc>>,
    /// 1 second to 24 hours.
    #[schema(minimum = 1, maximum = 86400)]
    duration_seconds: Option<i64>,
    #[serde(default)]
    notes: String,
    /// At most 20 tags of at most 50 characters, none with a comma; blank
    /// ones and repeats (ignoring letter case) are dropped.
    #[serde(default)]
    #[schema(max_items = 20)]
    tags: Vec<String>,
    billable: Option<bool>,
    /// Admins may create entries for another user. An update may only repeat
    /// the entry's own user (422 `user_id` otherwise).
    user_id: Option<i64>,
}

impl EntryBody {
    fn input(&self) -> Result<entries::EntryInput, AppError> {
        let end = match (self.end, self.duration_seconds) {
            (Some(end), None) => end,
            (None, Some(seconds))
                if (1..=crate::domain::tracking::MAX_ENTRY_SECONDS).contains(&seconds) =>
            {
                self.start
                    .checked_add_signed(chrono::Duration::seconds(seconds))
                    .ok_or_else(|| ValidationError::new("start", "That start is out of range."))?
            }
            (None, Some(_)) => {
                return Err(ValidationError::new(
                    "duration_seconds",
                    "A duration is 1 second to 24 hours.",
                )
                .into());
            }
            _ => {
                return Err(
                    ValidationError::new("end", "Give either end or duration_seconds.").into(),
                );
            }
        };
        Ok(entries::EntryInput {
            project_id: self.project_id,
            task_id: self.task_id,
            start: self.start,
            end,
            notes: self.notes.clone(),
            tags: self.tags.clone(),
            billable: self.billable,
        })
    }
}

/// Creates a finished entry (managers and administrators: for `user_id`; 404
/// when no such user).
#[utoipa::path(post, path = "/api/v1/time-entries", tag = "time entries", request_body = EntryBody,
    responses((status = 201, body = EntryJson), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<EntryBody>,
) -> Result<Response, AppError> {
    let actor = Actor::from(&current);
    let owner = body.user_id.unwrap_or(actor.user_id);
    let entry = entries::create(&state.pool, &actor, owner, &body.input()?).await?;
    Ok((StatusCode::CREATED, Json(EntryJson::from(entry))).into_response())
}

/// One entry (yours, or any for managers and administrators).
#[utoipa::path(get, path = "/api/v1/time-entries/{id}", tag = "time entries", params(("id" = i64, Path)),
    responses((status = 200, body = EntryJson), (status = 404, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<EntryJson>, AppError> {
    Ok(Json(
        entries::get(&state.pool, &Actor::from(&current), id)
            .await?
            .entry
            .into(),
    ))
}

/// Replaces an entry's editable fields.
#[utoipa::path(put, path = "/api/v1/time-entries/{id}", tag = "time entries", params(("id" = i64, Path)), request_body = EntryBody,
    responses((status = 200, body = EntryJson), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<EntryBody>,
) -> Result<Json<EntryJson>, AppError> {
    let actor = Actor::from(&current);
    let existing = entries::get(&state.pool, &actor, id).await?;
    // The body is the create body; its `user_id` may only repeat the owner.
    if body
        .user_id
        .is_some_and(|user| user != existing.entry.user_id)
    {
        return Err(ValidationError::new(
            "user_id",
            "An entry's user cannot be changed: delete it and create it for the other person.",
        )
        .into());
    }
    Ok(Json(
        entries::update(&state.pool, &actor, id, &body.input()?)
            .await?
            .into(),
    ))
}

/// Deletes an entry.
#[utoipa::path(delete, path = "/api/v1/time-entries/{id}", tag = "time entries", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`entry_invoiced`: the entry is on an issued or paid invoice", body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope)))]
pub async fn delete(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    entries::delete(&state.pool, &Actor::from(&current), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a bulk request does to each entry.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkActionJson {
    Delete,
    /// Needs `project_id`.
    Move,
    /// Needs `billable`.
    SetBillable,
}

/// Up to 500 entries and one action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    #[schema(min_items = 1, max_items = 500)]
    ids: Vec<i64>,
    action: BulkActionJson,
    project_id: Option<i64>,
    billable: Option<bool>,
}

/// One entry's outcome: `status` is what the single request would have answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    id: i64,
    /// 200 (changed) or 204 (deleted), or the error status (403, 404, 409, 422).
    status: u16,
    error: Option<ErrorBodyJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBodyJson {
    code: String,
    message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResults {
    results: Vec<BulkResult>,
}

/// Deletes, moves or (un)marks billable several entries at once, each on its
/// own: one entry's failure leaves the others done; each gets its result.
#[utoipa::path(post, path = "/api/v1/time-entries/bulk", tag = "time entries", request_body = BulkBody,
    responses((status = 200, body = BulkResults), (status = 422, body = ErrorEnvelope)))]
pub async fn bulk(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<BulkBody>,
) -> Result<Json<BulkResults>, AppError> {
    let action = match body.action {
        BulkActionJson::Delete => entries::BulkAction::Delete,
        BulkActionJson::Move => {
            entries::BulkAction::MoveToProject(body.project_id.ok_or_else(|| {
                ValidationError::new("project_id", "Give the project_id to move the entries to.")
            })?)
        }
        BulkActionJson::SetBillable => entries::BulkAction::SetBillable(
            body.billable
                .ok_or_else(|| ValidationError::new("billable", "Give billable: true or false."))?,
        ),
    };
    let outcomes = entries::bulk(&state.pool, &Actor::from(&current), &body.ids, action).await?;
    let ok = if action == entries::BulkAction::Delete {
        204
    } else {
        200
    };
    let results = outcomes
        .into_iter()
        .map(|(id, outcome)| match outcome {
            Ok(()) => BulkResult {
                id,
                status: ok,
                error: None,
            },
            Err(e) => {
                if e.status().is_server_error() {
                    // Not answered as a response of its own: logged here, once.
                    tracing::error!(entry_id = id, error = %e, "bulk action failed for an entry");
                }
                let body = e.body();
                BulkResult {
                    id,
                    status: e.status().as_u16(),
                    error: Some(ErrorBodyJson {
                        code: body.code.to_owned(),
                        message: body.message,
                    }),
                }
            }
        })
        .collect();
    Ok(Json(BulkResults { results }))
}
