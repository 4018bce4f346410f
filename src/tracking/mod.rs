//! The time-tracking services: one function per user action, called by both
//! the web UI and the JSON API, so every rule (and, later, every analytics
//! event) lives in one place. Each function checks who may do it: a user
//! works on their own entries; admins may act on anyone's and manage clients,
//! projects, tasks and settings.

pub mod catalog;
pub mod dashboard;
pub mod entries;
pub mod settings;
pub mod timer;
pub mod timesheet;

use crate::{auth::CurrentUser, error::AppError};

/// Who is acting.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub is_admin: bool,
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
            is_admin: user.is_admin(),
            timezone,
            format: LocalFormat {
                tz: timezone,
                date: DateOrder::parse(&user.date_format).unwrap_or_default(),
                clock: Clock::parse(&user.clock).unwrap_or_default(),
            },
            week_start: Some(user.week_start.clone()).filter(|w| !w.is_empty()),
        }
    }

    /// Admins only.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Only administrators can do this.".into(),
            ))
        }
    }

    /// The owner or an admin. Others learn nothing: the entry is "not found".
    pub fn require_owner(&self, owner_id: i64) -> Result<(), AppError> {
        if self.is_admin || self.user_id == owner_id {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}
