//! Deleting an organization, in steps that a retry can always finish.
//!
//! 1. One transaction marks the organization `deleting`, frees its handle and records the
//!    audit entry and event. From then on it is hidden from everyone and every write into it
//!    fails its `status = active` condition, so nothing new can appear in it.
//! 2. Every item of the organization's partition (and each invitation's token item) is deleted
//!    in batches, however many there are, except the org item and the caller's membership.
//!    Per page, the token items go before the rest: they are found only through their
//!    invitation, so no stop may leave one whose invitation is gone.
//! 3. One last transaction deletes those two, so until the very end the owner who asked can
//!    repeat the request and finish the work.
//!
//! A deletion nobody finished stays findable in `gsi2`; the scheduled expiry finishes those
//! (steps 2 and 3, keeping no member) once they have been abandoned for a while.

use crate::domain::payloads::OrganizationDeleted;
use crate::domain::{JoinRequest, Membership, Op, Organization};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};

use crate::domain::{
    Change, ChangeKind, Handle, OrgId, OrgStatus, Subject, Timestamp, TokenHash, UserId,
};

use super::Store;
use super::backoff::Backoff;
use super::error::{Refusal, StoreError, StoreResult};
use super::handles::{HandleMarker, HandleOwner};
use super::history;
use super::invitations::TokenRecord;
use super::item::{Item, ItemBuilder, Reader, s};
use super::keys;
use super::owned_orgs::OwnedOrgs;
use super::tallies::Tally;
use super::tx::{Condition, Expr, Tx};
use crate::domain::Domain;

/// DynamoDB's limit on the requests of one BatchWriteItem.
const BATCH_WRITE_MAX: usize = 25;

impl Store {
    /// Step 1. Refused with `Changed` if the handle no longer matches the confirmation.
    pub async fn begin_org_deletion(&self, org: &Organization, op: &Op) -> StoreResult<()> {
        let handle = Handle::parse(&org.handle)
            .map_err(|_| StoreError::Corrupt(format!("stored handle {:?}", org.handle)))?;
        let (gsi2pk, gsi2sk) = keys::deleting_gsi2(&org.org_id, op.at);
        let mut tx = Tx::new(self);
        let update = Expr::new(
            "SET #status = :deleting, gsi2pk = :gsi2pk, gsi2sk = :gsi2sk, updated_at = :at",
        )
        .name("#status", "status")
        .value(":deleting", s(OrgStatus::Deleting.as_str()))
        .value(":gsi2pk", s(gsi2pk))
        .value(":gsi2sk", s(gsi2sk))
        .value(":at", s(op.at.to_rfc3339()));
        let live_with_handle = Condition::new(
            Expr::new("#status = :active AND handle = :handle")
                .value(":active", s(OrgStatus::Active.as_str()))
                .value(":handle", s(handle.as_str())),
            Refusal::Changed,
        );
        tx.update(
            Organization::key(&org.org_id),
            update,
            Some(live_with_handle),
        )?;
        tx.delete(
            HandleMarker::key(&handle),
            Some(HandleMarker::owned_by(HandleOwner::Org(&org.org_id))),
        )?;
        // The tallies carry the organization's liveness for the writes that skip its item.
        Tally::mark_deleting(&mut tx, &org.org_id)?;
        if let Some(owner) = &org.counted_owner {
            OwnedOrgs::release(&mut tx, owner)?;
        }
        let change = Change {
            kind: ChangeKind::OrganizationDeleted,
            subject: Subject::Org(org.org_id.clone()),
            target_type: "organization",
            target_id: org.org_id.to_string(),
            data: OrganizationDeleted {
                org_id: org.org_id.clone(),
                handle,
            }
            .into(),
        };
        history::record(&mut tx, &change, op, self.retention)?;
        tx.commit("begin deleting an organization").await
    }

