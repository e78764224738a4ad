//! The email domains of an organization (`ORG#{org}` / `DOMAIN#{domain}`): each with the
//! challenge its TXT record must carry. The organization item counts them (`domain_count`),
//! under the domain limit's condition, in the transaction that adds or removes one.

use crate::domain::payloads::{DomainFacts, DomainPolicy};
use crate::domain::{Domain, DomainStatus, Op, Organization, Payload};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{
    Challenge, Change, ChangeKind, EmailDomain, Enrollment, LimitKind, OrgId, Role, Subject,
    Timestamp, UserId,
};

use super::Store;
use super::error::{Refusal, StoreError, StoreResult};
use super::history;
use super::item::{Item, ItemBuilder, Reader, n, s};
use super::keys;
use super::query::{Decode, Page, PartitionQuery, sk_after};
use super::tx::{Condition, Expr, Tx};

impl Domain {
    pub(super) fn key(org: &OrgId, domain: &EmailDomain) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::domain_sk(domain)).build()
    }

    fn to_item(&self) -> Item {
        ItemBuilder::key(keys::org_pk(&self.org_id), keys::domain_sk(&self.domain))
            .s("entity", "domain")
            .s("org_id", self.org_id.as_str())
            .s("domain", self.domain.as_str())
            .s("challenge", self.challenge.as_str())
            .s("status", self.status.as_str())
            .s("enrollment", self.enrollment.as_str())
            .opt_s("join_role", self.enrollment.role().map(Role::as_str))
            .s("added_at", self.added_at.to_rfc3339())
            .s("added_by", self.added_by.as_str())
            .opt_s("verified_at", self.verified_at.map(|t| t.to_rfc3339()))
            .build()
    }

    pub(super) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            domain: r.parsed("domain", |d| EmailDomain::parse("domain", d).ok())?,
            challenge: Challenge::from_stored(r.s("challenge")?),
            status: r.parsed("status", DomainStatus::parse)?,
            enrollment: match r.opt_s("enrollment")? {
                None => Enrollment::None,
                Some(policy) => {
                    let role = r.opt_s("join_role")?;
                    Enrollment::from_stored(&policy, role.as_deref())
                        .ok_or_else(|| StoreError::Corrupt(format!("enrollment {policy:?}")))?
                }
            },
            added_at: r.time("added_at")?,
            added_by: r.parsed("added_by", UserId::parse)?,
            verified_at: r.opt_s("verified_at")?.and_then(|t| Timestamp::parse(&t)),
        })
    }
}

/// The marker `DOMAINCLAIM#{domain}`: which organization the verified domain belongs to. It is
/// written with the condition that no other organization holds it, in the transaction that
/// verifies, so a domain is verified for one organization at a time under any concurrency
/// (as handles are). It also sits in `gsi2` (`DOMAINCHECK`, by when its record was last
/// checked), so the schedule finds the domains due for a check without a Scan
/// (`domain_checks.rs`).
pub(super) struct DomainClaim;

impl DomainClaim {
    pub(super) fn key(domain: &EmailDomain) -> Item {
        ItemBuilder::key(keys::domain_claim_pk(domain), keys::DOMAIN_CLAIM_SK).build()
    }

    /// A claim whose record was found at `seen_at`, which is also when it was last checked.
    fn to_item(org: &OrgId, domain: &EmailDomain, seen_at: Timestamp) -> Item {
        let (gsi2pk, gsi2sk) = keys::domain_check_gsi2(domain, seen_at);
        ItemBuilder::key(keys::domain_claim_pk(domain), keys::DOMAIN_CLAIM_SK)
            .s("entity", "domain_claim")
            .s("org_id", org.as_str())
            .s("domain", domain.as_str())
            .s("seen_at", seen_at.to_rfc3339())
            .s("checked_at", seen_at.to_rfc3339())
            .s(keys::GSI2PK, gsi2pk)
            .s(keys::GSI2SK, gsi2sk)
            .build()
    }

    /// The marker holds the domain for `org`.
    pub(super) fn held_by(org: &OrgId) -> Condition {
        Condition::new(
            Expr::new("org_id = :org").value(":org", s(org.as_str())),
            Refusal::Changed,
        )
    }
}

impl Domain {
    /// The domain is still verified, with `auto_join` and `role`: a join decided on it holds.
    pub(super) fn still_auto_join(&self, role: Role) -> Condition {
        Condition::new(
            Expr::new("#status = :verified AND enrollment = :auto AND join_role = :role")
                .name("#status", "status")
                .value(":verified", s(DomainStatus::Verified.as_str()))
                .value(":auto", s(Enrollment::AutoJoin { role }.as_str()))
                .value(":role", s(role.as_str())),
            Refusal::Changed,
        )
    }

