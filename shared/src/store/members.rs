//! Memberships (the membership item and the member email marker): listing, role and status
//! changes, removal (and leaving), ownership transfer.
//!
//! Every change is one transaction conditioned on what the handler read (the target's role
//! and status, and the caller's own standing), so a concurrent change makes it fail instead of
//! acting on stale facts. The organization's `owner_count` counts active owners; any change
//! that lowers it carries `owner_count > 1`, so DynamoDB itself keeps one active owner, whatever
//! races with it.

use crate::domain::payloads::{
    MemberFacts, MemberRemoved, MemberUpdated, OwnershipTransferred, RoleChanged,
};
use crate::domain::{
    CustomRole, Membership, Op, Organization, RoleKey, RoleName, Team, TeamMember,
    VersionedMetadata,
};

use crate::domain::{
    Change, ChangeKind, MemberStatus, MetadataChange, OrgId, OrgStatus, Payload, Role, Subject,
    TeamId, UserId, owner_delta, transfer,
};

use aws_sdk_dynamodb::types::AttributeValue;

use super::Store;
use super::error::{Refusal, StoreError, StoreResult};
use super::history::{self, holds_custom_role};
use super::item::{Item, ItemBuilder, Reader, n, s};
use super::keys;
use super::metadata;
use super::owned_orgs::OwnedOrgs;
use super::query::{Decode, Page, PartitionQuery, sk_after};
use super::tallies::Tally;
use super::teams::holds_team_role;
use super::tx::{Condition, Expr, Tx};

impl Membership {
    pub(super) fn key(org: &OrgId, user: &UserId) -> Item {
        // `history::record` builds the same key for the caller's check at commit.
        ItemBuilder::key(keys::org_pk(org), keys::member_sk(user)).build()
    }

    pub(super) fn is_member_item(item: &Item) -> bool {
        matches!(item.get(keys::SK), Some(aws_sdk_dynamodb::types::AttributeValue::S(sk)) if sk.starts_with(keys::MEMBER_PREFIX))
    }

    /// The key of an active membership in index `gsi1`, where a user's listing resumes.
    pub(super) fn by_user_key(org: &OrgId, user: &UserId) -> Item {
        let (pk, sk) = keys::membership_gsi1(user, org);
        ItemBuilder::key(keys::org_pk(org), keys::member_sk(user))
            .s(keys::GSI1PK, pk)
            .s(keys::GSI1SK, sk)
            .build()
    }

    pub(super) fn to_item(&self) -> Item {
        let mut builder =
            ItemBuilder::key(keys::org_pk(&self.org_id), keys::member_sk(&self.user_id))
                .s("entity", "member")
                .s("org_id", self.org_id.as_str())
                .s("user_id", self.user_id.as_str())
                .s("role", self.role.as_str())
                .opt_s(
                    "custom_role",
                    self.custom_role.as_ref().map(RoleKey::as_str),
                )
                .s("status", self.status.as_str())
                .opt_s("email", self.email.clone())
                .s("joined_at", self.joined_at.to_rfc3339())
                .s("updated_at", self.updated_at.to_rfc3339())
                .string_set("team_ids", self.team_ids.iter().map(ToString::to_string));
        // Only active memberships are listed under the user in `gsi1` (what `GET /orgs` reads).
        if self.status == MemberStatus::Active {
            let (pk, sk) = keys::membership_gsi1(&self.user_id, &self.org_id);
            builder = builder.s(keys::GSI1PK, pk).s(keys::GSI1SK, sk);
        }
        metadata::put(builder, &self.metadata.value).build()
    }

