//! Text that must read as what it is: names and addresses refuse characters
//! that change how the text around them reads without being seen.
//!
//! Rule: every name a person gives (clients, projects, tasks, saved reports,
//! display names, contact names, tags) and every email address goes through
//! [`visible`]. Letters of every script stay allowed.

use super::ValidationError;

/// Why a character is refused, if it is.
fn disguise(c: char) -> Option<&'static str> {
    match c {
        // Bidirectional controls: U+202E turns "exe.txt" into "txt.exe".
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => Some("direction-changing"),
        // Invisible: zero-width space, word joiner and invisible operators,
        // byte-order mark, Mongolian vowel separator, soft hyphen.
        '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' | '\u{00AD}' => {
            Some("invisible")
        }
        c if c.is_control() => Some("invisible"),
        _ => None,
    }
}

/// Zero-width joiner and non-joiner: needed inside words of some scripts
/// (Persian, the Indic ones) and in emoji sequences, so they are allowed
/// between two visible characters, never at an edge or beside a space.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// `Ok` when `value` has no direction-changing or invisible character (see
/// [`disguise`]); joiners only inside a word, and never in an email address.
pub fn visible(field: &'static str, value: &str) -> Result<(), ValidationError> {
    let refuse = |what: &str| {
        Err(ValidationError::new(
            field,
            format!(
                "Remove the {what} character: such characters can make one name look like another."
            ),
        ))
    };
    let chars: Vec<char> = value.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if let Some(what) = disguise(c) {
            return refuse(what);
        }
        if is_joiner(c) {
            let shown = |n: Option<&char>| n.is_some_and(|n| !n.is_whitespace() && !is_joiner(*n));
            if field == "email"
                || !shown(i.checked_sub(1).and_then(|p| chars.get(p)))
                || !shown(chars.get(i + 1))
            {
                return refuse("invisible");
            }
        }
    }
    Ok(())
}

/// A one-line text a person must give (an invoice line's description):
/// trimmed, not empty, at most `max` characters, every character visible.
pub fn required(field: &'static str, raw: &str, max: usize) -> Result<String, ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "This cannot be empty."));
    }
    if value.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("Use at most {max} characters."),
        ));
    }
    visible(field, value)?;
    Ok(value.to_owned())
}

/// A text that may be empty and may have several lines (an address, a
/// note): trimmed, at most `max` characters, each line visible.
pub fn limited(field: &'static str, raw: &str, max: usize) -> Result<String, ValidationError> {
    let value = raw.trim().replace("\r\n", "\n");
    if value.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("Use at most {max} characters."),
        ));
    }
    for line in value.lines() {
        visible(field, line)?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_of_every_script_and_joined_words_pass() {
        for ok in [
            "Acme GmbH",
            "Müller & Söhne",
            "東京プロジェクト",
            "مشروع",
            "می\u{200C}خواهم",
            "👩\u{200D}💻 team",
        ] {
            assert!(visible("name", ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn direction_changing_and_invisible_characters_are_refused_with_a_reason() {
        for (bad, what) in [
            ("Acme\u{202E}gpj.exe", "direction-changing"),
            ("\u{2067}Acme", "direction-changing"),
            ("Ac\u{200B}me", "invisible"),
            ("Acme\u{FEFF}", "invisible"),
            ("Ac\u{0007}me", "invisible"),
            ("\u{200D}Acme", "invisible"),
            ("Acme \u{200C}", "invisible"),
        ] {
            let err = visible("name", bad).unwrap_err();
            assert_eq!(err.field, "name");
            assert!(err.message.contains(what), "{bad:?}: {}", err.message);
        }
        assert!(visible("email", "a\u{200C}b@example.org").is_err());
    }
}
