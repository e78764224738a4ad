//! Local sign-in: HS256 JWTs that the local server verifies in place of API Gateway's JWT
//! authorizer. For local use only; a deployment verifies the identity provider's tokens.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Used when `ORGS_DEV_JWT_SECRET` is not set. Public by design: it guards nothing real.
pub const DEFAULT_DEV_SECRET: &str = "orgs-local-development-secret";
pub const ISSUER: &str = "orgs-local";
pub const AUDIENCE: &str = "orgs-local";

pub fn dev_secret() -> String {
    std::env::var("ORGS_DEV_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_DEV_SECRET.to_owned())
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default)]
    email_verified: bool,
    exp: i64,
    iss: String,
    aud: String,
    iat: i64,
}

/// A signed token for `sub`, valid for `ttl_seconds`.
pub fn mint(
    secret: &str,
    sub: &str,
    email: Option<&str>,
    email_verified: bool,
    ttl_seconds: i64,
) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims {
        sub: sub.to_owned(),
        email: email.map(str::to_owned),
        email_verified,
        exp: now + ttl_seconds,
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        iat: now,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing with an in-memory key cannot fail")
}

/// Verifies signature, expiry, issuer and audience, and returns the claims as API Gateway
/// passes them to a function: every value a string.
pub fn verify(secret: &str, token: &str) -> Option<HashMap<String, String>> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .ok()?;
    let c = data.claims;
    let mut claims = HashMap::from([
        ("sub".to_owned(), c.sub),
        ("email_verified".to_owned(), c.email_verified.to_string()),
        ("exp".to_owned(), c.exp.to_string()),
        ("iat".to_owned(), c.iat.to_string()),
        ("iss".to_owned(), c.iss),
        ("aud".to_owned(), c.aud),
    ]);
    if let Some(email) = c.email {
        claims.insert("email".to_owned(), email);
    }
    Some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_carry_string_claims() {
        let token = mint("s", "alice", Some("alice@example.com"), true, 60);
        let claims = verify("s", &token).unwrap();
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["email_verified"], "true");
    }

    #[test]
    fn refuses_wrong_secret_expired_and_garbage() {
        let token = mint("s", "alice", None, false, 60);
        assert!(verify("other", &token).is_none());
        assert!(verify("s", &mint("s", "alice", None, false, -120)).is_none());
        assert!(verify("s", "not.a.jwt").is_none());
    }
}