    /// The domain is still verified, with the `suggest` policy.
    pub(super) fn still_suggest(&self) -> Condition {
        Condition::new(
            Expr::new("#status = :verified AND enrollment = :suggest")
                .name("#status", "status")
                .value(":verified", s(DomainStatus::Verified.as_str()))
                .value(":suggest", s(Enrollment::Suggest.as_str())),
            Refusal::Changed,
        )
    }

    /// For an organization's deletion: the claim marker of a domain item (as its listing
    /// projects it) that is verified.
    pub(super) fn claim_to_free(item: &Item) -> StoreResult<Option<Item>> {
        let r = Reader(item);
        if r.opt_s("entity")?.as_deref() != Some("domain")
            || r.opt_s("status")?.as_deref() != Some(DomainStatus::Verified.as_str())
        {
            return Ok(None);
        }
        let domain = r.parsed("domain", |d| EmailDomain::parse("domain", d).ok())?;
        Ok(Some(DomainClaim::key(&domain)))
    }
}

pub(super) fn domain_change(kind: ChangeKind, domain: &Domain) -> Change {
    change_of(kind, domain, DomainFacts::of(domain))
}

fn policy_change(domain: &Domain) -> Change {
    change_of(ChangeKind::DomainUpdated, domain, DomainPolicy::of(domain))
}

fn change_of(kind: ChangeKind, domain: &Domain, data: impl Into<Payload>) -> Change {
    Change {
        kind,
        subject: Subject::Org(domain.org_id.clone()),
        target_type: "domain",
        target_id: domain.domain.to_string(),
        data: data.into(),
    }
}

impl Store {
    /// Adds a domain, pending, with its challenge. The org item's `domain_count` grows under
    /// the condition that it stays within `max`, so concurrent additions cannot pass the limit.
    pub async fn add_domain(
        &self,
        org: &Organization,
        domain: &EmailDomain,
        challenge: Challenge,
        max: i64,
        op: &Op,
    ) -> StoreResult<Domain> {
        let added = Domain {
            org_id: org.org_id.clone(),
            domain: domain.clone(),
            challenge,
            status: DomainStatus::Pending,
            enrollment: Enrollment::None,
            added_at: op.at,
            added_by: op.actor.clone(),
            verified_at: None,
        };
        let mut tx = Tx::new(self);
        tx.put(
            added.to_item(),
            Some(Condition::absent(Refusal::DomainExists)),
        )?;
        tx.update(
            Organization::key(&org.org_id),
            Expr::new("ADD domain_count :one").value(":one", n(1)),
            Some(Condition::new(
                Expr::new(
                    "#status = :active AND (attribute_not_exists(domain_count) OR domain_count < :max)",
                )
                .name("#status", "status")
                .value(":active", s("active"))
                .value(":max", n(max)),
                Refusal::Limit(LimitKind::Domains),
            )),
        )?;
        history::record(
            &mut tx,
            &domain_change(ChangeKind::DomainAdded, &added),
            op,
            self.retention,
        )?;
        tx.made(&added);
        tx.commit("add a domain").await?;
        Ok(added)
    }

    pub async fn list_domains(
        &self,
        org: &OrgId,
        limit: usize,
        after: Option<&EmailDomain>,
    ) -> StoreResult<Page<Domain, EmailDomain>> {
        let pk = keys::org_pk(org);
        self.list(
            PartitionQuery {
                index: None,
                pk: (keys::PK, &pk),
                sk_prefix: Some((keys::SK, keys::DOMAIN_PREFIX)),
                descending: false,
            },
            None,
            limit,
            after.map(|domain| Domain::key(org, domain)),
            Decode {
                item: Domain::from_item,
                position: |d| d.domain.clone(),
                key_position: |key| {
                    EmailDomain::parse("cursor", sk_after(key, keys::DOMAIN_PREFIX)?).ok()
                },
            },
            "list domains",
        )
        .await
    }

