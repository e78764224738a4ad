//! What a sign-in token says about the caller's email address, and what it may change.
//!
//! ID tokens (Cognito's, and any OIDC provider's with the `email` scope) carry `email` and
//! `email_verified`; access tokens (Cognito's, and most OAuth ones) carry neither. A token
//! without email claims says nothing about the address, so it never changes the stored one, and
//! the invitee's flows go by the last address an ID token verified, which the profile keeps.

use super::Email;

/// The email claims of a verified token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmailClaims {
    /// No `email` claim that is an address, as in an access token.
    Absent,
    /// An address (lowercase), verified only if `email_verified` is present and true.
    Stated { email: String, verified: bool },
}

/// A profile's email and whether an identity provider verified it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredEmail<'a> {
    pub email: Option<&'a str>,
    pub verified: bool,
}

impl EmailClaims {
    /// From the claims as API Gateway passes them: strings, so `email_verified` is `"true"`.
    pub fn from_claims(email: Option<&str>, email_verified: Option<&str>) -> Self {
        match email.and_then(|e| Email::parse("email", e).ok()) {
            Some(email) => EmailClaims::Stated {
                email: email.as_str().to_owned(),
                verified: email_verified == Some("true"),
            },
            None => EmailClaims::Absent,
        }
    }

    /// The address and verification to store after a request with these claims, when they
    /// differ from the stored ones; never for a token that states no address.
    pub fn profile_update(&self, stored: StoredEmail<'_>) -> Option<(&str, bool)> {
        match self {
            EmailClaims::Absent => None,
            EmailClaims::Stated { email, verified } => {
                let same = stored.email == Some(email.as_str()) && stored.verified == *verified;
                (!same).then_some((email.as_str(), *verified))
            }
        }
    }

    /// The verified address the invitee's flows go by: the token's own, or, for a token without
    /// email claims, the stored one if an ID token verified it.
    pub fn verified_email<'a>(&'a self, stored: Option<StoredEmail<'a>>) -> Option<&'a str> {
        match self {
            EmailClaims::Stated { email, verified } => verified.then_some(email.as_str()),
            EmailClaims::Absent => stored.filter(|s| s.verified).and_then(|s| s.email),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(email: Option<&str>, verified: bool) -> StoredEmail<'_> {
        StoredEmail { email, verified }
    }

    #[test]
    fn reads_the_claims_as_api_gateway_passes_them() {
        assert_eq!(
            EmailClaims::from_claims(Some("Bob@Example.COM"), Some("true")),
            EmailClaims::Stated {
                email: "bob@example.com".into(),
                verified: true
            }
        );
        // `email_verified` must be present and true.
        let missing = EmailClaims::from_claims(Some("bob@example.com"), None);
        assert_eq!(missing.verified_email(None), None);
        assert_eq!(
            EmailClaims::from_claims(Some("bob@example.com"), Some("false")).verified_email(None),
            None
        );
        assert_eq!(
            EmailClaims::from_claims(None, Some("true")),
            EmailClaims::Absent
        );
        assert_eq!(
            EmailClaims::from_claims(Some("not an address"), Some("true")),
            EmailClaims::Absent
        );
    }

    #[test]
    fn a_token_without_email_claims_never_changes_the_profile() {
        let absent = EmailClaims::Absent;
        assert_eq!(
            absent.profile_update(stored(Some("bob@example.com"), true)),
            None
        );
        assert_eq!(absent.profile_update(stored(None, false)), None);
    }

    #[test]
    fn an_id_token_updates_the_profile_only_when_it_says_something_new() {
        let id = EmailClaims::from_claims(Some("bob@example.com"), Some("true"));
        assert_eq!(
            id.profile_update(stored(Some("bob@example.com"), true)),
            None
        );
        assert_eq!(
            id.profile_update(stored(Some("bob@example.com"), false)),
            Some(("bob@example.com", true))
        );
        assert_eq!(
            id.profile_update(stored(None, false)),
            Some(("bob@example.com", true))
        );
        let changed = EmailClaims::from_claims(Some("bob@new.example"), Some("false"));
        assert_eq!(
            changed.profile_update(stored(Some("bob@example.com"), true)),
            Some(("bob@new.example", false))
        );
    }

    #[test]
    fn the_invitee_flows_use_the_stored_address_only_for_tokens_without_email_claims() {
        let on_file = Some(stored(Some("bob@example.com"), true));
        assert_eq!(
            EmailClaims::Absent.verified_email(on_file),
            Some("bob@example.com")
        );
        assert_eq!(
            EmailClaims::Absent.verified_email(Some(stored(Some("bob@example.com"), false))),
            None
        );
        assert_eq!(EmailClaims::Absent.verified_email(None), None);
        // A token that states an address is the authority, even over a verified one on file.
        let unverified = EmailClaims::from_claims(Some("bob@new.example"), Some("false"));
        assert_eq!(unverified.verified_email(on_file), None);
    }
}