    pub(super) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            user_id: r.parsed("user_id", UserId::parse)?,
            role: r.parsed("role", Role::parse)?,
            custom_role: r.opt_parsed("custom_role", |key| RoleKey::parse(key).ok())?,
            custom_grants: None,
            status: r.parsed("status", MemberStatus::parse)?,
            email: r.opt_s("email")?,
            team_ids: r.string_set("team_ids", TeamId::parse),
            metadata: metadata::read(&r)?,
            joined_at: r.time("joined_at")?,
            updated_at: r.time("updated_at")?,
        })
    }

    /// The key of the marker of a member's verified email, which lets an invitation refuse
    /// "already a member" atomically.
    pub(super) fn email_key(org: &OrgId, email: &str) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::member_email_sk(email)).build()
    }

    pub(super) fn email_marker(org: &OrgId, email: &str, user: &UserId) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::member_email_sk(email))
            .s("entity", "member_email")
            .s("user_id", user.as_str())
            .build()
    }
}

/// The target still has the role and status the handler read.
fn unchanged(m: &Membership) -> Condition {
    let expr = Expr::new("#role = :seen_role AND #status = :seen_status")
        .name("#role", "role")
        .name("#status", "status")
        .value(":seen_role", s(m.role.as_str()))
        .value(":seen_status", s(m.status.as_str()));
    Condition::new(
        holds_custom_role(expr, m.custom_role.as_ref(), ":seen_custom"),
        Refusal::Changed,
    )
}

/// `unchanged`, and in the same teams: a team joined meanwhile would leave its row behind.
fn unchanged_with_teams(m: &Membership) -> Condition {
    let Condition { expr, refusal } = unchanged(m);
    let expr = match m.team_ids.is_empty() {
        true => expr.append(" AND attribute_not_exists(team_ids)"),
        false => expr.append(" AND team_ids = :seen_teams").value(
            ":seen_teams",
            AttributeValue::Ss(m.team_ids.iter().map(|t| t.to_string()).collect()),
        ),
    };
    Condition::new(expr, refusal)
}

/// How many times a removal reads a member's teams again when they changed meanwhile.
const TEAM_RACE_ROUNDS: usize = 3;

/// The same role and status: what a removal was decided on.
fn same_standing(now: &Membership, read: &Membership) -> bool {
    now.role == read.role && now.status == read.status && now.custom_role == read.custom_role
}

/// Adds the owner-count change (and the "still active" check) on the org item to `tx`.
fn count_owners(tx: &mut Tx<'_>, org: &OrgId, delta: i64) -> StoreResult<()> {
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
    let update = Expr::new("ADD owner_count :delta").value(":delta", n(delta));
    tx.update(
        Organization::key(org),
        update,
        Some(Condition::new(condition, refusal)),
    )
}

fn member_change(kind: ChangeKind, target: &Membership, data: impl Into<Payload>) -> Change {
    Change {
        kind,
        subject: Subject::Org(target.org_id.clone()),
        target_type: "member",
        target_id: target.user_id.to_string(),
        data: data.into(),
    }
}

impl Store {
    pub async fn list_members(
        &self,
        org: &OrgId,
        role: Option<&RoleName>,
        status: Option<MemberStatus>,
        limit: usize,
        after: Option<&UserId>,
    ) -> StoreResult<Page<Membership, UserId>> {
        let mut clauses = Vec::new();
        let mut filter = Expr::default();
        // A custom role's holders are `member` by rank: `member` lists only those who hold no
        // custom role.
        match role {
            Some(RoleName::System(role)) => {
                clauses.push("#role = :role AND attribute_not_exists(custom_role)");
                filter = filter
                    .name("#role", "role")
                    .value(":role", s(role.as_str()));
            }
            Some(RoleName::Custom(key)) => {
                clauses.push("custom_role = :custom_role");
                filter = filter.value(":custom_role", s(key.as_str()));
            }
            None => {}
        }
        if let Some(status) = status {
            clauses.push("#status = :status");
            filter = filter
                .name("#status", "status")
                .value(":status", s(status.as_str()));
        }
        let filter = (!clauses.is_empty()).then(|| filter.append(&clauses.join(" AND ")));
        let pk = keys::org_pk(org);
        self.list(
            PartitionQuery {
                index: None,
                pk: (keys::PK, &pk),
                sk_prefix: Some((keys::SK, keys::MEMBER_PREFIX)),
                descending: false,
            },
            filter,
            limit,
            after.map(|user| Membership::key(org, user)),
            Decode {
                item: Membership::from_item,
                position: |m| m.user_id.clone(),
                key_position: |key| sk_after(key, keys::MEMBER_PREFIX).and_then(UserId::parse),
            },
            "list members",
        )
        .await
    }

