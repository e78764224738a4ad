//! Audit entries and event records, written inside the transaction of the change they describe,
//! so that no change can exist without them. The event record is written and read back here
//! (the publisher reads it off the table's stream); the audit entry's item is `audit.rs`'s.

use serde_json::json;

use crate::domain::{Change, EventId, MemberStatus, Op, RoleKey, Subject, Timestamp};
use crate::events::{Outgoing, SOURCE};

use super::error::Refusal;
use super::error::StoreResult;
use super::item::{Item, ItemBuilder, s};
use super::keys::{self, EXPIRE_AT};
use super::tx::{Condition, Expr, Tx};
use crate::domain::AuditEntry;

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

/// `expr`, and the membership holds `role` (`None`: no custom role), with `placeholder` for its
/// value: a write authorized by a role holds only while the member still holds it.
pub(super) fn holds_custom_role(expr: Expr, role: Option<&RoleKey>, placeholder: &str) -> Expr {
    match role {
        None => expr.append(" AND attribute_not_exists(custom_role)"),
        Some(key) => expr
            .append(&format!(" AND custom_role = {placeholder}"))
            .value(placeholder, s(key.as_str())),
    }
}

/// Adds the audit entry and the event record of `change` to `tx`.
pub fn record(tx: &mut Tx<'_>, change: &Change, op: &Op, retention: Retention) -> StoreResult<()> {
    if let Some(acting) = &op.acting_as {
        let expr = Expr::new("#role = :acting_role AND #status = :acting_status")
            .name("#role", "role")
            .name("#status", "status")
            .value(":acting_role", s(acting.role.as_str()))
            .value(":acting_status", s(MemberStatus::Active.as_str()));
        let expr = holds_custom_role(expr, acting.custom_role.as_ref(), ":acting_custom");
        let still = Condition::new(expr, Refusal::RoleChanged);
        let membership = ItemBuilder::key(keys::org_pk(&acting.org_id), keys::member_sk(&op.actor));
        tx.hold_actor(membership.build(), still);
        if let Some((team, role)) = &acting.team_role {
            let row = ItemBuilder::key(
                keys::org_pk(&acting.org_id),
                keys::team_member_sk(team, &op.actor),
            );
            let still = Condition::new(
                Expr::new("team_role = :acting_team_role")
                    .value(":acting_team_role", s(role.as_str())),
                Refusal::RoleChanged,
            );
            tx.hold_actor(row.build(), still);
        }
    }
    let audit = AuditEntry::of(change, op).to_item(
        &change.subject,
        op.at.plus_seconds(retention.audit_seconds).unix_seconds(),
    );
    tx.put(audit, Some(Condition::absent(Refusal::Changed)))?;
    tx.put(
        event_item(change, op, retention),
        Some(Condition::absent(Refusal::Changed)),
    )
}

/// The event record of `change`: its detail is the event as consumers receive it.
fn event_item(change: &Change, op: &Op, retention: Retention) -> Item {
    let event_id = EventId::generate();
    let detail = json!({
        "event_id": event_id.as_str(),
        "occurred_at": op.at.to_rfc3339(),
        "subject": subject_json(&change.subject),
        "actor_user_id": op.actor.as_str(),
        "request_id": op.request_id,
        "target": { "type": change.target_type, "id": change.target_id },
        "data": change.data_json(),
    });
    ItemBuilder::key(
        keys::event_pk(&change.subject),
        keys::timeline_sk(op.at, event_id.as_str()),
    )
    .s("entity", "event")
    .s("event_id", event_id.as_str())
    .s("source", SOURCE)
    .s("detail_type", change.kind.detail_type())
    .s("detail", detail.to_string())
    .s("at", op.at.to_rfc3339())
    .n(
        EXPIRE_AT,
        op.at.plus_seconds(retention.event_seconds).unix_seconds(),
    )
    .build()
}

/// Reads an item back as an event record, from its string attributes: `text` gives one by
/// name (the table's stream delivers items in an attribute type of its own). `None` for any
/// item that is not an event record; else the event, ready to publish, or the name of the
/// attribute that is missing or malformed.
pub fn event_from_item<'a>(
    text: impl Fn(&str) -> Option<&'a str>,
) -> Option<Result<Outgoing, &'static str>> {
    if text("entity") != Some("event") {
        return None;
    }
    let field = |name: &'static str| text(name).ok_or(name);
    let outgoing = || -> Result<Outgoing, &'static str> {
        let detail = field("detail")?;
        // EventBridge wants a JSON object; a record that is not one would be refused forever.
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(detail)
            .map_err(|_| "detail")?;
        Ok(Outgoing {
            // The record's partition: one organization's or user's events, kept in order.
            stream: field(keys::PK)?.to_owned(),
            event_id: field("event_id")?.to_owned(),
            detail_type: field("detail_type")?.to_owned(),
            detail: detail.to_owned(),
            occurred_at: Timestamp::parse(field("at")?).ok_or("at")?,
        })
    };
    Some(outgoing())
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;
    use serde_json::Value;

    use super::*;
    use crate::domain::payloads::OrganizationUpdated;
    use crate::domain::{ChangeKind, OrgId, UserId};

    fn written() -> Item {
        let org = OrgId::generate();
        let change = Change {
            kind: ChangeKind::OrganizationUpdated,
            subject: Subject::Org(org.clone()),
            target_type: "organization",
            target_id: org.to_string(),
            data: OrganizationUpdated {
                org_id: org.clone(),
                fields: vec!["display_name"],
                metadata_keys: None,
            }
            .into(),
        };
        let op = Op {
            actor: UserId::parse("alice").unwrap(),
            request_id: "req-1".into(),
            at: Timestamp::parse("2026-11-22T14:27:00.000Z").unwrap(),
            acting_as: None,
        };
        event_item(&change, &op, Retention::default())
    }

    fn text<'a>(item: &'a Item) -> impl Fn(&str) -> Option<&'a str> {
        |name| match item.get(name) {
            Some(AttributeValue::S(value)) => Some(value.as_str()),
            _ => None,
        }
    }

    #[test]
    fn an_event_record_reads_back_as_written() {
        let item = written();
        let event = event_from_item(text(&item)).unwrap().unwrap();
        assert_eq!(event.stream, item[keys::PK].as_s().unwrap().as_str());
        assert_eq!(event.detail_type, "OrganizationUpdated");
        assert_eq!(event.occurred_at.to_rfc3339(), "2026-11-22T14:27:00.000Z");
        let detail: Value = serde_json::from_str(&event.detail).unwrap();
        assert_eq!(detail["event_id"], event.event_id.as_str());
        assert_eq!(detail["actor_user_id"], "alice");
    }

    #[test]
    fn other_items_are_not_event_records() {
        let mut item = written();
        item.insert("entity".into(), AttributeValue::S("audit".into()));
        assert!(event_from_item(text(&item)).is_none());
    }

    #[test]
    fn a_malformed_record_names_its_attribute() {
        for broken in ["detail", "detail_type", "at", "event_id", keys::PK] {
            let mut item = written();
            item.remove(broken);
            assert_eq!(event_from_item(text(&item)), Some(Err(broken)), "{broken}");
        }
        let mut item = written();
        item.insert("detail".into(), AttributeValue::S("[1]".into()));
        assert_eq!(event_from_item(text(&item)), Some(Err("detail")));
    }
}
