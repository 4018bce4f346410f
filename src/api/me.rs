use serde::Serialize;

use super::Json;
use crate::auth::CurrentUser;

#[derive(Serialize)]
pub struct Me {
    id: i64,
    username: String,
    email: String,
    role: String,
    timezone: String,
}

/// `GET /api/v1/me`: the authenticated user.
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
