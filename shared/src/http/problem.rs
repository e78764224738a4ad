//! The one place an error becomes an HTTP answer: RFC 9457 problem+json with a stable `type`.

use http::StatusCode;
use serde::Serialize;

use crate::domain::ValidationError;
use crate::store::{Refusal, StoreError};

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
    #[error("gone: {detail}")]
    Gone { code: &'static str, detail: String },
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
            ApiError::Gone { code, detail } => {
                answer(S::GONE, code, "No longer available", detail.clone())
            }
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
        StoreError::Refused(Refusal::Changed | Refusal::AlreadyExists) => answer(
            S::CONFLICT,
            "concurrent-change",
            "Changed meanwhile",
            "Another request changed this at the same time; read it again and retry.",
        ),
        StoreError::Unavailable { .. } | StoreError::Incomplete { .. } => Answer {
            retry_after: Some(1),
            ..answer(
                S::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable",
                "The service is busy or a dependency is down; nothing was changed. Retry shortly.",
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
