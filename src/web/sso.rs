//! Single sign-on pages: `/login/sso` sends the browser to the provider,
//! `/login/sso/callback` brings it back signed in (or refused, with the
//! reason), and `/admin/sso` shows the configuration as the app understood
//! it and the latest refusals.
//!
//! Rules: a callback counts only in the browser that started its sign-in
//! (the `state` is also in that browser's cookie) and only once. An account
//! is found by the provider's issuer and `sub`. At a
//! first sign-in it is linked to an existing account, or made from an open
//! invitation, only through an email the provider says is verified; else it
//! is made only when `OIDC_CREATE_USERS` allows. When groups are mapped to
//! roles, the role follows the groups at every sign-in, and someone in no
//! mapped group is refused. A refusal records its reason and the names of
//! the claims received, never a token or a claim's value.

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::{Layout, flash, redirect_with_cookie, render};
use crate::{
    analytics::{Event, record},
    auth::{
        AdminUser,
        keys::{constant_time_eq, random_token, sha256},
        oidc::{Identity, Refusal},
        password, session,
    },
    db,
    domain::{LocalPath, Password, Role, Username},
    error::AppError,
    http::extract::Query,
    observability::metrics::LOGINS,
    state::AppState,
    tracking::Actor,
};

/// How long a sign-in may stay at the provider.
const SIGN_IN_MINUTES: i64 = 10;
/// The cookie that ties a sign-in's `state` to the browser that started it,
/// so a callback address cannot sign someone else's browser in (login CSRF).
const STATE_COOKIE: &str = "tt_sso";
/// The sealing purpose of a sign-in's PKCE verifier and nonce.
const SEAL_PURPOSE: &str = "sso-sign-in";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartQuery {
    next: String,
}

/// `GET /login/sso`: to the provider.
pub async fn start(
    State(state): State<AppState>,
    Query(q): Query<StartQuery>,
) -> Result<Response, AppError> {
    let Some(provider) = state.oidc.as_ref() else {
        return Err(AppError::NotFound);
    };
    let started = match provider.start().await {
        Ok(s) => s,
        Err(Refusal(reason)) => return refused(&state, reason, &[]).await,
    };
    let secrets = format!("{}\n{}", started.pkce_verifier, started.nonce);
    let state_hash = sha256(&started.state);
    let sealed = state
        .keys
        .seal(SEAL_PURPOSE, &state_hash, secrets.as_bytes());
    let expires = Utc::now() + Duration::minutes(SIGN_IN_MINUTES);
    let next = LocalPath::or_root(&q.next);
    db::sso::insert_sign_in(&state.pool, &state_hash, &sealed, next.as_str(), expires).await?;
    let mut response = Redirect::to(&started.url).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(&state, STATE_COOKIE, &started.state, SIGN_IN_MINUTES * 60),
    );
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallbackQuery {
    code: String,
    state: String,
    error: String,
}

/// Back to the sign-in page with `reason`, recorded for the administrators.
async fn refused(
    state: &AppState,
    reason: &str,
    claim_names: &[String],
) -> Result<Response, AppError> {
    db::sso::record_refusal(&state.pool, reason, claim_names).await?;
    metrics::counter!(LOGINS, "outcome" => "failed").increment(1);
    tracing::info!(reason, "single sign-on refused");
    Ok(flash::redirect(
        state,
        "/login",
        &format!("Single sign-on did not sign you in: {reason}."),
    ))
}

