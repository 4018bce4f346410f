//! The summary report as JSON.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ErrorEnvelope, Json};
use crate::{
    auth::CurrentUser,
    db::reports::SummaryRow,
    error::AppError,
    http::extract::Query,
    reports::{self, ReportQuery},
    state::AppState,
    tracking::Actor,
};

#[derive(Serialize, ToSchema)]
pub struct SummaryJson {
    group: &'static str,
    subgroup: Option<&'static str>,
    rounding_minutes: i32,
    currency: String,
    total_seconds: i64,
    billable_seconds: i64,
    /// Only for administrators and managers: absent for a plain user.
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_cents: Option<i64>,
    rows: Vec<RowJson>,
}

#[derive(Serialize, ToSchema)]
pub struct RowJson {
    key: String,
    subkey: Option<String>,
    seconds: i64,
    billable_seconds: i64,
    /// Only for administrators and managers: absent for a plain user.
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_cents: Option<i64>,
}

/// The summary report: the Reports page as JSON.
#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports", params(ReportQuery),
    responses((status = 200, body = SummaryJson), (status = 403, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn summary(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(q): Query<ReportQuery>,
) -> Result<Json<SummaryJson>, AppError> {
    let s = reports::summary(&state.pool, &Actor::from(&current), &q).await?;
    let has_sub = s.subgroup.is_some();
    Ok(Json(SummaryJson {
        group: s.group.as_str(),
        subgroup: s.subgroup.map(|g| g.as_str()),
        rounding_minutes: s.rounding_minutes,
        currency: s.currency,
        total_seconds: s.total_seconds,
        billable_seconds: s.billable_seconds,
        amount_cents: s.amount_cents,
        rows: s
            .rows
            .into_iter()
            .map(|r: SummaryRow| RowJson {
                key: r.key,
                subkey: has_sub.then_some(r.subkey),
                seconds: r.seconds,
                billable_seconds: r.billable_seconds,
                amount_cents: r.amount_cents,
            })
            .collect(),
    }))
}
