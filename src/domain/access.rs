//! Roles and what each may do.
//!
//! Rule: a role's rights are declared once, in [`Role::permissions`]; every
//! check in the app (extractors, services, pages, the API, the templates'
//! switches) asks `role.can(permission)` and never compares role names.

use super::ValidationError;

/// What a person may do beyond tracking, reading and exporting their own time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Settings, people and their roles, the job console, telemetry.
    Administer,
    /// See and change everyone's entries, timesheets and reports, and book
    /// time for others.
    ManageTeamTime,
    /// Create and change clients, projects and tasks.
    ManageCatalog,
    /// See hourly rates and amounts (pages, reports, exports, the API).
    SeeRates,
    /// Invite people by email, with a role from [`Role::invitable`].
    Invite,
    /// Create, issue and settle invoices (which freeze their entries).
    Bill,
}

/// Plain user, manager or administrator (in the order of [`Role::NAMES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Manager,
    Admin,
}

impl Role {
    /// Every role, fewest rights first: a picker with nothing chosen offers
    /// the plain user.
    pub const ALL: [Role; 3] = [Role::User, Role::Manager, Role::Admin];
    /// The roles' stored names (the database, forms, the API, the
    /// `admin.user_created` event), in the order of [`Role::ALL`].
    pub const NAMES: [&'static str; 3] = ["user", "manager", "admin"];

    /// The one declaration of each role's rights.
    pub const fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Self::Admin => &[
                Administer,
                ManageTeamTime,
                ManageCatalog,
                SeeRates,
                Invite,
                Bill,
            ],
            Self::Manager => &[ManageTeamTime, ManageCatalog, SeeRates, Invite, Bill],
            Self::User => &[],
        }
    }

    /// The roles this role may invite people into: an administrator any, a
    /// manager plain users only.
    pub const fn invitable(self) -> &'static [Role] {
        match self {
            Self::Admin => &Self::ALL,
            Self::Manager => &[Self::User],
            Self::User => &[],
        }
    }

    /// Whether the installation's "second factor required" setting applies
    /// to this role: to everyone with rights beyond their own time.
    pub const fn two_factor_may_be_required(self) -> bool {
        !self.permissions().is_empty()
    }

    /// The stored names of the roles a required second factor applies to.
    pub fn two_factor_required_names() -> Vec<&'static str> {
        Self::ALL
            .into_iter()
            .filter(|r| r.two_factor_may_be_required())
            .map(Self::as_str)
            .collect()
    }

    /// Whether this role may invite someone as `role`.
    pub fn may_invite(self, role: Role) -> bool {
        self.can(Permission::Invite) && self.invitable().contains(&role)
    }

    pub fn can(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim())
            .ok_or_else(|| ValidationError::new("role", "Choose admin, manager or user."))
    }

    /// A role read from the database; an unknown name has no rights.
    pub fn from_stored(raw: &str) -> Self {
        Self::parse(raw).unwrap_or(Self::User)
    }

    /// The role as a sentence names a person in it: "invited as a manager".
    pub fn with_article(self) -> &'static str {
        match self {
            Self::Admin => "an administrator",
            Self::Manager => "a manager",
            Self::User => "a user",
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_admin_manager_or_user() {
        for (role, name) in Role::ALL.into_iter().zip(Role::NAMES) {
            assert_eq!(role.as_str(), name);
            assert_eq!(Role::parse(name), Ok(role));
        }
        assert!(Role::parse("root").is_err());
        assert_eq!(Role::from_stored("root"), Role::User);
    }

    #[test]
    fn only_administrators_administer_and_plain_users_have_no_extra_rights() {
        assert!(Role::Admin.can(Permission::Administer));
        assert!(!Role::Manager.can(Permission::Administer));
        assert!(Role::Manager.can(Permission::ManageTeamTime));
        assert!(Role::Manager.can(Permission::SeeRates));
        assert!(Role::User.permissions().is_empty());
    }

    #[test]
    fn managers_invite_plain_users_and_administrators_anyone() {
        for role in Role::ALL {
            assert!(Role::Admin.may_invite(role));
            assert_eq!(Role::Manager.may_invite(role), role == Role::User);
            assert!(!Role::User.may_invite(role));
        }
    }
}
