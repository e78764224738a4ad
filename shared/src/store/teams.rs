//! Teams inside an organization, and who is in them. A team membership is stored twice, as a
//! `TEAMMEMBER#{team}#{user}` item (to list a team) and in the member's `team_ids` set (so that
//! removing a member removes them from every team in the same transaction); both change
//! together.

use crate::domain::payloads::{TeamFacts, TeamMemberChanged, TeamRenamed, TeamRoleChanged};
use crate::domain::{
    CustomRole, MAX_TEAMS_PER_MEMBER, Membership, Op, Organization, Team, TeamMember, TeamRole,
};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{
    Change, ChangeKind, DisplayName, MemberStatus, OrgId, Payload, Subject, TeamId, UserId,
};

use super::backoff::Backoff;
use super::error::{LimitKind, Refusal, StoreError, StoreResult};
use super::history;
use super::item::{Item, ItemBuilder, Reader, n, s};
use super::keys;
use super::query::{Decode, Page, PartitionQuery, sk_after};
use super::tx::{Condition, Expr, Tx};
use super::{Read, Store};

/// A sweep takes this many members out of a team being deleted in one transaction: with their
/// rows, their memberships and the team's count, within a transaction's 100 items.
const SWEEP_PAGE: usize = 45;

/// A team being deleted carries this status; a live one has none.
const DELETING: &str = "deleting";

/// The team member row's attribute for the team role; absent on rows older than team roles,
/// which hold `member`.
const TEAM_ROLE: &str = "team_role";

impl Team {
    pub(super) fn key(org: &OrgId, team: &TeamId) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::team_sk(team)).build()
    }

    pub(super) fn to_item(&self) -> Item {
        ItemBuilder::key(keys::org_pk(&self.org_id), keys::team_sk(&self.team_id))
            .s("entity", "team")
            .s("org_id", self.org_id.as_str())
            .s("team_id", self.team_id.as_str())
            .s("name", &self.name)
            .n("member_count", self.member_count)
            .s("created_at", self.created_at.to_rfc3339())
            .opt_s("status", (!self.active).then_some(DELETING))
            .build()
    }

    pub(super) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            team_id: r.parsed("team_id", TeamId::parse)?,
            name: r.s("name")?,
            member_count: r.opt_n("member_count")?.unwrap_or(0),
            created_at: r.time("created_at")?,
            active: r.opt_s("status")?.as_deref() != Some(DELETING),
        })
    }

    /// The key of the marker that makes a team name unique in its organization.
    fn name_key(org: &OrgId, name: &str) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::team_name_sk(name)).build()
    }

    pub(super) fn name_marker(org: &OrgId, name: &str, team: &TeamId) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::team_name_sk(name))
            .s("entity", "team_name")
            .s("team_id", team.as_str())
            .build()
    }
}

impl TeamMember {
    /// The key of a team's row for one of its members.
    pub(super) fn key(org: &OrgId, team: &TeamId, user: &UserId) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::team_member_sk(team, user)).build()
    }

    pub(super) fn to_item(&self, org: &OrgId, team: &TeamId) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::team_member_sk(team, &self.user_id))
            .s("entity", "team_member")
            .s("org_id", org.as_str())
            .s("team_id", team.as_str())
            .s("user_id", self.user_id.as_str())
            .s(TEAM_ROLE, self.role.as_str())
            .s("added_at", self.added_at.to_rfc3339())
            .build()
    }

    pub(super) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        let role = match r.opt_s(TEAM_ROLE)? {
            Some(raw) => TeamRole::parse(&raw).ok_or_else(|| {
                StoreError::Corrupt(format!("attribute {TEAM_ROLE} has value {raw:?}"))
            })?,
            None => TeamRole::Member,
        };
        Ok(Self {
            user_id: r.parsed("user_id", UserId::parse)?,
            role,
            added_at: r.time("added_at")?,
        })
    }
}

/// The team member row holds `role` still (a row without the attribute holds `member`): what
/// every write that moves the holders of the role it had requires. With `or_absent`, a row
/// that is gone passes too.
pub(super) fn holds_team_role(role: &TeamRole, or_absent: bool) -> Expr {
    let absent = if or_absent {
        "attribute_not_exists(pk) OR "
    } else {
        "attribute_exists(pk) AND "
    };
    let holds = if *role == TeamRole::Member {
        "(attribute_not_exists(#team_role) OR #team_role = :old_team_role)"
    } else {
        "#team_role = :old_team_role"
    };
    Expr::new(format!("{absent}{holds}"))
        .name("#team_role", TEAM_ROLE)
        .value(":old_team_role", s(role.as_str()))
}