    /// Marks a domain verified for its organization, taking its claim marker: refused with
    /// `DomainClaimed` if another organization holds it. Verifying again refreshes when the
    /// record was last seen.
    pub async fn verify_domain(&self, domain: &Domain, op: &Op) -> StoreResult<Domain> {
        let org = &domain.org_id;
        let verified = Domain {
            status: DomainStatus::Verified,
            verified_at: Some(domain.verified_at.unwrap_or(op.at)),
            ..domain.clone()
        };
        let mut tx = Tx::new(self);
        tx.put(
            DomainClaim::to_item(org, &domain.domain, op.at),
            Some(Condition::new(
                Expr::new("attribute_not_exists(pk) OR org_id = :org")
                    .value(":org", s(org.as_str())),
                Refusal::DomainClaimed,
            )),
        )?;
        // An update, not a put: an owner's policy change meanwhile stays.
        let mark = Expr::new("SET #status = :verified, verified_at = :at")
            .name("#status", "status")
            .value(":verified", s(DomainStatus::Verified.as_str()))
            .value(":at", s(verified.verified_at.unwrap_or(op.at).to_rfc3339()));
        tx.update(
            Domain::key(org, &domain.domain),
            mark,
            Some(Condition::new(
                Expr::new("attribute_exists(pk) AND #status = :status")
                    .name("#status", "status")
                    .value(":status", s(domain.status.as_str())),
                Refusal::Gone,
            )),
        )?;
        // The organization's verified domains, which single sign-on covers (`store/sso.rs`).
        let covered = Expr::new("ADD sso_domains :domain").value(
            ":domain",
            AttributeValue::Ss(vec![domain.domain.to_string()]),
        );
        tx.update(
            Organization::key(org),
            covered,
            Some(Organization::is_active()),
        )?;
        if domain.status == DomainStatus::Pending {
            history::record(
                &mut tx,
                &domain_change(ChangeKind::DomainVerified, &verified),
                op,
                self.retention,
            )?;
        }
        tx.made(&verified);
        tx.commit("verify a domain").await?;
        Ok(verified)
    }

    /// Sets the domain's enrollment policy, whatever its status; `Refusal::Gone` if it was
    /// removed meanwhile.
    pub async fn set_enrollment(
        &self,
        domain: &Domain,
        enrollment: Enrollment,
        op: &Op,
    ) -> StoreResult<Domain> {
        let org = &domain.org_id;
        let updated = Domain {
            enrollment,
            ..domain.clone()
        };
        let set = match enrollment.role() {
            Some(role) => Expr::new("SET enrollment = :policy, join_role = :role")
                .value(":role", s(role.as_str())),
            None => Expr::new("SET enrollment = :policy REMOVE join_role"),
        }
        .value(":policy", s(enrollment.as_str()));
        let mut tx = Tx::new(self);
        tx.update(
            Domain::key(org, &domain.domain),
            set,
            Some(Condition::new(
                Expr::new("attribute_exists(pk)"),
                Refusal::Gone,
            )),
        )?;
        tx.check(Organization::key(org), Organization::is_active())?;
        history::record(&mut tx, &policy_change(&updated), op, self.retention)?;
        tx.made(&updated);
        tx.commit("set a domain's enrollment policy").await?;
        Ok(updated)
    }

    /// The organization a verified domain belongs to, if any.
    pub async fn domain_owner(&self, domain: &EmailDomain) -> StoreResult<Option<OrgId>> {
        let found = self
            .get_item(DomainClaim::key(domain), "read a domain's claim")
            .await?;
        found
            .map(|item| Reader(&item).parsed("org_id", OrgId::parse))
            .transpose()
    }

    /// Removes a domain as read, and its claim if it is verified; `Refusal::Gone` if another
    /// request removed or changed it first.
    pub async fn remove_domain(&self, domain: &Domain, op: &Op) -> StoreResult<()> {
        let org = &domain.org_id;
        let mut tx = Tx::new(self);
        tx.delete(
            Domain::key(org, &domain.domain),
            Some(Condition::new(
                Expr::new("attribute_exists(pk) AND #status = :status")
                    .name("#status", "status")
                    .value(":status", s(domain.status.as_str())),
                Refusal::Gone,
            )),
        )?;
        if domain.status == DomainStatus::Verified {
            tx.delete(
                DomainClaim::key(&domain.domain),
                Some(DomainClaim::held_by(org)),
            )?;
        }
        tx.update(
            Organization::key(org),
            Expr::new("ADD domain_count :minus DELETE sso_domains :domain")
                .value(":minus", n(-1))
                .value(
                    ":domain",
                    AttributeValue::Ss(vec![domain.domain.to_string()]),
                ),
            Some(Organization::is_active()),
        )?;
        history::record(
            &mut tx,
            &domain_change(ChangeKind::DomainRemoved, domain),
            op,
            self.retention,
        )?;
        tx.commit("remove a domain").await
    }
}