    /// Changes a member's role, status or metadata (or several). With metadata, merged with what
    /// `target` holds, it is refused with `Refusal::MetadataChanged` if the membership changed
    /// since `target` was read.
    pub async fn change_member(
        &self,
        caller: &Membership,
        target: &Membership,
        role: Option<&RoleName>,
        status: Option<MemberStatus>,
        metadata: Option<&MetadataChange>,
        op: &Op,
    ) -> StoreResult<Membership> {
        let (system, custom) = match role {
            None => (target.role, target.custom_role.clone()),
            Some(RoleName::System(role)) => (*role, None),
            Some(RoleName::Custom(key)) => (Role::Member, Some(key.clone())),
        };
        let mut after = Membership {
            role: system,
            custom_role: custom,
            custom_grants: None,
            status: status.unwrap_or(target.status),
            updated_at: op.at,
            ..target.clone()
        };
        let mut sets: Vec<String> = ["#role = :role", "#status = :status", "updated_at = :at"]
            .map(str::to_owned)
            .into();
        let mut removes = Vec::new();
        let mut update = Expr::default()
            .name("#role", "role")
            .name("#status", "status")
            .value(":role", s(after.role.as_str()))
            .value(":status", s(after.status.as_str()))
            .value(":at", s(op.at.to_rfc3339()));
        match &after.custom_role {
            Some(key) => {
                sets.push("custom_role = :custom_role".into());
                update = update.value(":custom_role", s(key.as_str()));
            }
            None => removes.push("custom_role".into()),
        }
        // Only active memberships are listed under the user in `gsi1` (what `GET /orgs` reads).
        match after.status {
            MemberStatus::Active => {
                let (pk, sk) = keys::membership_gsi1(&target.user_id, &target.org_id);
                sets.push("gsi1pk = :gsi1pk, gsi1sk = :gsi1sk".into());
                update = update.value(":gsi1pk", s(pk)).value(":gsi1sk", s(sk));
            }
            MemberStatus::Deactivated => removes.push("gsi1pk, gsi1sk".into()),
        };
        let mut condition = unchanged(target);
        if let Some(change) = metadata {
            let seen = target.metadata.version;
            update = metadata::write(update, &mut sets, &mut removes, change, seen);
            condition = metadata::unchanged_since(condition, seen);
            after.metadata = VersionedMetadata {
                value: change.metadata.clone(),
                version: seen + 1,
            };
        }
        update.text = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            update
                .text
                .push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let mut tx = Tx::new(self);
        tx.update(
            Membership::key(&target.org_id, &target.user_id),
            update,
            Some(condition),
        )?;
        self.caller_still_holds(&mut tx, caller, target)?;
        // The org item only where the owner count moves: every other change of a member stays
        // off the item that all of the organization's accepts and invitations write.
        let owners = owner_delta(target.standing(), Some(after.standing()));
        if owners != 0 {
            count_owners(&mut tx, &target.org_id, owners)?;
        }
        if after.custom_role != target.custom_role {
            if let Some(old) = &target.custom_role {
                CustomRole::count_holder(&mut tx, &target.org_id, old, -1)?;
            }
            if let Some(new) = &after.custom_role {
                CustomRole::count_holder(&mut tx, &target.org_id, new, 1)?;
            }
        }
        if after.role_name() != target.role_name() {
            let data = RoleChanged {
                member: MemberFacts::of(target),
                old_role: target.role_name(),
                new_role: after.role_name(),
            };
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
                &member_change(kind, target, MemberFacts::of(target)),
                op,
                self.retention,
            )?;
        }
        if let Some(change) = metadata {
            let data = MemberUpdated {
                member: MemberFacts::of(target),
                metadata_keys: change.changed_keys(),
            };
            history::record(
                &mut tx,
                &member_change(ChangeKind::MemberUpdated, target, data),
                op,
                self.retention,
            )?;
        }
        tx.made(&after);
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
        let mut target = target.clone();
        // A team joined (or left) meanwhile changes only their teams: read them again and remove
        // them with it. Any other change refuses the removal, which its caller decided on.
        for _ in 0..TEAM_RACE_ROUNDS {
            match self.remove_member_as_read(caller, &target, op).await {
                Err(StoreError::Refused(Refusal::Changed)) => {
                    let now = self
                        .get_item(
                            Membership::key(&target.org_id, &target.user_id),
                            "read a member",
                        )
                        .await?
                        .map(|item| Membership::from_item(&item))
                        .transpose()?;
                    match now {
                        Some(now)
                            if now.team_ids != target.team_ids && same_standing(&now, &target) =>
                        {
                            target = now
                        }
                        _ => return Err(StoreError::Refused(Refusal::Changed)),
                    }
                }
                done => return done,
            }
        }
        Err(StoreError::Refused(Refusal::Changed))
    }

    /// `remove_member` with the member's teams as read.
    async fn remove_member_as_read(
        &self,
        caller: &Membership,
        target: &Membership,
        op: &Op,
    ) -> StoreResult<()> {
        // Their team rows' roles: each custom team role loses a holder with its row.
        let rows = self
            .team_rows_of(&target.org_id, &target.user_id, &target.team_ids)
            .await?;
        let tx = self.removal(caller, target, (&target.team_ids, &rows), op)?;
        match tx.commit("remove a member").await {
            // Perhaps one of their teams is gone: data from before every join required a live
            // team and a team's deletion took each member out before dropping it.
            Err(StoreError::Refused(Refusal::Gone)) if !target.team_ids.is_empty() => {}
            done => return done,
        }
        let present: Vec<TeamId> = self
            .read_teams(&target.org_id, &target.team_ids)
            .await?
            .into_iter()
            .map(|team| team.team_id)
            .collect();
        if present.len() == target.team_ids.len() {
            return Err(StoreError::Refused(Refusal::Gone));
        }
        self.removal(caller, target, (&present, &rows), op)?
            .commit("remove a member")
            .await
    }

    /// The transaction of `remove_member`, taking the member off the count of each of `teams`
    /// (those of their teams that exist), and each custom team role of their team `rows` (as
    /// read: a row whose role changed since refuses the removal) off its holders.
    fn removal(
        &self,
        caller: &Membership,
        target: &Membership,
        (teams, rows): (&[TeamId], &[(TeamId, TeamMember)]),
        op: &Op,
    ) -> StoreResult<Tx<'_>> {
        let org = &target.org_id;
        let mut tx = Tx::new(self);
        tx.delete(
            Membership::key(org, &target.user_id),
            Some(unchanged_with_teams(target)),
        )?;
        if let Some(email) = &target.email {
            let marker = Membership::email_key(org, email);
            let theirs = Condition::new(
                Expr::new("attribute_not_exists(pk) OR user_id = :user")
                    .value(":user", s(target.user_id.as_str())),
                Refusal::Changed,
            );
            tx.delete(marker, Some(theirs))?;
        }
        for team in &target.team_ids {
            let row = rows.iter().find(|(id, _)| id == team).map(|(_, row)| row);
            let as_read =
                row.map(|row| Condition::new(holds_team_role(&row.role, true), Refusal::Changed));
            tx.delete(TeamMember::key(org, team, &target.user_id), as_read)?;
            if !teams.contains(team) {
                continue;
            }
            // A team being deleted too: its count goes down with its row, as in its sweep.
            let shrink = Expr::new("ADD member_count :minus_one").value(":minus_one", n(-1));
            tx.update(
                Team::key(org, team),
                shrink,
                Some(Condition::present(Refusal::Gone)),
            )?;
        }
        self.caller_still_holds(&mut tx, caller, target)?;
        // The member count goes to a tally (`tallies.rs`); the org item only if an owner leaves.
        let owners = owner_delta(target.standing(), None);
        if owners != 0 {
            count_owners(&mut tx, org, owners)?;
        }
        Tally::count(&mut tx, org, -1, 0)?;
        let team_roles = rows.iter().filter_map(|(_, row)| row.role.custom_key());
        let held = target.custom_role.iter().chain(team_roles);
        CustomRole::count_holders(&mut tx, org, held.map(|key| (key, -1)))?;
        let left = caller.user_id == target.user_id;
        let data = MemberRemoved {
            member: MemberFacts::of(target),
            role: target.role_name(),
            left,
        };
        history::record(
            &mut tx,
            &member_change(ChangeKind::MemberRemoved, target, data),
            op,
            self.retention,
        )?;
        Ok(tx)
    }

    /// The target becomes owner and the caller admin, in one step. If the caller is the
    /// organization's `counted_owner`, the count of owned organizations moves with it.
    pub async fn transfer_ownership(
        &self,
        caller: &Membership,
        target: &Membership,
        counted_owner: Option<&UserId>,
        op: &Op,
    ) -> StoreResult<()> {
        let org = &target.org_id;
        let after = transfer(caller, target, op.at);
        // Ownership replaces a custom role: `REMOVE` of an absent attribute is no change.
        let set_role = |member: &Membership| {
            Expr::new("SET #role = :role, updated_at = :at REMOVE custom_role")
                .name("#role", "role")
                .value(":role", s(member.role.as_str()))
                .value(":at", s(member.updated_at.to_rfc3339()))
        };
        let mut tx = Tx::new(self);
        tx.update(
            Membership::key(org, &target.user_id),
            set_role(&after.target),
            Some(unchanged(target)),
        )?;
        tx.update(
            Membership::key(org, &caller.user_id),
            set_role(&after.caller),
            Some(unchanged(caller)),
        )?;
        if let Some(role) = &target.custom_role {
            CustomRole::count_holder(&mut tx, org, role, -1)?;
        }
        if counted_owner == Some(&caller.user_id) {
            let recount =
                Expr::new("SET counted_owner = :to").value(":to", s(target.user_id.as_str()));
            let still_counted = Condition::new(
                Expr::new("#status = :active AND counted_owner = :from")
                    .name("#status", "status")
                    .value(":active", s(OrgStatus::Active.as_str()))
                    .value(":from", s(caller.user_id.as_str())),
                Refusal::Changed,
            );
            tx.update(Organization::key(org), recount, Some(still_counted))?;
            OwnedOrgs::release(&mut tx, &caller.user_id)?;
            OwnedOrgs::receive(&mut tx, &target.user_id)?;
        } else {
            count_owners(&mut tx, org, 0)?;
        }
        let data = OwnershipTransferred {
            org_id: org.clone(),
            from_user_id: caller.user_id.clone(),
            to_user_id: target.user_id.clone(),
        };
        let change = Change {
            kind: ChangeKind::OwnershipTransferred,
            subject: Subject::Org(org.clone()),
            target_type: "organization",
            target_id: org.to_string(),
            data: data.into(),
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
        let expr = Expr::new("#role = :caller_role AND #status = :caller_status")
            .name("#role", "role")
            .name("#status", "status")
            .value(":caller_role", s(caller.role.as_str()))
            .value(":caller_status", s(MemberStatus::Active.as_str()));
        let still = Condition::new(
            holds_custom_role(expr, caller.custom_role.as_ref(), ":caller_custom"),
            Refusal::Changed,
        );
        tx.check(Membership::key(&caller.org_id, &caller.user_id), still)
    }
}
