//! Invitations by email (`/invitations`), for administrators and managers:
//! each invites into the roles their own allows (`Role::invitable`: a
//! manager plain users only) and sees, resends and revokes only those
//! invitations. An invitation is made with a role, a `mail` job and its
//! event in one transaction; the worker sends the link. An address that has
//! an account, or an open invitation, is refused beside the field.
//! Resending opens the invitation for another week with a new link (the old
//! one stops working); revoking stops it. [`accept`] is the invitee's side.

pub mod accept;

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    analytics::{Event, record},
    auth::Inviter,
    db,
    domain::{Email, Role, ValidationError},
    error::AppError,
    http::extract::{Form, Path},
    jobs::{self, MailMessage, SendMail},
    mail::INVITATION_DAYS,
    state::AppState,
    tracking::Actor,
    web::{
        FieldErrors, Layout,
        confirm::{self, ConfirmForm, Question},
        flash::{self, Flash},
        render,
    },
};

/// An open invitation as the page lists it, in the viewer's format.
struct InvitationRow {
    id: i64,
    email: String,
    role: String,
    sent: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "invitations.html")]
struct InvitationsPage {
    layout: Layout,
    /// Whether invitations can be sent (mail is configured).
    mail_configured: bool,
    /// The roles the viewer may invite into.
    roles: &'static [Role],
    invite: InviteForm,
    errors: FieldErrors,
    invitations: Vec<InvitationRow>,
}

/// Most open invitations the page lists.
const INVITATIONS_SHOWN: i64 = 200;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteForm {
    pub invite_email: String,
    pub invite_role: String,
}

fn refused(message: &str) -> Vec<ValidationError> {
    vec![ValidationError::new("invite_email", message)]
}

/// The stored names of the roles `inviter` may invite into.
fn role_names(inviter: &Inviter) -> Vec<&'static str> {
    inviter
        .0
        .user
        .role()
        .invitable()
        .iter()
        .map(|r| r.as_str())
        .collect()
}

/// The page, with the invite form as given.
async fn page(
    state: &AppState,
    inviter: &Inviter,
    status: StatusCode,
    notice: Option<String>,
    form: InviteForm,
    errors: Vec<ValidationError>,
) -> Result<Response, AppError> {
    let format = Actor::from(&inviter.0).format;
    let invitations = db::invitations::open(&state.pool, &role_names(inviter), INVITATIONS_SHOWN)
        .await?
        .into_iter()
        .map(|i| InvitationRow {
            id: i.id,
            email: i.email,
            role: i.role,
            sent: i
                .sent_at
                .map_or_else(|| "not yet".to_owned(), |t| format.instant(t)),
            expires: format.instant(i.expires_at),
        })
        .collect();
    let page = InvitationsPage {
        layout: Layout::for_user("Invitations", &inviter.0).with_notice(notice),
        mail_configured: state.config.mail.smtp.is_some(),
        roles: inviter.0.user.role().invitable(),
        invite: form,
        errors: errors.into(),
        invitations,
    };
    Ok((status, render(&page)?).into_response())
}

/// `GET /invitations`.
pub async fn list(
    State(state): State<AppState>,
    inviter: Inviter,
    Flash(notice): Flash,
) -> Result<Response, AppError> {
    page(
        &state,
        &inviter,
        StatusCode::OK,
        notice,
        InviteForm::default(),
        Vec::new(),
    )
    .await
}

async fn again(
    state: &AppState,
    inviter: &Inviter,
    status: StatusCode,
    form: InviteForm,
    errors: Vec<ValidationError>,
) -> Result<Response, AppError> {
    page(state, inviter, status, None, form, errors).await
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

/// `POST /invitations`.
pub async fn create(
    State(state): State<AppState>,
    inviter: Inviter,
    Form(form): Form<InviteForm>,
) -> Result<Response, AppError> {
    if state.config.mail.smtp.is_none() {
        let errors = refused(
            "This installation does not send mail: an administrator creates the account instead.",
        );
        return again(&state, &inviter, StatusCode::CONFLICT, form, errors).await;
    }
    let may = inviter.0.user.role();
    let parsed = (
        Email::parse(&form.invite_email).map_err(|e| e.on("invite_email")),
        Role::parse(&form.invite_role)
            .map_err(|e| e.on("invite_role"))
            .and_then(|role| {
                if may.may_invite(role) {
                    Ok(role)
                } else {
                    Err(ValidationError::new(
                        "invite_role",
                        "Your role invites plain users only.",
                    ))
                }
            }),
    );
    let (email, role) = match parsed {
        (Ok(e), Ok(r)) => (e, r),
        (e, r) => {
            let errors = [e.err(), r.err()].into_iter().flatten().collect();
            return again(
                &state,
                &inviter,
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
        return again(&state, &inviter, StatusCode::CONFLICT, form, errors).await;
    }
    let id = match db::invitations::insert(
        &mut tx,
        email.as_str(),
        role.as_str(),
        inviter.0.user.id,
        expiry(),
    )
    .await
    {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => {
            let errors =
                refused("This address has an open invitation: resend it from the list below.");
            return again(&state, &inviter, StatusCode::CONFLICT, form, errors).await;
        }
        Err(e) => return Err(e.into()),
    };
    send(&mut tx, id).await?;
    record(
        &mut tx,
        Some(inviter.0.user.id),
        &Event::InvitationSent {
            role: role.as_str(),
            resent: false,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(invitation_id = id, role = role.as_str(), "invitation made");
    Ok(flash::redirect(
        &state,
        "/invitations",
        &format!("Invitation sent to {}.", email.as_str()),
    ))
}

/// `POST /invitations/{id}/resend`: another week, a new link.
pub async fn resend(
    State(state): State<AppState>,
    inviter: Inviter,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let mut tx = state.pool.begin().await?;
    let Some(role) = db::invitations::extend(&mut tx, id, &role_names(&inviter), expiry()).await?
    else {
        return Err(AppError::NotFound);
    };
    send(&mut tx, id).await?;
    record(
        &mut tx,
        Some(inviter.0.user.id),
        &Event::InvitationSent {
            role: Role::from_stored(&role).as_str(),
            resent: true,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(invitation_id = id, "invitation resent");
    Ok(flash::redirect(
        &state,
        "/invitations",
        "Invitation sent again, with a new link; the earlier link stops working.",
    ))
}

/// `POST /invitations/{id}/revoke`, after a confirmation.
pub async fn revoke(
    State(state): State<AppState>,
    inviter: Inviter,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    if !confirm.confirmed() {
        return confirm::page(
            &inviter.0,
            Question {
                question: "Revoke this invitation?",
                consequence: "Its link stops working at once. You can invite the address again later.",
                action: &format!("/invitations/{id}/revoke"),
                button: "Revoke",
                danger: true,
                cancel: "/invitations",
                carry: &[],
            },
        );
    }
    if !db::invitations::revoke(&state.pool, id, &role_names(&inviter)).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(invitation_id = id, "invitation revoked");
    Ok(flash::redirect(
        &state,
        "/invitations",
        "Invitation revoked.",
    ))
}
