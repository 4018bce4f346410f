//! Admin: inviting people by email (on the users page). An invitation is
//! made with a role and a `mail` job in one transaction; the worker sends
//! the link. An address that has an account, or an open invitation, is
//! refused beside the field. Resending opens the invitation for another
//! week with a new link (the old one stops working); revoking stops it.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::users::{NewUserForm, UsersPage, users_page};
use crate::{
    auth::AdminUser,
    db,
    domain::{Email, Role, ValidationError},
    error::AppError,
    http::extract::{Form, Path},
    jobs::{self, MailMessage, SendMail},
    mail::INVITATION_DAYS,
    state::AppState,
    web::{
        confirm::{self, ConfirmForm, Question},
        flash, render,
    },
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteForm {
    pub invite_email: String,
    pub invite_role: String,
}

fn refused(message: &str) -> Vec<ValidationError> {
    vec![ValidationError::new("invite_email", message)]
}

async fn again(
    state: &AppState,
    admin: &AdminUser,
    status: StatusCode,
    form: InviteForm,
    errors: Vec<ValidationError>,
) -> Result<Response, AppError> {
    let page: UsersPage =
        users_page(state, admin, 1, None, NewUserForm::default(), errors, form).await?;
    Ok((status, render(&page)?).into_response())
}

/// Enqueues the invitation's message in the caller's transaction.
async fn send(tx: &mut sqlx::PgConnection, id: i64) -> Result<(), AppError> {
    jobs::enqueue(
        tx,
        &SendMail {
            message: MailMessage::Invitation { invitation_id: id },
        },
    )
    .await?;
    Ok(())
}

fn expiry() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::days(INVITATION_DAYS)
}

/// `POST /admin/invitations`.
pub async fn create(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<InviteForm>,
) -> Result<Response, AppError> {
    if state.config.mail.smtp.is_none() {
        let errors = refused("This installation does not send mail: create the account instead.");
        return again(&state, &admin, StatusCode::CONFLICT, form, errors).await;
    }
    // The invite form's fields have their own names beside the create form's.
    let parsed = (
        Email::parse(&form.invite_email).map_err(|e| e.on("invite_email")),
        Role::parse(&form.invite_role).map_err(|e| e.on("invite_role")),
    );
    let (email, role) = match parsed {
        (Ok(e), Ok(r)) => (e, r),
        (e, r) => {
            let errors = [e.err(), r.err()].into_iter().flatten().collect();
            return again(
                &state,
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
            )
            .await;
        }
    };
    let mut tx = state.pool.begin().await?;
    if db::invitations::email_has_account(&mut tx, email.as_str()).await? {
        let errors = refused("An account already uses this address.");
        return again(&state, &admin, StatusCode::CONFLICT, form, errors).await;
    }
    let id = match db::invitations::insert(
        &mut tx,
        email.as_str(),
        role.as_str(),
        admin.0.user.id,
        expiry(),
    )
    .await
    {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => {
            let errors =
                refused("This address has an open invitation: resend it from the list below.");
            return again(&state, &admin, StatusCode::CONFLICT, form, errors).await;
        }
        Err(e) => return Err(e.into()),
    };
    send(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(invitation_id = id, role = role.as_str(), "invitation made");
    Ok(flash::redirect(
        &state,
        "/admin/users",
        &format!("Invitation sent to {}.", email.as_str()),
    ))
}

/// `POST /admin/invitations/{id}/resend`: another week, a new link.
pub async fn resend(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let mut tx = state.pool.begin().await?;
    if !db::invitations::extend(&mut tx, id, expiry()).await? {
        return Err(AppError::NotFound);
    }
    send(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(invitation_id = id, "invitation resent");
    Ok(flash::redirect(
        &state,
        "/admin/users",
        "Invitation sent again, with a new link; the earlier link stops working.",
    ))
}

/// `POST /admin/invitations/{id}/revoke`, after a confirmation.
pub async fn revoke(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    if !confirm.confirmed() {
        return confirm::page(
            &admin.0,
            Question {
                question: "Revoke this invitation?",
                consequence: "Its link stops working at once. You can invite the address again later.",
                action: &format!("/admin/invitations/{id}/revoke"),
                button: "Revoke",
                danger: true,
                cancel: "/admin/users",
                carry: &[],
            },
        );
    }
    if !db::invitations::revoke(&state.pool, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(invitation_id = id, "invitation revoked");
    Ok(flash::redirect(
        &state,
        "/admin/users",
        "Invitation revoked.",
    ))
}
