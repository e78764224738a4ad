//! The organization's member and pending-invitation counts, kept in a few shards beside the org
//! item so that the busiest writes of one organization do not take turns on a single item.
//!
//! DynamoDB cancels a transaction that touches an item another transaction is applying. If every
//! accepted, declined, revoked or expired invitation and every removal changed a count on the
//! org item, hundreds of people joining at once would queue on it. Those changes need no
//! condition of their own, so each goes to one of `SHARDS` tally items, picked at random, as
//! deltas (`member_delta`, `pending_delta`). A tally also carries the organization's liveness:
//! they are all created with the organization, all marked `deleting` in the first step of its
//! deletion, and every write to one requires that it exists and is not marked, exactly as a
//! write on the org item required `status = active`.
//!
//! What needs a condition stays on the org item: the owner count, and the pending count's
//! increments. An invitation holds a seat: members plus pending invitations stay within the
//! member limit, so accepting one can never overfill the organization and needs no limit check.
//! The limits are checked on the org item's own `pending_count` against a bound computed from
//! the tallies as read. Every tally change lowers `pending_delta + member_delta` or leaves it
//! (accepting moves one seat from pending to member), so tallies read a moment ago can only
//! overstate what is taken, and the bound errs on the safe side.

use crate::domain::Organization;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::OrgId;

use super::error::{Refusal, StoreResult};
use super::item::{Item, ItemBuilder, Reader, n, s};
use super::keys;
use super::tx::{Condition, Expr, Tx};

/// How many tallies an organization has. Fixed for good: reads sum every one of them.
pub(super) const SHARDS: u8 = 8;

const DELETING: &str = "deleting";

pub(super) struct Tally;

impl Tally {
    pub(super) fn key(org: &OrgId, shard: u8) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::tally_sk(shard)).build()
    }

    pub(super) fn keys(org: &OrgId) -> impl Iterator<Item = Item> + '_ {
        (0..SHARDS).map(move |shard| Self::key(org, shard))
    }

    /// The tallies of a new organization, all at zero.
    pub(super) fn new_items(org: &OrgId) -> impl Iterator<Item = Item> + '_ {
        (0..SHARDS).map(move |shard| {
            ItemBuilder::key(keys::org_pk(org), keys::tally_sk(shard))
                .s("entity", "tally")
                .n("member_delta", 0)
                .n("pending_delta", 0)
                .build()
        })
    }

    /// Whether `item` is one of `org`'s tallies.
    fn is_tally_of(item: &Item, org: &OrgId) -> bool {
        let text = |name| match item.get(name) {
            Some(AttributeValue::S(v)) => v.as_str(),
            _ => "",
        };
        text(keys::SK).starts_with("TALLY#") && text(keys::PK) == keys::org_pk(org)
    }

    /// Adds a count change to `tx`, on a tally picked at random, and on another one should a
    /// concurrent transaction hold that one (`Tx::update_any`); refused with `Gone` once the
    /// organization's deletion has begun.
    pub(super) fn count(
        tx: &mut Tx<'_>,
        org: &OrgId,
        members: i64,
        pending: i64,
    ) -> StoreResult<()> {
        Self::count_with_requests(tx, org, members, pending, 0)
    }

    /// `count`, also moving the count of pending join requests by `requests`.
    pub(super) fn count_with_requests(
        tx: &mut Tx<'_>,
        org: &OrgId,
        members: i64,
        pending: i64,
        requests: i64,
    ) -> StoreResult<()> {
        let first = fastrand::u8(0..SHARDS);
        let shards = (0..SHARDS).map(|k| Self::key(org, (first + k) % SHARDS));
        let mut update = Expr::new("ADD member_delta :members, pending_delta :pending")
            .value(":members", n(members))
            .value(":pending", n(pending));
        if requests != 0 {
            update = update
                .append(", join_request_delta :requests")
                .value(":requests", n(requests));
        }
        tx.update_any(shards.collect(), update, Some(Self::live()))
    }

    /// The tally exists and the organization is not being deleted.
    fn live() -> Condition {
        Condition::new(
            Expr::new("attribute_exists(pk) AND attribute_not_exists(#deleting)")
                .name("#deleting", DELETING),
            Refusal::Gone,
        )
    }

    /// Adds to `tx` the marks that stop every later count change: the first step of deleting.
    pub(super) fn mark_deleting(tx: &mut Tx<'_>, org: &OrgId) -> StoreResult<()> {
        for key in Self::keys(org) {
            let mark = Expr::new("SET #deleting = :yes")
                .name("#deleting", DELETING)
                .value(":yes", s("yes"));
            tx.update(key, mark, None)?;
        }
        Ok(())
    }

    /// Adds the deltas of `org`'s tallies among `items` to its counts.
    pub(super) fn fold<'a>(
        org: &mut Organization,
        items: impl IntoIterator<Item = &'a Item>,
    ) -> StoreResult<()> {
        let id = org.org_id.clone();
        for item in items.into_iter().filter(|i| Self::is_tally_of(i, &id)) {
            let r = Reader(item);
            org.member_count += r.opt_n("member_delta")?.unwrap_or(0);
            org.pending_invitations += r.opt_n("pending_delta")?.unwrap_or(0);
            org.join_requests += r.opt_n("join_request_delta")?.unwrap_or(0);
        }
        Ok(())
    }
}
