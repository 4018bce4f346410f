//! Two-factor sign-in pages: the second step of a sign-in (`/login/code`),
//! enrolling and switching it off on one's profile (`/profile/two-factor`),
//! and the administrator's reset and requirement (`/admin/...`).
//!
//! Rules: a right password of someone with a second factor (or of an
//! administrator or manager when the installation requires one) starts no
//! session; it starts a five-minute challenge held by a cookie, and the
//! session starts only after a code (or a recovery code; or, for someone
//! required to, enrolling). The code step is throttled like the password
//! step, on the same counters. API tokens are not affected. Seeds and
//! recovery codes are shown only while enrolling, never logged.

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::{
    FieldErrors, Layout,
    confirm::{self, ConfirmForm, Question},
    flash::{self, Flash},
    page_with_cookie, redirect_with_cookie, render,
};
use crate::{
    analytics::{Event, record},
    auth::{
        AdminUser, CurrentUser, csrf,
        keys::{random_token, sha256},
        password, session, throttle,
        two_factor::{Code, Seed, qr_svg, recovery_codes, recovery_hash},
    },
    db::{self, two_factor::Challenge, users::User},
    domain::{LocalPath, Role, ValidationError},
    error::AppError,
    http::extract::{ClientAddr, Form, Path},
    observability::metrics::LOGINS,
    state::AppState,
};

/// The cookie that holds a sign-in's challenge between its two steps.
pub const CHALLENGE_COOKIE: &str = "tt_2fa";
/// How long the second step may take.
const CHALLENGE_MINUTES: i64 = 5;

/// A seed being enrolled, as the page shows it.
pub struct Enrolment {
    /// The QR code, an inline SVG element drawn here.
    qr: String,
    /// The key for typing by hand, in groups of four.
    key: String,
}

/// The form of a code step.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

/// Whether a sign-in of `user` whose password was right needs a second
/// step: they have a second factor, or their role must have one.
pub async fn second_step_needed(state: &AppState, user: &User) -> Result<bool, AppError> {
    if db::two_factor::get(&state.pool, user.id)
        .await?
        .is_some_and(|f| f.confirmed)
    {
        return Ok(true);
    }
    Ok(user.role().two_factor_may_be_required() && db::two_factor::required(&state.pool).await?)
}

/// After `user_id` is given `role` (in `conn`'s transaction): when the
/// installation requires a second factor of that role and they have none,
/// their sessions end, so they enrol at their next sign-in.
pub async fn role_given(
    state: &AppState,
    conn: &mut sqlx::PgConnection,
    user_id: i64,
    role: Role,
) -> Result<(), AppError> {
    if role.two_factor_may_be_required() && db::two_factor::required(&state.pool).await? {
        let ended = db::two_factor::end_user_sessions_without_factor(conn, user_id).await?;
        if ended > 0 {
            tracing::info!(
                user_id,
                ended,
                "sessions ended: the new role needs a second factor"
            );
        }
    }
    Ok(())
}

/// Starts the second step of `user_id`'s sign-in, which goes on to `next`.
pub async fn start_challenge(
    state: &AppState,
    user_id: i64,
    next: &LocalPath,
) -> Result<Response, AppError> {
    let token = random_token();
    let expires = Utc::now() + Duration::minutes(CHALLENGE_MINUTES);
    db::two_factor::insert_challenge(
        &state.pool,
        &sha256(&token),
        user_id,
        next.as_str(),
        expires,
    )
    .await?;
    let cookie = session::set_cookie(state, CHALLENGE_COOKIE, &token, CHALLENGE_MINUTES * 60);
    Ok(redirect_with_cookie(
        &LocalPath::or_root("/login/code"),
        cookie,
    ))
}

