//! Keyed hashes and random tokens derived from the installation's secret key.

use hmac::{Hmac, Mac};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
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

    /// The AEAD key for `purpose`, derived from the secret key.
    fn aead_key(&self, purpose: &str) -> LessSafeKey {
        let key = self.mac("aead-key", purpose.as_bytes());
        // A 32-byte key is what ChaCha20-Poly1305 takes, so this cannot fail.
        LessSafeKey::new(
            UnboundKey::new(&CHACHA20_POLY1305, &key)
                .unwrap_or_else(|_| unreachable!("32-byte key")),
        )
    }

    /// Encrypts and authenticates `plain` under a key derived for `purpose`,
    /// bound to `context` (e.g. the owner's id: a sealed value copied to
    /// another row does not open there). The result is nonce, then
    /// ciphertext and tag.
    pub fn seal(&self, purpose: &str, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).unwrap_or_else(|e| panic!("OS random source failed: {e}"));
        let mut sealed = plain.to_vec();
        // Sealing fails only for inputs of about 256 GiB.
        self.aead_key(purpose)
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut sealed,
            )
            .unwrap_or_else(|_| unreachable!("small input"));
        [nonce.as_slice(), &sealed].concat()
    }

    /// What [`Keys::seal`] sealed, or `None` when it was sealed under another
    /// key, purpose or context, or changed since.
    pub fn open(&self, purpose: &str, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let (nonce, rest) = sealed.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = rest.to_vec();
        let plain = self
            .aead_key(purpose)
            .open_in_place(nonce, Aad::from(context), &mut buffer)
            .ok()?;
        Some(plain.to_vec())
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

    #[test]
    fn sealed_values_open_only_with_their_key_purpose_and_context() {
        let a = Keys::new("first secret key that is long enough");
        let b = Keys::new("second secret key that is long enough");
        let sealed = a.seal("totp-seed", b"7", b"seed bytes");
        assert!(!sealed.windows(4).any(|w| w == b"seed"), "not in the clear");
        assert_eq!(
            a.open("totp-seed", b"7", &sealed).as_deref(),
            Some(&b"seed bytes"[..])
        );
        assert_eq!(b.open("totp-seed", b"7", &sealed), None, "another key");
        assert_eq!(a.open("other", b"7", &sealed), None, "another purpose");
        assert_eq!(a.open("totp-seed", b"8", &sealed), None, "another owner");
        let mut changed = sealed.clone();
        changed[20] ^= 1;
        assert_eq!(a.open("totp-seed", b"7", &changed), None, "changed");
        assert_eq!(a.open("totp-seed", b"7", &sealed[..5]), None, "cut short");
        assert_ne!(
            sealed,
            a.seal("totp-seed", b"7", b"seed bytes"),
            "a fresh nonce each time"
        );
    }
}
