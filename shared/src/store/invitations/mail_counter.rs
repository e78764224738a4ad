//! The counters of invitation emails, each raised with a `<= max - n` condition in the
//! transaction that sends: an organization's on one UTC day, a new organization's in its first
//! 24 hours, and one person's on one UTC day across all their organizations (in their own
//! partition, so only their own requests meet on it).

use crate::domain::{FirstDay, Limits, UserId};
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

    /// Counts `emails` at once: all fit under the allowance, or the transaction is refused.
    pub(in crate::store) fn count_many(
        tx: &mut Tx<'_>,
        org: &OrgId,
        limits: &Limits,
        at: Timestamp,
        emails: i64,
    ) -> StoreResult<()> {
        count_under(
            tx,
            Self::key(org, at),
            at.plus_seconds(2 * 86_400),
            emails,
            limits.invitation_emails_per_org_per_day,
            LimitKind::InvitationEmails,
        )
    }
}

/// The emails one person caused on a UTC day.
pub(in crate::store) struct PersonEmailCounter;

impl PersonEmailCounter {
    pub(in crate::store) fn key(user: &UserId, at: Timestamp) -> Item {
        ItemBuilder::key(keys::user_pk(user), keys::person_mail_counter_sk(at)).build()
    }

    /// Counts `emails` caused by `user`: all fit under their daily allowance, or none.
    pub(in crate::store) fn count(
        tx: &mut Tx<'_>,
        user: &UserId,
        limits: &Limits,
        at: Timestamp,
        emails: i64,
    ) -> StoreResult<()> {
        count_under(
            tx,
            Self::key(user, at),
            at.plus_seconds(2 * 86_400),
            emails,
            limits.invitation_emails_per_person_per_day,
            LimitKind::PersonInvitationEmails,
        )
    }
}

/// The emails of an organization in its first 24 hours.
pub(in crate::store) struct FirstDayEmailCounter;

impl FirstDayEmailCounter {
    pub(in crate::store) fn key(org: &OrgId) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::FIRST_DAY_MAIL_COUNTER_SK).build()
    }

    /// Counts `emails` of an organization created at `created_at`, if `at` is in its first day;
    /// after it, nothing (the daily counter alone holds).
    pub(in crate::store) fn count(
        tx: &mut Tx<'_>,
        org: &OrgId,
        created_at: Timestamp,
        limits: &Limits,
        at: Timestamp,
        emails: i64,
    ) -> StoreResult<()> {
        let Some(ends_at) = Limits::first_day_ends(created_at, at) else {
            return Ok(());
        };
        count_under(
            tx,
            Self::key(org),
            ends_at.plus_seconds(86_400),
            emails,
            limits.invitation_emails_per_new_org,
            LimitKind::NewOrgInvitationEmails { ends_at },
        )
    }

    /// The first day's emails as read, if `at` is in the first day.
    pub(in crate::store) fn first_day(
        item: Option<&Item>,
        created_at: Timestamp,
        at: Timestamp,
    ) -> StoreResult<Option<FirstDay>> {
        let Some(ends_at) = Limits::first_day_ends(created_at, at) else {
            return Ok(None);
        };
        let sent = item.map(EmailCounter::sent_from_item).transpose()?;
        Ok(Some(FirstDay {
            sent: sent.unwrap_or(0),
            ends_at,
        }))
    }
}

/// Adds `emails` to the counter at `key` on the condition that it stays within `max`.
fn count_under(
    tx: &mut Tx<'_>,
    key: Item,
    expire: Timestamp,
    emails: i64,
    max: i64,
    limit: LimitKind,
) -> StoreResult<()> {
    let update = Expr::new("SET entity = :entity, expire_at = :expire ADD #sent :n")
        .name("#sent", "sent")
        .value(":entity", s("mail_counter"))
        .value(":expire", n(expire.unix_seconds()))
        .value(":n", n(emails));
    let under_limit = Condition::new(
        Expr::new("attribute_not_exists(#sent) OR #sent <= :max").value(":max", n(max - emails)),
        Refusal::Limit(limit),
    );
    tx.update(key, update, Some(under_limit))
}
