//! Checking verified domains again (`domain::domain_check`): the claim markers due, read
//! through `gsi2` (`DOMAINCHECK`, by when each was last checked) without a Scan; what a check
//! found, written on the marker; and unverifying a domain whose record stayed missing.
//!
//! Every write is conditional on the marker still holding the `seen_at` that was read, so a
//! verification, a removal or another run that lands first always wins: the check is then
//! refused with `Refusal::Changed` and changes nothing.

use crate::domain::{Op, Organization};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{ChangeKind, EmailDomain, OrgId, Timestamp};

use super::domains::{DomainClaim, domain_change};
use super::error::{Refusal, StoreError, StoreResult};
use super::history;
use super::item::{Item, Reader, s};
use super::keys;
use super::tx::{Condition, Expr, Tx};
use super::{Domain, DomainStatus, Read, Store};

/// A verified domain's claim marker as the index shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainCheck {
    pub org_id: OrgId,
    pub domain: EmailDomain,
    /// When the record was last found.
    pub seen_at: Timestamp,
    /// When it was last looked up with an answer (`seen_at` or later).
    pub checked_at: Timestamp,
}

impl DomainCheck {
    fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        let seen_at = r.time("seen_at")?;
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            domain: r.parsed("domain", |d| EmailDomain::parse("domain", d).ok())?,
            seen_at,
            checked_at: r
                .opt_s("checked_at")?
                .and_then(|t| Timestamp::parse(&t))
                .unwrap_or(seen_at),
        })
    }

    /// The marker is still this organization's, with the record last seen as read.
    fn unchanged(&self) -> Condition {
        Condition::new(
            Expr::new("org_id = :org AND seen_at = :seen")
                .value(":org", s(self.org_id.as_str()))
                .value(":seen", s(self.seen_at.to_rfc3339())),
            Refusal::Changed,
        )
    }
}

/// Where the next page of due checks starts. Opaque to callers.
#[derive(Clone, Debug)]
pub struct CheckCursor(Item);

/// One page of due checks, the longest unchecked first.
#[derive(Debug)]
pub struct DueChecks {
    /// Each marker as read; one that cannot be read does not hide the others.
    pub checks: Vec<StoreResult<DomainCheck>>,
    pub next: Option<CheckCursor>,
}

impl Store {
    /// Up to `limit` verified domains last checked before `before`, starting after `after`.
    /// The index may be a moment behind the table: every write below checks the table.
    pub async fn due_domain_checks(
        &self,
        before: Timestamp,
        limit: i32,
        after: Option<CheckCursor>,
    ) -> StoreResult<DueChecks> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI2)
            .key_condition_expression("#pk = :check AND #sk < :due")
            .expression_attribute_names("#pk", keys::GSI2PK)
            .expression_attribute_names("#sk", keys::GSI2SK)
            .expression_attribute_values(":check", s(keys::DOMAIN_CHECK_GSI2PK))
            .expression_attribute_values(":due", AttributeValue::S(keys::gsi2_bound(before)))
            .limit(limit.max(1))
            .set_exclusive_start_key(after.map(|c| c.0))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("read due domain checks", e))?;
        Ok(DueChecks {
            checks: page.items().iter().map(DomainCheck::from_item).collect(),
            next: page.last_evaluated_key().cloned().map(CheckCursor),
        })
    }

    /// The domain items of `checks`, read consistently in one request (per 100): each one's
    /// challenge is what its record must carry. One removed meanwhile is left out.
    pub async fn checked_domains(&self, checks: &[DomainCheck]) -> StoreResult<Vec<Domain>> {
        let keys = checks
            .iter()
            .map(|c| Domain::key(&c.org_id, &c.domain))
            .collect();
        let items = self
            .batch_get(keys, Read::Consistent, "read the domains to check")
            .await?;
        items.iter().map(Domain::from_item).collect()
    }

    /// Records a lookup at `at` that answered: the record was `found` (seen now), or missing
    /// within the grace period (only checked now). Either way the domain is next due an
    /// interval after `at`.
    pub async fn record_domain_check(
        &self,
        check: &DomainCheck,
        found: bool,
        at: Timestamp,
    ) -> StoreResult<()> {
        let (_, gsi2sk) = keys::domain_check_gsi2(&check.domain, at);
        let set = if found {
            "SET checked_at = :at, #gsi2sk = :sk, seen_at = :at"
        } else {
            "SET checked_at = :at, #gsi2sk = :sk"
        };
        let mut tx = Tx::new(self);
        tx.update(
            DomainClaim::key(&check.domain),
            Expr::new(set)
                .name("#gsi2sk", keys::GSI2SK)
                .value(":at", s(at.to_rfc3339()))
                .value(":sk", s(gsi2sk)),
            Some(check.unchanged()),
        )?;
        tx.commit("record a domain check").await
    }

    /// Unverifies `domain` (as read, verified) whose record stayed missing: it is pending
    /// again, keeping its challenge and enrollment policy (which act only while it is
    /// verified), and its claim marker is deleted, so that any organization may verify it.
    /// With its audit entry and `DomainUnverified` event, in one transaction; refused with
    /// `Changed` (or `Gone`, the organization being deleted) if anything moved since the read.
    pub async fn unverify_domain(
        &self,
        check: &DomainCheck,
        domain: &Domain,
        op: &Op,
    ) -> StoreResult<Domain> {
        let unverified = Domain {
            status: DomainStatus::Pending,
            verified_at: None,
            ..domain.clone()
        };
        let mut tx = Tx::new(self);
        tx.delete(DomainClaim::key(&check.domain), Some(check.unchanged()))?;
        tx.update(
            Domain::key(&domain.org_id, &domain.domain),
            Expr::new("SET #status = :pending REMOVE verified_at")
                .name("#status", "status")
                .value(":pending", s(DomainStatus::Pending.as_str())),
            Some(Condition::new(
                Expr::new("#status = :verified")
                    .name("#status", "status")
                    .value(":verified", s(DomainStatus::Verified.as_str())),
                Refusal::Changed,
            )),
        )?;
        // No longer among the domains single sign-on covers.
        let uncovered = Expr::new("DELETE sso_domains :domain").value(
            ":domain",
            AttributeValue::Ss(vec![domain.domain.to_string()]),
        );
        tx.update(
            Organization::key(&domain.org_id),
            uncovered,
            Some(Organization::is_active()),
        )?;
        history::record(
            &mut tx,
            &domain_change(ChangeKind::DomainUnverified, &unverified),
            op,
            self.retention,
        )?;
        tx.commit("unverify a domain").await?;
        Ok(unverified)
    }
}
