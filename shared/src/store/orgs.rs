//! Organizations: creation with their first owner and team, reads, profile and handle changes.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

use crate::domain::{
    Change, ChangeKind, Handle, MemberStatus, NewOrganization, OrgId, OrgProfilePatch, OrgStatus,
    Role, Subject, TeamId, UserId,
};

use super::error::{Refusal, StoreError, StoreResult};
use super::history;
use super::item::{Item, ItemBuilder, s};
use super::keys::{self, ORG_SK};
use super::model::{Membership, Op, Organization, Page};
use super::tx::{Condition, Expr, Tx};
use super::users::{Identity, handle_key, handle_marker, owned_by};
use super::{Read, Store};

/// The team every organization starts with.
pub const FIRST_TEAM_NAME: &str = "My Team";

pub(crate) fn org_key(org: &OrgId) -> Item {
    ItemBuilder::key(keys::org_pk(org), ORG_SK).build()
}

pub(crate) fn member_key(org: &OrgId, user: &UserId) -> Item {
    ItemBuilder::key(keys::org_pk(org), keys::member_sk(user)).build()
}

/// The organization must still be live: every write inside one carries this condition, so that
/// nothing is added once its deletion has begun.
pub(crate) fn org_is_active() -> Condition {
    Condition::new(
        Expr::new("#status = :active")
            .name("#status", "status")
            .value(":active", s(OrgStatus::Active.as_str())),
        Refusal::Gone,
    )
}

pub(crate) fn membership_item(m: &Membership) -> Item {
    let mut builder = ItemBuilder::key(keys::org_pk(&m.org_id), keys::member_sk(&m.user_id))
        .s("entity", "member")
        .s("org_id", m.org_id.as_str())
        .s("user_id", m.user_id.as_str())
        .s("role", m.role.as_str())
        .s("status", m.status.as_str())
        .opt_s("email", m.email.clone())
        .s("joined_at", m.joined_at.to_rfc3339())
        .s("updated_at", m.updated_at.to_rfc3339());
    if m.status == MemberStatus::Active {
        let (pk, sk) = keys::membership_gsi1(&m.user_id, &m.org_id);
        builder = builder.s(keys::GSI1PK, pk).s(keys::GSI1SK, sk);
    }
    let mut item = builder.build();
    if !m.team_ids.is_empty() {
        let ids = m.team_ids.iter().map(ToString::to_string).collect();
        item.insert("team_ids".into(), AttributeValue::Ss(ids));
    }
    item
}

impl Store {
    /// Creates the organization, its handle marker, its owner's membership and its first team,
    /// with audit entry and event, in one transaction.
    pub async fn create_org(
        &self,
        new: &NewOrganization,
        owner: &Identity,
        op: &Op,
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
            created_at: op.at,
            updated_at: op.at,
        };
        let team_id = TeamId::generate();
        // The member-email marker (and so `email` here) only for a verified address.
        let verified_email = owner.email.clone().filter(|_| owner.email_verified);
        let membership = Membership {
            org_id: org_id.clone(),
            user_id: owner.user_id.clone(),
            role: Role::Owner,
            status: MemberStatus::Active,
            email: verified_email.clone(),
            team_ids: vec![team_id.clone()],
            joined_at: op.at,
            updated_at: op.at,
        };
        let org_item = ItemBuilder::key(keys::org_pk(&org_id), ORG_SK)
            .s("entity", "org")
            .s("org_id", org_id.as_str())
            .s("handle", &org.handle)
            .s("display_name", &org.display_name)
            .s("region", org.region.as_str())
            .opt_s("avatar_url", org.avatar_url.clone())
            .opt_s("url", org.url.clone())
            .s("status", org.status.as_str())
            .n("member_count", 1)
            .n("owner_count", 1)
            .s("created_at", op.at.to_rfc3339())
            .s("updated_at", op.at.to_rfc3339())
            .build();
        let team = ItemBuilder::key(keys::org_pk(&org_id), keys::team_sk(&team_id))
            .s("entity", "team")
            .s("org_id", org_id.as_str())
            .s("team_id", team_id.as_str())
            .s("name", FIRST_TEAM_NAME)
            .n("member_count", 1)
            .s("created_at", op.at.to_rfc3339())
            .build();
        let team_name =
            ItemBuilder::key(keys::org_pk(&org_id), keys::team_name_sk(FIRST_TEAM_NAME))
                .s("entity", "team_name")
                .s("team_id", team_id.as_str())
                .build();
        let team_member = ItemBuilder::key(
            keys::org_pk(&org_id),
            keys::team_member_sk(&team_id, &owner.user_id),
        )
        .s("entity", "team_member")
        .s("org_id", org_id.as_str())
        .s("team_id", team_id.as_str())
        .s("user_id", owner.user_id.as_str())
        .s("added_at", op.at.to_rfc3339())
        .build();

