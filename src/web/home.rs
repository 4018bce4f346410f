//! The start page.

use askama::Template;
use axum::response::Html;

use super::{Layout, render};
use crate::{auth::CurrentUser, error::AppError};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    username: String,
    is_admin: bool,
    timezone: String,
}

pub async fn show(current: CurrentUser) -> Result<Html<String>, AppError> {
    render(&HomePage {
        layout: Layout::for_user("Home", &current),
        username: current.user.username.clone(),
        is_admin: current.user.is_admin(),
        timezone: current.user.timezone.clone(),
    })
}
