//! The counter of an organization's invitation emails on one UTC day, raised with a `< max`
//! condition in the transaction that sends.

use crate::domain::Limits;
use crate::domain::{OrgId, Timestamp};

use crate::store::error::{LimitKind, Refusal, StoreResult};
use crate::store::item::{Item, ItemBuilder, Reader, n, s};
use crate::store::keys;
use crate::store::tx::{Condition, Expr, Tx};

pub(in crate::store) struct EmailCounter;

impl EmailCounter {
    /// The counter of the UTC day of `at`.
    pub(in crate::store) fn key(org: &OrgId, at: Timestamp) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::mail_counter_sk(at)).build()
    }

    /// Emails counted on the counter's day.
    pub(in crate::store) fn sent_from_item(item: &Item) -> StoreResult<i64> {
        Ok(Reader(item).opt_n("sent")?.unwrap_or(0))
    }

    /// Counts one invitation email against the organization's allowance for the UTC day of
    /// `at`.
    pub(in crate::store) fn count(
        tx: &mut Tx<'_>,
        org: &OrgId,
        limits: &Limits,
        at: Timestamp,
    ) -> StoreResult<()> {
        Self::count_many(tx, org, limits, at, 1)
    }

    /// Counts `emails` at once: all fit under the allowance, or the transaction is refused.
    pub(in crate::store) fn count_many(
        tx: &mut Tx<'_>,
        org: &OrgId,
        limits: &Limits,
        at: Timestamp,
        emails: i64,
    ) -> StoreResult<()> {
        let update = Expr::new("SET entity = :entity, expire_at = :expire ADD #sent :one")
            .name("#sent", "sent")
            .value(":entity", s("mail_counter"))
            .value(":expire", n(at.plus_seconds(2 * 86_400).unix_seconds()))
            .value(":one", n(emails));
        let under_limit = Condition::new(
            Expr::new("attribute_not_exists(#sent) OR #sent <= :max")
                .value(":max", n(limits.invitation_emails_per_org_per_day - emails)),
            Refusal::Limit(LimitKind::InvitationEmails),
        );
        tx.update(Self::key(org, at), update, Some(under_limit))
    }
}
