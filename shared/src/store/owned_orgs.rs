//! The count of organizations one person owns, in their own partition (`USER#{user}`), so that
//! only their own requests meet on it. It counts the organizations whose `counted_owner` they
//! are: those they created or had transferred to them, until deleted or transferred away.

use crate::domain::{LimitKind, Limits, UserId};

use super::error::{Refusal, StoreResult};
use super::item::{Item, ItemBuilder, n, s};
use super::keys;
use super::tx::{Condition, Expr, Tx};

pub(super) struct OwnedOrgs;

impl OwnedOrgs {
    pub(super) fn key(user: &UserId) -> Item {
        ItemBuilder::key(keys::user_pk(user), keys::OWNED_ORGS_COUNTER_SK).build()
    }

    fn add(delta: i64) -> Expr {
        Expr::new("SET entity = :entity ADD #owned :delta")
            .name("#owned", "owned")
            .value(":entity", s("owned_orgs"))
            .value(":delta", n(delta))
    }

    /// One more, for a new organization: only while under the limit (`Limits::admit_new_org`).
    pub(super) fn take(tx: &mut Tx<'_>, user: &UserId, limits: &Limits) -> StoreResult<()> {
        let under_limit = Condition::new(
            Expr::new("attribute_not_exists(#owned) OR #owned < :max")
                .value(":max", n(limits.orgs_per_owner)),
            Refusal::Limit(LimitKind::OwnedOrganizations),
        );
        tx.update(Self::key(user), Self::add(1), Some(under_limit))
    }

    /// One more, for an organization transferred to them: a transfer is not creating, so it
    /// is never refused for the limit.
    pub(super) fn receive(tx: &mut Tx<'_>, user: &UserId) -> StoreResult<()> {
        tx.update(Self::key(user), Self::add(1), None)
    }

    /// One fewer: an organization deleted or transferred away.
    pub(super) fn release(tx: &mut Tx<'_>, user: &UserId) -> StoreResult<()> {
        tx.update(Self::key(user), Self::add(-1), None)
    }
}
