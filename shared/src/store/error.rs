//! What can go wrong in the store, kept apart from how HTTP shows it.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

type Source = Box<dyn std::error::Error + Send + Sync>;

/// A request refused by a condition in the table: someone else got there first, or the item
/// is not in the state the request expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the handle is already taken")]
    HandleTaken,
    #[error("the item does not exist, or no longer exists")]
    Gone,
    #[error("the item was changed by another request at the same time")]
    Changed,
    /// The caller's role changed (or they were deactivated or removed) while their request
    /// ran: what it authorized no longer stands.
    #[error("the caller's role changed while the request ran")]
    RoleChanged,
    #[error("the item already exists")]
    AlreadyExists,
    /// A once-only step (a person's first organization) was taken before.
    #[error("this was done before")]
    AlreadyDone,
    #[error("the invitation is no longer pending")]
    NotPending,
    #[error("an invitation to this address is already pending")]
    AlreadyPending,
    #[error("this person is already a member")]
    AlreadyMember,
    #[error("the name is already taken")]
    NameTaken,
    #[error("the organization already has this domain")]
    DomainExists,
    #[error("another organization has verified this domain")]
    DomainClaimed,
    #[error("the change would leave the organization without an active owner")]
    LastOwner,
    /// Metadata changed since it was read: merge again on a fresh read (`metadata::Rereads`).
    #[error("the metadata was changed by another request at the same time")]
    MetadataChanged,
    #[error("the limit on {0:?} is reached")]
    Limit(LimitKind),
    /// The custom role a change gives was deleted since it was read: read again.
    #[error("the role was deleted while the request ran")]
    RoleGone,
    /// A role that members hold cannot be deleted; this many hold it.
    #[error("{0} members hold the role")]
    RoleHeld(i64),
}

/// Which configured limit a refusal hit: a product rule, named in the domain.
pub use crate::domain::LimitKind;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("refused: {0}")]
    Refused(Refusal),
    /// Throttling, a 5xx from DynamoDB, or no connection: the caller may retry later.
    #[error("DynamoDB is unavailable while trying to {context}")]
    Unavailable {
        context: &'static str,
        #[source]
        source: Source,
    },
    /// Other transactions kept touching the same items for longer than the retries' budget:
    /// nothing was written, and repeating the request may well pass.
    #[error("other requests kept changing the same items while trying to {context}")]
    Contended {
        context: &'static str,
        #[source]
        source: Source,
    },
    #[error("DynamoDB failed to {context}")]
    Dynamo {
        context: &'static str,
        #[source]
        source: Source,
    },
    #[error("a stored item is malformed: {0}")]
    Corrupt(String),
    #[error(
        "DynamoDB left {unprocessed} writes unprocessed after retries while trying to {context}"
    )]
    Incomplete {
        context: &'static str,
        unprocessed: usize,
    },
}

/// DynamoDB's error codes for "too much at once" or "not now": each passes with time.
const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
    "TransactionInProgressException",
    // A single-item or batch write that met a transaction in flight on one of its items.
    "TransactionConflictException",
];

impl StoreError {
    /// Sorts an SDK error into "try again later" (throttling, a 5xx, a timeout, no connection
    /// or an unreadable answer) or a plain failure on our side, keeping the source. The SDK has
    /// already retried the first kind as often as it is configured to.
    pub fn from_sdk<E>(context: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let retryable = match &err {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => true,
            SdkError::ServiceError(e) => {
                e.raw().status().is_server_error()
                    || e.err().code().is_some_and(|c| RETRYABLE_CODES.contains(&c))
            }
            SdkError::ResponseError(_) => true,
            _ => false,
        };
        let source: Source = Box::new(err);
        if retryable {
            StoreError::Unavailable { context, source }
        } else {
            StoreError::Dynamo { context, source }
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
