//! Memberships: listing, role and status changes, removal (and leaving), ownership transfer.
//!
//! Every change is one transaction conditioned on what the handler read (the target's role
//! and status, and the caller's own standing), so a concurrent change makes it fail instead of
//! acting on stale facts. The organization's `owner_count` counts active owners; any change
//! that lowers it carries `owner_count > 1`, so DynamoDB itself keeps one active owner, whatever
//! races with it.

use serde_json::json;

use crate::domain::{
    Change, ChangeKind, MemberStatus, OrgId, OrgStatus, Role, Standing, Subject, UserId,
    owner_delta,
};

use super::error::{Refusal, StoreResult};
use super::history;
use super::item::{ItemBuilder, n, s};
use super::keys;
use super::model::{Membership, Op, Page, User};
use super::orgs::{member_key, org_key};
use super::query::PartitionQuery;
use super::tx::{Condition, Expr, Tx};
use super::users::profile_key;
use super::{Read, Store};

fn standing(m: &Membership) -> Standing {
    Standing {
        role: m.role,
        status: m.status,
    }
}

/// The target still has the role and status the handler read.
fn unchanged(m: &Membership) -> Condition {
    Condition::new(
        Expr::new("#role = :seen_role AND #status = :seen_status")
            .name("#role", "role")
            .name("#status", "status")
            .value(":seen_role", s(m.role.as_str()))
            .value(":seen_status", s(m.status.as_str())),
        Refusal::Changed,
    )
}

/// Adds the owner-count change (and the "still active" check) on the org item to `tx`.
fn count_owners(tx: &mut Tx<'_>, org: &OrgId, delta: i64, members: i64) -> StoreResult<()> {
    let mut condition = Expr::new("#status = :active")
        .name("#status", "status")
        .value(":active", s(OrgStatus::Active.as_str()));
    if delta < 0 {
        condition = condition
            .append(" AND owner_count > :one")
            .value(":one", n(1));
    }
    let refusal = if delta < 0 {
        Refusal::LastOwner
    } else {
        Refusal::Gone
    };
    let update = Expr::new("ADD owner_count :delta, member_count :members")
        .value(":delta", n(delta))
        .value(":members", n(members));
    tx.update(
        org_key(org),
        update,
        Some(Condition::new(condition, refusal)),
    )
}

fn member_change(kind: ChangeKind, target: &Membership, data: serde_json::Value) -> Change {
    let mut all = json!({ "org_id": target.org_id.as_str(), "user_id": target.user_id.as_str() });
    if let (Some(all), Some(extra)) = (all.as_object_mut(), data.as_object()) {
        all.extend(extra.clone());
    }
    Change {
        kind,
        subject: Subject::Org(target.org_id.clone()),
        target_type: "member",
        target_id: target.user_id.to_string(),
        data: all,
    }
}

