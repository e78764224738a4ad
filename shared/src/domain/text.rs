//! Free text that people type: names and notes.

use super::ValidationError;

/// Characters that change how text around them is shown without being visible themselves:
/// bidirectional overrides and isolates, and zero-width characters. A name holding them can
/// impersonate another or reorder what an email shows.
fn is_deceptive(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner and invisible operators
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{061C}' // Arabic letter mark
        | '\u{FEFF}' // byte-order mark
        | '\u{00AD}' // soft hyphen
    )
}

/// Checks a trimmed piece of text for length (in characters) and hidden characters.
/// `allow_newlines` is for notes; names are single-line.
fn checked_text(
    field: &str,
    input: &str,
    max_chars: usize,
    allow_newlines: bool,
) -> Result<String, ValidationError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(ValidationError::new(
            field,
            "required",
            "This field cannot be empty.",
        ));
    }
    if text.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            "too_long",
            &format!("At most {max_chars} characters."),
        ));
    }
    let control = |c: char| c.is_control() && !(allow_newlines && (c == '\n' || c == '\t'));
    if text.chars().any(|c| control(c) || is_deceptive(c)) {
        return Err(ValidationError::new(
            field,
            "invalid_characters",
            "Remove control, zero-width or text-direction characters.",
        ));
    }
    Ok(text.to_owned())
}

pub const DISPLAY_NAME_MAX: usize = 100;
pub const NOTE_MAX: usize = 1000;

/// A person's or an organization's shown name: 1–100 characters, one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(field: &str, input: &str) -> Result<Self, ValidationError> {
        checked_text(field, input, DISPLAY_NAME_MAX, false).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A note to an invitee: up to 1,000 characters, line breaks allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note(String);

impl Note {
    pub fn parse(field: &str, input: &str) -> Result<Self, ValidationError> {
        checked_text(field, input, NOTE_MAX, true).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_unicode_names() {
        assert_eq!(
            DisplayName::parse("n", "  Zoë Ltd  ").unwrap().as_str(),
            "Zoë Ltd"
        );
        assert_eq!(
            DisplayName::parse("n", "株式会社").unwrap().as_str(),
            "株式会社"
        );
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(DisplayName::parse("n", &"é".repeat(100)).is_ok());
        assert_eq!(
            DisplayName::parse("n", &"é".repeat(101)).unwrap_err().code,
            "too_long"
        );
    }

    #[test]
    fn refuses_empty_control_and_invisible_characters() {
        assert_eq!(DisplayName::parse("n", "   ").unwrap_err().code, "required");
        for bad in [
            "a\nb",
            "a\u{0007}b",
            "ev\u{202E}lian",
            "a\u{200B}b",
            "\u{2066}x",
        ] {
            assert_eq!(
                DisplayName::parse("n", bad).unwrap_err().code,
                "invalid_characters",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn notes_allow_line_breaks_up_to_their_limit() {
        assert!(Note::parse("note", "line one\nline two").is_ok());
        assert!(Note::parse("note", &"x".repeat(1000)).is_ok());
        assert!(Note::parse("note", &"x".repeat(1001)).is_err());
    }
}
