//! Audit entries and event records, written inside the transaction of the change they describe,
//! so that no change can exist without them.

use serde_json::json;

use crate::domain::{AuditId, Change, EventId, Subject};

use super::error::Refusal;
use super::error::StoreResult;
use super::item::ItemBuilder;
use super::keys::{self, EXPIRE_AT};
use super::model::Op;
use super::tx::{Condition, Tx};

/// How long the table keeps history before DynamoDB's TTL may shed it.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    pub audit_seconds: i64,
    /// Event records only wait for the publisher; a day covers the stream's own retention.
    pub event_seconds: i64,
    /// How long an accepted, declined, revoked or expired invitation stays readable.
    pub dead_invitation_seconds: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            audit_seconds: 400 * 24 * 3600,
            event_seconds: 2 * 24 * 3600,
            dead_invitation_seconds: 30 * 24 * 3600,
        }
    }
}

fn subject_json(subject: &Subject) -> serde_json::Value {
    match subject {
        Subject::Org(org) => json!({ "type": "organization", "id": org.as_str() }),
        Subject::User(user) => json!({ "type": "user", "id": user.as_str() }),
    }
}

/// Adds the audit entry and the event record of `change` to `tx`.
pub fn record(tx: &mut Tx<'_>, change: &Change, op: &Op, retention: Retention) -> StoreResult<()> {
    let audit_id = AuditId::generate();
    let audit = ItemBuilder::key(
        keys::audit_pk(&change.subject),
        keys::timeline_sk(op.at, audit_id.as_str()),
    )
    .s("entity", "audit")
    .s("audit_id", audit_id.as_str())
    .s("action", change.kind.action())
    .s("actor_user_id", op.actor.as_str())
    .s("target_type", change.target_type)
    .s("target_id", &change.target_id)
    .s("request_id", &op.request_id)
    .s("at", op.at.to_rfc3339())
    .s("data", change.data.to_string())
    .n(
        EXPIRE_AT,
        op.at.plus_seconds(retention.audit_seconds).unix_seconds(),
    )
    .build();
    tx.put(audit, Some(Condition::absent(Refusal::Changed)))?;

    let event_id = EventId::generate();
    let detail = json!({
        "event_id": event_id.as_str(),
        "occurred_at": op.at.to_rfc3339(),
        "subject": subject_json(&change.subject),
        "actor_user_id": op.actor.as_str(),
        "request_id": op.request_id,
        "target": { "type": change.target_type, "id": change.target_id },
        "data": change.data,
    });
    let event = ItemBuilder::key(
        keys::event_pk(&change.subject),
        keys::timeline_sk(op.at, event_id.as_str()),
    )
    .s("entity", "event")
    .s("event_id", event_id.as_str())
    .s("source", "orgs")
    .s("detail_type", change.kind.detail_type())
    .s("detail", detail.to_string())
    .s("at", op.at.to_rfc3339())
    .n(
        EXPIRE_AT,
        op.at.plus_seconds(retention.event_seconds).unix_seconds(),
    )
    .build();
    tx.put(event, Some(Condition::absent(Refusal::Changed)))
}