/// The seed `user_id` is enrolling, begun now when `fresh` or when there is
/// none; `None` when they have a confirmed factor.
async fn enrolment(
    state: &AppState,
    user_id: i64,
    account: &str,
    fresh: bool,
) -> Result<Option<Enrolment>, AppError> {
    let stored = db::two_factor::get(&state.pool, user_id).await?;
    if stored.as_ref().is_some_and(|f| f.confirmed) {
        return Ok(None);
    }
    let pending = stored
        .filter(|_| !fresh)
        .and_then(|f| Seed::open(&state.keys, user_id, &f.seed_sealed));
    let seed = match pending {
        Some(seed) => seed,
        None => {
            let seed = Seed::generate();
            if !db::two_factor::begin(&state.pool, user_id, &seed.seal(&state.keys, user_id))
                .await?
            {
                return Ok(None);
            }
            seed
        }
    };
    let url = seed.url(account).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("the otpauth address could not be made"))
    })?;
    let qr = qr_svg(&url)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the QR code could not be drawn")))?;
    let key = seed
        .base32()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Some(Enrolment { qr, key }))
}

/// How a code step was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Passed {
    Code,
    RecoveryCode,
}

/// Checks `code` for `user_id` inside `conn`'s transaction and uses it up:
/// a time code of their app (with `enrolling`, of the seed being enrolled,
/// which it confirms) or, once enrolled, a recovery code.
async fn pass(
    state: &AppState,
    conn: &mut sqlx::PgConnection,
    user_id: i64,
    code: &Code,
    enrolling: bool,
) -> Result<Option<Passed>, AppError> {
    let Some(factor) = db::two_factor::get(&state.pool, user_id).await? else {
        return Ok(None);
    };
    if factor.confirmed == enrolling {
        return Ok(None);
    }
    match code {
        Code::Time(digits) => {
            let Some(seed) = Seed::open(&state.keys, user_id, &factor.seed_sealed) else {
                tracing::warn!(
                    user_id,
                    "a two-factor seed does not open: was SECRET_KEY changed? An administrator can reset it"
                );
                return Ok(None);
            };
            let Some(step) = seed.check(digits, factor.last_step) else {
                return Ok(None);
            };
            Ok(db::two_factor::use_step(conn, user_id, step, enrolling)
                .await?
                .then_some(Passed::Code))
        }
        Code::Recovery(compact) if !enrolling => {
            Ok(
                db::two_factor::use_recovery_code(conn, user_id, &recovery_hash(compact))
                    .await?
                    .then_some(Passed::RecoveryCode),
            )
        }
        Code::Recovery(_) => Ok(None),
    }
}

/// Makes and stores fresh recovery codes in `conn`'s transaction; returns
/// them as shown, once.
async fn new_recovery_codes(
    conn: &mut sqlx::PgConnection,
    user_id: i64,
) -> Result<Vec<String>, AppError> {
    let codes = recovery_codes();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|(_, h)| h.clone()).collect();
    db::two_factor::set_recovery_codes(conn, user_id, &hashes).await?;
    Ok(codes.into_iter().map(|(c, _)| c).collect())
}

const WRONG_CODE: &str =
    "That code is not right (or was used already). Check your app's clock, or use a recovery code.";

#[derive(Template)]
#[template(path = "login_code.html")]
struct LoginCodePage {
    layout: Layout,
    /// Set when the person must enrol before their sign-in completes.
    enrol: Option<Enrolment>,
    errors: FieldErrors,
    /// Recovery codes just made (after enrolling), shown once.
    codes: Option<Vec<String>>,
    next: String,
}

/// The challenge the request's cookie names.
async fn current_challenge(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Vec<u8>, Challenge)>, AppError> {
    let Some(token) = session::cookie(headers, CHALLENGE_COOKIE) else {
        return Ok(None);
    };
    let hash = sha256(token);
    Ok(db::two_factor::challenge(&state.pool, &hash)
        .await?
        .map(|c| (hash, c)))
}

