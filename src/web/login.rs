//! Sign in and sign out. Unknown users, wrong passwords and deactivated
//! accounts get the same answer, so the form cannot be used to find accounts.

use crate::observability::metrics::LOGINS;
use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::Deserialize;

use super::{Layout, flash::Flash, page_with_cookie, redirect_with_cookie, render};
use crate::{
    analytics::{Event, record},
    auth::{csrf, keys::sha256, password, session, throttle},
    db::{self, callers::Kind},
    domain::LocalPath,
    error::AppError,
    http::extract::{ClientAddr, Form, Query},
    state::AppState,
};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    username: String,
    next: String,
    error: Option<String>,
    /// The single sign-on button's label, when it is on.
    sso: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    next: String,
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    page: LoginPage,
) -> Result<Response, AppError> {
    let (csrf, cookie) = csrf::ensure_token(state, headers);
    let page = LoginPage {
        layout: Layout {
            csrf,
            ..page.layout
        },
        sso: super::sso::button(state),
        ..page
    };
    Ok(page_with_cookie(status, render(&page)?, cookie))
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
    Flash(notice): Flash,
) -> Result<Response, AppError> {
    let login = LoginPage {
        layout: Layout::anonymous("Sign in", String::new()).with_notice(notice),
        username: String::new(),
        next: LocalPath::or_root(&query.next).as_str().to_owned(),
        error: None,
        sso: None,
    };
    page(&state, &headers, StatusCode::OK, login)
}

pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    throttle::check(&state, &form.username, address).await?;
    let found = db::users::credentials(&state.pool, form.username.trim()).await?;
    let (user_id, hash) = match found {
        Some((id, true, hash)) => (Some(id), Some(hash)),
        _ => (None, None),
    };
    let valid = password::verify(&form.password, hash).await?;
    let user_id = match (valid, user_id) {
        (true, Some(id)) => id,
        _ => {
            throttle::record_failure(&state, &form.username, address).await?;
            metrics::counter!(LOGINS, "outcome" => "failed").increment(1);
            tracing::info!("login failed");
            let login = LoginPage {
                layout: Layout::anonymous("Sign in", String::new()),
                username: form.username.trim().to_owned(),
                next: LocalPath::or_root(&form.next).as_str().to_owned(),
                error: Some("The username or password is wrong.".into()),
                sso: None,
            };
            return page(&state, &headers, StatusCode::UNAUTHORIZED, login);
        }
    };
    let next = LocalPath::or_root(&form.next);
    let user = db::users::by_id(&state.pool, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !super::sso::password_allowed(&state, user.role()) {
        // The password was right, so saying why gives nothing away.
        tracing::info!(user_id, "password sign-in refused: single sign-on only");
        let login = LoginPage {
            layout: Layout::anonymous("Sign in", String::new()),
            username: form.username.trim().to_owned(),
            next: next.as_str().to_owned(),
            error: Some(
                "This installation signs people in through single sign-on: use the button below."
                    .into(),
            ),
            sso: None,
        };
        return page(&state, &headers, StatusCode::FORBIDDEN, login);
    }
    if super::two_factor::second_step_needed(&state, &user).await? {
        // The throttle's counters stay as they are until the second step.
        tracing::info!(user_id, "password right; second step due");
        return super::two_factor::start_challenge(&state, user_id, &next).await;
    }
    throttle::record_success(&state, &form.username, address).await?;
    metrics::counter!(LOGINS, "outcome" => "succeeded").increment(1);
    tracing::info!(user_id, "login succeeded");
    record(
        &mut *state.pool.acquire().await?,
        Some(user_id),
        &Event::Login {
            auth_method: "password",
        },
    )
    .await?;
    let cookie = session::start(&state, user_id).await?;
    Ok(redirect_with_cookie(&next, cookie))
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let user = match session::cookie(&headers, session::SESSION_COOKIE) {
        Some(token) => db::callers::check(&state.pool, Kind::Session, &sha256(token))
            .await?
            .map(|caller| caller.user),
        None => None,
    };
    let cookie = session::end(&state, &headers).await?;
    if let Some(user) = user {
        record(
            &mut *state.pool.acquire().await?,
            Some(user.id),
            &Event::Logout,
        )
        .await?;
    }
    Ok(redirect_with_cookie(&LocalPath::or_root("/login"), cookie))
}
