//! Organizations (the org item): creation with their first owner and team, reads, profile and
//! handle changes.

use crate::domain::payloads::{
    OrganizationCreated, OrganizationHandleChanged, OrganizationUpdated,
};
use crate::domain::{Membership, Op, Organization, Team, TeamMember, VersionedMetadata};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{
    Change, ChangeKind, EmailDomain, Handle, Limits, MemberStatus, MetadataChange, NewOrganization,
    OrgId, OrgProfilePatch, OrgSso, OrgStatus, ProviderName, Region, Role, Subject, TeamId, UserId,
};

use super::error::{Refusal, StoreError, StoreResult};
use super::handles::{HandleMarker, HandleOwner};
use super::history;
use super::item::{Item, ItemBuilder, Reader, s};
use super::keys;
use super::known_addresses::KnownAddress;
use super::metadata;
use super::owned_orgs::OwnedOrgs;
use super::query::Page;
use super::tallies::Tally;
use super::tx::{Condition, Expr, Tx};
use super::users::Identity;
use super::{Read, Store};

/// The team every organization starts with.
pub const FIRST_TEAM_NAME: &str = "My Team";

impl Organization {
    pub(super) fn key(org: &OrgId) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::ORG_SK).build()
    }

    fn to_item(&self) -> Item {
        let mut builder = ItemBuilder::key(keys::org_pk(&self.org_id), keys::ORG_SK)
            .s("entity", "org")
            .s("org_id", self.org_id.as_str())
            .s("handle", &self.handle)
            .s("display_name", &self.display_name)
            .s("region", self.region.as_str())
            .opt_s("avatar_url", self.avatar_url.clone())
            .opt_s("url", self.url.clone())
            .opt_s("billing_email", self.billing_email.clone())
            .s("status", self.status.as_str())
            .n("member_count", self.member_count)
            .n("owner_count", self.owner_count)
            .opt_s(
                "counted_owner",
                self.counted_owner.as_ref().map(|u| u.as_str().to_owned()),
            )
            .s("created_at", self.created_at.to_rfc3339())
            .s("updated_at", self.updated_at.to_rfc3339());
        // Absent until the first invitation: its `ADD` starts the count.
        if self.pending_on_item != 0 {
            builder = builder.n("pending_count", self.pending_on_item);
        }
        if self.domain_count != 0 {
            builder = builder.n("domain_count", self.domain_count);
        }
        if self.join_requests_on_item != 0 {
            builder = builder.n("join_request_count", self.join_requests_on_item);
        }
        metadata::put(builder, &self.metadata.value).build()
    }

    pub(super) fn is_org_item(item: &Item) -> bool {
        matches!(item.get(keys::SK), Some(AttributeValue::S(sk)) if sk == keys::ORG_SK)
    }

    pub(super) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            handle: r.s("handle")?,
            display_name: r.s("display_name")?,
            region: r.parsed("region", |s| Region::parse(s).ok())?,
            avatar_url: r.opt_s("avatar_url")?,
            url: r.opt_s("url")?,
            billing_email: r.opt_s("billing_email")?,
            status: r.parsed("status", OrgStatus::parse)?,
            member_count: r.n("member_count")?,
            owner_count: r.n("owner_count")?,
            pending_invitations: r.opt_n("pending_count")?.unwrap_or(0),
            pending_on_item: r.opt_n("pending_count")?.unwrap_or(0),
            domain_count: r.opt_n("domain_count")?.unwrap_or(0),
            join_requests: r.opt_n("join_request_count")?.unwrap_or(0),
            join_requests_on_item: r.opt_n("join_request_count")?.unwrap_or(0),
            metadata: metadata::read(&r)?,
            counted_owner: r.opt_parsed("counted_owner", UserId::parse)?,
            sso: OrgSso {
                provider: r
                    .opt_s("sso_provider")?
                    .and_then(|p| ProviderName::parse(&p)),
                required: r.bool("sso_required")?,
                domains: r.string_set("sso_domains", |d| EmailDomain::parse("domain", d).ok()),
            },
            created_at: r.time("created_at")?,
            updated_at: r.time("updated_at")?,
        })
    }

    /// The organization must still be live: every write inside one carries this condition, so
    /// that nothing is added once its deletion has begun.
    pub(super) fn is_active() -> Condition {
        Condition::new(
            Expr::new("#status = :active")
                .name("#status", "status")
                .value(":active", s(OrgStatus::Active.as_str())),
            Refusal::Gone,
        )
    }
}

