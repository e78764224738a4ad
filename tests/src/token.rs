//! Local sign-in: HS256 JWTs that the local server verifies in place of API Gateway's JWT
//! authorizer. For local use only; a deployment verifies the identity provider's tokens.
//!
//! Two shapes, as Cognito issues them: an ID token (`aud`, `token_use: id`, `email`,
//! `email_verified`) and an access token (`client_id`, `token_use: access`, `scope`, no `aud`
//! and no email).

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};

/// Used when `ORGS_DEV_JWT_SECRET` is not set. Public by design: it guards nothing real.
pub const DEFAULT_DEV_SECRET: &str = "orgs-local-development-secret";
pub const ISSUER: &str = "orgs-local";
/// The authorizer's one audience: an ID token's `aud`, an access token's `client_id`, as with a
/// Cognito app client.
pub const AUDIENCE: &str = "orgs-local";

pub fn dev_secret() -> String {
    std::env::var("ORGS_DEV_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_DEV_SECRET.to_owned())
}

fn sign(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing with an in-memory key cannot fail")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A signed ID token for `sub`, valid for `ttl_seconds`.
pub fn mint(
    secret: &str,
    sub: &str,
    email: Option<&str>,
    email_verified: bool,
    ttl_seconds: i64,
) -> String {
    mint_with(secret, sub, email, email_verified, ttl_seconds, Map::new())
}

/// `mint` with more claims, such as those the `token-claims` trigger adds.
pub fn mint_with(
    secret: &str,
    sub: &str,
    email: Option<&str>,
    email_verified: bool,
    ttl_seconds: i64,
    extra: Map<String, Value>,
) -> String {
    let now = now();
    let mut claims = json!({
        "sub": sub,
        "email_verified": email_verified,
        "token_use": "id",
        "exp": now + ttl_seconds,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
    });
    if let Some(email) = email {
        claims["email"] = json!(email);
    }
    add(&mut claims, extra);
    sign(secret, &claims)
}

fn add(claims: &mut Value, extra: Map<String, Value>) {
    if let Some(claims) = claims.as_object_mut() {
        claims.extend(extra);
    }
}

/// A signed access token for `sub`, shaped as Cognito's: `client_id` instead of `aud`, and no
/// email claims.
pub fn mint_access(secret: &str, sub: &str, ttl_seconds: i64) -> String {
    mint_access_with(secret, sub, ttl_seconds, Map::new())
}

/// `mint_access` with more claims, such as those the `token-claims` trigger adds.
pub fn mint_access_with(
    secret: &str,
    sub: &str,
    ttl_seconds: i64,
    extra: Map<String, Value>,
) -> String {
    let now = now();
    let mut claims = json!({
        "sub": sub,
        "client_id": AUDIENCE,
        "token_use": "access",
        "scope": "openid email",
        "username": sub,
        "exp": now + ttl_seconds,
        "iss": ISSUER,
        "iat": now,
    });
    add(&mut claims, extra);
    sign(secret, &claims)
}

/// The event a Cognito user pool sends its pre-token-generation trigger (version 2) when the
/// person `sub` signs in, with their email attributes as Cognito keeps them (strings).
pub fn pre_token_generation_event(sub: &str, email: Option<&str>, email_verified: bool) -> Value {
    let mut attributes = json!({ "sub": sub, "cognito:user_status": "CONFIRMED" });
    if let Some(email) = email {
        attributes["email"] = json!(email);
        attributes["email_verified"] = json!(email_verified.to_string());
    }
    json!({
        "version": "2",
        "triggerSource": "TokenGeneration_Authentication",
        "region": "us-east-1",
        "userPoolId": "us-east-1_orgslocal",
        "userName": sub,
        "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": AUDIENCE },
        "request": {
            "userAttributes": attributes,
            "groupConfiguration": {
                "groupsToOverride": [],
                "iamRolesToOverride": [],
                "preferredRole": null,
            },
            "scopes": ["openid", "email"],
        },
        "response": { "claimsAndScopeOverrideDetails": null },
    })
}

/// The version 2 event Cognito sends when `sub` signs in through the identity provider
/// `provider` (a federated user): the pool's `identities` attribute names it, as JSON text.
pub fn federated_sign_in_event(sub: &str, email: &str, provider: &str) -> Value {
    let mut event = pre_token_generation_event(sub, Some(email), false);
    let identities = json!([{
        "userId": email,
        "providerName": provider,
        "providerType": "SAML",
        "issuer": "http://www.okta.com/exk1",
        "primary": "true",
        "dateCreated": "1765100000000",
    }]);
    event["userName"] = json!(format!("{provider}_{email}"));
    event["request"]["userAttributes"]["identities"] = json!(identities.to_string());
    event
}

/// The Post Confirmation event Cognito sends when a person confirms their sign-up
/// (`PostConfirmation_ConfirmSignUp`) or a password reset (`PostConfirmation_ConfirmForgotPassword`),
/// with `attributes` (`sub`, `email`, `email_verified`, maybe `preferred_username`).
pub fn post_confirmation_event(trigger_source: &str, attributes: Value) -> Value {
    json!({
        "version": "1",
        "triggerSource": trigger_source,
        "region": "us-east-1",
        "userPoolId": "us-east-1_orgslocal",
        "userName": attributes["sub"],
        "callerContext": { "awsSdkVersion": "aws-sdk-js-3.0.0", "clientId": AUDIENCE },
        "request": { "userAttributes": attributes },
        "response": {},
    })
}

/// Whether the token was issued for this API, as API Gateway decides: `aud` must name the
/// audience; only when there is no `aud` does `client_id` have to instead.
fn for_this_api(claims: &Map<String, Value>) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => aud == AUDIENCE,
        Some(Value::Array(auds)) => auds.iter().any(|a| a == AUDIENCE),
        Some(_) => false,
        None => claims.get("client_id").is_some_and(|id| id == AUDIENCE),
    }
}