/// Back to the sign-in page, when the challenge is missing or over.
fn start_again(state: &AppState) -> Response {
    flash::redirect(
        state,
        "/login",
        "Your sign-in took too long or was finished: sign in again.",
    )
}

async fn code_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    challenge: &Challenge,
    errors: Vec<ValidationError>,
) -> Result<Response, AppError> {
    let (csrf, cookie) = csrf::ensure_token(state, headers);
    let enrol = enrolment(state, challenge.user_id, &challenge.username, false).await?;
    let page = LoginCodePage {
        layout: Layout::anonymous(
            if enrol.is_some() {
                "Set up two-factor sign-in"
            } else {
                "Enter your code"
            },
            csrf,
        ),
        enrol,
        errors: errors.into(),
        codes: None,
        next: challenge.next.clone(),
    };
    Ok(page_with_cookie(status, render(&page)?, cookie))
}

/// `GET /login/code`
pub async fn code_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    match current_challenge(&state, &headers).await? {
        Some((_, challenge)) => {
            code_page(&state, &headers, StatusCode::OK, &challenge, Vec::new()).await
        }
        None => Ok(start_again(&state)),
    }
}

/// `POST /login/code`: the second step; the session starts here.
pub async fn code_submit(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let Some((hash, challenge)) = current_challenge(&state, &headers).await? else {
        return Ok(start_again(&state));
    };
    throttle::check(&state, &challenge.username, address).await?;
    let code = match Code::parse(&form.code) {
        Ok(code) => code,
        Err(e) => {
            return code_page(
                &state,
                &headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                &challenge,
                vec![e],
            )
            .await;
        }
    };
    let enrolling = !db::two_factor::get(&state.pool, challenge.user_id)
        .await?
        .is_some_and(|f| f.confirmed);
    let mut tx = state.pool.begin().await?;
    let Some(passed) = pass(&state, &mut tx, challenge.user_id, &code, enrolling).await? else {
        drop(tx);
        throttle::record_failure(&state, &challenge.username, address).await?;
        metrics::counter!(LOGINS, "outcome" => "failed").increment(1);
        tracing::info!("second sign-in step failed");
        let error = ValidationError::new("code", WRONG_CODE);
        return code_page(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            &challenge,
            vec![error],
        )
        .await;
    };
    let codes = if enrolling {
        let codes = new_recovery_codes(&mut tx, challenge.user_id).await?;
        record(
            &mut tx,
            Some(challenge.user_id),
            &Event::TwoFactorEnabled { at_sign_in: true },
        )
        .await?;
        Some(codes)
    } else {
        None
    };
    db::two_factor::end_challenge(&mut tx, &hash).await?;
    record(
        &mut tx,
        Some(challenge.user_id),
        &Event::Login {
            auth_method: match passed {
                Passed::Code => "password_and_code",
                Passed::RecoveryCode => "password_and_recovery_code",
            },
        },
    )
    .await?;
    tx.commit().await?;
    throttle::record_success(&state, &challenge.username, address).await?;
    metrics::counter!(LOGINS, "outcome" => "succeeded").increment(1);
    tracing::info!(
        user_id = challenge.user_id,
        "login succeeded with a second factor"
    );
    let session_cookie = session::start(&state, challenge.user_id).await?;
    let clear = session::set_cookie(&state, CHALLENGE_COOKIE, "", 0);
    let next = LocalPath::or_root(&challenge.next);
    let mut response = match codes {
        // Shown once, before going on: the session is already set.
        Some(codes) => {
            let page = LoginCodePage {
                layout: Layout::anonymous("Your recovery codes", String::new()),
                enrol: None,
                errors: FieldErrors::default(),
                codes: Some(codes),
                next: next.as_str().to_owned(),
            };
            render(&page)?.into_response()
        }
        None => axum::response::Redirect::to(next.as_str()).into_response(),
    };
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, session_cookie);
    headers.append(header::SET_COOKIE, clear);
    Ok(response)
}

