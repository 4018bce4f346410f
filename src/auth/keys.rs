//! Keyed hashes and random tokens derived from the installation's secret key.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::config::Secret;

/// The secret key and what is derived from it. Never printed.
#[derive(Clone)]
pub struct Keys {
    secret: Secret<Vec<u8>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

impl Keys {
    pub fn new(secret: &str) -> Self {
        Self {
            secret: Secret::new(secret.as_bytes().to_vec()),
        }
    }

    /// HMAC-SHA256 of `data` under the secret key, separated by `purpose`
    /// so a value derived for one use can never stand in for another.
    pub fn mac(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.expose())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

/// 32 random bytes from the OS, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source only fails on broken systems; nothing safe can continue then.
    getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("OS random source failed: {e}"));
    hex::encode(bytes)
}

/// SHA-256 of a token, the form in which tokens are stored.
pub fn sha256(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Compares two strings in constant time (for tokens).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_differ_by_purpose_and_by_key() {
        let a = Keys::new("first secret key that is long enough");
        let b = Keys::new("second secret key that is long enough");
        assert_ne!(a.mac("csrf", b"x"), a.mac("session", b"x"));
        assert_ne!(a.mac("csrf", b"x"), b.mac("csrf", b"x"));
        assert_eq!(a.mac("csrf", b"x"), a.mac("csrf", b"x"));
    }

    #[test]
    fn random_tokens_are_long_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
    }
}
