//! Audit entries, and reading an organization's audit log: newest first, a page at a time,
//! optionally one action or one actor only. `history.rs` puts each entry into its change's own
//! transaction.

use crate::domain::{AuditEntry, Op};
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{AuditId, Change, ChangeKind, OrgId, Subject, Timestamp, UserId};

use super::Store;
use super::error::{StoreError, StoreResult};
use super::item::{Item, ItemBuilder, Reader, s};
use super::keys::{self, EXPIRE_AT};
use super::query::Page;

/// Where a page ends: an entry's place in the log (its sort key), and nothing else. The store
/// puts it back into the organization's own partition, so a forged one stays in that log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditPosition {
    at: Timestamp,
    audit_id: AuditId,
}

impl AuditPosition {
    pub fn parse(raw: &str) -> Option<Self> {
        let (at, audit_id) = raw.split_once('#')?;
        let at = Timestamp::parse(at).filter(|t| t.to_rfc3339() == at)?;
        Some(Self {
            at,
            audit_id: AuditId::parse(audit_id)?,
        })
    }

    pub fn to_sort_key(&self) -> String {
        keys::timeline_sk(self.at, self.audit_id.as_str())
    }
}

/// Only entries with this action, or by this actor, or both.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub action: Option<ChangeKind>,
    pub actor: Option<UserId>,
}

impl AuditFilter {
    fn expression(&self) -> Option<(String, HashMap<String, AttributeValue>)> {
        let mut parts = Vec::new();
        let mut values = HashMap::new();
        if let Some(kind) = self.action {
            parts.push("#action = :action");
            values.insert(":action".to_owned(), s(kind.action()));
        }
        if let Some(actor) = &self.actor {
            parts.push("actor_user_id = :actor");
            values.insert(":actor".to_owned(), s(actor.as_str()));
        }
        (!parts.is_empty()).then(|| (parts.join(" AND "), values))
    }
}

/// With a filter, one Query reads this many entries, and a request makes at most
/// `MAX_QUERIES`: a filter that matches little costs a bounded amount, and the page it returns
/// may be short, with a cursor to go on from.
const FILTERED_READ: usize = 100;
const MAX_QUERIES: usize = 10;

impl AuditEntry {
    /// The entry of `change`, made as `op`.
    pub(super) fn of(change: &Change, op: &Op) -> Self {
        Self {
            audit_id: AuditId::generate(),
            action: change.kind.action().to_owned(),
            actor_user_id: op.actor.as_str().to_owned(),
            target_type: change.target_type.to_owned(),
            target_id: change.target_id.clone(),
            request_id: op.request_id.clone(),
            at: op.at,
            data: change.data_json(),
        }
    }

    /// The entry in the log of `subject`, kept until `expire_at` (epoch seconds).
    pub(super) fn to_item(&self, subject: &Subject, expire_at: i64) -> Item {
        ItemBuilder::key(
            keys::audit_pk(subject),
            keys::timeline_sk(self.at, self.audit_id.as_str()),
        )
        .s("entity", "audit")
        .s("audit_id", self.audit_id.as_str())
        .s("action", &self.action)
        .s("actor_user_id", &self.actor_user_id)
        .s("target_type", &self.target_type)
        .s("target_id", &self.target_id)
        .s("request_id", &self.request_id)
        .s("at", self.at.to_rfc3339())
        .s("data", self.data.to_string())
        .n(EXPIRE_AT, expire_at)
        .build()
    }

    fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        let raw_data = r.s("data")?;
        Ok(Self {
            audit_id: r.parsed("audit_id", AuditId::parse)?,
            action: r.s("action")?,
            actor_user_id: r.s("actor_user_id")?,
            target_type: r.s("target_type")?,
            target_id: r.s("target_id")?,
            request_id: r.s("request_id")?,
            at: r.parsed("at", Timestamp::parse)?,
            data: serde_json::from_str(&raw_data)
                .map_err(|_| StoreError::Corrupt("audit entry data is not JSON".into()))?,
        })
    }

    pub fn position(&self) -> AuditPosition {
        AuditPosition {
            at: self.at,
            audit_id: self.audit_id.clone(),
        }
    }
}

fn position_of(key: &Item) -> StoreResult<AuditPosition> {
    Reader(key)
        .parsed(keys::SK, AuditPosition::parse)
        .map_err(|_| StoreError::Corrupt("an audit entry's sort key".into()))
}

impl Store {
    /// A page of the organization's audit log, newest first, after `after` if given.
    pub async fn list_org_audit(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        limit: usize,
        after: Option<&AuditPosition>,
    ) -> StoreResult<Page<AuditEntry, AuditPosition>> {
        let pk = keys::audit_pk(&Subject::Org(org.clone()));
        let mut start =
            after.map(|position| ItemBuilder::key(pk.clone(), position.to_sort_key()).build());
        let condition = filter.expression();
        let mut entries: Vec<AuditEntry> = Vec::new();
        for _ in 0..MAX_QUERIES {
            let remaining = limit.saturating_sub(entries.len()).max(1);
            let read = match condition {
                Some(_) => remaining.max(FILTERED_READ),
                None => remaining,
            };
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk.clone()))
                .scan_index_forward(false)
                .limit(read as i32)
                .set_exclusive_start_key(start.take());
            if let Some((text, values)) = &condition {
                query = query.filter_expression(text);
                if filter.action.is_some() {
                    query = query.expression_attribute_names("#action", "action");
                }
                for (name, value) in values {
                    query = query.expression_attribute_values(name, value.clone());
                }
            }
            let out = query
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("read an audit log", e))?;
            for item in out.items() {
                entries.push(AuditEntry::from_item(item)?);
            }
            let more = out.last_evaluated_key().is_some();
            if entries.len() >= limit {
                // A filtered read can find more than the page holds: the page then ends at its
                // last entry, and the next one starts right after it.
                let cut = entries.len() > limit;
                entries.truncate(limit);
                let next = (cut || more)
                    .then(|| entries.last().map(AuditEntry::position))
                    .flatten();
                return Ok(Page {
                    items: entries,
                    next,
                });
            }
            match out.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => {
                    return Ok(Page {
                        items: entries,
                        next: None,
                    });
                }
            }
        }
        // Read as much as one request may: what was found, and where to go on from.
        let next = start.as_ref().map(position_of).transpose()?;
        Ok(Page {
            items: entries,
            next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_sort_keys_and_nothing_else() {
        let raw = format!("2026-11-22T14:27:00.000Z#{}", AuditId::generate());
        let position = AuditPosition::parse(&raw).unwrap();
        assert_eq!(position.to_sort_key(), raw);
        for forged in [
            "2026-11-22T14:27:00.000Z",
            "2026-11-22T14:27:00Z#aud_00000000000000000000000000000000",
            "2026-11-22T14:27:00.000Z#ORG#x",
            "ORG#org_1#2026-11-22T14:27:00.000Z",
        ] {
            assert_eq!(AuditPosition::parse(forged), None, "{forged}");
        }
    }

    #[test]
    fn filters_become_one_expression() {
        assert!(AuditFilter::default().expression().is_none());
        let both = AuditFilter {
            action: Some(ChangeKind::HandleChanged),
            actor: UserId::parse("alice"),
        };
        let (text, values) = both.expression().unwrap();
        assert_eq!(text, "#action = :action AND actor_user_id = :actor");
        assert_eq!(values[":action"], s("handle.changed"));
        assert_eq!(values[":actor"], s("alice"));
    }
}
