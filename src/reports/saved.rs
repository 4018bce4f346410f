//! Saved reports: a report's filters under a name, per user, opened again
//! from a list. The preset is kept, so "last month" stays last month.

use sqlx::PgPool;

use super::ReportQuery;
use crate::{
    db::{self, saved_reports::SavedReport},
    domain::{ValidationError, tracking::parse_name},
    error::AppError,
    tracking::Actor,
};

/// A saved report, its filters read back.
pub struct Saved {
    pub id: i64,
    pub name: String,
    pub query: ReportQuery,
}

impl From<SavedReport> for Saved {
    fn from(r: SavedReport) -> Self {
        Self {
            id: r.id,
            name: r.name,
            query: serde_json::from_value(r.params).unwrap_or_default(),
        }
    }
}

/// The actor's saved reports by name.
pub async fn list(pool: &PgPool, actor: &Actor) -> Result<Vec<Saved>, AppError> {
    Ok(db::saved_reports::list(pool, actor.user_id)
        .await?
        .into_iter()
        .map(Saved::from)
        .collect())
}

/// Saves `query` as `name` (replacing the actor's report of that name);
/// `true` when it is new. The filters are checked first, so a saved report opens.
pub async fn save(
    pool: &PgPool,
    actor: &Actor,
    name: &str,
    query: &ReportQuery,
) -> Result<bool, AppError> {
    let name = parse_name(name)?;
    if name.chars().count() > 100 {
        return Err(ValidationError::new("name", "A name has at most 100 characters.").into());
    }
    let settings = db::settings::load(pool).await?;
    super::resolve(actor, query, &settings.week_start)?;
    let params = serde_json::to_value(query).map_err(anyhow::Error::from)?;
    Ok(db::saved_reports::upsert(pool, actor.user_id, &name, &params).await?)
}

/// One of the actor's own saved reports (others' are "not found", admins included).
pub async fn own(pool: &PgPool, actor: &Actor, id: i64) -> Result<Saved, AppError> {
    db::saved_reports::get(pool, id)
        .await?
        .filter(|r| r.user_id == actor.user_id)
        .map(Saved::from)
        .ok_or(AppError::NotFound)
}

pub async fn delete(pool: &PgPool, actor: &Actor, id: i64) -> Result<Saved, AppError> {
    let saved = own(pool, actor, id).await?;
    db::saved_reports::delete(pool, id).await?;
    Ok(saved)
}
