//! What a request presents to say who it is, read from its headers.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header, request::Parts},
};
use sqlx::PgPool;

use super::{keys::sha256, session};
use crate::{
    db::{
        self,
        callers::{Kind, Whose},
        users::User,
    },
    error::AppError,
};

/// A request's claim to be someone: its API token or its session cookie,
/// read without I/O and kept only as the SHA-256 the database stores. It
/// names no user: only the database can say whose it is, so the only ways
/// from a credential to a user are [`super::CurrentUser`] (which checks it
/// on its own) and a statement of `db` that checks it in the same round
/// trip as its work (`db::callers`). Rejects with 401 when there is none.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// An API token (`Authorization: Bearer <token>`: a request with an
    /// `Authorization` header is that token's user or nobody, never its
    /// cookies' user), or the session cookie.
    pub kind: Kind,
    /// The SHA-256 of the token or cookie, as stored.
    pub hash: Vec<u8>,
}

impl Credential {
    /// The request's credential, or 401: an `Authorization` header that is
    /// not a bearer token is no credential (the cookies are not consulted).
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, AppError> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or(AppError::Unauthorized)?;
            return Ok(Self::new(Kind::ApiToken, token));
        }
        session::cookie(headers, session::SESSION_COOKIE)
            .map(|token| Self::new(Kind::Session, token))
            .ok_or(AppError::Unauthorized)
    }

    /// The user this credential stands for, checked on its own, or 401.
    pub async fn check(&self, pool: &PgPool) -> Result<User, AppError> {
        let caller = db::callers::check(pool, self.kind, &self.hash)
            .await?
            .ok_or(AppError::Unauthorized)?;
        self.record_use(pool, caller.touch).await?;
        Ok(caller.user)
    }

    /// Records the credential's use now when `due` (a check said so:
    /// `db::callers::Caller::touch`).
    pub async fn record_use(&self, pool: &PgPool, due: bool) -> Result<(), AppError> {
        if due {
            db::callers::touch(pool, self.kind, &self.hash).await?;
        }
        Ok(())
    }

    /// The credential as the statement that checks it takes it.
    pub fn whose(&self) -> Whose<'_> {
        Whose::Credential(self.kind, &self.hash)
    }

    /// The credential of a session cookie's or API token's value.
    pub fn new(kind: Kind, token: &str) -> Self {
        Self {
            kind,
            hash: sha256(token),
        }
    }
}

/// The kind only: the hash is the database's key for the token.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Credential {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Self::from_headers(&parts.headers)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), HeaderValue::from_str(v).expect("value")))
            .collect()
    }

    #[test]
    fn a_bearer_token_wins_over_the_cookie_and_a_bad_header_is_no_credential() {
        let cookie = (header::COOKIE, "tt_session=abc");
        assert_eq!(
            Credential::from_headers(&headers(&[
                (header::AUTHORIZATION, "Bearer tt_x"),
                cookie.clone()
            ]))
            .ok(),
            Some(Credential::new(Kind::ApiToken, "tt_x"))
        );
        assert_eq!(
            Credential::from_headers(&headers(std::slice::from_ref(&cookie))).ok(),
            Some(Credential::new(Kind::Session, "abc"))
        );
        for junk in ["Basic YWRtaW46eA==", "junk", "bearer tt_x"] {
            assert!(
                Credential::from_headers(&headers(&[
                    (header::AUTHORIZATION, junk),
                    cookie.clone()
                ]))
                .is_err(),
                "{junk}"
            );
        }
        assert!(Credential::from_headers(&HeaderMap::new()).is_err());
    }
}
