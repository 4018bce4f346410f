//! Argon2 password hashing, off the async executor (it is deliberately slow).

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::domain::Password;

/// Hashes a new password with argon2id and a random salt.
pub async fn hash(password: &Password) -> anyhow::Result<String> {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
    })
    .await?
}

/// Checks a password against a stored hash. With no stored hash (unknown user)
/// it verifies against a fixed hash anyway, so both cases take the same time.
pub async fn verify(password: &str, stored: Option<String>) -> anyhow::Result<bool> {
    let password = password.to_owned();
    let known = stored.is_some();
    tokio::task::spawn_blocking(move || {
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        ok && known
    })
    .await
    .map_err(Into::into)
}

/// argon2id hash, with the default parameters, of a random string nobody knows.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    Argon2::default()
        .hash_password(crate::auth::keys::random_token().as_bytes())
        .map(|h| h.to_string())
        .unwrap_or_default()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let pw =
            Password::parse_new("correct horse battery", "correct horse battery").expect("valid");
        let h = hash(&pw).await.expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery", Some(h.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify("wrong horse battery", Some(h))
                .await
                .expect("verify")
        );
        assert!(!verify("anything", None).await.expect("verify"));
    }
}