/// The team exists and is not being deleted: what putting a member in it requires (here and
/// in an accept), so that nothing joins a team whose members are being swept; and what taking
/// one out by hand or beginning its deletion require.
pub(super) fn team_is_live() -> Condition {
    Condition::new(
        Expr::new(
            "attribute_exists(pk) AND (attribute_not_exists(#status) OR #status <> :deleting)",
        )
        .name("#status", "status")
        .value(":deleting", s(DELETING)),
        Refusal::Gone,
    )
}

/// The team's deletion has begun and it still exists: what a sweep's steps require.
fn team_is_deleting() -> Condition {
    Condition::new(
        Expr::new("#status = :deleting")
            .name("#status", "status")
            .value(":deleting", s(DELETING)),
        Refusal::Changed,
    )
}

/// How many of `rows` (at most `SWEEP_PAGE`) one sweep transaction takes: two items a row and
/// the team's, plus one for each distinct custom team role they hold, within 100.
fn sweep_batch(rows: &[TeamMember]) -> usize {
    let mut roles: Vec<&crate::domain::RoleKey> = Vec::new();
    let mut taken = 0;
    for row in rows.iter().take(SWEEP_PAGE) {
        let new_role = row.role.custom_key().filter(|key| !roles.contains(key));
        let items = 2 * (taken + 1) + 1 + roles.len() + usize::from(new_role.is_some());
        if items > 100 {
            break;
        }
        roles.extend(new_role);
        taken += 1;
    }
    taken
}

/// What a step of a team's sweep leaves to do.
enum Swept {
    More,
    Done,
}

fn one_team(team: &TeamId) -> AttributeValue {
    AttributeValue::Ss(vec![team.to_string()])
}

fn team_change(kind: ChangeKind, team: &Team, data: impl Into<Payload>) -> Change {
    Change {
        kind,
        subject: Subject::Org(team.org_id.clone()),
        target_type: "team",
        target_id: team.team_id.to_string(),
        data: data.into(),
    }
}

impl Store {
    pub async fn create_team(&self, org: &OrgId, name: &DisplayName, op: &Op) -> StoreResult<Team> {
        let team = Team {
            org_id: org.clone(),
            team_id: TeamId::generate(),
            name: name.as_str().to_owned(),
            member_count: 0,
            created_at: op.at,
            active: true,
        };
        let mut tx = Tx::new(self);
        tx.put(
            team.to_item(),
            Some(Condition::absent(Refusal::AlreadyExists)),
        )?;
        let marker = Team::name_marker(org, &team.name, &team.team_id);
        tx.put(marker, Some(Condition::absent(Refusal::NameTaken)))?;
        tx.check(Organization::key(org), Organization::is_active())?;
        history::record(
            &mut tx,
            &team_change(ChangeKind::TeamCreated, &team, TeamFacts::of(&team)),
            op,
            self.retention,
        )?;
        tx.made(&team);
        tx.commit("create a team").await?;
        Ok(team)
    }

    pub async fn list_teams(
        &self,
        org: &OrgId,
        limit: usize,
        after: Option<&TeamId>,
    ) -> StoreResult<Page<Team, TeamId>> {
        let pk = keys::org_pk(org);
        let live = Expr::new("attribute_not_exists(#status) OR #status <> :deleting")
            .name("#status", "status")
            .value(":deleting", s(DELETING));
        self.list(
            PartitionQuery {
                index: None,
                pk: (keys::PK, &pk),
                sk_prefix: Some((keys::SK, keys::TEAM_PREFIX)),
                descending: false,
            },
            Some(live),
            limit,
            after.map(|team| Team::key(org, team)),
            Decode {
                item: Team::from_item,
                position: |t| t.team_id.clone(),
                key_position: |key| sk_after(key, keys::TEAM_PREFIX).and_then(TeamId::parse),
            },
            "list teams",
        )
        .await
    }

