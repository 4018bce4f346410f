use serde::Serialize;
use utoipa::ToSchema;

use super::{ErrorEnvelope, Json};
use crate::auth::CurrentUser;

#[derive(Serialize, ToSchema)]
pub struct Me {
    id: i64,
    username: String,
    email: String,
    role: String,
    timezone: String,
}

/// The authenticated user.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = Me), (status = 401, body = ErrorEnvelope)))]
pub async fn show(current: CurrentUser) -> Json<Me> {
    let u = current.user;
    Json(Me {
        id: u.id,
        username: u.username,
        email: u.email,
        role: u.role,
        timezone: u.timezone,
    })
}
