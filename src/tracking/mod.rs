//! The time-tracking services: one function per user action, called by both
//! the web UI and the JSON API, so every rule (and, later, every analytics
//! event) lives in one place. Each function checks who may do it: a user
//! works on their own entries; admins may act on anyone's and manage clients,
//! projects, tasks and settings.

pub mod catalog;
pub mod entries;
pub mod settings;
pub mod timer;

use crate::{auth::CurrentUser, error::AppError};

/// Who is acting.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub is_admin: bool,
    pub timezone: chrono_tz::Tz,
}

impl From<&CurrentUser> for Actor {
    fn from(c: &CurrentUser) -> Self {
        Self {
            user_id: c.user.id,
            is_admin: c.user.is_admin(),
            timezone: c.user.timezone.parse().unwrap_or(chrono_tz::UTC),
        }
    }
}

impl Actor {
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
