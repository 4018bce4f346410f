//! Account fields: username, email, password, role and timezone.

use std::fmt;

/// A rejected input value: which field and why, in words a user understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    /// The same message for another field (a form whose fields are named
    /// apart from the type's usual one).
    #[must_use]
    pub fn on(mut self, field: &'static str) -> Self {
        self.field = field;
        self
    }

    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// 1–64 characters of letters, digits, `.`, `_` and `-`. Unique case-insensitively (in the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(ValidationError::new("username", "Enter a username."));
        }
        if s.chars().count() > 64 {
            return Err(ValidationError::new(
                "username",
                "A username has at most 64 characters.",
            ));
        }
        if !s
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(ValidationError::new(
                "username",
                "Use only letters, digits, dots, dashes and underscores.",
            ));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plausible email address: one `@`, a dot in the domain, no spaces, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let bad = || ValidationError::new("email", "Enter an email address like name@example.org.");
        if s.len() < 3 || s.len() > 254 || s.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        super::text::visible("email", s)?;
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10 to 256 characters. Never printed by `Debug`.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;

    /// Parses a new password typed twice.
    pub fn parse_new(raw: &str, confirm: &str) -> Result<Self, ValidationError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(ValidationError::new(
                "password",
                format!("Use at least {} characters.", Self::MIN_CHARS),
            ));
        }
        if n > 256 {
            return Err(ValidationError::new(
                "password",
                "Use at most 256 characters.",
            ));
        }
        if raw != confirm {
            return Err(ValidationError::new(
                "password_confirm",
                "The two passwords differ.",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// An IANA timezone name such as `Europe/Berlin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timezone(chrono_tz::Tz);

impl Timezone {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            ValidationError::new(
                "timezone",
                "Choose a timezone from the list, e.g. Europe/Berlin.",
            )
        })
    }
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
    /// Every IANA name, for pickers.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_and_limited_to_safe_characters() {
        assert_eq!(
            Username::parse("  ada.l_1 ").map(|u| u.as_str().to_owned()),
            Ok("ada.l_1".into())
        );
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("<script>").is_err());
        assert!(Username::parse(&"x".repeat(65)).is_err());
        assert!(Username::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(Email::parse("a@example.org").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "@b.org",
            "a@@b.org",
            "a b@c.org",
            "a@.org",
            "a@org.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords_need_length_and_a_matching_confirmation() {
        assert!(Password::parse_new("short", "short").is_err());
        let err = Password::parse_new("long enough pw", "long enough pX").unwrap_err();
        assert_eq!(err.field, "password_confirm");
        let pw = Password::parse_new("long enough pw", "long enough pw").expect("valid");
        assert!(!format!("{pw:?}").contains("long"));
    }

    #[test]
    fn timezones_must_be_iana_names() {
        assert_eq!(
            Timezone::parse("Europe/Berlin").map(|t| t.name()),
            Ok("Europe/Berlin")
        );
        assert!(Timezone::parse("Mars/Olympus").is_err());
        assert!(Timezone::all_names().any(|n| n == "UTC"));
    }
}
