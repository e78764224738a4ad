//! Reading invitations: one by id, one by its token, an organization's, and those addressed to
//! a person.

use crate::domain::{InvitationId, InvitationStatus, OrgId, OrgStatus, Timestamp, TokenHash};
use crate::domain::{Organization, Team};

use super::token::TokenRecord;
use crate::domain::Invitation;
use crate::store::error::StoreResult;
use crate::store::item::{Reader, s};
use crate::store::keys;
use crate::store::query::{Decode, Page, PartitionQuery, pk_after, sk_after};
use crate::store::tallies::Tally;
use crate::store::tx::Expr;
use crate::store::{Read, Store};

/// What a token leads to.
#[derive(Clone, Debug)]
pub struct TokenMatch {
    pub invitation: Invitation,
    pub org: Organization,
    /// A resend gave the invitation a newer token.
    pub replaced: bool,
}

impl Store {
    pub async fn get_invitation(
        &self,
        org: &OrgId,
        id: &InvitationId,
    ) -> StoreResult<Option<Invitation>> {
        self.get_item(Invitation::key(org, id), "read an invitation")
            .await?
            .as_ref()
            .map(Invitation::from_item)
            .transpose()
    }

    /// The invitation and organization a token leads to, read consistently.
    pub async fn invitation_by_token(&self, hash: &TokenHash) -> StoreResult<Option<TokenMatch>> {
        let Some(token) = self
            .get_item(TokenRecord::key(hash), "read an invitation token")
            .await?
        else {
            return Ok(None);
        };
        let token = TokenRecord::from_item(&token)?;
        let (org_id, id) = (&token.org_id, &token.invitation_id);
        let mut keys = vec![Invitation::key(org_id, id), Organization::key(org_id)];
        // The tallies too: the answer to an accept shows the organization's member count.
        keys.extend(Tally::keys(org_id));
        let read = self
            .batch_get(
                keys,
                Read::Consistent,
                "read an invitation and its organization",
            )
            .await?;
        let (mut invitation, mut org) = (None, None);
        for item in &read {
            let sk = Reader(item).s(keys::SK)?;
            if sk == keys::ORG_SK {
                let mut found = Organization::from_item(item)?;
                Tally::fold(&mut found, &read)?;
                org = Some(found);
            } else if sk.starts_with(keys::INVITATION_PREFIX) {
                invitation = Some(Invitation::from_item(item)?);
            }
        }
        Ok(invitation.zip(org).map(|(invitation, org)| TokenMatch {
            invitation,
            org,
            replaced: token.replaced,
        }))
    }

    /// An organization's invitations by id, optionally of one (effective) status.
    pub async fn list_invitations(
        &self,
        org: &OrgId,
        status: Option<InvitationStatus>,
        now: Timestamp,
        limit: usize,
        after: Option<&InvitationId>,
    ) -> StoreResult<Page<Invitation, InvitationId>> {
        // Filters on the status a person sees: a pending invitation past its deadline is expired.
        let now_value = || s(now.to_rfc3339());
        let filter = status.map(|status| {
            let by_status = Expr::default()
                .name("#status", "status")
                .value(":status", s(status.as_str()));
            match status {
                InvitationStatus::Pending => by_status
                    .append("#status = :status AND expires_at > :now")
                    .value(":now", now_value()),
                InvitationStatus::Expired => by_status
                    .append("#status = :status OR (#status = :pending AND expires_at <= :now)")
                    .value(":pending", s(InvitationStatus::Pending.as_str()))
                    .value(":now", now_value()),
                _ => by_status.append("#status = :status"),
            }
        });
        self.org_invitations(org, filter, limit, after, "list invitations")
            .await
    }

    /// The pending, unexpired invitations that name `team`, by id. A filtered Query of the
    /// organization's invitations: no index holds invitations by team (an invitation names up
    /// to ten teams, and an index key holds one value), and the filter reads no more than the
    /// pending listing does.
    pub async fn list_team_invitations(
        &self,
        team: &Team,
        now: Timestamp,
        limit: usize,
        after: Option<&InvitationId>,
    ) -> StoreResult<Page<Invitation, InvitationId>> {
        let org = &team.org_id;
        let filter =
            Expr::new("#status = :status AND expires_at > :now AND contains(team_ids, :team)")
                .name("#status", "status")
                .value(":status", s(InvitationStatus::Pending.as_str()))
                .value(":now", s(now.to_rfc3339()))
                .value(":team", s(team.team_id.as_str()));
        self.org_invitations(org, Some(filter), limit, after, "list a team's invitations")
            .await
    }

    /// A page of the organization's invitations by id, those that pass `filter`.
    async fn org_invitations(
        &self,
        org: &OrgId,
        filter: Option<Expr>,
        limit: usize,
        after: Option<&InvitationId>,
        context: &'static str,
    ) -> StoreResult<Page<Invitation, InvitationId>> {
        let pk = keys::org_pk(org);
        self.list(
            PartitionQuery {
                index: None,
                pk: (keys::PK, &pk),
                sk_prefix: Some((keys::SK, keys::INVITATION_PREFIX)),
                descending: false,
            },
            filter,
            limit,
            after.map(|id| Invitation::key(org, id)),
            Decode {
                item: Invitation::from_item,
                position: |i| i.invitation_id.clone(),
                key_position: |key| {
                    sk_after(key, keys::INVITATION_PREFIX).and_then(InvitationId::parse)
                },
            },
            context,
        )
        .await
    }

    /// Pending, unexpired invitations addressed to `email`, across organizations.
    pub async fn list_invitations_for_email(
        &self,
        email: &str,
        now: Timestamp,
        limit: usize,
        after: Option<(&OrgId, &InvitationId)>,
    ) -> StoreResult<Page<(Invitation, Organization), (OrgId, InvitationId)>> {
        let gsi1pk = keys::invitee_gsi1pk(email);
        let filter = Expr::new("expires_at > :now").value(":now", s(now.to_rfc3339()));
        let Page {
            items: invitations,
            next,
        } = self
            .list(
                PartitionQuery {
                    index: Some(keys::GSI1),
                    pk: (keys::GSI1PK, &gsi1pk),
                    sk_prefix: None,
                    descending: false,
                },
                Some(filter),
                limit,
                after.map(|(org, id)| Invitation::by_invitee_key(email, org, id)),
                Decode {
                    item: Invitation::from_item,
                    position: |i| (i.org_id.clone(), i.invitation_id.clone()),
                    key_position: |key| {
                        let org = OrgId::parse(pk_after(key, keys::ORG_PREFIX)?)?;
                        let id = InvitationId::parse(sk_after(key, keys::INVITATION_PREFIX)?)?;
                        Some((org, id))
                    },
                },
                "list a person's invitations",
            )
            .await?;
        let mut orgs = Vec::new();
        if !invitations.is_empty() {
            let mut seen = Vec::new();
            let mut keys = Vec::new();
            for invitation in &invitations {
                if !seen.contains(&invitation.org_id) {
                    seen.push(invitation.org_id.clone());
                    keys.push(Organization::key(&invitation.org_id));
                }
            }
            for item in self
                .batch_get(keys, Read::Eventual, "read invitations' organizations")
                .await?
            {
                orgs.push(Organization::from_item(&item)?);
            }
        }
        let items = invitations
            .into_iter()
            .filter_map(|inv| {
                let org = orgs
                    .iter()
                    .find(|o| o.org_id == inv.org_id && o.status == OrgStatus::Active)?;
                Some((inv, org.clone()))
            })
            .collect();
        Ok(Page { items, next })
    }
}