/// `GET /login/sso/callback`: the provider's answer.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    let Some(provider) = state.oidc.as_ref() else {
        return Err(AppError::NotFound);
    };
    if !q.error.is_empty() {
        return refused(&state, "the provider did not sign you in", &[]).await;
    }
    let started_here = session::cookie(&headers, STATE_COOKIE)
        .is_some_and(|cookie| constant_time_eq(cookie, &q.state));
    if !started_here {
        return refused(
            &state,
            "this sign-in was started in another browser (start again here)",
            &[],
        )
        .await;
    }
    let state_hash = sha256(&q.state);
    let Some((sealed, next)) = db::sso::take_sign_in(&state.pool, &state_hash).await? else {
        return refused(
            &state,
            "this sign-in was used already or is too old (start again)",
            &[],
        )
        .await;
    };
    let secrets = state
        .keys
        .open(SEAL_PURPOSE, &state_hash, &sealed)
        .and_then(|s| String::from_utf8(s).ok())
        .unwrap_or_default();
    let Some((verifier, nonce)) = secrets.split_once('\n') else {
        return refused(
            &state,
            "this sign-in cannot be read (was SECRET_KEY changed?)",
            &[],
        )
        .await;
    };
    let identity = match provider.finish(&q.code, verifier, nonce).await {
        Ok(identity) => identity,
        Err((Refusal(reason), names)) => return refused(&state, reason, &names).await,
    };
    let user_id = match account(&state, &identity).await? {
        Ok(id) => id,
        Err(reason) => return refused(&state, reason, &identity.claim_names).await,
    };
    metrics::counter!(LOGINS, "outcome" => "succeeded").increment(1);
    tracing::info!(user_id, "single sign-on succeeded");
    record(
        &mut *state.pool.acquire().await?,
        Some(user_id),
        &Event::Login { auth_method: "sso" },
    )
    .await?;
    let cookie = session::start(&state, user_id).await?;
    let mut response = redirect_with_cookie(&LocalPath::or_root(&next), cookie);
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(&state, STATE_COOKIE, "", 0),
    );
    Ok(response)
}

/// The account `identity` signs in to (found, linked or made, its role set
/// from the groups), or why not.
async fn account(
    state: &AppState,
    identity: &Identity,
) -> Result<Result<i64, &'static str>, AppError> {
    let Some(provider) = state.oidc.as_ref() else {
        return Err(AppError::NotFound);
    };
    let Some(role) = provider.config.role_for(&identity.groups) else {
        return Ok(Err("you are in none of the groups allowed to sign in"));
    };
    let mut tx = state.pool.begin().await?;
    let known = db::sso::user_for_subject(&state.pool, &identity.issuer, &identity.subject).await?;
    // The account and, unless made just now with its role, its present role.
    let (user_id, present_role) = match known {
        Some(id) => {
            let Some(user) = db::users::by_id(&state.pool, id).await? else {
                return Ok(Err("your account was removed"));
            };
            if !user.active {
                return Ok(Err("your account here is deactivated"));
            }
            (id, Some(user.role()))
        }
        None => {
            let Some(email) = identity.verified_email.as_deref() else {
                return Ok(Err("the provider did not give a verified email address"));
            };
            let existing = db::users::active_ids_with_email(&mut tx, email, 2).await?;
            let (id, present) = match existing.as_slice() {
                [one] => {
                    let user = db::users::by_id(&state.pool, *one).await?;
                    (*one, user.map(|u| u.role()))
                }
                [_, _, ..] => {
                    return Ok(Err("more than one account here uses your email address"));
                }
                [] => {
                    let invitation = db::invitations::lock_open_for_email(&mut tx, email).await?;
                    let invited_role = invitation.as_ref().map(|i| Role::from_stored(&i.role));
                    if invitation.is_none() && !provider.config.create_users {
                        return Ok(Err(
                            "there is no account for you here: ask for an invitation",
                        ));
                    }
                    let role = role.or(invited_role).unwrap_or(Role::User);
                    let id = create(&mut tx, identity, email, role).await?;
                    if let Some(i) = invitation {
                        db::invitations::accept(&mut tx, i.id, id).await?;
                        record(
                            &mut tx,
                            Some(id),
                            &Event::InvitationAccepted {
                                role: role.as_str(),
                            },
                        )
                        .await?;
                    }
                    (id, None)
                }
            };
            db::sso::link(&mut tx, &identity.issuer, &identity.subject, id).await?;
            (id, present)
        }
    };
    if let (Some(role), Some(present)) = (role, present_role)
        && present != role
    {
        // As on the users page, the last active administrator keeps the role.
        let last_admin =
            present == Role::Admin && db::users::lock_active_admins(&mut tx).await? == [user_id];
        if last_admin {
            tracing::warn!(
                user_id,
                "the provider's groups would demote the last active administrator: the role is kept"
            );
        } else {
            db::users::set_role(&mut tx, user_id, role).await?;
            tracing::info!(
                user_id,
                role = role.as_str(),
                "role set from the provider's groups"
            );
        }
    }
    tx.commit().await?;
    Ok(Ok(user_id))
}

