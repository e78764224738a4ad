//! The one place an error becomes an HTTP answer: RFC 9457 problem+json with a stable `type`.

use http::StatusCode;
use serde::Serialize;

use crate::domain::ValidationError;
use crate::store::{LimitKind, Refusal, StoreError};

/// Problem types are `urn:orgs:problem:{code}`; the code never changes once published.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:orgs:problem:";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no valid credentials")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid input: {0:?}")]
    Invalid(Vec<ValidationError>),
    #[error("bad request: {detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("conflict: {detail}")]
    Conflict { code: &'static str, detail: String },
    /// An invitation token that can no longer be used, and why.
    #[error("gone: {0:?}")]
    Gone(crate::domain::Unusable),
    #[error("body over {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("limit reached: {detail}")]
    TooManyRequests { code: &'static str, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Vec<ValidationError>> for ApiError {
    fn from(errors: Vec<ValidationError>) -> Self {
        ApiError::Invalid(errors)
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::Invalid(vec![error])
    }
}

#[derive(Debug, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub code: &'static str,
    pub detail: String,
}

/// The body of every error answer.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub request_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// What the answer says, before the request id is added.
pub struct Answer {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldProblem>,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u32>,
    /// For 410: why the invitation can no longer be used.
    pub reason: Option<&'static str>,
}

fn answer(
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: impl Into<String>,
) -> Answer {
    Answer {
        status,
        code,
        title,
        detail: detail.into(),
        errors: Vec::new(),
        retry_after: None,
        reason: None,
    }
}

impl ApiError {
    pub fn answer(&self) -> Answer {
        use StatusCode as S;
        match self {
            ApiError::Unauthorized => answer(
                S::UNAUTHORIZED,
                "unauthorized",
                "Sign-in required",
                "Send a valid bearer token in the Authorization header.",
            ),
            ApiError::Forbidden(detail) => {
                answer(S::FORBIDDEN, "forbidden", "Not allowed", detail.clone())
            }
            ApiError::NotFound(what) => answer(
                S::NOT_FOUND,
                "not-found",
                "Not found",
                format!("No {what} with this id exists, or you cannot see it."),
            ),
            ApiError::Invalid(errors) => Answer {
                errors: errors
                    .iter()
                    .map(|e| FieldProblem {
                        field: e.field.clone(),
                        code: e.code,
                        detail: e.message.clone(),
                    })
                    .collect(),
                ..answer(
                    S::BAD_REQUEST,
                    "validation",
                    "Invalid request",
                    "Some fields are not valid; see errors.",
                )
            },
            ApiError::BadRequest { code, detail } => {
                answer(S::BAD_REQUEST, code, "Bad request", detail.clone())
            }
            ApiError::Conflict { code, detail } => {
                answer(S::CONFLICT, code, "Conflict", detail.clone())
            }
            ApiError::Gone(why) => Answer {
                reason: Some(why.reason()),
                ..answer(
                    S::GONE,
                    "invitation-unusable",
                    "Invitation no longer usable",
                    why.detail(),
                )
            },
            ApiError::PayloadTooLarge { limit } => answer(
                S::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Body too large",
                format!("Request bodies are limited to {limit} bytes."),
            ),
            ApiError::TooManyRequests { code, detail } => Answer {
                retry_after: Some(3600),
                ..answer(S::TOO_MANY_REQUESTS, code, "Limit reached", detail.clone())
            },
            ApiError::Store(err) => store_answer(err),
        }
    }
}

fn limit_detail(kind: LimitKind) -> &'static str {
    match kind {
        LimitKind::PendingInvitations => {
            "The organization has as many pending invitations as it may; revoke some or wait for answers. Nothing was sent."
        }
        LimitKind::InvitationEmails => {
            "The organization has sent as many invitation emails today (UTC) as it may. Nothing was sent."
        }
        LimitKind::Resends => {
            "This invitation was resent as often today (UTC) as it may be. Nothing was sent."
        }
        LimitKind::Members => "The organization has as many members as it may.",
        LimitKind::TeamsPerMember => "This member is in as many teams as a member may be (40).",
    }
}

fn store_answer(err: &StoreError) -> Answer {
    use StatusCode as S;
    match err {
        StoreError::Refused(Refusal::HandleTaken) => answer(
            S::CONFLICT,
            "handle-taken",
            "Handle taken",
            "This handle belongs to another user or organization; choose another.",
        ),
        StoreError::Refused(Refusal::Gone) => answer(
            S::NOT_FOUND,
            "not-found",
            "Not found",
            "It no longer exists, or you cannot see it.",
        ),
        StoreError::Refused(Refusal::AlreadyPending) => answer(
            S::CONFLICT,
            "already-pending",
            "Already invited",
            "An invitation to this address is already pending; resend it instead.",
        ),
        StoreError::Refused(Refusal::AlreadyMember) => answer(
            S::CONFLICT,
            "already-member",
            "Already a member",
            "This person is already a member of the organization.",
        ),
        StoreError::Refused(Refusal::NameTaken) => answer(
            S::CONFLICT,
            "name-taken",
            "Name taken",
            "The organization already has a team with this name.",
        ),
        StoreError::Refused(Refusal::LastOwner) => answer(
            S::CONFLICT,
            "last-owner",
            "Last owner",
            "An organization always keeps at least one active owner; make someone else owner first.",
        ),
        StoreError::Refused(Refusal::NotPending) => answer(
            S::CONFLICT,
            "not-pending",
            "Not pending",
            "This invitation is no longer pending; send a new one instead.",
        ),
        StoreError::Refused(Refusal::Limit(kind)) => Answer {
            retry_after: Some(3600),
            ..answer(
                S::TOO_MANY_REQUESTS,
                "limit-reached",
                "Limit reached",
                limit_detail(*kind),
            )
        },
        StoreError::Refused(Refusal::Changed | Refusal::AlreadyExists) => answer(
            S::CONFLICT,
            "concurrent-change",
            "Changed meanwhile",
            "Another request changed this at the same time; read it again and retry.",
        ),
        StoreError::Unavailable { .. }
        | StoreError::Incomplete { .. }
        | StoreError::Contended { .. } => Answer {
            retry_after: Some(1),
            ..answer(
                S::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable",
                "The service is busy or a dependency is down. Retry after the Retry-After delay: repeating the request is safe.",
            )
        },
        StoreError::Dynamo { .. } | StoreError::Corrupt(_) => answer(
            S::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "Something failed on our side; nothing was half-done. Quote the request id if you report it.",
        ),
    }
}
