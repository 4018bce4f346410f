//! Admin: list, create, deactivate, reactivate users and change roles.
//! The last active admin can be neither demoted nor deactivated.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::web::{
    FieldErrors, Layout,
    confirm::{self, ConfirmForm, Question},
    flash::{self, Flash, Reveal},
    render,
};
use crate::{
    analytics::{Event, record},
    auth::{
        AdminUser,
        keys::{random_token, sha256},
        password,
    },
    db::{self, users::User},
    domain::{Email, Password, Permission, Role, Timezone, Username, ValidationError},
    error::AppError,
    http::extract::{Form, Path, Query},
    state::AppState,
};

const PAGE_SIZE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewUserForm {
    username: String,
    email: String,
    password: String,
    password_confirm: String,
    role: String,
    timezone: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    page: i64,
    pages: i64,
    prev_page: Option<i64>,
    next_page: Option<i64>,
    form: NewUserForm,
    errors: FieldErrors,
    timezones: Vec<&'static str>,
    /// A password reset link just made, shown this once.
    reset_link: Option<String>,
    /// Whether administrators and managers must use a second factor.
    two_factor_required: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    page: Option<i64>,
}

/// The users page with the create form as given.
async fn users_page(
    state: &AppState,
    admin: &AdminUser,
    page: i64,
    notice: Option<String>,
    mut form: NewUserForm,
    errors: Vec<ValidationError>,
) -> Result<UsersPage, AppError> {
    let page = page.max(1);
    let (users, total) =
        db::users::page(&state.pool, PAGE_SIZE, (page - 1).saturating_mul(PAGE_SIZE)).await?;
    let pages = (total + PAGE_SIZE - 1).max(1) / PAGE_SIZE;
    if form.timezone.is_empty() {
        form.timezone = admin.0.user.timezone.clone();
    }
    form.password.clear();
    form.password_confirm.clear();
    Ok(UsersPage {
        layout: Layout::for_user("Users", &admin.0).with_notice(notice),
        users,
        page,
        pages: pages.max(1),
        prev_page: (page > 1).then(|| page - 1),
        next_page: (page < pages).then(|| page + 1),
        form,
        errors: errors.into(),
        timezones: Timezone::all_names().collect(),
        reset_link: None,
        two_factor_required: db::two_factor::required(&state.pool).await?,
    })
}

pub async fn list(
    State(state): State<AppState>,
    admin: AdminUser,
    Query(query): Query<ListQuery>,
    Flash(notice): Flash,
    Reveal(reset_link): Reveal,
) -> Result<Response, AppError> {
    let mut page = users_page(
        &state,
        &admin,
        query.page.unwrap_or(1),
        notice,
        NewUserForm::default(),
        Vec::new(),
    )
    .await?;
    page.reset_link = reset_link;
    // `no-store` like every dynamic response (startup::router): the one-time
    // link stays out of caches and history.
    Ok(render(&page)?.into_response())
}