/// Makes the account of a first sign-in: a username from the provider's
/// (or the email's local part) made unique, a password nobody knows.
async fn create(
    conn: &mut sqlx::PgConnection,
    identity: &Identity,
    email: &str,
    role: Role,
) -> Result<i64, AppError> {
    let base = identity
        .preferred_username
        .as_deref()
        .and_then(|u| Username::parse(u).ok())
        .or_else(|| Username::parse(email.split('@').next().unwrap_or_default()).ok())
        .map(|u| u.as_str().to_owned())
        .unwrap_or_else(|| "user".to_owned());
    let nobody_knows = random_token();
    let unknown = Password::parse_new(&nobody_knows, &nobody_knows)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{}", e.message)))?;
    let hash = password::hash(&unknown).await?;
    for n in 0..100 {
        let name = if n == 0 {
            base.clone()
        } else {
            format!("{base}{}", n + 1)
        };
        let Ok(username) = Username::parse(&name) else {
            break;
        };
        let new = db::users::NewUser {
            username: &username,
            email,
            password_hash: &hash,
            role,
            timezone: "UTC",
        };
        let mut savepoint = sqlx::Connection::begin(&mut *conn).await?;
        match db::users::insert(&mut savepoint, &new).await {
            Ok(id) => {
                savepoint.commit().await?;
                return Ok(id);
            }
            Err(e) if db::is_unique_violation(&e) => savepoint.rollback().await?,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "no free username for a new account"
    )))
}

#[derive(Template)]
#[template(path = "admin/sso.html")]
struct SsoPage {
    layout: Layout,
    /// The configuration as understood; `None` when single sign-on is off.
    settings: Option<Vec<(&'static str, String)>>,
    refusals: Vec<RefusalRow>,
}

struct RefusalRow {
    at: String,
    reason: String,
    claim_names: String,
}

/// `GET /admin/sso`
pub async fn admin_page(
    State(state): State<AppState>,
    admin: AdminUser,
) -> Result<Response, AppError> {
    let format = Actor::from(&admin.0).format;
    let settings = state.oidc.as_ref().map(|p| {
        let c = &p.config;
        let groups = |role: Role| {
            c.role_groups
                .iter()
                .find(|(r, _)| *r == role)
                .map(|(_, g)| g.join(", "))
                .unwrap_or_else(|| "—".to_owned())
        };
        vec![
            ("Provider (issuer)", c.issuer_url.clone()),
            ("Client id", c.client_id.clone()),
            ("Client secret", "set (never shown)".to_owned()),
            (
                "Redirect URI to register at the provider",
                p.redirect_uri().to_owned(),
            ),
            ("Groups claim", c.groups_claim.clone()),
            ("Administrators' groups", groups(Role::Admin)),
            ("Managers' groups", groups(Role::Manager)),
            ("Users' groups", groups(Role::User)),
            (
                "Roles from groups",
                if c.role_groups.is_empty() {
                    "no: groups are not read; new people are users".to_owned()
                } else {
                    "yes, at every sign-in; in no group: refused".to_owned()
                },
            ),
            (
                "New people without an invitation",
                if c.create_users {
                    "get an account"
                } else {
                    "are refused"
                }
                .to_owned(),
            ),
            ("Password sign-in", c.password_sign_in.as_str().to_owned()),
        ]
    });
    let refusals = db::sso::refusals(&state.pool)
        .await?
        .into_iter()
        .map(|r| RefusalRow {
            at: format.instant(r.at),
            reason: r.reason,
            claim_names: if r.claim_names.is_empty() {
                "—".to_owned()
            } else {
                r.claim_names.join(", ")
            },
        })
        .collect();
    let page = SsoPage {
        layout: Layout::for_user("Single sign-on", &admin.0),
        settings,
        refusals,
    };
    Ok((StatusCode::OK, render(&page)?).into_response())
}

/// The sign-in page's button, when single sign-on is on: its label.
pub fn button(state: &AppState) -> Option<String> {
    state
        .oidc
        .as_ref()
        .map(|p| format!("Sign in with {}", p.config.provider_name))
}

/// Whether `role` may sign in with a password while single sign-on is on.
pub fn password_allowed(state: &AppState, role: Role) -> bool {
    use crate::config::PasswordSignIn;
    state.oidc.as_ref().is_none_or(|p| {
        p.config.password_sign_in == PasswordSignIn::Everyone || role == Role::Admin
    })
}