    /// Which of `teams` exist in the organization and are not being deleted: those an
    /// invitation may name, and an accept may join.
    pub async fn live_teams(&self, org: &OrgId, teams: &[TeamId]) -> StoreResult<Vec<TeamId>> {
        let found = self.read_teams(org, teams).await?;
        Ok(found
            .into_iter()
            .filter(|team| team.active)
            .map(|team| team.team_id)
            .collect())
    }

    /// The items of those of `teams` that exist (live or being deleted), read consistently.
    pub(super) async fn read_teams(&self, org: &OrgId, teams: &[TeamId]) -> StoreResult<Vec<Team>> {
        if teams.is_empty() {
            return Ok(Vec::new());
        }
        // BatchGetItem refuses a key named twice, and two invitees may name the same team.
        let mut unique: Vec<&TeamId> = teams.iter().collect();
        unique.sort_unstable();
        unique.dedup();
        let keys = unique
            .into_iter()
            .map(|team| Team::key(org, team))
            .collect();
        let found = self.batch_get(keys, Read::Consistent, "read teams").await?;
        found.iter().map(Team::from_item).collect()
    }

    /// Renames; the new name's marker is taken and the old one freed in the same step.
    pub async fn rename_team(&self, team: &Team, name: &DisplayName, op: &Op) -> StoreResult<Team> {
        let org = &team.org_id;
        let mut tx = Tx::new(self);
        let same_marker = keys::team_name_sk(name.as_str()) == keys::team_name_sk(&team.name);
        if !same_marker {
            let marker = Team::name_marker(org, name.as_str(), &team.team_id);
            tx.put(marker, Some(Condition::absent(Refusal::NameTaken)))?;
            tx.delete(Team::name_key(org, &team.name), None)?;
        }
        let update = Expr::new("SET #name = :name")
            .name("#name", "name")
            .value(":name", s(name.as_str()));
        let unchanged = Condition::new(
            Expr::new("#name = :old AND attribute_not_exists(#status)")
                .name("#status", "status")
                .value(":old", s(&team.name)),
            Refusal::Changed,
        );
        tx.update(Team::key(org, &team.team_id), update, Some(unchanged))?;
        let renamed = Team {
            name: name.as_str().to_owned(),
            ..team.clone()
        };
        let data = TeamRenamed {
            team: TeamFacts::of(&renamed),
            old_name: team.name.clone(),
        };
        history::record(
            &mut tx,
            &team_change(ChangeKind::TeamRenamed, &renamed, data),
            op,
            self.retention,
        )?;
        tx.made(&renamed);
        tx.commit("rename a team").await?;
        Ok(renamed)
    }

    /// The caller's role in a team, if they are in it: what the gate reads, with one GetItem,
    /// for a member whose organization role does not hold what a team route needs.
    pub async fn team_role(
        &self,
        org: &OrgId,
        team: &TeamId,
        user: &UserId,
    ) -> StoreResult<Option<TeamRole>> {
        let key = TeamMember::key(org, team, user);
        let found = self.get_item(key, "read the caller's team role").await?;
        Ok(found
            .as_ref()
            .map(TeamMember::from_item)
            .transpose()?
            .map(|row| row.role))
    }

