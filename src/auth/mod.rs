//! Authentication and authorisation.
//!
//! Rules: passwords are argon2 hashes; sessions live in PostgreSQL and the
//! cookie carries a random token whose SHA-256 is the key; every
//! cookie-authenticated write carries a CSRF token (checked in one middleware,
//! [`csrf::verify`]); pages and routes get the user through the [`CurrentUser`]
//! extractor, or one that demands a permission first ([`AdminUser`],
//! [`CatalogManager`], [`Inviter`], [`Biller`]), never by reading cookies themselves, or, on
//! a hot path, from a statement that checks the request's [`Credential`] in
//! the same round trip as its work (`db::callers`).

mod credential;
pub mod csrf;
mod extractors;
pub mod keys;
pub mod oidc;
pub mod password;
pub mod session;
pub mod throttle;
pub mod two_factor;

pub use credential::Credential;
pub use extractors::{AdminUser, Biller, CatalogManager, CurrentUser, Inviter};
pub use keys::Keys;