        let mut tx = Tx::new(self);
        tx.put(
            handle_marker(&new.handle, "org", org_id.as_str()),
            Some(Condition::absent(Refusal::HandleTaken)),
        )?;
        tx.put(org_item, Some(Condition::absent(Refusal::AlreadyExists)))?;
        tx.put(membership_item(&membership), None)?;
        if let Some(email) = &verified_email {
            let marker = ItemBuilder::key(keys::org_pk(&org_id), keys::member_email_sk(email))
                .s("entity", "member_email")
                .s("user_id", owner.user_id.as_str())
                .build();
            tx.put(marker, None)?;
        }
        tx.put(team, None)?;
        tx.put(team_name, None)?;
        tx.put(team_member, None)?;
        let change = Change {
            kind: ChangeKind::OrganizationCreated,
            subject: Subject::Org(org_id.clone()),
            target_type: "organization",
            target_id: org_id.to_string(),
            data: json!({
                "org_id": org_id.as_str(),
                "handle": org.handle,
                "display_name": org.display_name,
                "region": org.region.as_str(),
                "owner_user_id": owner.user_id.as_str(),
            }),
        };
        history::record(&mut tx, &change, op, self.retention)?;
        tx.commit("create an organization").await?;
        Ok((org, membership))
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
        let (gsi1pk, _) = keys::membership_gsi1(user, &OrgId::generate());
        let start = after.map(|org| {
            let (pk, sk) = keys::membership_gsi1(user, org);
            let mut key = member_key(org, user);
            key.insert(keys::GSI1PK.into(), s(pk));
            key.insert(keys::GSI1SK.into(), s(sk));
            key
        });
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
        let keys = memberships.iter().map(|m| org_key(&m.org_id)).collect();
        let orgs = self
            .batch_get(keys, Read::Eventual, "read a user's organizations")
            .await?
            .iter()
            .map(Organization::from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        let items = memberships
            .into_iter()
            .filter_map(|m| {
                let org = orgs.iter().find(|o| o.org_id == m.org_id)?;
                (org.status == OrgStatus::Active).then(|| (org.clone(), m))
            })
            .collect();
        Ok(Page { items, next })
    }

    /// Applies a profile change to a live organization.
    pub async fn update_org(
        &self,
        org: &Organization,
        patch: &OrgProfilePatch,
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
        let mut text = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            text.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        expr.text = text;

        let mut tx = Tx::new(self);
        tx.update(org_key(&org.org_id), expr, Some(org_is_active()))?;
        let change = Change {
            kind: ChangeKind::OrganizationUpdated,
            subject: Subject::Org(org.org_id.clone()),
            target_type: "organization",
            target_id: org.org_id.to_string(),
            data: json!({ "org_id": org.org_id.as_str(), "fields": patch.field_names() }),
        };
        history::record(&mut tx, &change, op, self.retention)?;
        tx.commit("update an organization").await?;
        updated.updated_at = op.at;
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
        tx.put(
            handle_marker(new_handle, "org", org.org_id.as_str()),
            Some(Condition::absent(Refusal::HandleTaken)),
        )?;
        tx.delete(handle_key(&old_handle), Some(owned_by(org.org_id.as_str())))?;
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
        tx.update(org_key(&org.org_id), update, Some(unchanged))?;
        let change = Change {
            kind: ChangeKind::HandleChanged,
            subject: Subject::Org(org.org_id.clone()),
            target_type: "organization",
            target_id: org.org_id.to_string(),
            data: json!({
                "org_id": org.org_id.as_str(),
                "old_handle": old_handle.as_str(),
                "new_handle": new_handle.as_str(),
            }),
        };
        history::record(&mut tx, &change, op, self.retention)?;
        tx.commit("change an organization's handle").await?;
        Ok(Organization {
            handle: new_handle.to_string(),
            updated_at: op.at,
            ..org.clone()
        })
    }
}