    /// A member's rows in `teams` (those of their `team_ids`), with their team roles, in one
    /// consistent BatchGetItem, by team id.
    pub async fn team_rows_of(
        &self,
        org: &OrgId,
        user: &UserId,
        teams: &[TeamId],
    ) -> StoreResult<Vec<(TeamId, TeamMember)>> {
        let mut unique: Vec<&TeamId> = teams.iter().collect();
        unique.sort_unstable();
        unique.dedup();
        if unique.is_empty() {
            return Ok(Vec::new());
        }
        let keys = unique
            .into_iter()
            .map(|team| TeamMember::key(org, team, user))
            .collect();
        let found = self
            .batch_get(keys, Read::Consistent, "read a member's team roles")
            .await?;
        let mut rows = found
            .iter()
            .map(|item| {
                let team = Reader(item).parsed("team_id", TeamId::parse)?;
                Ok((team, TeamMember::from_item(item)?))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(rows)
    }

    /// Puts an active member in a team, with a team role.
    pub async fn add_team_member(
        &self,
        team: &Team,
        member: &Membership,
        role: TeamRole,
        op: &Op,
    ) -> StoreResult<()> {
        let org = &team.org_id;
        let mut tx = Tx::new(self);
        if let Some(key) = role.custom_key() {
            CustomRole::count_holder(&mut tx, org, key, 1)?;
        }
        let row = TeamMember {
            user_id: member.user_id.clone(),
            role,
            added_at: op.at,
        };
        tx.put(
            row.to_item(org, &team.team_id),
            Some(Condition::absent(Refusal::AlreadyMember)),
        )?;
        let grow = Expr::new("ADD member_count :one").value(":one", n(1));
        tx.update(Team::key(org, &team.team_id), grow, Some(team_is_live()))?;
        let join = Expr::new("ADD team_ids :team").value(":team", one_team(&team.team_id));
        let room = Condition::new(
            Expr::new(
                "#status = :active AND (attribute_not_exists(team_ids) OR size(team_ids) < :max)",
            )
            .name("#status", "status")
            .value(":active", s(MemberStatus::Active.as_str()))
            .value(":max", n(MAX_TEAMS_PER_MEMBER)),
            Refusal::Limit(LimitKind::TeamsPerMember),
        );
        tx.update(Membership::key(org, &member.user_id), join, Some(room))?;
        let data = TeamMemberChanged {
            team: TeamFacts::of(team),
            user_id: member.user_id.clone(),
            role: row.role.clone(),
        };
        history::record(
            &mut tx,
            &team_change(ChangeKind::TeamMemberAdded, team, data),
            op,
            self.retention,
        )?;
        match tx.commit("add a team member").await {
            // The membership's one condition holds its room and its being active: a member
            // removed or deactivated meanwhile is gone, not full.
            Err(StoreError::Refused(Refusal::Limit(LimitKind::TeamsPerMember))) => {
                let now = self
                    .get_item(Membership::key(org, &member.user_id), "read a member")
                    .await?
                    .map(|item| Membership::from_item(&item))
                    .transpose()?;
                match now {
                    Some(m) if m.status == MemberStatus::Active => Err(StoreError::Refused(
                        Refusal::Limit(LimitKind::TeamsPerMember),
                    )),
                    _ => Err(StoreError::Refused(Refusal::Gone)),
                }
            }
            done => done,
        }
    }

    /// Sets a team member's team role, on the condition that it is still the one read (`row`):
    /// a concurrent change or removal is refused rather than overwritten.
    pub async fn set_team_role(
        &self,
        team: &Team,
        row: &TeamMember,
        role: TeamRole,
        op: &Op,
    ) -> StoreResult<TeamMember> {
        let org = &team.org_id;
        let mut tx = Tx::new(self);
        let set = Expr::new("SET #role = :role")
            .name("#role", TEAM_ROLE)
            .value(":role", s(role.as_str()));
        // Rows older than team roles have no attribute: they hold `member`.
        let unchanged = holds_team_role(&row.role, false);
        tx.update(
            TeamMember::key(org, &team.team_id, &row.user_id),
            set,
            Some(Condition::new(unchanged, Refusal::Gone)),
        )?;
        tx.check(Team::key(org, &team.team_id), team_is_live())?;
        let moved = [(row.role.custom_key(), -1), (role.custom_key(), 1)];
        let moved = moved
            .into_iter()
            .filter_map(|(key, d)| key.map(|key| (key, d)));
        CustomRole::count_holders(&mut tx, org, moved)?;
        let changed = TeamMember {
            role: role.clone(),
            ..row.clone()
        };
        let data = TeamRoleChanged {
            team: TeamFacts::of(team),
            user_id: row.user_id.clone(),
            role,
            previous_role: row.role.clone(),
        };
        history::record(
            &mut tx,
            &team_change(ChangeKind::TeamRoleChanged, team, data),
            op,
            self.retention,
        )?;
        tx.made(&changed);
        tx.commit("change a team role").await?;
        Ok(changed)
    }

    /// Takes a member out of a team, on the condition that their row is still the one read
    /// (`row`): its custom team role, if any, loses a holder.
    pub async fn remove_team_member(
        &self,
        team: &Team,
        row: &TeamMember,
        op: &Op,
    ) -> StoreResult<()> {
        let org = &team.org_id;
        let user = &row.user_id;
        let mut tx = Tx::new(self);
        tx.delete(
            TeamMember::key(org, &team.team_id, user),
            Some(Condition::new(
                holds_team_role(&row.role, false),
                Refusal::Gone,
            )),
        )?;
        if let Some(key) = row.role.custom_key() {
            CustomRole::count_holder(&mut tx, org, key, -1)?;
        }
        let shrink = Expr::new("ADD member_count :minus_one").value(":minus_one", n(-1));
        tx.update(Team::key(org, &team.team_id), shrink, Some(team_is_live()))?;
        let leave = Expr::new("DELETE team_ids :team").value(":team", one_team(&team.team_id));
        tx.update(
            Membership::key(org, user),
            leave,
            Some(Condition::present(Refusal::Gone)),
        )?;
        let data = TeamMemberChanged {
            team: TeamFacts::of(team),
            user_id: user.clone(),
            role: row.role.clone(),
        };
        history::record(
            &mut tx,
            &team_change(ChangeKind::TeamMemberRemoved, team, data),
            op,
            self.retention,
        )?;
        tx.commit("remove a team member").await
    }

    pub async fn list_team_members(
        &self,
        team: &Team,
        limit: usize,
        after: Option<&UserId>,
    ) -> StoreResult<Page<TeamMember, UserId>> {
        let pk = keys::org_pk(&team.org_id);
        let prefix = keys::team_members_prefix(&team.team_id);
        self.list(
            PartitionQuery {
                index: None,
                pk: (keys::PK, &pk),
                sk_prefix: Some((keys::SK, &prefix)),
                descending: false,
            },
            None,
            limit,
            after.map(|user| TeamMember::key(&team.org_id, &team.team_id, user)),
            Decode {
                item: TeamMember::from_item,
                position: |m| m.user_id.clone(),
                key_position: |key| {
                    let (_team, user) = sk_after(key, keys::TEAM_MEMBER_PREFIX)?.split_once('#')?;
                    UserId::parse(user)
                },
            },
            "list team members",
        )
        .await
    }

    /// Deletes a team. An empty one goes in one transaction; otherwise in steps a repeated
    /// request finishes: mark it deleting (freeing its name, recording the change), take every
    /// member out of it in batches, then drop the team item.
    pub async fn delete_team(&self, team: &Team, op: &Op) -> StoreResult<()> {
        if team.active && team.member_count == 0 {
            match self.delete_empty_team(team, op).await {
                // Someone joined since the read: the steps below take them out again.
                Err(StoreError::Refused(Refusal::Changed)) => {}
                done => return done,
            }
        }
        let org = &team.org_id;
        if team.active {
            let mut tx = Tx::new(self);
            let mark = Expr::new("SET #status = :deleting")
                .name("#status", "status")
                .value(":deleting", s(DELETING));
            tx.update(Team::key(org, &team.team_id), mark, Some(team_is_live()))?;
            tx.delete(Team::name_key(org, &team.name), None)?;
            history::record(
                &mut tx,
                &team_change(ChangeKind::TeamDeleted, team, TeamFacts::of(team)),
                op,
                self.retention,
            )?;
            match tx.commit("begin deleting a team").await {
                // Another request began (or finished) the deletion since the read: the sweep
                // below finishes it, or finds it done.
                Ok(()) | Err(StoreError::Refused(Refusal::Gone)) => {}
                Err(err) => return Err(err),
            }
        }
        self.sweep_team(team).await
    }

    /// Takes every member out of a team being deleted, a page at a time, each page read
    /// consistently and its rows taken off the team's count in the same transaction; then drops
    /// the team item, on the condition that its count says no member is left. Nothing joins a
    /// team being deleted (every join requires a live team), so its rows only go. A refused
    /// step (someone else took a member out meanwhile) reads again, after a pause, within the
    /// same budget as a conflicted transaction.
    async fn sweep_team(&self, team: &Team) -> StoreResult<()> {
        let mut refusals = Backoff::for_request();
        loop {
            let rows = self.first_team_members(team, SWEEP_PAGE).await?;
            let step = if rows.is_empty() {
                self.drop_swept_team(team).await
            } else {
                self.take_out_of_team(team, &rows).await
            };
            match step {
                Ok(Swept::Done) => return Ok(()),
                Ok(Swept::More) => refusals = Backoff::for_request(),
                Err(StoreError::Refused(refusal)) => {
                    if !refusals.wait().await {
                        return Err(StoreError::Contended {
                            context: "delete a team",
                            source: Box::new(refusal),
                        });
                    }
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// The first `limit` of a team's member rows, as every write acknowledged so far left them.
    async fn first_team_members(&self, team: &Team, limit: usize) -> StoreResult<Vec<TeamMember>> {
        let pk = keys::org_pk(&team.org_id);
        let prefix = keys::team_members_prefix(&team.team_id);
        let query = PartitionQuery {
            index: None,
            pk: (keys::PK, &pk),
            sk_prefix: Some((keys::SK, &prefix)),
            descending: false,
        };
        self.query_consistent(query, limit, "sweep a team's members")
            .await?
            .iter()
            .map(TeamMember::from_item)
            .collect()
    }

    /// One transaction takes `rows` out of a team being deleted: each row, the team from each
    /// membership's `team_ids`, and as many from the team's count. A row whose membership is
    /// gone (a member removed meanwhile, or a row left behind by older code) goes without it.
    async fn take_out_of_team(&self, team: &Team, rows: &[TeamMember]) -> StoreResult<Swept> {
        let rows = &rows[..sweep_batch(rows)];
        let tx = self.sweep_tx(team, rows, None)?;
        match tx.commit("take members out of a deleted team").await {
            Err(StoreError::Refused(Refusal::Gone)) => {}
            done => return done.map(|()| Swept::More),
        }
        let org = &team.org_id;
        let keys = rows
            .iter()
            .map(|row| Membership::key(org, &row.user_id))
            .collect();
        let members: Vec<UserId> = self
            .batch_get(keys, Read::Consistent, "read a team's members")
            .await?
            .iter()
            .map(|item| Membership::from_item(item).map(|m| m.user_id))
            .collect::<StoreResult<_>>()?;
        let tx = self.sweep_tx(team, rows, Some(&members))?;
        tx.commit("take members out of a deleted team").await?;
        Ok(Swept::More)
    }

    /// The transaction of `take_out_of_team`; `members` (when known) are the rows' users whose
    /// membership exists, otherwise every row's is expected to.
    fn sweep_tx(
        &self,
        team: &Team,
        rows: &[TeamMember],
        members: Option<&[UserId]>,
    ) -> StoreResult<Tx<'_>> {
        let org = &team.org_id;
        let mut tx = Tx::new(self);
        let shrink = Expr::new("ADD member_count :minus").value(":minus", n(-(rows.len() as i64)));
        tx.update(
            Team::key(org, &team.team_id),
            shrink,
            Some(team_is_deleting()),
        )?;
        let held = rows.iter().filter_map(|row| row.role.custom_key());
        CustomRole::count_holders(&mut tx, org, held.map(|key| (key, -1)))?;
        for row in rows {
            tx.delete(
                TeamMember::key(org, &team.team_id, &row.user_id),
                Some(Condition::new(
                    holds_team_role(&row.role, false),
                    Refusal::Changed,
                )),
            )?;
            if members.is_some_and(|members| !members.contains(&row.user_id)) {
                continue;
            }
            let leave = Expr::new("DELETE team_ids :team").value(":team", one_team(&team.team_id));
            tx.update(
                Membership::key(org, &row.user_id),
                leave,
                Some(Condition::present(Refusal::Gone)),
            )?;
        }
        Ok(tx)
    }

    /// Drops the item of a team being deleted once a sweep found no member row: only if its
    /// count is 0, so a member who joined after the sweep's read (possible only with a write
    /// that did not require a live team) is never left without their team.
    async fn drop_swept_team(&self, team: &Team) -> StoreResult<Swept> {
        let empty = Condition::new(
            Expr::new("#status = :deleting AND member_count = :zero")
                .name("#status", "status")
                .value(":deleting", s(DELETING))
                .value(":zero", n(0)),
            Refusal::Changed,
        );
        let mut tx = Tx::new(self);
        tx.delete(Team::key(&team.org_id, &team.team_id), Some(empty))?;
        match tx.commit("finish deleting a team").await {
            Ok(()) => Ok(Swept::Done),
            Err(StoreError::Refused(Refusal::Changed)) => self.recount_swept_team(team).await,
            Err(err) => Err(err),
        }
    }

    /// After the final delete was refused: the team is gone already (another request finished
    /// it), or a member row is left (the sweep goes on), or the count is off the rows. Sweeps
    /// of older code did not take their rows off the count; such a count is set to 0, on the
    /// condition that it is still the one read before a consistent read found no row: rows
    /// only leave a team being deleted, and each leaves with its count, so none is left.
    async fn recount_swept_team(&self, team: &Team) -> StoreResult<Swept> {
        let key = Team::key(&team.org_id, &team.team_id);
        let Some(item) = self.get_item(key.clone(), "read a deleted team").await? else {
            return Ok(Swept::Done);
        };
        let count = Team::from_item(&item)?.member_count;
        if count == 0 || !self.first_team_members(team, 1).await?.is_empty() {
            return Err(StoreError::Refused(Refusal::Changed));
        }
        let reset = Expr::new("SET member_count = :zero").value(":zero", n(0));
        let unchanged = Condition::new(
            Expr::new("#status = :deleting AND member_count = :seen")
                .name("#status", "status")
                .value(":deleting", s(DELETING))
                .value(":seen", n(count)),
            Refusal::Changed,
        );
        let mut tx = Tx::new(self);
        tx.update(key, reset, Some(unchanged))?;
        tx.commit("recount a deleted team").await?;
        Ok(Swept::More)
    }

    /// The team item, its name marker, audit entry and event in one transaction, on the
    /// condition that the team is live and has no member: its count goes up with every
    /// `TEAMMEMBER#` item put, so there is none to find.
    async fn delete_empty_team(&self, team: &Team, op: &Op) -> StoreResult<()> {
        let org = &team.org_id;
        let empty = Condition::new(
            Expr::new(
                "attribute_exists(pk) AND attribute_not_exists(#status) AND member_count = :zero",
            )
            .name("#status", "status")
            .value(":zero", n(0)),
            Refusal::Changed,
        );
        let mut tx = Tx::new(self);
        tx.delete(Team::key(org, &team.team_id), Some(empty))?;
        tx.delete(Team::name_key(org, &team.name), None)?;
        history::record(
            &mut tx,
            &team_change(ChangeKind::TeamDeleted, team, TeamFacts::of(team)),
            op,
            self.retention,
        )?;
        tx.commit("delete an empty team").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RoleKey, Timestamp};

    fn row(n: usize, role: TeamRole) -> TeamMember {
        TeamMember {
            user_id: UserId::parse(&format!("user-{n}")).unwrap(),
            role,
            added_at: Timestamp::parse("2026-12-01T00:00:00Z").unwrap(),
        }
    }

    fn custom(n: usize) -> TeamRole {
        TeamRole::Custom(RoleKey::parse(&format!("role-{n}")).unwrap())
    }

    #[test]
    fn a_sweep_takes_a_full_page_unless_its_custom_roles_would_pass_100_items() {
        let plain: Vec<_> = (0..60).map(|n| row(n, TeamRole::Maintainer)).collect();
        assert_eq!(sweep_batch(&plain), SWEEP_PAGE);
        // One shared custom role costs one item: 45 rows, 91 items and the role.
        let shared: Vec<_> = (0..60).map(|n| row(n, custom(1))).collect();
        assert_eq!(sweep_batch(&shared), SWEEP_PAGE);
        // Each its own: three items a row, and the team's: 33 rows.
        let distinct: Vec<_> = (0..60).map(|n| row(n, custom(n))).collect();
        let taken = sweep_batch(&distinct);
        assert_eq!(taken, 33);
        assert!(2 * taken + 1 + taken <= 100);
        assert_eq!(sweep_batch(&[]), 0);
    }

    #[test]
    fn a_team_role_is_held_as_read_or_absent_as_member() {
        let member = holds_team_role(&TeamRole::Member, false).text;
        assert_eq!(
            member,
            "attribute_exists(pk) AND \
             (attribute_not_exists(#team_role) OR #team_role = :old_team_role)"
        );
        let custom = holds_team_role(&custom(1), true).text;
        assert_eq!(
            custom,
            "attribute_not_exists(pk) OR #team_role = :old_team_role"
        );
    }
}