pub async fn create(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<NewUserForm>,
) -> Result<Response, AppError> {
    let parsed = (
        Username::parse(&form.username),
        Email::parse(&form.email),
        Password::parse_new(&form.password, &form.password_confirm),
        Role::parse(&form.role),
        Timezone::parse(&form.timezone),
    );
    let (username, email, new_password, role, timezone) = match parsed {
        (Ok(u), Ok(e), Ok(p), Ok(r), Ok(t)) => (u, e, p, r, t),
        (u, e, p, r, t) => {
            let errors = [u.err(), e.err(), p.err(), r.err(), t.err()]
                .into_iter()
                .flatten()
                .collect();
            let page = users_page(&state, &admin, 1, None, form, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let hash = password::hash(&new_password).await?;
    let mut conn = state.pool.acquire().await?;
    let new_user = db::users::NewUser {
        username: &username,
        email: email.as_str(),
        password_hash: &hash,
        role,
        timezone: timezone.name(),
    };
    match db::users::insert(&mut conn, &new_user).await {
        Ok(id) => {
            tracing::info!(user_id = id, role = role.as_str(), "user created");
            record(
                &mut conn,
                Some(admin.0.user.id),
                &Event::UserCreated {
                    role: role.as_str(),
                },
            )
            .await?;
            Ok(flash::redirect(
                &state,
                "/admin/users",
                &format!("User {} created.", username.as_str()),
            ))
        }
        Err(e) if db::is_unique_violation(&e) => {
            let errors = vec![ValidationError::new("username", "This username is taken.")];
            let page = users_page(&state, &admin, 1, None, form, errors).await?;
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response, AppError> {
    let role = Role::parse(&form.role)?;
    let mut tx = state.pool.begin().await?;
    if !role.can(Permission::Administer) {
        refuse_if_last_admin(&mut tx, id).await?;
    }
    if !db::users::set_role(&mut tx, id, role).await? {
        return Err(AppError::NotFound);
    }
    crate::web::two_factor::role_given(&state, &mut tx, id, role).await?;
    tracing::info!(user_id = id, role = role.as_str(), "user role changed");
    record(
        &mut tx,
        Some(admin.0.user.id),
        &Event::UserUpdated { change: "role" },
    )
    .await?;
    tx.commit().await?;
    Ok(flash::redirect(&state, "/admin/users", "Role changed."))
}

pub async fn deactivate(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    if !confirm.confirmed() {
        let user = db::users::by_id(&state.pool, id)
            .await?
            .ok_or(AppError::NotFound)?;
        return confirm::page(
            &admin.0,
            Question {
                question: &format!("Deactivate {}?", user.username),
                consequence: "They are signed out everywhere at once, their API tokens, password reset links and the invitations they sent stop working, and they cannot sign in until reactivated. Their time entries stay.",
                action: &format!("/admin/users/{id}/deactivate"),
                button: "Deactivate",
                danger: true,
                cancel: "/admin/users",
                carry: &[],
            },
        );
    }
    let mut tx = state.pool.begin().await?;
    refuse_if_last_admin(&mut tx, id).await?;
    if !db::users::set_active(&mut tx, id, false).await? {
        return Err(AppError::NotFound);
    }
    db::sessions::delete_for_user(&mut tx, id, None).await?;
    db::users::revoke_password_resets(&mut tx, id).await?;
    db::invitations::revoke_made_by(&mut tx, id).await?;
    tracing::info!(user_id = id, "user deactivated");
    record(&mut tx, Some(admin.0.user.id), &Event::UserDeactivated).await?;
    tx.commit().await?;
    Ok(flash::redirect(
        &state,
        "/admin/users",
        "User deactivated and signed out.",
    ))
}

pub async fn activate(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let mut tx = state.pool.begin().await?;
    if !db::users::set_active(&mut tx, id, true).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(user_id = id, "user reactivated");
    record(
        &mut tx,
        Some(admin.0.user.id),
        &Event::UserUpdated {
            change: "reactivated",
        },
    )
    .await?;
    tx.commit().await?;
    Ok(flash::redirect(&state, "/admin/users", "User reactivated."))
}

/// 409 when `id` is the only active admin left. Locks the admin rows until the
/// caller's transaction ends, so concurrent changes cannot both pass.
async fn refuse_if_last_admin(tx: &mut sqlx::PgConnection, id: i64) -> Result<(), AppError> {
    let admins = db::users::lock_active_admins(tx).await?;
    if admins == [id] {
        return Err(AppError::Conflict {
            code: "last_admin",
            message:
                "This is the last active administrator. Make someone else an administrator first."
                    .into(),
        });
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "admin/user_edit.html")]
struct EditPage {
    layout: Layout,
    user: User,
    form: EditForm,
    errors: FieldErrors,
    /// Whether they have a second factor (or are enrolling one).
    two_factor: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    display_name: String,
    email: String,
    role: String,
}

async fn edit_page(
    state: &AppState,
    admin: &AdminUser,
    id: i64,
    form: Option<EditForm>,
    errors: Vec<ValidationError>,
) -> Result<EditPage, AppError> {
    let user = db::users::by_id(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = form.unwrap_or_else(|| EditForm {
        display_name: user.display_name.clone(),
        email: user.email.clone(),
        role: user.role.clone(),
    });
    Ok(EditPage {
        layout: Layout::for_user(&format!("Edit {}", user.username), &admin.0),
        two_factor: db::two_factor::get(&state.pool, user.id).await?.is_some(),
        user,
        form,
        errors: errors.into(),
    })
}

/// An administrator's form for a user's name, email and role.
pub async fn edit_form(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
    Flash(notice): Flash,
) -> Result<Response, AppError> {
    let mut page = edit_page(&state, &admin, id, None, Vec::new()).await?;
    page.layout = page.layout.with_notice(notice);
    Ok(render(&page)?.into_response())
}

pub async fn update(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<EditForm>,
) -> Result<Response, AppError> {
    let parsed = (
        crate::web::profile::parse_display_name(&form.display_name),
        Email::parse(&form.email),
        Role::parse(&form.role),
    );
    let (name, email, role) = match parsed {
        (Ok(n), Ok(e), Ok(r)) => (n, e, r),
        (n, e, r) => {
            let errors = [n.err(), e.err(), r.err()].into_iter().flatten().collect();
            let page = edit_page(&state, &admin, id, Some(form), errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let before = db::users::by_id(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = state.pool.begin().await?;
    if !role.can(Permission::Administer) {
        refuse_if_last_admin(&mut tx, id).await?;
    }
    db::users::set_display_name(&mut tx, id, &name).await?;
    db::users::set_email(&mut tx, id, email.as_str()).await?;
    db::users::set_role(&mut tx, id, role).await?;
    crate::web::two_factor::role_given(&state, &mut tx, id, role).await?;
    let change = if before.role != role.as_str() {
        "role"
    } else {
        "profile"
    };
    tracing::info!(user_id = id, change, "user edited by admin");
    record(
        &mut tx,
        Some(admin.0.user.id),
        &Event::UserUpdated { change },
    )
    .await?;
    tx.commit().await?;
    Ok(flash::redirect(&state, "/admin/users", "User saved."))
}

/// How long a password reset link works.
const RESET_LINK_HOURS: i64 = 24;

/// Makes a one-time link with which the user sets a new password; the
/// administrator gives it to them. No password is ever shown or chosen by the admin.
pub async fn reset_password(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let user = db::users::by_id(&state.pool, id)
        .await?
        .filter(|u| u.active)
        .ok_or(AppError::NotFound)?;
    let token = random_token();
    let mut tx = state.pool.begin().await?;
    db::users::insert_password_reset(
        &mut tx,
        &sha256(&token),
        id,
        Some(admin.0.user.id),
        chrono::Utc::now() + chrono::Duration::hours(RESET_LINK_HOURS),
    )
    .await?;
    record(
        &mut tx,
        Some(admin.0.user.id),
        &Event::UserUpdated {
            change: "password_reset",
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = id, "password reset link created");
    let link = format!(
        "{}/reset-password?token={token}",
        state.config.web.public_url
    );
    Ok(flash::redirect_revealing(
        &state,
        "/admin/users",
        &format!(
            "A password reset link for {} was made. Give it to them: it works once, for {RESET_LINK_HOURS} hours.",
            user.username
        ),
        &link,
    ))
}