#[derive(Template)]
#[template(path = "two_factor.html")]
struct TwoFactorPage {
    layout: Layout,
    enabled: bool,
    /// Whether the installation requires it of this person's role.
    required: bool,
    recovery_left: i64,
    enrol: Option<Enrolment>,
    errors: FieldErrors,
    /// Recovery codes just made, shown once.
    codes: Option<Vec<String>>,
}

async fn profile_page(
    state: &AppState,
    current: &CurrentUser,
    status: StatusCode,
    notice: Option<String>,
    errors: Vec<ValidationError>,
    codes: Option<Vec<String>>,
) -> Result<Response, AppError> {
    let user = &current.user;
    let factor = db::two_factor::get(&state.pool, user.id).await?;
    let enabled = factor.as_ref().is_some_and(|f| f.confirmed);
    let enrol = if factor.is_some() && !enabled {
        enrolment(state, user.id, &user.username, false).await?
    } else {
        None
    };
    let page = TwoFactorPage {
        layout: Layout::for_user("Two-factor sign-in", current).with_notice(notice),
        enabled,
        required: user.role().two_factor_may_be_required()
            && db::two_factor::required(&state.pool).await?,
        recovery_left: db::two_factor::recovery_codes_left(&state.pool, user.id).await?,
        enrol,
        errors: errors.into(),
        codes,
    };
    Ok((status, render(&page)?).into_response())
}

/// The profile page again, with `error` beside its field.
async fn refused(
    state: &AppState,
    current: &CurrentUser,
    status: StatusCode,
    error: ValidationError,
) -> Result<Response, AppError> {
    profile_page(state, current, status, None, vec![error], None).await
}

/// `GET /profile/two-factor`
pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Flash(notice): Flash,
) -> Result<Response, AppError> {
    profile_page(&state, &current, StatusCode::OK, notice, Vec::new(), None).await
}

