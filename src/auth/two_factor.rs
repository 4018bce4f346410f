//! Two-factor sign-in with time-based one-time codes (RFC 6238 through
//! `totp-rs`: SHA-1, six digits, 30-second steps, one step of clock skew
//! either way, which is what every authenticator app speaks).
//!
//! Rules: a seed is 20 random bytes, sealed with a key derived from
//! `SECRET_KEY` and bound to its owner's id before it is stored, and shown
//! only while its owner enrols; a code is accepted once (its time step must
//! be later than the last one accepted); ten recovery codes of 50 random bits
//! each are stored as SHA-256 and shown once. The QR code is drawn here as
//! SVG: the seed never leaves the server to be drawn.

use qrcode::{QrCode, render::svg};
use totp_rs::{Builder, Secret, Totp};

use super::keys::{Keys, sha256};
use crate::domain::ValidationError;

/// Who issues the codes, as authenticator apps list it.
pub const ISSUER: &str = "TimeTracker";
/// Recovery codes made at each enrolment.
pub const RECOVERY_CODES: usize = 10;
/// The sealing purpose of seeds (`Keys::seal`).
const SEAL_PURPOSE: &str = "totp-seed";

/// A user's seed, in the clear only in memory.
pub struct Seed(Vec<u8>);

impl Seed {
    /// 20 fresh random bytes (160 bits, as RFC 4226 recommends).
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 20];
        getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("OS random source failed: {e}"));
        Self(bytes)
    }

    /// The seed sealed for storage, bound to `user_id`.
    pub fn seal(&self, keys: &Keys, user_id: i64) -> Vec<u8> {
        keys.seal(SEAL_PURPOSE, &user_id.to_be_bytes(), &self.0)
    }

    /// A stored seed of `user_id`; `None` when it does not open (another
    /// `SECRET_KEY`, another row's seed).
    pub fn open(keys: &Keys, user_id: i64, sealed: &[u8]) -> Option<Self> {
        keys.open(SEAL_PURPOSE, &user_id.to_be_bytes(), sealed)
            .map(Self)
    }

    fn totp(&self, account: &str) -> Option<Totp> {
        Builder::new()
            .with_secret(Secret::from(self.0.clone()))
            .with_account_name(account.replace(':', "_"))
            .with_issuer(Some(ISSUER))
            .build()
            .ok()
    }

    /// The seed as people type it into an app by hand (base32).
    pub fn base32(&self) -> String {
        Secret::from(self.0.clone()).to_base32()
    }

    /// The `otpauth://` address an app reads from the QR code.
    pub fn url(&self, account: &str) -> Option<String> {
        self.totp(account)?.to_url().ok()
    }

    /// The time step of `code` when it is right now (within a step either
    /// way) and later than `last_step`; `None` otherwise.
    pub fn check(&self, code: &str, last_step: i64) -> Option<i64> {
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let step = self.totp("-")?.check_current(&digits)?;
        let step = i64::try_from(step).ok()?;
        (step > last_step).then_some(step)
    }
}

/// The QR code of `text` as an inline SVG element (no XML prolog), labelled
/// for screen readers.
pub fn qr_svg(text: &str) -> Option<String> {
    let svg = QrCode::new(text.as_bytes())
        .ok()?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let start = svg.find("<svg")?;
    Some(svg[start..].replacen(
        "<svg",
        "<svg role=\"img\" aria-label=\"QR code of the sign-in key\"",
        1,
    ))
}

/// What a person typed at the code step: six digits from their app, or one
/// of their recovery codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    Time(String),
    Recovery(String),
}

impl Code {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() == 6 && compact.chars().all(|c| c.is_ascii_digit()) {
            return Ok(Self::Time(compact));
        }
        let recovery = compact.to_ascii_lowercase().replace('-', "");
        if recovery.len() == 10 && recovery.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(Self::Recovery(recovery));
        }
        Err(ValidationError::new(
            "code",
            "Enter the six digits your app shows, or one of your recovery codes (like abcde-fghij).",
        ))
    }
}

/// Ten fresh recovery codes, as shown (`abcde-fghij`), each with the hash
/// that is stored.
pub fn recovery_codes() -> Vec<(String, Vec<u8>)> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("OS random source failed: {e}"));
            // 32 symbols: five bits of each random byte.
            let code: String = bytes
                .iter()
                .map(|b| ALPHABET[usize::from(b & 31)] as char)
                .collect();
            let hash = recovery_hash(&code);
            (format!("{}-{}", &code[..5], &code[5..]), hash)
        })
        .collect()
}

/// The stored form of a recovery code (without its dash).
pub fn recovery_hash(compact: &str) -> Vec<u8> {
    sha256(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_six_digits_or_a_recovery_code_and_nothing_else() {
        assert_eq!(Code::parse(" 123 456 "), Ok(Code::Time("123456".into())));
        assert_eq!(
            Code::parse("ABCDE-fghij"),
            Ok(Code::Recovery("abcdefghij".into()))
        );
        for bad in ["", "12345", "1234567", "abcde-fghi", "abcde_fghij!"] {
            assert!(Code::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn recovery_codes_are_distinct_and_stored_by_their_compact_form() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut shown: Vec<_> = codes.iter().map(|(c, _)| c.clone()).collect();
        shown.sort();
        shown.dedup();
        assert_eq!(shown.len(), RECOVERY_CODES);
        for (code, hash) in &codes {
            let Ok(Code::Recovery(compact)) = Code::parse(code) else {
                panic!("{code} reads back")
            };
            assert_eq!(&recovery_hash(&compact), hash);
        }
    }

    #[test]
    fn a_code_counts_once_and_the_seed_round_trips_sealed() {
        let keys = Keys::new("a secret key that is long enough for tests");
        let seed = Seed::generate();
        let opened = Seed::open(&keys, 3, &seed.seal(&keys, 3)).expect("opens");
        let now = Builder::new()
            .with_secret(Secret::try_from_base32(seed.base32()).expect("base32"))
            .with_account_name("ada")
            .build()
            .expect("totp")
            .generate_current()
            .to_string();
        let step = opened.check(&now, 0).expect("right now");
        assert_eq!(opened.check(&now, step), None, "not twice");
        assert!(Seed::open(&keys, 4, &seed.seal(&keys, 3)).is_none());
        let url = seed.url("ada").expect("url");
        assert!(url.starts_with("otpauth://totp/TimeTracker:ada?"), "{url}");
        let svg = qr_svg(&url).expect("svg");
        assert!(svg.starts_with("<svg role=\"img\"") && svg.contains("<path"));
    }
}
