//! Handles name users and organizations in one shared namespace.

use std::fmt;

use super::ValidationError;

/// Words that would shadow a route, a product page or an official voice.
const RESERVED: &[&str] = &[
    "about",
    "abuse",
    "account",
    "accounts",
    "admin",
    "administrator",
    "api",
    "app",
    "apps",
    "assets",
    "audit",
    "auth",
    "billing",
    "blog",
    "dashboard",
    "docs",
    "email",
    "events",
    "help",
    "hostmaster",
    "invitation",
    "invitations",
    "invite",
    "login",
    "logout",
    "mail",
    "me",
    "member",
    "members",
    "new",
    "noreply",
    "no-reply",
    "null",
    "oauth",
    "official",
    "org",
    "organization",
    "organizations",
    "orgs",
    "owner",
    "postmaster",
    "root",
    "security",
    "settings",
    "signin",
    "signup",
    "staff",
    "static",
    "status",
    "support",
    "system",
    "team",
    "teams",
    "undefined",
    "user",
    "users",
    "webmaster",
    "www",
];

pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 39;

/// A valid handle: 3–39 of `a-z`, `0-9` and single inner hyphens, not reserved.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(String);

impl Handle {
    /// Lowercases, then checks. Non-ASCII input is refused before lowercasing, so that
    /// look-alikes such as the Kelvin sign (which lowercases to `k`) never become a handle.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let invalid = |message: &str| ValidationError::new("handle", "invalid_handle", message);
        if !input.is_ascii() {
            return Err(invalid(
                "A handle may contain only the letters a-z, digits and hyphens.",
            ));
        }
        let handle = input.to_ascii_lowercase();
        if handle.len() < MIN_LEN || handle.len() > MAX_LEN {
            return Err(invalid("A handle is 3 to 39 characters long."));
        }
        if !handle
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid(
                "A handle may contain only the letters a-z, digits and hyphens.",
            ));
        }
        if handle.starts_with('-') || handle.ends_with('-') {
            return Err(invalid("A handle cannot start or end with a hyphen."));
        }
        if handle.contains("--") {
            return Err(invalid("A handle cannot contain two hyphens in a row."));
        }
        if RESERVED.contains(&handle.as_str()) {
            return Err(ValidationError::new(
                "handle",
                "reserved_handle",
                "This handle is reserved; choose another.",
            ));
        }
        Ok(Self(handle))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_lowercases_valid_handles() {
        assert_eq!(Handle::parse("Acme-Corp").unwrap().as_str(), "acme-corp");
        assert_eq!(Handle::parse("a1b").unwrap().as_str(), "a1b");
        assert_eq!(Handle::parse(&"x".repeat(39)).unwrap().as_str().len(), 39);
    }

    #[test]
    fn refuses_wrong_lengths() {
        assert!(Handle::parse("ab").is_err());
        assert!(Handle::parse(&"x".repeat(40)).is_err());
        assert!(Handle::parse("").is_err());
    }

    #[test]
    fn refuses_bad_hyphens_and_characters() {
        for bad in [
            "-acme", "acme-", "ac--me", "ac_me", "ac me", "acme.io", "ac/me",
        ] {
            assert!(Handle::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn refuses_reserved_words_in_any_case() {
        for word in ["admin", "API", "www", "orgs", "Invitations", "support"] {
            let err = Handle::parse(word).unwrap_err();
            assert_eq!(err.code, "reserved_handle", "{word}");
        }
    }

    #[test]
    fn refuses_unicode_look_alikes_and_invisible_characters() {
        // Kelvin sign, Cyrillic a, zero-width space, right-to-left mark, fullwidth letters.
        for bad in [
            "\u{212A}ate",
            "\u{0430}cme",
            "ac\u{200B}me",
            "\u{200F}acme",
            "ａｃｍｅ",
        ] {
            assert!(Handle::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
