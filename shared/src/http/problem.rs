//! The one place an error becomes an HTTP answer: RFC 9457 problem+json with a stable `type`.

use http::StatusCode;
use serde::Serialize;

use crate::domain::{
    Denied, FieldErrors, JoinRefused, LimitKind, NoAddress, NoRandomness, NotInvitee, NotPending,
    NotVerified, OutOfTime, ResendRefused, RoleRefused, Suppressed, Timestamp, TokenRefused,
    TransferRefused, Unclaimable, Unusable, ValidationError,
};
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
    /// An invitation token that can no longer be used, and why.
    #[error("gone: {0:?}")]
    Gone(#[from] Unusable),
    #[error("body over {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("limit reached: {detail}")]
    TooManyRequests { code: &'static str, detail: String },
    // The domain's refusals, each answered below.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// A custom role that cannot be given or changed as asked; `field` names where.
    #[error("{refused}")]
    Role { refused: RoleRefused, field: String },
    #[error(transparent)]
    NotInvitee(#[from] NotInvitee),
    #[error(transparent)]
    Transfer(#[from] TransferRefused),
    #[error(transparent)]
    Limit(#[from] LimitKind),
    #[error(transparent)]
    NotPending(#[from] NotPending),
    #[error(transparent)]
    NoAddress(#[from] NoAddress),
    #[error(transparent)]
    Suppressed(#[from] Suppressed),
    #[error(transparent)]
    NoRandomness(#[from] NoRandomness),
    #[error(transparent)]
    OutOfTime(#[from] OutOfTime),
    #[error(transparent)]
    Unclaimable(#[from] Unclaimable),
    #[error(transparent)]
    NotVerified(#[from] NotVerified),
    #[error(transparent)]
    JoinRefused(#[from] JoinRefused),
    #[error(transparent)]
    Dns(#[from] crate::dns::DnsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An `Idempotency-Key` header that is not 1 to 255 visible ASCII characters.
    #[error("invalid Idempotency-Key")]
    InvalidKey,
    /// The key was used by the same caller for another request.
    #[error("the Idempotency-Key was used for another request")]
    KeyReused,
    /// The key's first request is still running.
    #[error("the Idempotency-Key's first request is still running")]
    KeyInUse { retry_after: u32 },
    /// The key's first request committed its write, but its answer was lost before it was kept.
    #[error("the Idempotency-Key's request was applied; its answer was not kept")]
    AnswerLost,
    /// A fault after a commit was sent and before its outcome came back: it may have been
    /// applied. `with_key`: the request holds an `Idempotency-Key`.
    #[error("outcome unknown: {source}")]
    OutcomeUnknown {
        #[source]
        source: Box<ApiError>,
        with_key: bool,
    },
    /// The organization requires its members at its verified domains to sign in through its
    /// identity provider, and this token's sign-in did not.
    #[error("the organization requires single sign-on")]
    SsoRequired,
    /// The user pool did not do what single sign-on asked of it (see `IdpError`).
    #[error(transparent)]
    Idp(#[from] crate::idp::IdpError),
    /// Another request changed the same thing at the same time: repeating this one applies it.
    #[error("changed by another request meanwhile")]
    Busy,
    /// Single sign-on is not configured for this deployment (no user pool or app client).
    #[error("single sign-on is not configured")]
    SsoNotConfigured,
    /// A route that needs a permission answered without checking it (a fault of ours, never
    /// the caller's): its answer is withheld.
    #[error("the route answered without opening its authorization gate")]
    Unguarded,
}

impl From<ResendRefused> for ApiError {
    fn from(refused: ResendRefused) -> Self {
        match refused {
            ResendRefused::NotPending(e) => e.into(),
            ResendRefused::Limit(kind) => kind.into(),
        }
    }
}

/// A role named in a request's `role` field.
impl From<RoleRefused> for ApiError {
    fn from(refused: RoleRefused) -> Self {
        ApiError::Role {
            refused,
            field: "role".to_owned(),
        }
    }
}

impl From<TokenRefused> for ApiError {
    fn from(refused: TokenRefused) -> Self {
        match refused {
            TokenRefused::Hidden => ApiError::NotFound("invitation"),
            TokenRefused::Unusable(why) => ApiError::Gone(why),
        }
    }
}

impl From<Vec<ValidationError>> for ApiError {
    fn from(errors: Vec<ValidationError>) -> Self {
        ApiError::Invalid(errors)
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Invalid(errors.into_vec())
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
    /// The TXT values a domain's verification found instead of its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub found: Vec<String>,
    /// With 429: which limit was reached (`LimitKind::name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<&'static str>,
    /// With 429: when waiting frees room under the limit; `null` when only an action does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<Option<String>>,
    /// With a 503 after a write was sent: `unknown`, it may or may not have been applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'static str>,
    /// With a 409 for deleting a role that members hold: how many hold it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holders: Option<i64>,
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
    /// For 410: why the invitation can no longer be used; for a domain not verified, why.
    pub reason: Option<&'static str>,
    /// For a domain not verified: the TXT values found instead.
    pub found: Vec<String>,
    /// For a limit's 429: its name and when it resets (`None` inside: not by waiting).
    pub limit: Option<(&'static str, Option<Timestamp>)>,
    /// For a 503 after a write was sent and no outcome came back: `unknown`.
    pub outcome: Option<&'static str>,
    /// For a role that members hold: how many.
    pub holders: Option<i64>,
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
        found: Vec::new(),
        limit: None,
        outcome: None,
        holders: None,
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
            ApiError::Invalid(errors) => invalid(errors),
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
            ApiError::Role { refused, field } => match refused {
                RoleRefused::Escalation => {
                    answer(S::FORBIDDEN, "forbidden", "Not allowed", refused.detail())
                }
                RoleRefused::Unknown => invalid(&[ValidationError::new(
                    field,
                    "unknown_role",
                    refused.detail(),
                )]),
                RoleRefused::WrongScope => invalid(&[ValidationError::new(
                    field,
                    "wrong_role_scope",
                    refused.detail(),
                )]),
            },
            ApiError::Denied(denied) => {
                answer(S::FORBIDDEN, "forbidden", "Not allowed", denied.detail())
            }
            ApiError::NotInvitee(why) => {
                answer(S::FORBIDDEN, "forbidden", "Not allowed", why.detail())
            }
            ApiError::Transfer(why) => transfer_answer(*why),
            ApiError::Limit(kind) => limit_answer(*kind),
            ApiError::NotPending(_) => not_pending_answer(),
            ApiError::NoAddress(_) => answer(
                S::CONFLICT,
                "no-email",
                "Conflict",
                "This user has no email address on file to send the invitation to.",
            ),
            ApiError::Suppressed(why) => answer(
                S::CONFLICT,
                "address-suppressed",
                "Address suppressed",
                why.detail(),
            ),
            ApiError::SsoRequired => answer(
                S::FORBIDDEN,
                "sso-required",
                "Single sign-on required",
                "This organization requires you to sign in through its single sign-on. Sign in \
                 with your company's identity provider (GET /sso/discover tells which), then \
                 retry with that token.",
            ),
            ApiError::Idp(crate::idp::IdpError::Misconfigured { .. }) => internal_answer(),
            ApiError::Idp(_) | ApiError::Busy => Answer {
                retry_after: Some(1),
                ..answer(
                    S::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Temporarily unavailable",
                    "The service is busy or a dependency is down. Retry after the Retry-After \
                     delay: repeating the request is safe.",
                )
            },
            ApiError::SsoNotConfigured => answer(
                S::NOT_IMPLEMENTED,
                "sso-not-configured",
                "Single sign-on not configured",
                "This deployment has no user pool and app client for single sign-on \
                 (CognitoUserPoolArn and SsoAppClientId).",
            ),
            ApiError::NoRandomness(_) | ApiError::Unguarded => internal_answer(),
            ApiError::OutOfTime(why) => out_of_time_answer(*why),
            ApiError::Unclaimable(why) => invalid(&[ValidationError::new(
                "domain",
                match why {
                    Unclaimable::PublicProvider => "public_email_provider",
                    Unclaimable::ServiceDomain => "service_domain",
                },
                why.detail(),
            )]),
            ApiError::NotVerified(why) => Answer {
                reason: Some(why.reason()),
                found: why.found().to_vec(),
                ..answer(
                    S::CONFLICT,
                    "domain-not-verified",
                    "Domain not verified",
                    why.detail(),
                )
            },
            ApiError::JoinRefused(why) => {
                answer(S::FORBIDDEN, "forbidden", "Not allowed", why.detail())
            }
            ApiError::Dns(err) => Answer {
                retry_after: Some(10),
                ..answer(
                    S::SERVICE_UNAVAILABLE,
                    "dns-unavailable",
                    "DNS lookup failed",
                    format!("{err}; nothing changed. Try again in a moment."),
                )
            },
            ApiError::Store(err) => store_answer(err),
            ApiError::InvalidKey => answer(
                S::BAD_REQUEST,
                "invalid-idempotency-key",
                "Bad request",
                "An Idempotency-Key is 1 to 255 visible ASCII characters, such as a UUID.",
            ),
            ApiError::KeyReused => answer(
                S::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "This Idempotency-Key was used for another request (another method, path or \
                 body) in the last 24 hours. Use a new key for a new request; nothing was done.",
            ),
            ApiError::KeyInUse { retry_after } => Answer {
                retry_after: Some(*retry_after),
                ..answer(
                    S::CONFLICT,
                    "idempotency-key-in-use",
                    "Request in progress",
                    "The first request with this Idempotency-Key is still running. Repeat it \
                     after the Retry-After delay to get its outcome.",
                )
            },
            ApiError::AnswerLost => answer(
                S::CONFLICT,
                "idempotent-answer-lost",
                "Applied, answer lost",
                "The first request with this Idempotency-Key was applied, but its answer was lost \
                 before it could be kept. Nothing was done again; read the resource for its state.",
            ),
            ApiError::OutcomeUnknown { source, with_key } => {
                let first = source.answer();
                let detail = match with_key {
                    true => {
                        "The outcome is unknown: the change may or may not have been saved. \
                         Repeat the request with the same Idempotency-Key after the Retry-After \
                         delay: it is applied at most once, and the repeat gets its outcome."
                    }
                    false => {
                        "The outcome is unknown: the change may or may not have been saved. Read \
                         the resource before trying again, or send writes with an \
                         Idempotency-Key, which makes repeating them safe."
                    }
                };
                // The type stays `unavailable`, as for any 503; `outcome` tells this one apart.
                Answer {
                    retry_after: first.retry_after.or(Some(1)),
                    outcome: Some("unknown"),
                    ..answer(
                        S::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "Outcome unknown",
                        detail,
                    )
                }
            }
        }
    }

    /// This error, said as of unknown outcome when the request may have applied a write
    /// (`crate::idempotency::may_have_applied`), if it is a fault on our side.
    pub fn of_unknown_outcome(self) -> Self {
        let fault = self.answer().status.is_server_error();
        if fault && crate::idempotency::may_have_applied() {
            let with_key = crate::idempotency::holds_key();
            return ApiError::OutcomeUnknown {
                source: Box::new(self),
                with_key,
            };
        }
        self
    }
}

fn invalid(errors: &[ValidationError]) -> Answer {
    Answer {
        errors: errors
            .iter()
            .map(|e| FieldProblem {
                field: e.field.clone(),
                code: e.code,
                detail: e.message.clone(),
            })
            .collect(),
        ..answer(
            StatusCode::BAD_REQUEST,
            "validation",
            "Invalid request",
            "Some fields are not valid; see errors.",
        )
    }
}

/// `POST …/transfer-ownership` names the new owner in its `user_id` field.
fn transfer_answer(why: TransferRefused) -> Answer {
    let code = match why {
        TransferRefused::NotAMember => {
            return invalid(&[ValidationError::new(
                "user_id",
                "not_a_member",
                why.detail(),
            )]);
        }
        TransferRefused::AlreadyOwner => "already-owner",
        TransferRefused::Deactivated => "member-deactivated",
    };
    answer(StatusCode::CONFLICT, code, "Conflict", why.detail())
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
        LimitKind::Domains => {
            "The organization has as many domains as it may; remove one it no longer uses."
        }
        LimitKind::OwnedOrganizations => {
            "You own as many organizations as one person may. Delete one, or transfer its \
             ownership, before creating another. Nothing was created."
        }
        LimitKind::PersonInvitationEmails => {
            "You have caused as many invitation emails today (UTC), across all your \
             organizations, as one person may. Nothing was sent."
        }
        LimitKind::NewOrgInvitationEmails { .. } => {
            "A new organization may send only a few invitation emails in its first 24 hours, and \
             this one has sent them. Nothing was sent."
        }
        LimitKind::JoinRequestsPerOrg => {
            "The organization has as many join requests waiting for an admin as it may; ask an \
             admin for an invitation, or again later."
        }
        LimitKind::JoinRequestsPerPerson => {
            "You have as many join requests waiting as one person may; withdraw one, or wait for \
             an answer."
        }
        LimitKind::Roles => {
            "The organization has as many custom roles as it may; delete one it no longer uses."
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
        StoreError::Refused(Refusal::DomainExists) => answer(
            S::CONFLICT,
            "domain-exists",
            "Domain already added",
            "The organization already has this domain; verify it or remove it first.",
        ),
        StoreError::Refused(Refusal::DomainClaimed) => answer(
            S::CONFLICT,
            "domain-claimed",
            "Domain verified elsewhere",
            "Another organization has verified this domain. A domain belongs to one organization at a time.",
        ),
        StoreError::Refused(Refusal::NotPending) => not_pending_answer(),
        StoreError::Refused(Refusal::RoleChanged) => answer(
            S::FORBIDDEN,
            "forbidden",
            "Not allowed",
            "Your role in the organization changed while this request ran, and no longer allows \
             it. Nothing was changed.",
        ),
        StoreError::Refused(Refusal::Limit(kind)) => limit_answer(*kind),
        StoreError::Refused(Refusal::RoleHeld(holders)) => Answer {
            holders: Some(*holders),
            ..answer(
                S::CONFLICT,
                "role-in-use",
                "Role in use",
                format!(
                    "{holders} member(s) hold this role; give them another role before deleting it."
                ),
            )
        },
        StoreError::Refused(Refusal::Changed | Refusal::AlreadyExists | Refusal::AlreadyDone) => {
            answer(
                S::CONFLICT,
                "concurrent-change",
                "Changed meanwhile",
                "Another request changed this at the same time; read it again and retry.",
            )
        }
        StoreError::Unavailable { .. }
        | StoreError::Refused(Refusal::MetadataChanged | Refusal::RoleGone)
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
        StoreError::Dynamo { .. } | StoreError::Corrupt(_) => internal_answer(),
    }
}

/// Refused by the handler's check or by the store's condition, the answer is the same.
fn limit_answer(kind: LimitKind) -> Answer {
    let now = Timestamp::now();
    let resets_at = kind.resets_at(now);
    // Until the reset, at least a second; a limit that waiting does not free keeps the hour
    // it always had.
    let retry_after = resets_at.map_or(3600, |at| {
        u32::try_from((at.unix_seconds() - now.unix_seconds()).max(1)).unwrap_or(u32::MAX)
    });
    Answer {
        retry_after: Some(retry_after),
        limit: Some((kind.name(), resets_at)),
        ..answer(
            StatusCode::TOO_MANY_REQUESTS,
            "limit-reached",
            "Limit reached",
            limit_detail(kind),
        )
    }
}

/// Refused by the handler's check or by the store's condition, the answer is the same.
fn not_pending_answer() -> Answer {
    answer(
        StatusCode::CONFLICT,
        "not-pending",
        "Not pending",
        "This invitation is no longer pending; send a new one instead.",
    )
}

/// The request's time ran out (see `http::budget`): repeating it, or the part not attempted, may
/// well pass.
fn out_of_time_answer(why: OutOfTime) -> Answer {
    let detail = match why {
        OutOfTime::Cut => {
            "The request ran out of time before it finished. Retry after the Retry-After delay."
        }
        OutOfTime::NotAttempted => {
            "Not attempted: the request ran out of time before reaching this. Nothing was saved \
             for it; retry it after the Retry-After delay."
        }
    };
    Answer {
        retry_after: Some(1),
        ..answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Temporarily unavailable",
            detail,
        )
    }
}

fn internal_answer() -> Answer {
    answer(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "Something failed on our side; nothing was half-done. Quote the request id if you report it.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(err: ApiError) -> (u16, &'static str, &'static str, String, Option<u32>) {
        let a = err.answer();
        (a.status.as_u16(), a.code, a.title, a.detail, a.retry_after)
    }

    #[test]
    fn a_rule_checked_early_answers_as_the_stores_condition_for_it_does() {
        for kind in [
            LimitKind::PendingInvitations,
            LimitKind::InvitationEmails,
            LimitKind::Resends,
            LimitKind::Members,
            LimitKind::TeamsPerMember,
            LimitKind::Domains,
        ] {
            let refused = StoreError::Refused(Refusal::Limit(kind));
            assert_eq!(shown(kind.into()), shown(refused.into()));
        }
        let refused = StoreError::Refused(Refusal::NotPending);
        assert_eq!(shown(NotPending.into()), shown(refused.into()));
        let resend = ResendRefused::Limit(LimitKind::Resends);
        assert_eq!(shown(resend.into()), shown(LimitKind::Resends.into()));
    }

    #[test]
    fn a_transfer_to_a_stranger_names_the_field_and_other_refusals_are_conflicts() {
        let answer = ApiError::from(TransferRefused::NotAMember).answer();
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            (answer.errors[0].field.as_str(), answer.errors[0].code),
            ("user_id", "not_a_member")
        );
        let (status, code, ..) = shown(TransferRefused::AlreadyOwner.into());
        assert_eq!((status, code), (409, "already-owner"));
        let (status, code, ..) = shown(TransferRefused::Deactivated.into());
        assert_eq!((status, code), (409, "member-deactivated"));
    }

    #[test]
    fn a_token_of_a_deleting_organization_is_not_found_and_a_dead_one_is_gone() {
        let (status, ..) = shown(TokenRefused::Hidden.into());
        assert_eq!(status, 404);
        let answer = ApiError::from(TokenRefused::Unusable(Unusable::Replaced)).answer();
        assert_eq!(
            (answer.status.as_u16(), answer.reason),
            (410, Some("replaced"))
        );
    }
}