impl Store {
    /// Creates the organization, its handle marker, its owner's membership and its first team,
    /// with audit entry and event, in one transaction; counted among the organizations its
    /// owner owns, within the limit.
    pub async fn create_org(
        &self,
        new: &NewOrganization,
        owner: &Identity,
        limits: &Limits,
        op: &Op,
    ) -> StoreResult<(Organization, Membership)> {
        self.put_org(new, owner, limits, op, false).await
    }

    /// As `create_org`, for the organization made when a person signs up: the same
    /// transaction also puts the person's first-organization marker, on the condition that it
    /// is absent, so that a sign-up reported twice (Cognito may call its trigger again, and a
    /// first `GET /me` may follow) makes one organization. Refused with `AlreadyDone` when the
    /// marker is there, and nothing is written.
    pub async fn create_first_org(
        &self,
        new: &NewOrganization,
        owner: &Identity,
        limits: &Limits,
        op: &Op,
    ) -> StoreResult<(Organization, Membership)> {
        self.put_org(new, owner, limits, op, true).await
    }

    async fn put_org(
        &self,
        new: &NewOrganization,
        owner: &Identity,
        limits: &Limits,
        op: &Op,
        first: bool,
    ) -> StoreResult<(Organization, Membership)> {
        let org_id = OrgId::generate();
        let org = Organization {
            org_id: org_id.clone(),
            handle: new.handle.to_string(),
            display_name: new.display_name.as_str().to_owned(),
            region: new.region,
            avatar_url: new.avatar_url.as_ref().map(|u| u.as_str().to_owned()),
            url: new.url.as_ref().map(|u| u.as_str().to_owned()),
            billing_email: None,
            status: OrgStatus::Active,
            member_count: 1,
            owner_count: 1,
            pending_invitations: 0,
            pending_on_item: 0,
            domain_count: 0,
            join_requests: 0,
            join_requests_on_item: 0,
            metadata: VersionedMetadata::default(),
            counted_owner: Some(owner.user_id.clone()),
            sso: OrgSso::default(),
            created_at: op.at,
            updated_at: op.at,
        };
        let team_id = TeamId::generate();
        // The member-email marker (and so `email` here) only for a verified address.
        let verified_email = owner.email.clone().filter(|_| owner.email_verified);
        let membership = Membership {
            custom_role: None,
            custom_grants: None,
            org_id: org_id.clone(),
            user_id: owner.user_id.clone(),
            role: Role::Owner,
            status: MemberStatus::Active,
            email: verified_email.clone(),
            team_ids: vec![team_id.clone()],
            metadata: VersionedMetadata::default(),
            joined_at: op.at,
            updated_at: op.at,
        };
        let team = Team {
            org_id: org_id.clone(),
            team_id: team_id.clone(),
            name: FIRST_TEAM_NAME.to_owned(),
            member_count: 1,
            created_at: op.at,
            active: true,
        };
        let team_member = TeamMember {
            user_id: owner.user_id.clone(),
            role: crate::domain::TeamRole::Member,
            added_at: op.at,
        };

        let mut tx = Tx::new(self);
        // First, so that its refusal is the one reported when the handle is taken too.
        if first {
            let marker = ItemBuilder::key(keys::user_pk(&owner.user_id), keys::FIRST_ORG_SK)
                .s("entity", "first_org")
                .s("org_id", org_id.as_str())
                .s("created_at", op.at.to_rfc3339())
                .build();
            tx.put(marker, Some(Condition::absent(Refusal::AlreadyDone)))?;
        }
        tx.put(
            HandleMarker::to_item(&new.handle, HandleOwner::Org(&org_id)),
            Some(Condition::absent(Refusal::HandleTaken)),
        )?;
        tx.put(
            org.to_item(),
            Some(Condition::absent(Refusal::AlreadyExists)),
        )?;
        tx.put(membership.to_item(), None)?;
        if let Some(email) = &verified_email {
            tx.put(
                Membership::email_marker(&org_id, email, &owner.user_id),
                None,
            )?;
        }
        if let Some(email) = &verified_email {
            KnownAddress::add(&mut tx, email, &owner.user_id)?;
        }
        for tally in Tally::new_items(&org_id) {
            tx.put(tally, None)?;
        }
        tx.put(team.to_item(), None)?;
        tx.put(Team::name_marker(&org_id, &team.name, &team_id), None)?;
        tx.put(team_member.to_item(&org_id, &team_id), None)?;
        OwnedOrgs::take(&mut tx, &owner.user_id, limits)?;
        let change = Change {
            kind: ChangeKind::OrganizationCreated,
            subject: Subject::Org(org_id.clone()),
            target_type: "organization",
            target_id: org_id.to_string(),
            data: OrganizationCreated {
                org_id: org_id.clone(),
                handle: org.handle.clone(),
                display_name: org.display_name.clone(),
                region: org.region,
                owner_user_id: owner.user_id.clone(),
            }
            .into(),
        };
        history::record(&mut tx, &change, op, self.retention)?;
        let made = (org, membership);
        tx.made(&made);
        tx.commit("create an organization").await?;
        Ok(made)
    }

