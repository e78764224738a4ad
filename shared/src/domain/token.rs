//! Invitation tokens: 256 random bits from the operating system's CSPRNG, shown once in the
//! link and the create/resend answer, and stored only as their SHA-256 hash.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const TOKEN_BYTES: usize = 32;
/// Base64url of 32 bytes, without padding.
const TOKEN_LEN: usize = 43;

/// The secret itself. `Debug` never shows it, so it cannot leak into a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken(String);

impl InvitationToken {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Accepts only the shape we generate; anything else cannot match a stored hash.
    pub fn parse(input: &str) -> Option<Self> {
        let well_formed = input.len() == TOKEN_LEN
            && input
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Self(input.to_owned()))
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(format!("{:x}", Sha256::digest(self.0.as_bytes())))
    }

    /// For the link and the one answer that hands it to the inviter; nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvitationToken(redacted)")
    }
}

/// What the table keeps: the token's SHA-256, in hex.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_parse_back() {
        let a = InvitationToken::generate().unwrap();
        let b = InvitationToken::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), TOKEN_LEN);
        assert_eq!(InvitationToken::parse(a.expose()), Some(a.clone()));
        assert_eq!(a.hash(), a.clone().hash());
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash().as_str().len(), 64);
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let token = InvitationToken::generate().unwrap();
        assert!(!format!("{token:?}").contains(token.expose()));
    }

    #[test]
    fn refuses_other_shapes() {
        assert!(InvitationToken::parse("short").is_none());
        assert!(InvitationToken::parse(&"a".repeat(43).replace('a', "/")).is_none());
        assert!(InvitationToken::parse(&"a".repeat(44)).is_none());
    }
}
