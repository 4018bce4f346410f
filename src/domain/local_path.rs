//! Redirect targets taken from input (`next` after sign-in).

/// A path on this site that is safe to put in a `Location` header: it starts
/// with exactly one `/` and holds only visible ASCII other than `\`.
///
/// Browsers drop TAB, CR and LF anywhere in a URL, trim C0 controls and
/// spaces at its ends, and read `\` as `/`, so `/\t/evil.example` or
/// `/\evil.example` would become the scheme-relative `//evil.example`. We do
/// not imitate that normalisation; we refuse every input it could change:
/// any control character (C0, DEL, C1), any space or other non-visible or
/// non-ASCII character, any backslash. What is left cannot turn into another
/// origin, and is always a valid header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

/// Longest path we follow; a longer `next` is not one of ours.
const MAX_LEN: usize = 2048;

impl LocalPath {
    /// The path, if `raw` is a safe same-site path.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() <= MAX_LEN
            && raw.starts_with('/')
            && !raw.starts_with("//")
            && raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
        ok.then(|| Self(raw.to_owned()))
    }

    /// The path, or `/` when `raw` is not a safe same-site path.
    pub fn or_root(raw: &str) -> Self {
        Self::parse(raw).unwrap_or_else(|| Self("/".into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::LocalPath;

    #[test]
    fn same_site_paths_are_kept() {
        for ok in [
            "/",
            "/profile?x=1",
            "/reports?from=2026-11-01&to=2026-11-30#top",
            "/a/b/%2F%2Fc",
        ] {
            assert_eq!(LocalPath::or_root(ok).as_str(), ok);
        }
    }

    #[test]
    fn anything_that_could_leave_the_site_falls_back_to_the_root() {
        for bad in [
            "",
            "//evil.example",
            "///evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            " //evil.example",
            "/ /x",
            "/\u{0}",
            "/\u{7f}",
            "/\u{85}",
            "/\u{9b}x",
            "/é",
            "/\u{2028}",
        ] {
            assert_eq!(LocalPath::or_root(bad).as_str(), "/", "{bad:?}");
        }
        assert_eq!(
            LocalPath::or_root(&format!("/{}", "a".repeat(3000))).as_str(),
            "/"
        );
    }
}