    /// The organization and the caller's membership in it, read together and consistently.
    pub async fn org_with_membership(
        &self,
        org_id: &OrgId,
        user: &UserId,
    ) -> StoreResult<Option<(Organization, Option<Membership>)>> {
        Ok(self
            .read_org(org_id, user, &[])
            .await?
            .map(|read| (read.org, read.caller)))
    }

    /// The caller's active memberships and their organizations, by organization id.
    /// `after` is the last organization of the previous page.
    pub async fn list_user_orgs(
        &self,
        user: &UserId,
        limit: usize,
        after: Option<&OrgId>,
    ) -> StoreResult<Page<(Organization, Membership), OrgId>> {
        let gsi1pk = keys::membership_gsi1pk(user);
        let start = after.map(|org| Membership::by_user_key(org, user));
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :user")
            .expression_attribute_values(":user", s(gsi1pk))
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("list a user's memberships", e))?;
        let memberships = out
            .items()
            .iter()
            .map(Membership::from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        let next = match out.last_evaluated_key() {
            Some(_) => memberships.last().map(|m| m.org_id.clone()),
            None => None,
        };
        if memberships.is_empty() {
            return Ok(Page {
                items: Vec::new(),
                next,
            });
        }
        // The index lags behind the table: it may still list a membership just ended or
        // changed. The memberships themselves are read again from the table, consistently,
        // beside their organizations, so that none ended is listed, and roles are current.
        // (One begun a moment ago may be missing until the index has it.)
        let keys = memberships
            .iter()
            .flat_map(|m| {
                [
                    Organization::key(&m.org_id),
                    Membership::key(&m.org_id, user),
                ]
                .into_iter()
                .chain(Tally::keys(&m.org_id))
            })
            .collect();
        let read = self
            .batch_get(keys, Read::Consistent, "read a user's organizations")
            .await?;
        let mut orgs = Vec::new();
        for item in read.iter().filter(|i| Organization::is_org_item(i)) {
            let mut org = Organization::from_item(item)?;
            Tally::fold(&mut org, &read)?;
            orgs.push(org);
        }
        let current = read
            .iter()
            .filter(|i| Membership::is_member_item(i))
            .map(Membership::from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        let items = memberships
            .into_iter()
            .filter_map(|listed| {
                let org = orgs.iter().find(|o| o.org_id == listed.org_id)?;
                let m = current.iter().find(|m| m.org_id == listed.org_id)?;
                (org.status == OrgStatus::Active && m.status == MemberStatus::Active)
                    .then(|| (org.clone(), m.clone()))
            })
            .collect();
        Ok(Page { items, next })
    }

    /// Applies a profile change, and a change of its metadata merged with what `org` holds, to a
    /// live organization. With metadata, it is refused with `Refusal::MetadataChanged` if the
    /// metadata changed since `org` was read.
    pub async fn update_org(
        &self,
        org: &Organization,
        patch: &OrgProfilePatch,
        metadata: Option<&MetadataChange>,
        op: &Op,
    ) -> StoreResult<Organization> {
        let mut updated = org.clone();
        let mut sets = vec!["updated_at = :at".to_owned()];
        let mut removes = Vec::new();
        let mut expr = Expr::default().value(":at", s(op.at.to_rfc3339()));
        if let Some(name) = &patch.display_name {
            sets.push("display_name = :display_name".into());
            expr = expr.value(":display_name", s(name.as_str()));
            updated.display_name = name.as_str().to_owned();
        }
        let optional = [
            (
                "avatar_url",
                patch
                    .avatar_url
                    .as_ref()
                    .map(|v| v.as_ref().map(|u| u.as_str())),
                &mut updated.avatar_url,
            ),
            (
                "url",
                patch.url.as_ref().map(|v| v.as_ref().map(|u| u.as_str())),
                &mut updated.url,
            ),
            (
                "billing_email",
                patch
                    .billing_email
                    .as_ref()
                    .map(|v| v.as_ref().map(|e| e.as_str())),
                &mut updated.billing_email,
            ),
        ];
        for (name, value, field) in optional {
            match value {
                None => {}
                // `#name` placeholders: `url` is one of DynamoDB's reserved words.
                Some(Some(v)) => {
                    sets.push(format!("#{name} = :{name}"));
                    expr = expr
                        .name(&format!("#{name}"), name)
                        .value(&format!(":{name}"), s(v));
                    *field = Some(v.to_owned());
                }
                Some(None) => {
                    removes.push(format!("#{name}"));
                    expr = expr.name(&format!("#{name}"), name);
                    *field = None;
                }
            }
        }
        let mut condition = Organization::is_active();
        let mut fields = patch.field_names();
        let mut metadata_keys = None;
        if let Some(change) = metadata {
            expr = metadata::write(expr, &mut sets, &mut removes, change, org.metadata.version);
            condition = metadata::unchanged_since(condition, org.metadata.version);
            updated.metadata = VersionedMetadata {
                value: change.metadata.clone(),
                version: org.metadata.version + 1,
            };
            fields.push("metadata");
            metadata_keys = Some(change.changed_keys());
        }
        let data = OrganizationUpdated {
            org_id: org.org_id.clone(),
            fields,
            metadata_keys,
        };
        let mut text = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            text.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        expr.text = text;

        let mut tx = Tx::new(self);
        tx.update(Organization::key(&org.org_id), expr, Some(condition))?;
        let change = Change {
            kind: ChangeKind::OrganizationUpdated,
            subject: Subject::Org(org.org_id.clone()),
            target_type: "organization",
            target_id: org.org_id.to_string(),
            data: data.into(),
        };
        history::record(&mut tx, &change, op, self.retention)?;
        updated.updated_at = op.at;
        tx.made(&updated);
        tx.commit("update an organization").await?;
        Ok(updated)
    }

    /// Renames: the new handle's marker is taken and the old one freed in the same step.
    pub async fn change_org_handle(
        &self,
        org: &Organization,
        new_handle: &Handle,
        op: &Op,
    ) -> StoreResult<Organization> {
        let old_handle = Handle::parse(&org.handle)
            .map_err(|_| StoreError::Corrupt(format!("stored handle {:?}", org.handle)))?;
        let mut tx = Tx::new(self);
        let owner = HandleOwner::Org(&org.org_id);
        tx.put(
            HandleMarker::to_item(new_handle, owner),
            Some(Condition::absent(Refusal::HandleTaken)),
        )?;
        tx.delete(
            HandleMarker::key(&old_handle),
            Some(HandleMarker::owned_by(owner)),
        )?;
        let update = Expr::new("SET handle = :new, updated_at = :at")
            .value(":new", s(new_handle.as_str()))
            .value(":at", s(op.at.to_rfc3339()));
        let unchanged = Condition::new(
            Expr::new("#status = :active AND handle = :old")
                .name("#status", "status")
                .value(":active", s(OrgStatus::Active.as_str()))
                .value(":old", s(old_handle.as_str())),
            Refusal::Changed,
        );
        tx.update(Organization::key(&org.org_id), update, Some(unchanged))?;
        let change = Change {
            kind: ChangeKind::HandleChanged,
            subject: Subject::Org(org.org_id.clone()),
            target_type: "organization",
            target_id: org.org_id.to_string(),
            data: OrganizationHandleChanged {
                org_id: org.org_id.clone(),
                old_handle,
                new_handle: new_handle.clone(),
            }
            .into(),
        };
        history::record(&mut tx, &change, op, self.retention)?;
        let renamed = Organization {
            handle: new_handle.to_string(),
            updated_at: op.at,
            ..org.clone()
        };
        tx.made(&renamed);
        tx.commit("change an organization's handle").await?;
        Ok(renamed)
    }
}
