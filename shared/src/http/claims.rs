//! The caller, taken only from the claims that API Gateway's JWT authorizer verified.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::domain::{Email, UserId};
use crate::store::Identity;

use super::ApiError;

/// A signed-in caller. Nothing here comes from the body, the path or a header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    /// Lowercase; `None` when the claim is absent or not an address.
    pub email: Option<String>,
    pub email_verified: bool,
}

impl Caller {
    pub fn identity(&self) -> Identity {
        Identity {
            user_id: self.user_id.clone(),
            email: self.email.clone(),
            email_verified: self.email_verified,
        }
    }

    /// The email address, only when the identity provider has verified it.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
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
    let email = claims
        .get("email")
        .and_then(|e| Email::parse("email", e).ok())
        .map(|e| e.as_str().to_owned());
    let email_verified = claims.get("email_verified").is_some_and(|v| v == "true");
    Ok(Caller {
        user_id,
        email,
        email_verified,
    })
}
