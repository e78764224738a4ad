//! The caller, taken only from the claims that API Gateway's JWT authorizer verified.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::domain::token_claims::SSO_PROVIDER_CLAIM;
use crate::domain::{EmailClaims, ProviderName, StoredEmail, UserId};
use crate::store::{Identity, User};

use super::ApiError;

/// A signed-in caller. Nothing here comes from the body, the path or a header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    /// What the token says about the email address (nothing, for an access token).
    pub email_claims: EmailClaims,
    /// For a token without email claims: the profile's address and its verification, once read
    /// (`with_stored_email`).
    pub stored_email: Option<(String, bool)>,
    /// The organization's identity provider the token's sign-in went through (single sign-on).
    pub sso_provider: Option<ProviderName>,
}

impl Caller {
    /// The caller's identity as far as it is known: from the token, or for a token without
    /// email claims from the profile once read.
    pub fn identity(&self) -> Identity {
        Identity {
            user_id: self.user_id.clone(),
            email: self.email().map(str::to_owned),
            email_verified: self.verified_email().is_some(),
        }
    }

    /// The address, verified or not: the token's, else the profile's once read.
    pub fn email(&self) -> Option<&str> {
        match &self.email_claims {
            EmailClaims::Stated { email, .. } => Some(email),
            EmailClaims::Absent => self.stored_email.as_ref().map(|(email, _)| email.as_str()),
        }
    }

    /// The email address the invitee's flows go by, only when an identity provider verified it.
    pub fn verified_email(&self) -> Option<&str> {
        let stored = self
            .stored_email
            .as_ref()
            .map(|(email, verified)| StoredEmail {
                email: Some(email),
                verified: *verified,
            });
        self.email_claims.verified_email(stored)
    }

    /// Whether the email flows need the profile's address: the token states none.
    pub fn needs_stored_email(&self) -> bool {
        self.email_claims == EmailClaims::Absent && self.stored_email.is_none()
    }

    /// The caller with the profile's address, for a token without email claims.
    pub fn with_stored_email(mut self, profile: Option<&User>) -> Self {
        if self.email_claims == EmailClaims::Absent
            && let Some(email) = profile.and_then(|p| p.email.clone())
        {
            let verified = profile.is_some_and(|p| p.email_verified);
            self.stored_email = Some((email, verified));
        }
        self
    }

    /// What a person should do when no verified address is known for them.
    pub fn how_to_verify(&self) -> &'static str {
        match self.email_claims {
            EmailClaims::Absent => {
                "Your token carries no email address (an access token), and no verified address \
                 is on file for you. Call GET /me once with your ID token, which carries `email` \
                 and `email_verified`, or send the ID token with this request."
            }
            EmailClaims::Stated { .. } => {
                "Verify your email address with your sign-in provider, then sign in again and \
                 retry."
            }
        }
    }
}

/// Reads `sub`, `email` and `email_verified` from the authorizer's claims. API Gateway passes
/// every claim as a string, so `email_verified` arrives as `"true"`.
pub fn caller(req: &Request) -> Result<Caller, ApiError> {
    let Some(RequestContext::ApiGatewayV2(context)) = req.request_context_ref() else {
        return Err(ApiError::Unauthorized);
    };
    let claims = context
        .authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .map(|jwt| &jwt.claims)
        .ok_or(ApiError::Unauthorized)?;
    let user_id = claims
        .get("sub")
        .and_then(|sub| UserId::parse(sub))
        .ok_or(ApiError::Unauthorized)?;
    let email_claims = EmailClaims::from_claims(
        claims.get("email").map(String::as_str),
        claims.get("email_verified").map(String::as_str),
    );
    let sso_provider = claims
        .get(SSO_PROVIDER_CLAIM)
        .and_then(|p| ProviderName::parse(p));
    Ok(Caller {
        user_id,
        email_claims,
        stored_email: None,
        sso_provider,
    })
}
