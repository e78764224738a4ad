//! Expiring pending invitations whose deadline has passed.
//!
//! They are read through `gsi2`, which holds only pending invitations, ordered by deadline in
//! a few shards (`expiry_shards`): a read of the due range touches only what is due, never
//! the rest of the table. Each invitation is then ended in its own transaction, on the
//! condition that it is still the pending invitation that was read and that its deadline has
//! passed, so an accept, decline, revoke or resend that lands first always wins.

use crate::domain::Op;
use crate::domain::payloads::{InvitationExpired, InvitationFacts};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{ChangeKind, InvitationStatus, Timestamp};

use super::endings::change;
use crate::domain::Invitation;
use crate::store::Store;
use crate::store::error::{Refusal, StoreError, StoreResult};
use crate::store::history;
use crate::store::item::Item;
use crate::store::keys;
use crate::store::tallies::Tally;
use crate::store::tx::Tx;

/// The shards of the index of pending invitations by deadline: independent partitions, each
/// read on its own (`Store::due_invitations`).
pub fn expiry_shards() -> std::ops::Range<u32> {
    0..keys::EXPIRY_SHARDS
}

/// Where the next page of a shard's due range starts. Opaque to callers.
#[derive(Clone, Debug)]
pub struct DueCursor(Item);

/// One page of due invitations, oldest deadline first.
#[derive(Debug)]
pub struct DuePage {
    /// Each item as read; one that cannot be read does not hide the others.
    pub invitations: Vec<StoreResult<Invitation>>,
    pub next: Option<DueCursor>,
}

/// What became of one due invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// It is `expired` now, with its audit entry and event.
    Expired,
    /// Something else ended or renewed it first, or its organization is being deleted.
    Changed,
}

impl Store {
    /// Up to `limit` invitations of expiry shard `shard` whose deadline is at or before `now`,
    /// starting after `after`. GSIs are eventually consistent, so an item may be a moment out
    /// of date; `expire_invitation` checks the table itself.
    pub async fn due_invitations(
        &self,
        shard: u32,
        now: Timestamp,
        limit: i32,
        after: Option<DueCursor>,
    ) -> StoreResult<DuePage> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI2)
            .key_condition_expression("#pk = :shard AND #sk < :due")
            .expression_attribute_names("#pk", keys::GSI2PK)
            .expression_attribute_names("#sk", keys::GSI2SK)
            .expression_attribute_values(":shard", AttributeValue::S(keys::expiry_shard_pk(shard)))
            .expression_attribute_values(":due", AttributeValue::S(keys::gsi2_bound(now)))
            .limit(limit.max(1))
            .set_exclusive_start_key(after.map(|c| c.0))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("read due invitations", e))?;
        Ok(DuePage {
            invitations: page.items().iter().map(Invitation::from_item).collect(),
            next: page.last_evaluated_key().cloned().map(DueCursor),
        })
    }

    /// Ends one due invitation as `expired`, in one transaction: the invitation (only if it is
    /// still pending, past its deadline at `op.at`, with the token that was read), its pending
    /// marker (so the address can be invited again), its token's TTL, the organization's
    /// pending count (only while the organization is active), the audit entry and the event.
    /// A refused condition means someone else got there first: `Expiry::Changed`, not an error.
    pub async fn expire_invitation(&self, invitation: &Invitation, op: &Op) -> StoreResult<Expiry> {
        let mut tx = Tx::new(self);
        self.end_invitation(&mut tx, invitation, InvitationStatus::Expired, op)?;
        Tally::count(&mut tx, &invitation.org_id, 0, -1)?;
        let expired = change(
            ChangeKind::InvitationExpired,
            invitation,
            InvitationExpired {
                invitation: InvitationFacts::of(invitation),
                expires_at: invitation.expires_at,
            },
        );
        history::record(&mut tx, &expired, op, self.retention)?;
        match tx.commit("expire an invitation").await {
            Ok(()) => Ok(Expiry::Expired),
            Err(StoreError::Refused(Refusal::NotPending | Refusal::Gone)) => Ok(Expiry::Changed),
            Err(e) => Err(e),
        }
    }
}