    /// Steps 2 and 3. Returns how many items were deleted. Safe to run again after a failure.
    /// `keep_member` (the owner who asked) keeps their membership until the last step, so they
    /// can repeat the request; finishing an abandoned deletion keeps no one.
    pub async fn purge_org(
        &self,
        org_id: &OrgId,
        keep_member: Option<&UserId>,
    ) -> StoreResult<usize> {
        let pk = keys::org_pk(org_id);
        let keep_sk = keep_member.map(keys::member_sk);
        let mut deleted = 0;
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(&pk))
                .projection_expression(
                    "pk, sk, entity, token_hash, #domain_status, #domain, user_id",
                )
                .expression_attribute_names("#domain_status", "status")
                .expression_attribute_names("#domain", "domain")
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("list an organization's items", e))?;
            let mut tokens = Vec::new();
            let mut doomed = Vec::new();
            let mut requesters = Vec::new();
            for item in page.items() {
                let r = Reader(item);
                let sk = r.s(keys::SK)?;
                if sk == keys::ORG_SK || keep_sk.as_ref() == Some(&sk) {
                    continue;
                }
                if r.opt_s("entity")?.as_deref() == Some("invitation")
                    && let Some(hash) = r.opt_s("token_hash")?
                {
                    tokens.push(TokenRecord::key(&TokenHash::from_stored(hash)));
                }
                // A verified domain's claim lives outside the partition too: no other
                // organization can hold it meanwhile (the claim is ours until deleted).
                if let Some(claim) = Domain::claim_to_free(item)? {
                    tokens.push(claim);
                }
                // A pending request counts against its requester's own limit, outside too.
                if let Some(user) = JoinRequest::pending_requester(item)? {
                    requesters.push(user);
                }
                doomed.push(ItemBuilder::key(pk.clone(), sk).build());
            }
            deleted += tokens.len() + doomed.len();
            // The token items (and domain claims) live outside the partition, found only
            // through their invitation (or domain): they go first, all of them, so that a stop anywhere (DynamoDB may do any part of
            // a batch) never leaves a token whose invitation is gone.
            self.batch_delete(tokens, "delete an organization's invitation tokens")
                .await?;
            self.release_requesters(org_id, &requesters).await?;
            self.batch_delete(doomed, "delete an organization's items")
                .await?;
            match page.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => break,
            }
        }

        let mut tx = Tx::new(self);
        if let Some(member) = keep_member {
            tx.delete(Membership::key(org_id, member), None)?;
        }
        let still_deleting = Condition::new(
            Expr::new("#status = :deleting")
                .name("#status", "status")
                .value(":deleting", s(OrgStatus::Deleting.as_str())),
            Refusal::Gone,
        );
        tx.delete(Organization::key(org_id), Some(still_deleting))?;
        match tx.commit("finish deleting an organization").await {
            Ok(()) => Ok(deleted + 1 + usize::from(keep_member.is_some())),
            // A concurrent retry finished first: the work is done either way.
            Err(StoreError::Refused(Refusal::Gone)) => Ok(deleted),
            Err(e) => Err(e),
        }
    }

    /// Organizations whose deletion began at or before `before` and is not finished (index
    /// `gsi2`), oldest first, at most `limit`.
    pub async fn unfinished_deletions(
        &self,
        before: Timestamp,
        limit: i32,
    ) -> StoreResult<Vec<OrgId>> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI2)
            .key_condition_expression("#pk = :deleting AND #sk < :before")
            .expression_attribute_names("#pk", keys::GSI2PK)
            .expression_attribute_names("#sk", keys::GSI2SK)
            .expression_attribute_values(":deleting", s(keys::DELETING_GSI2PK))
            .expression_attribute_values(":before", s(keys::gsi2_bound(before)))
            .projection_expression("org_id")
            .limit(limit.max(1))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("read unfinished deletions", e))?;
        page.items()
            .iter()
            .map(|item| Reader(item).parsed("org_id", OrgId::parse))
            .collect()
    }

    /// Deletes keys in batches of 25, retrying what DynamoDB leaves unprocessed.
    pub(crate) async fn batch_delete(
        &self,
        keys: Vec<Item>,
        context: &'static str,
    ) -> StoreResult<()> {
        let requests = keys
            .into_iter()
            .map(|key| {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .map_err(|e| StoreError::Dynamo {
                        context,
                        source: Box::new(e),
                    })?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<StoreResult<_>>()?;
        self.batch_write(requests, context).await
    }

    /// Writes in batches of 25, retrying what DynamoDB leaves unprocessed.
    pub(crate) async fn batch_write(
        &self,
        requests: Vec<WriteRequest>,
        context: &'static str,
    ) -> StoreResult<()> {
        for chunk in requests.chunks(BATCH_WRITE_MAX) {
            let mut requests = chunk.to_vec();
            // A write to an item that a transaction is applying meanwhile (a member leaving
            // while the organization is emptied) is refused whole: wait and send it again.
            let mut conflicts = Backoff::for_request();
            for attempt in 0u32.. {
                let sent = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests.clone())
                    .send()
                    .await;
                let out = match sent {
                    Ok(out) => out,
                    Err(err)
                        if err.code() == Some("TransactionConflictException")
                            && conflicts.wait().await =>
                    {
                        continue;
                    }
                    Err(err) => return Err(StoreError::from_sdk(context, err)),
                };
                requests = out
                    .unprocessed_items()
                    .and_then(|m| m.get(&self.table))
                    .cloned()
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                if attempt >= 8 {
                    return Err(StoreError::Incomplete {
                        context,
                        unprocessed: requests.len(),
                    });
                }
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
        }
        Ok(())
    }
}
