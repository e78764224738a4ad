//! What the `token-claims` trigger reads: a person's active memberships, from their listing in
//! `gsi1`, and the handles of the organizations it picks.
//!
//! Two requests, whatever the number of organizations: the handle (and whether the
//! organization is being deleted) lives only on the organization item, since copying it into
//! every membership would make a rename rewrite up to 10,000 items, more than one transaction
//! holds.

use crate::domain::{ListedMembership, MemberStatus, OrgId, OrgStatus, Role, RoleName, UserId};
use crate::domain::{Membership, OrgSso, Organization};

use super::error::{StoreError, StoreResult};
use super::item::{Item, Reader, s};
use super::keys;
use super::{Read, Store};

fn listed_from_item(item: &Item) -> StoreResult<ListedMembership> {
    let r = Reader(item);
    Ok(ListedMembership {
        org_id: r.parsed("org_id", OrgId::parse)?,
        role: r.parsed("role", Role::parse)?,
        joined_at: r.time("joined_at")?,
    })
}

impl Store {
    /// Every active membership of `user`, in one Query of `gsi1` (which lists only active
    /// ones) that reads just what the claim needs. A page holds 1 MB, many thousands of
    /// memberships; only a person in more takes another page.
    pub async fn listed_memberships(&self, user: &UserId) -> StoreResult<Vec<ListedMembership>> {
        let gsi1pk = keys::membership_gsi1pk(user);
        let mut listed = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("gsi1pk = :user")
                .expression_attribute_values(":user", s(&gsi1pk))
                .projection_expression("org_id, #role, joined_at")
                .expression_attribute_names("#role", "role")
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("list a user's memberships", e))?;
            for item in out.items() {
                listed.push(listed_from_item(item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(listed);
            }
        }
    }

    /// Whether `user` has any active membership: one Query of `gsi1` for one item. The index
    /// lags behind the table by a moment, so a membership begun just now may not count yet.
    pub async fn has_memberships(&self, user: &UserId) -> StoreResult<bool> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :user")
            .expression_attribute_values(":user", s(keys::membership_gsi1pk(user)))
            .projection_expression("org_id")
            .limit(1)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("look for a user's memberships", e))?;
        Ok(!out.items().is_empty())
    }

    /// Those of `orgs` that are live (not being deleted) and where `user` is still an active
    /// member, with the handle and the member's role now, in one BatchGetItem for up to 50
    /// organizations. The listing in `gsi1` lags behind the table: it may still hold a
    /// membership just ended or changed, so the memberships are read again from the table,
    /// consistently, beside their organizations.
    pub async fn live_memberships(
        &self,
        user: &UserId,
        orgs: &[OrgId],
    ) -> StoreResult<Vec<LiveMembership>> {
        if orgs.is_empty() {
            return Ok(Vec::new());
        }
        let keys = orgs
            .iter()
            .flat_map(|org| [Organization::key(org), Membership::key(org, user)])
            .collect();
        let read = self
            .batch_get(keys, Read::Consistent, "read a user's organizations")
            .await?;
        let members = read
            .iter()
            .filter(|i| Membership::is_member_item(i))
            .map(Membership::from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut live = Vec::new();
        for item in read.iter().filter(|i| Organization::is_org_item(i)) {
            let org = Organization::from_item(item)?;
            let member = members.iter().find(|m| m.org_id == org.org_id);
            if let Some(member) = member.filter(|m| m.status == MemberStatus::Active)
                && org.status == OrgStatus::Active
            {
                live.push(LiveMembership {
                    role: member.role_name(),
                    email: member.email.clone(),
                    org_id: org.org_id,
                    handle: org.handle,
                    sso: org.sso,
                });
            }
        }
        Ok(live)
    }
}

/// A membership a token may carry: live, active, with what `sso_required` decides on.
#[derive(Clone, Debug)]
pub struct LiveMembership {
    pub org_id: OrgId,
    pub handle: String,
    pub role: RoleName,
    /// The member's verified address, if they joined with one.
    pub email: Option<String>,
    pub sso: OrgSso,
}
