//! An entry of an audit log.

use serde_json::Value;

use crate::domain::{AuditId, Timestamp};

/// One entry: who did what to which target, when, in which request. Entries name people and
/// organizations by id, so a later change of handle leaves them as true as they were.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub audit_id: AuditId,
    pub action: String,
    pub actor_user_id: String,
    pub target_type: String,
    pub target_id: String,
    pub request_id: String,
    pub at: Timestamp,
    /// The facts of the change, as recorded; never a token or secret.
    pub data: Value,
}