/// `POST /profile/two-factor`: begins (or begins again) enrolling a new seed.
pub async fn begin(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Response, AppError> {
    let user = &current.user;
    if enrolment(&state, user.id, &user.username, true)
        .await?
        .is_none()
    {
        return Ok(flash::redirect(
            &state,
            "/profile/two-factor",
            "Two-factor sign-in is on already.",
        ));
    }
    Ok(flash::redirect(
        &state,
        "/profile/two-factor",
        "Scan the code with your app, then enter the code it shows.",
    ))
}

/// `POST /profile/two-factor/confirm`: the first code confirms the app.
pub async fn confirm_enrolment(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let user_id = current.user.id;
    let code = match Code::parse(&form.code) {
        Ok(code @ Code::Time(_)) => code,
        Ok(Code::Recovery(_)) | Err(_) => {
            let e = ValidationError::new("code", "Enter the six digits your app shows.");
            return refused(&state, &current, StatusCode::UNPROCESSABLE_ENTITY, e).await;
        }
    };
    let mut tx = state.pool.begin().await?;
    if pass(&state, &mut tx, user_id, &code, true).await?.is_none() {
        drop(tx);
        let e = ValidationError::new("code", WRONG_CODE);
        return refused(&state, &current, StatusCode::UNPROCESSABLE_ENTITY, e).await;
    }
    let codes = new_recovery_codes(&mut tx, user_id).await?;
    record(
        &mut tx,
        Some(user_id),
        &Event::TwoFactorEnabled { at_sign_in: false },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id, "two-factor sign-in enabled");
    profile_page(
        &state,
        &current,
        StatusCode::OK,
        Some("Two-factor sign-in is on.".to_owned()),
        Vec::new(),
        Some(codes),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DisableForm {
    current_password: String,
}

/// `POST /profile/two-factor/disable`: with the password, unless the
/// installation requires a second factor of this role.
pub async fn disable(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<DisableForm>,
) -> Result<Response, AppError> {
    let user_id = current.user.id;
    if current.user.role().two_factor_may_be_required()
        && db::two_factor::required(&state.pool).await?
    {
        let e = ValidationError::new(
            "form",
            "This installation requires a second factor for your role: it cannot be switched off.",
        );
        return refused(&state, &current, StatusCode::CONFLICT, e).await;
    }
    let stored = db::users::password_hash(&state.pool, user_id).await?;
    if !password::verify(&form.current_password, Some(stored)).await? {
        let e = ValidationError::new("current_password", "Your current password is wrong.");
        return refused(&state, &current, StatusCode::UNPROCESSABLE_ENTITY, e).await;
    }
    let mut tx = state.pool.begin().await?;
    if db::two_factor::remove(&mut tx, user_id).await? {
        record(
            &mut tx,
            Some(user_id),
            &Event::TwoFactorDisabled { by_admin: false },
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(user_id, "two-factor sign-in switched off");
    Ok(flash::redirect(
        &state,
        "/profile/two-factor",
        "Two-factor sign-in is off.",
    ))
}

/// `POST /admin/users/{id}/reset-two-factor`, after a confirmation: removes
/// the user's second factor and ends their sessions (a lost phone).
pub async fn admin_reset(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<i64>,
    Form(confirm): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let back = format!("/admin/users/{id}/edit");
    if !confirm.confirmed() {
        return confirm::page(
            &admin.0,
            Question {
                question: "Reset this user's two-factor sign-in?",
                consequence: "Their app and recovery codes stop working and they are signed out everywhere. They sign in with their password alone (or set up a new app, if the installation requires one).",
                action: &format!("/admin/users/{id}/reset-two-factor"),
                button: "Reset",
                danger: true,
                cancel: &back,
                carry: &[],
            },
        );
    }
    let mut tx = state.pool.begin().await?;
    if !db::two_factor::remove(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    db::sessions::delete_for_user(&mut tx, id, None).await?;
    record(
        &mut tx,
        Some(admin.0.user.id),
        &Event::TwoFactorDisabled { by_admin: true },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = id, "two-factor sign-in reset by an administrator");
    Ok(flash::redirect_local(
        &state,
        &LocalPath::or_root(&back),
        "Two-factor sign-in reset; they were signed out everywhere.",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequireForm {
    /// `on` when checked.
    require: String,
}

/// `POST /admin/two-factor`: whether administrators and managers must use a
/// second factor. Switching it on needs the administrator's own first (so
/// they cannot lock themselves out) and ends the sessions of those it
/// applies to who have none: they enrol at their next sign-in.
pub async fn admin_require(
    State(state): State<AppState>,
    admin: AdminUser,
    Form(form): Form<RequireForm>,
) -> Result<Response, AppError> {
    let required = form.require == "on";
    if required
        && !db::two_factor::get(&state.pool, admin.0.user.id)
            .await?
            .is_some_and(|f| f.confirmed)
    {
        return Ok(flash::redirect(
            &state,
            "/admin/users",
            "Set up your own two-factor sign-in first (Profile, Two-factor sign-in), then require it.",
        ));
    }
    let mut tx = state.pool.begin().await?;
    db::two_factor::set_required(&mut tx, required).await?;
    let ended = if required {
        db::two_factor::end_sessions_without_factor(&mut tx, &Role::two_factor_required_names())
            .await?
    } else {
        0
    };
    record(
        &mut tx,
        Some(admin.0.user.id),
        &Event::SettingsUpdated {
            changed_keys: vec!["require_two_factor"],
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        required,
        sessions_ended = ended,
        "two-factor requirement changed"
    );
    let notice = if required {
        format!(
            "Administrators and managers now sign in with a second factor. {ended} session(s) of those without one were ended; they set one up at their next sign-in."
        )
    } else {
        "A second factor is no longer required.".to_owned()
    };
    Ok(flash::redirect(&state, "/admin/users", &notice))
}