/// A claim as API Gateway passes it to a function: a string; a list as `[a b]`.
fn as_gateway_string(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(as_gateway_string).collect();
            format!("[{}]", items.join(" "))
        }
        other => other.to_string(),
    }
}

/// Verifies signature, expiry, issuer and audience (or client id), and returns the claims as
/// API Gateway passes them to a function: every value a string.
pub fn verify(secret: &str, token: &str) -> Option<HashMap<String, String>> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "sub", "iss"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .ok()?;
    let claims = data.claims;
    if !for_this_api(&claims) {
        return None;
    }
    Some(
        claims
            .iter()
            .map(|(name, value)| (name.clone(), as_gateway_string(value)))
            .collect(),
    )
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
        assert_eq!(claims["token_use"], "id");
    }

    #[test]
    fn access_tokens_verify_by_client_id_and_carry_no_email() {
        let claims = verify("s", &mint_access("s", "auth0|bob", 60)).unwrap();
        assert_eq!(claims["sub"], "auth0|bob");
        assert_eq!(claims["client_id"], AUDIENCE);
        assert_eq!(claims["token_use"], "access");
        assert!(!claims.contains_key("email") && !claims.contains_key("aud"));
    }

    #[test]
    fn refuses_another_audience_or_client() {
        let now = now();
        let base = json!({ "sub": "a", "iss": ISSUER, "exp": now + 60, "iat": now });
        let with = |name: &str, value: Value| {
            let mut claims = base.clone();
            claims[name] = value;
            sign("s", &claims)
        };
        assert!(verify("s", &with("aud", json!("other"))).is_none());
        assert!(verify("s", &with("aud", json!(["other", AUDIENCE]))).is_some());
        assert!(verify("s", &with("client_id", json!("other"))).is_none());
        assert!(
            verify("s", &sign("s", &base)).is_none(),
            "neither aud nor client_id"
        );
        // With both, API Gateway goes by `aud`.
        let mut both = base.clone();
        both["aud"] = json!("other");
        both["client_id"] = json!(AUDIENCE);
        assert!(verify("s", &sign("s", &both)).is_none());
    }

    #[test]
    fn object_claims_reach_the_function_as_their_json_text() {
        let mut extra = Map::new();
        extra.insert(
            "orgs".into(),
            json!({ "org_1": { "handle": "acme", "role": "owner" } }),
        );
        extra.insert("orgs_truncated".into(), json!(true));
        let claims = verify("s", &mint_access_with("s", "bob", 60, extra)).unwrap();
        let orgs: Value = serde_json::from_str(&claims["orgs"]).unwrap();
        assert_eq!(orgs["org_1"]["role"], "owner");
        assert_eq!(claims["orgs_truncated"], "true");
    }

    #[test]
    fn refuses_wrong_secret_expired_and_garbage() {
        let token = mint("s", "alice", None, false, 60);
        assert!(verify("other", &token).is_none());
        assert!(verify("s", &mint("s", "alice", None, false, -120)).is_none());
        assert!(verify("s", "not.a.jwt").is_none());
    }
}
