//! The time-tracking services: one function per user action, called by both
//! the web UI and the JSON API, so every rule (and, later, every analytics
//! event) lives in one place. Each function checks who may do it, by the
//! actor's permissions (`domain::access`): a user works on their own entries;
//! managers and administrators on anyone's and on clients, projects and tasks;
//! administrators alone on settings.

pub mod catalog;
pub mod entries;
pub mod settings;
pub mod timer;
pub mod timer_page;
pub mod timesheet;

use crate::{
    auth::{Credential, CurrentUser},
    db::callers::Whose,
    domain::{Permission, Role},
    error::AppError,
};

/// Who starts or stops a timer: a user the request already checked (the
/// pages), or the request's credential, which the action's first statement
/// checks (`db::callers`: the API's start and stop, each a round trip and a
/// pooled connection less).
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    Checked(&'a Actor),
    Credential(&'a Credential),
}

impl Who<'_> {
    fn whose(&self) -> Whose<'_> {
        match self {
            Who::Checked(actor) => Whose::User(actor.user_id),
            Who::Credential(credential) => credential.whose(),
        }
    }

    /// What a write answers when [`Who::whose`] locked no user: the
    /// credential stands for nobody (401), or the checked user is gone.
    fn nobody(&self) -> AppError {
        match self {
            Who::Checked(_) => AppError::NotFound,
            Who::Credential(_) => AppError::Unauthorized,
        }
    }

    /// Records the credential's use when the locking statement said it is due.
    async fn record_use(&self, pool: &sqlx::PgPool, due: bool) -> Result<(), AppError> {
        match self {
            Who::Credential(credential) => credential.record_use(pool, due).await,
            Who::Checked(_) => Ok(()),
        }
    }
}

/// Who is acting.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    pub timezone: chrono_tz::Tz,
    /// How this person reads dates and times (their timezone included).
    pub format: crate::domain::formats::LocalFormat,
    /// Their first day of the week, when they chose one (else the installation's).
    pub week_start: Option<String>,
}

impl From<&CurrentUser> for Actor {
    fn from(c: &CurrentUser) -> Self {
        Self::from(&c.user)
    }
}

impl From<&crate::db::users::User> for Actor {
    /// The user acting, reading times in their own timezone.
    fn from(user: &crate::db::users::User) -> Self {
        Self::new(user, user.timezone.parse().unwrap_or(chrono_tz::UTC))
    }
}

impl Actor {
    /// `user` acting, reading times in `timezone`.
    pub fn new(user: &crate::db::users::User, timezone: chrono_tz::Tz) -> Self {
        use crate::domain::formats::{Clock, DateOrder, LocalFormat};
        Self {
            user_id: user.id,
            role: user.role(),
            timezone,
            format: LocalFormat {
                tz: timezone,
                date: DateOrder::parse(&user.date_format).unwrap_or_default(),
                clock: Clock::parse(&user.clock).unwrap_or_default(),
            },
            week_start: Some(user.week_start.clone()).filter(|w| !w.is_empty()),
        }
    }

    /// Whether this person's role grants `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        self.role.can(permission)
    }

    /// Those whose role grants `permission`; others get 403.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden("Your role does not allow this.".into()))
        }
    }

    /// The owner, or someone who manages the team's time. Others learn
    /// nothing: the entry is "not found".
    pub fn require_owner(&self, owner_id: i64) -> Result<(), AppError> {
        if self.user_id == owner_id || self.can(Permission::ManageTeamTime) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}
