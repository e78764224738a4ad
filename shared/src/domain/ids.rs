//! Identifiers. Ours are random and opaque (`org_` + 32 hex digits); user ids are the
//! identity provider's `sub`.

use std::fmt;

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id with 122 random bits (UUID v4).
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::new_v4().simple()))
            }

            /// Accepts only the exact shape we generate, so a made-up id never reaches a key.
            pub fn parse(input: &str) -> Option<Self> {
                let hex = input.strip_prefix($prefix)?;
                let well_formed = hex.len() == 32
                    && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                well_formed.then(|| Self(input.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

random_id!(
    /// An organization.
    OrgId, "org_"
);
random_id!(
    /// An invitation.
    InvitationId, "inv_"
);
random_id!(
    /// A team inside an organization.
    TeamId, "team_"
);
random_id!(
    /// One audit entry.
    AuditId, "aud_"
);
random_id!(
    /// One domain event; consumers de-duplicate on it.
    EventId, "evt_"
);

/// A user, named by the verified `sub` claim of the identity provider.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// `sub` is at most 255 characters of printable text (OIDC Core 1.0, 2).
    pub fn parse(input: &str) -> Option<Self> {
        let ok = !input.is_empty() && input.len() <= 255 && !input.chars().any(char::is_control);
        ok.then(|| Self(input.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The actor of a change that no person made: `system:{job}`, such as `system:expiry` for
    /// the scheduled expiry. Identity providers' `sub`s are opaque ids (Cognito's are UUIDs),
    /// not this shape.
    pub fn system(job: &str) -> Self {
        Self(format!("system:{job}"))
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_differ() {
        let a = OrgId::generate();
        let b = OrgId::generate();
        assert_ne!(a, b);
        assert_eq!(OrgId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn refuses_foreign_shapes() {
        let inv = InvitationId::generate();
        assert_eq!(OrgId::parse(inv.as_str()), None);
        assert_eq!(OrgId::parse("org_123"), None);
        assert_eq!(OrgId::parse("org_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"), None);
        assert_eq!(OrgId::parse("ORG#x"), None);
    }

    #[test]
    fn user_ids_are_printable_and_bounded() {
        assert!(UserId::parse("auth0|5f7c8ec7c33c6c004bbafe82").is_some());
        assert!(UserId::parse("").is_none());
        assert!(UserId::parse("a\nb").is_none());
        assert!(UserId::parse(&"x".repeat(256)).is_none());
    }
}