impl Store {
    pub async fn list_members(
        &self,
        org: &OrgId,
        role: Option<Role>,
        status: Option<MemberStatus>,
        limit: usize,
        after: Option<&UserId>,
    ) -> StoreResult<Page<Membership, UserId>> {
        let mut clauses = Vec::new();
        let mut filter = Expr::default();
        if let Some(role) = role {
            clauses.push("#role = :role");
            filter = filter
                .name("#role", "role")
                .value(":role", s(role.as_str()));
        }
        if let Some(status) = status {
            clauses.push("#status = :status");
            filter = filter
                .name("#status", "status")
                .value(":status", s(status.as_str()));
        }
        let filter = (!clauses.is_empty()).then(|| filter.append(&clauses.join(" AND ")));
        let pk = keys::org_pk(org);
        let (items, more) = self
            .query_filtered(
                PartitionQuery {
                    index: None,
                    pk: (keys::PK, &pk),
                    sk_prefix: Some((keys::SK, keys::MEMBER_PREFIX)),
                    descending: false,
                },
                filter,
                limit,
                after.map(|user| member_key(org, user)),
                "list members",
            )
            .await?;
        let members = items
            .iter()
            .map(Membership::from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        let next = more
            .then(|| members.last().map(|m| m.user_id.clone()))
            .flatten();
        Ok(Page {
            items: members,
            next,
        })
    }

    /// Profiles of `users`, in no particular order; missing ones are left out.
    pub async fn profiles(&self, users: &[UserId]) -> StoreResult<Vec<User>> {
        let keys = users.iter().map(profile_key).collect();
        self.batch_get(keys, Read::Eventual, "read profiles")
            .await?
            .iter()
            .map(User::from_item)
            .collect()
    }

    /// Changes a member's role or status (or both).
    pub async fn change_member(
        &self,
        caller: &Membership,
        target: &Membership,
        role: Option<Role>,
        status: Option<MemberStatus>,
        op: &Op,
    ) -> StoreResult<Membership> {
        let after = Membership {
            role: role.unwrap_or(target.role),
            status: status.unwrap_or(target.status),
            updated_at: op.at,
            ..target.clone()
        };
        let mut update = Expr::new("SET #role = :role, #status = :status, updated_at = :at")
            .name("#role", "role")
            .name("#status", "status")
            .value(":role", s(after.role.as_str()))
            .value(":status", s(after.status.as_str()))
            .value(":at", s(op.at.to_rfc3339()));
        // Only active memberships are listed under the user in `gsi1` (what `GET /orgs` reads).
        update = match after.status {
            MemberStatus::Active => {
                let (pk, sk) = keys::membership_gsi1(&target.user_id, &target.org_id);
                update
                    .append(", gsi1pk = :gsi1pk, gsi1sk = :gsi1sk")
                    .value(":gsi1pk", s(pk))
                    .value(":gsi1sk", s(sk))
            }
            MemberStatus::Deactivated => update.append(" REMOVE gsi1pk, gsi1sk"),
        };
        let mut tx = Tx::new(self);
        tx.update(
            member_key(&target.org_id, &target.user_id),
            update,
            Some(unchanged(target)),
        )?;
        self.caller_still_holds(&mut tx, caller, target)?;
        // The org item only where the owner count moves: every other change of a member stays
        // off the item that all of the organization's accepts and invitations write.
        let owners = owner_delta(standing(target), Some(standing(&after)));
        if owners != 0 {
            count_owners(&mut tx, &target.org_id, owners, 0)?;
        }
        if after.role != target.role {
            let data = json!({ "old_role": target.role.as_str(), "new_role": after.role.as_str() });
            history::record(
                &mut tx,
                &member_change(ChangeKind::RoleChanged, target, data),
                op,
                self.retention,
            )?;
        }
        if after.status != target.status {
            let kind = match after.status {
                MemberStatus::Active => ChangeKind::MemberReactivated,
                MemberStatus::Deactivated => ChangeKind::MemberDeactivated,
            };
            history::record(
                &mut tx,
                &member_change(kind, target, json!({})),
                op,
                self.retention,
            )?;
        }
        tx.commit("change a membership").await?;
        Ok(after)
    }

    /// Removes a member (or lets them leave): the membership, its email marker and team
    /// memberships go at once, so their very next request is refused.
    pub async fn remove_member(
        &self,
        caller: &Membership,
        target: &Membership,
        op: &Op,
    ) -> StoreResult<()> {
        let org = &target.org_id;
        let mut tx = Tx::new(self);
        tx.delete(member_key(org, &target.user_id), Some(unchanged(target)))?;
        if let Some(email) = &target.email {
            let marker = ItemBuilder::key(keys::org_pk(org), keys::member_email_sk(email)).build();
            let theirs = Condition::new(
                Expr::new("attribute_not_exists(pk) OR user_id = :user")
                    .value(":user", s(target.user_id.as_str())),
                Refusal::Changed,
            );
            tx.delete(marker, Some(theirs))?;
        }
        for team in &target.team_ids {
            tx.delete(
                ItemBuilder::key(
                    keys::org_pk(org),
                    keys::team_member_sk(team, &target.user_id),
                )
                .build(),
                None,
            )?;
            let shrink = Expr::new("ADD member_count :minus_one").value(":minus_one", n(-1));
            let team_key = ItemBuilder::key(keys::org_pk(org), keys::team_sk(team)).build();
            tx.update(team_key, shrink, Some(Condition::present(Refusal::Changed)))?;
        }
        self.caller_still_holds(&mut tx, caller, target)?;
        count_owners(&mut tx, org, owner_delta(standing(target), None), -1)?;
        let left = caller.user_id == target.user_id;
        let data = json!({ "role": target.role.as_str(), "left": left });
        history::record(
            &mut tx,
            &member_change(ChangeKind::MemberRemoved, target, data),
            op,
            self.retention,
        )?;
        tx.commit("remove a member").await
    }

    /// The target becomes owner and the caller admin, in one step.
    pub async fn transfer_ownership(
        &self,
        caller: &Membership,
        target: &Membership,
        op: &Op,
    ) -> StoreResult<()> {
        let org = &target.org_id;
        let set_role = |role: Role| {
            Expr::new("SET #role = :role, updated_at = :at")
                .name("#role", "role")
                .value(":role", s(role.as_str()))
                .value(":at", s(op.at.to_rfc3339()))
        };
        let mut tx = Tx::new(self);
        tx.update(
            member_key(org, &target.user_id),
            set_role(Role::Owner),
            Some(unchanged(target)),
        )?;
        tx.update(
            member_key(org, &caller.user_id),
            set_role(Role::Admin),
            Some(unchanged(caller)),
        )?;
        count_owners(&mut tx, org, 0, 0)?;
        let data = json!({
            "org_id": org.as_str(),
            "from_user_id": caller.user_id.as_str(),
            "to_user_id": target.user_id.as_str(),
        });
        let change = Change {
            kind: ChangeKind::OwnershipTransferred,
            subject: Subject::Org(org.clone()),
            target_type: "organization",
            target_id: org.to_string(),
            data,
        };
        history::record(&mut tx, &change, op, self.retention)?;
        tx.commit("transfer ownership").await
    }

    /// Authorization holds at commit time too: the caller still has the role and standing the
    /// handler checked (unless the caller is the target, whose own condition covers it).
    fn caller_still_holds(
        &self,
        tx: &mut Tx<'_>,
        caller: &Membership,
        target: &Membership,
    ) -> StoreResult<()> {
        if caller.user_id == target.user_id {
            return Ok(());
        }
        let still = Condition::new(
            Expr::new("#role = :caller_role AND #status = :caller_status")
                .name("#role", "role")
                .name("#status", "status")
                .value(":caller_role", s(caller.role.as_str()))
                .value(":caller_status", s(MemberStatus::Active.as_str())),
            Refusal::Changed,
        );
        tx.check(member_key(&caller.org_id, &caller.user_id), still)
    }
}
