//! The email domains of an organization (`ORG#{org}` / `DOMAIN#{domain}`): each with the
//! challenge its TXT record must carry. The organization item counts them (`domain_count`),
//! under the domain limit's condition, in the transaction that adds or removes one.

use serde_json::json;

use crate::domain::{
    Challenge, Change, ChangeKind, EmailDomain, LimitKind, OrgId, Subject, Timestamp, UserId,
};

use super::Store;
use super::error::{Refusal, StoreResult};
use super::history::{self, Op};
use super::item::{Item, ItemBuilder, Reader, n, s};
use super::keys;
use super::orgs::Organization;
use super::query::{Decode, Page, PartitionQuery};
use super::tx::{Condition, Expr, Tx};

/// Whether the organization has proved it controls the domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainStatus {
    /// Added; its TXT record has not been found yet.
    Pending,
    Verified,
}

impl DomainStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainStatus::Pending => "pending",
            DomainStatus::Verified => "verified",
        }
    }
    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(DomainStatus::Pending),
            "verified" => Some(DomainStatus::Verified),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    pub org_id: OrgId,
    pub domain: EmailDomain,
    /// The value its TXT record must carry.
    pub challenge: Challenge,
    pub status: DomainStatus,
    pub added_at: Timestamp,
    pub added_by: UserId,
    pub verified_at: Option<Timestamp>,
}

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
            added_at: r.time("added_at")?,
            added_by: r.parsed("added_by", UserId::parse)?,
            verified_at: r.opt_s("verified_at")?.and_then(|t| Timestamp::parse(&t)),
        })
    }
}

fn domain_change(kind: ChangeKind, domain: &Domain) -> Change {
    Change {
        kind,
        subject: Subject::Org(domain.org_id.clone()),
        target_type: "domain",
        target_id: domain.domain.to_string(),
        data: json!({
            "org_id": domain.org_id.as_str(),
            "domain": domain.domain.as_str(),
            "status": domain.status.as_str(),
        }),
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
            },
            "list domains",
        )
        .await
    }

    /// Removes a domain as read; `Refusal::Gone` if another request removed it first.
    pub async fn remove_domain(&self, domain: &Domain, op: &Op) -> StoreResult<()> {
        let org = &domain.org_id;
        let mut tx = Tx::new(self);
        tx.delete(
            Domain::key(org, &domain.domain),
            Some(Condition::present(Refusal::Gone)),
        )?;
        tx.update(
            Organization::key(org),
            Expr::new("ADD domain_count :minus").value(":minus", n(-1)),
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
