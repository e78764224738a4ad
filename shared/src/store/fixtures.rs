//! Fixtures for tests and benchmarks, compiled only with the `fixtures` feature (the deployed
//! functions never enable it): the items the store's own transactions write, of exactly their
//! shape and with the organization's counts kept true, put straight into the table without
//! those transactions' checks, audit entries or events.

use crate::domain::{Membership, Op, Organization, Team, TeamMember};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

use crate::domain::{MemberStatus, OrgId, Role, TeamId, Timestamp, UserId};

use super::Store;
use super::error::{StoreError, StoreResult};
use super::invitations::{NewInvitation, pending_invitation_items};
use super::item::{Item, ItemBuilder, n};
use super::keys;
use super::tallies::Tally;
use crate::domain::Invitation;

/// A member to seed into an organization.
pub struct SeedMember<'a> {
    pub user: &'a UserId,
    /// Verified; its member-email marker is written with it.
    pub email: &'a str,
    pub role: Role,
    pub status: MemberStatus,
}

impl Store {
    /// Puts pending invitations into the organization as `create_invitation` leaves them (the
    /// invitation, its pending marker, its token) and adds them to its pending count.
    pub async fn seed_pending_invitations(
        &self,
        org: &OrgId,
        new: &[NewInvitation<'_>],
        op: &Op,
    ) -> StoreResult<Vec<Invitation>> {
        const CONTEXT: &str = "seed pending invitations";
        let mut invitations = Vec::with_capacity(new.len());
        let mut items = Vec::with_capacity(new.len() * 3);
        for one in new {
            let (invitation, made) = pending_invitation_items(org, one, op);
            invitations.push(invitation);
            items.extend(made);
        }
        self.put_all(items, CONTEXT).await?;
        self.add_to_counts(
            org,
            "ADD pending_count :added",
            &[(":added", new.len())],
            CONTEXT,
        )
        .await?;
        Ok(invitations)
    }

    /// Puts members into the organization as accepting an invitation leaves them (the
    /// membership and its member-email marker, in no team) and adds them to its counts.
    pub async fn seed_members(
        &self,
        org: &OrgId,
        members: &[SeedMember<'_>],
        at: Timestamp,
    ) -> StoreResult<()> {
        self.seed_members_in(org, members, None, at).await
    }

    /// `seed_members`, each member also in `team` (which must exist) as adding them to it
    /// leaves them: a member row each, the team in their `team_ids`, and in its count.
    pub async fn seed_team_members(
        &self,
        org: &OrgId,
        members: &[SeedMember<'_>],
        team: &TeamId,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.seed_members_in(org, members, Some(team), at).await?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Team::key(org, team)))
            .update_expression("ADD member_count :added")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":added", n(members.len()))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("seed team members", e))?;
        Ok(())
    }

    async fn seed_members_in(
        &self,
        org: &OrgId,
        members: &[SeedMember<'_>],
        team: Option<&TeamId>,
        at: Timestamp,
    ) -> StoreResult<()> {
        const CONTEXT: &str = "seed members";
        let mut items = Vec::with_capacity(members.len() * 3);
        for member in members {
            items.push(
                Membership {
                    org_id: org.clone(),
                    user_id: member.user.clone(),
                    role: member.role,
                    custom_role: None,
                    custom_grants: None,
                    status: member.status,
                    email: Some(member.email.to_owned()),
                    team_ids: team.into_iter().cloned().collect(),
                    metadata: Default::default(),
                    joined_at: at,
                    updated_at: at,
                }
                .to_item(),
            );
            items.push(Membership::email_marker(org, member.email, member.user));
            if let Some(team) = team {
                let row = TeamMember {
                    user_id: member.user.clone(),
                    role: crate::domain::TeamRole::Member,
                    added_at: at,
                };
                items.push(row.to_item(org, team));
            }
        }
        self.put_all(items, CONTEXT).await?;
        let owners = members
            .iter()
            .filter(|m| m.role == Role::Owner && m.status == MemberStatus::Active)
            .count();
        self.add_to_counts(
            org,
            "ADD member_count :members, owner_count :owners",
            &[(":members", members.len()), (":owners", owners)],
            CONTEXT,
        )
        .await
    }

    /// Puts empty teams named `names` into the organization, as creating them leaves them (the
    /// team and its name marker).
    pub async fn seed_teams(
        &self,
        org: &OrgId,
        names: &[String],
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut items = Vec::with_capacity(names.len() * 2);
        for name in names {
            let team = Team {
                org_id: org.clone(),
                team_id: TeamId::generate(),
                name: name.clone(),
                member_count: 0,
                created_at: at,
                active: true,
            };
            items.push(Team::name_marker(org, name, &team.team_id));
            items.push(team.to_item());
        }
        self.put_all(items, "seed teams").await
    }

    /// Plants an event record of the organization whose `detail` is `detail` as it is, JSON or
    /// not (what a faulty writer could leave for the publisher), or too large to publish.
    pub async fn plant_event_record(
        &self,
        org: &OrgId,
        at: Timestamp,
        event_id: &str,
        detail_type: &str,
        detail: &str,
    ) -> StoreResult<()> {
        let subject = crate::domain::Subject::Org(org.clone());
        let item = ItemBuilder::key(keys::event_pk(&subject), keys::timeline_sk(at, event_id))
            .s("entity", "event")
            .s("event_id", event_id)
            .s("detail_type", detail_type)
            .s("detail", detail)
            .s("at", at.to_rfc3339())
            .build();
        self.put_all(vec![item], "plant an event record").await
    }

    async fn put_all(&self, items: Vec<Item>, context: &'static str) -> StoreResult<()> {
        let mut requests = Vec::with_capacity(items.len());
        for item in items {
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(|e| StoreError::Dynamo {
                    context,
                    source: Box::new(e),
                })?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        self.batch_write(requests, context).await
    }

    async fn add_to_counts(
        &self,
        org: &OrgId,
        update: &str,
        values: &[(&str, usize)],
        context: &'static str,
    ) -> StoreResult<()> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Organization::key(org)))
            .update_expression(update);
        for (name, value) in values {
            request = request.expression_attribute_values(*name, n(value));
        }
        request
            .send()
            .await
            .map_err(|e| StoreError::from_sdk(context, e))?;
        Ok(())
    }
}

impl Organization {
    /// The key of the organization's item, for a test that must hold or read that very item
    /// (the conflict tests hold it with a transaction of their own).
    pub fn key_of(org: &OrgId) -> Item {
        Self::key(org)
    }
}

impl Organization {
    /// The keys of the organization's tallies (its count shards), for a test that must hold
    /// some of them.
    pub fn tally_keys_of(org: &OrgId) -> Vec<Item> {
        Tally::keys(org).collect()
    }
}

/// What the partition keys of invitation tokens start with, for a fault that throttles just
/// those partitions.
pub const INVITATION_TOKEN_PARTITIONS: &str = keys::INVITATION_TOKEN_PK_PREFIX;

impl Team {
    /// The key of a team's item, for a test that must hold, change or drop that very item (as
    /// data older than the store's present conditions could have left it).
    pub fn key_of(org: &OrgId, team: &TeamId) -> Item {
        Self::key(org, team)
    }
}
