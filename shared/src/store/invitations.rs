//! Invitations: creating and resending them, and the reads that find them.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

use crate::app::Limits;
use crate::domain::{
    Change, ChangeKind, Handle, InvitationId, InvitationStatus, OrgId, OrgStatus, Role, Subject,
    TeamId, Timestamp, TokenHash, UserId,
};

use super::error::{LimitKind, Refusal, StoreError, StoreResult};
use super::history;
use super::item::{Item, ItemBuilder, Reader, n, s};
use super::keys::{self, INVITATION_TOKEN_SK, ORG_SK};
use super::model::{Invitation, Op, Organization, Page, User, resend_attribute};
use super::orgs::{member_key, org_key};
use super::query::PartitionQuery;
use super::teams::Team;
use super::tx::{Condition, Expr, Tx};
use super::users::handle_key;
use super::{Read, Store};

/// An invitation about to be made: the invitee already resolved to an address.
#[derive(Clone, Debug)]
pub struct NewInvitation<'a> {
    /// Lowercase.
    pub email: &'a str,
    pub invitee_user_id: Option<&'a UserId>,
    pub role: Role,
    pub name: Option<&'a str>,
    pub note: Option<&'a str>,
    pub team_ids: &'a [TeamId],
    pub token_hash: &'a TokenHash,
    pub expires_at: Timestamp,
}

/// What a token leads to.
#[derive(Clone, Debug)]
pub struct TokenMatch {
    pub invitation: Invitation,
    pub org: Organization,
    /// A resend gave the invitation a newer token.
    pub replaced: bool,
}

pub(crate) fn invitation_key(org: &OrgId, invitation: &InvitationId) -> Item {
    ItemBuilder::key(keys::org_pk(org), keys::invitation_sk(invitation)).build()
}

pub(crate) fn token_key(hash: &TokenHash) -> Item {
    ItemBuilder::key(
        keys::invitation_token_pk(hash.as_str()),
        INVITATION_TOKEN_SK,
    )
    .build()
}

pub(crate) fn pending_key(org: &OrgId, email: &str) -> Item {
    ItemBuilder::key(keys::org_pk(org), keys::pending_sk(email)).build()
}

fn token_item(hash: &TokenHash, org: &OrgId, invitation: &InvitationId, at: Timestamp) -> Item {
    ItemBuilder::key(
        keys::invitation_token_pk(hash.as_str()),
        INVITATION_TOKEN_SK,
    )
    .s("entity", "invitation_token")
    .s("org_id", org.as_str())
    .s("invitation_id", invitation.as_str())
    .s("created_at", at.to_rfc3339())
    .build()
}

/// A new pending invitation and the items that hold it: the invitation (with its `gsi1` and
/// `gsi2` keys), its pending marker and its token item. `create_invitation` writes them in its
/// transaction; the benchmark fixtures write the very same items in bulk.
pub(crate) fn pending_invitation_items(
    org_id: &OrgId,
    new: &NewInvitation<'_>,
    op: &Op,
) -> (Invitation, [Item; 3]) {
    let invitation = Invitation {
        org_id: org_id.clone(),
        invitation_id: InvitationId::generate(),
        email: new.email.to_owned(),
        invitee_user_id: new.invitee_user_id.cloned(),
        role: new.role,
        name: new.name.map(str::to_owned),
        note: new.note.map(str::to_owned),
        team_ids: new.team_ids.to_vec(),
        status: InvitationStatus::Pending,
        token_hash: new.token_hash.clone(),
        expires_at: new.expires_at,
        invited_by: op.actor.clone(),
        created_at: op.at,
        sent_at: op.at,
        updated_at: op.at,
        resends: Vec::new(),
    };
    let id = &invitation.invitation_id;
    let (gsi1pk, gsi1sk) = keys::invitee_gsi1(new.email, org_id, id);
    let (gsi2pk, gsi2sk) = keys::expiry_gsi2(org_id, id, new.expires_at);
    let mut item = ItemBuilder::key(keys::org_pk(org_id), keys::invitation_sk(id))
        .s("entity", "invitation")
        .s("org_id", org_id.as_str())
        .s("invitation_id", id.as_str())
        .s("email", new.email)
        .opt_s("invitee_user_id", new.invitee_user_id.map(UserId::as_str))
        .s("role", new.role.as_str())
        .opt_s("name", new.name)
        .opt_s("note", new.note)
        .s("status", InvitationStatus::Pending.as_str())
        .s("token_hash", new.token_hash.as_str())
        .s("expires_at", new.expires_at.to_rfc3339())
        .s("invited_by", op.actor.as_str())
        .s("created_at", op.at.to_rfc3339())
        .s("sent_at", op.at.to_rfc3339())
        .s("updated_at", op.at.to_rfc3339())
        .s(keys::GSI1PK, gsi1pk)
        .s(keys::GSI1SK, gsi1sk)
        .s(keys::GSI2PK, gsi2pk)
        .s(keys::GSI2SK, gsi2sk)
        .build();
    if !new.team_ids.is_empty() {
        let teams = new.team_ids.iter().map(ToString::to_string).collect();
        item.insert("team_ids".into(), AttributeValue::Ss(teams));
    }
    let pending = ItemBuilder::key(keys::org_pk(org_id), keys::pending_sk(new.email))
        .s("entity", "pending_invitation")
        .s("invitation_id", id.as_str())
        .build();
    let token = token_item(new.token_hash, org_id, id, op.at);
    (invitation, [item, pending, token])
}

/// The counter of the organization's invitation emails on the UTC day of `at`.
pub(crate) fn mail_counter_key(org: &OrgId, at: Timestamp) -> Item {
    ItemBuilder::key(
        keys::org_pk(org),
        keys::mail_counter_sk(&at.to_rfc3339()[..10]),
    )
    .build()
}

/// Counts one invitation email against the organization's allowance for the UTC day of `at`.
fn count_email(tx: &mut Tx<'_>, org: &OrgId, limits: &Limits, at: Timestamp) -> StoreResult<()> {
    let key = mail_counter_key(org, at);
    let update = Expr::new("SET entity = :entity, expire_at = :expire ADD #sent :one")
        .name("#sent", "sent")
        .value(":entity", s("mail_counter"))
        .value(":expire", n(at.plus_seconds(2 * 86_400).unix_seconds()))
        .value(":one", n(1));
    let under_limit = Condition::new(
        Expr::new("attribute_not_exists(#sent) OR #sent < :max")
            .value(":max", n(limits.invitation_emails_per_org_per_day)),
        Refusal::Limit(LimitKind::InvitationEmails),
    );
    tx.update(key, update, Some(under_limit))
}

fn sent_change(invitation: &Invitation, resent: bool) -> Change {
    Change {
        kind: ChangeKind::InvitationSent,
        subject: Subject::Org(invitation.org_id.clone()),
        target_type: "invitation",
        target_id: invitation.invitation_id.to_string(),
        data: json!({
            "org_id": invitation.org_id.as_str(),
            "invitation_id": invitation.invitation_id.as_str(),
            "email": invitation.email,
            "invitee_user_id": invitation.invitee_user_id.as_ref().map(UserId::as_str),
            "role": invitation.role.as_str(),
            "expires_at": invitation.expires_at.to_rfc3339(),
            "resent": resent,
        }),
    }
}

impl Store {
    /// Creates one invitation: the item, its pending marker and token, the counters that
    /// enforce the limits, audit entry and event, in one transaction. Refuses an address
    /// with a pending invitation, and a member, by conditions on marker items.
    pub async fn create_invitation(
        &self,
        org: &Organization,
        new: &NewInvitation<'_>,
        limits: &Limits,
        op: &Op,
    ) -> StoreResult<Invitation> {
        let org_id = &org.org_id;
        let (invitation, [item, pending, token]) = pending_invitation_items(org_id, new, op);
        let mut tx = Tx::new(self);
        tx.put(item, Some(Condition::absent(Refusal::AlreadyExists)))?;
        tx.put(pending, Some(Condition::absent(Refusal::AlreadyPending)))?;
        tx.put(token, Some(Condition::absent(Refusal::AlreadyExists)))?;
        let member_marker = match new.invitee_user_id {
            Some(user) => member_key(org_id, user),
            None => {
                ItemBuilder::key(keys::org_pk(org_id), keys::member_email_sk(new.email)).build()
            }
        };
        tx.check(member_marker, Condition::absent(Refusal::AlreadyMember))?;
        // The org item's condition also stands for "still active"; the handler checked that a
        // moment ago, so a failure here is the limit.
        let count = Expr::new("ADD pending_count :one").value(":one", n(1));
        let room = Condition::new(
            Expr::new("#status = :active AND (attribute_not_exists(pending_count) OR pending_count < :max)")
                .name("#status", "status")
                .value(":active", s(OrgStatus::Active.as_str()))
                .value(":max", n(limits.pending_invitations_per_org)),
            Refusal::Limit(LimitKind::PendingInvitations),
        );
        tx.update(org_key(org_id), count, Some(room))?;
        count_email(&mut tx, org_id, limits, op.at)?;
        history::record(
            &mut tx,
            &sent_change(&invitation, false),
            op,
            self.retention,
        )?;
        tx.commit("create an invitation").await?;
        Ok(invitation)
    }

    /// A fresh token and a fresh lifetime; the old token is kept only to say it was replaced.
    pub async fn resend_invitation(
        &self,
        invitation: &Invitation,
        new_hash: &TokenHash,
        expires_at: Timestamp,
        limits: &Limits,
        op: &Op,
    ) -> StoreResult<Invitation> {
        let org_id = &invitation.org_id;
        let id = &invitation.invitation_id;
        let (_, gsi2sk) = keys::expiry_gsi2(org_id, id, expires_at);
        let update = Expr::new(
            "SET token_hash = :hash, expires_at = :expires, sent_at = :at, updated_at = :at, \
             gsi2sk = :gsi2sk, #day = if_not_exists(#day, :zero) + :one",
        )
        .name("#day", &resend_attribute(op.at))
        .value(":hash", s(new_hash.as_str()))
        .value(":expires", s(expires_at.to_rfc3339()))
        .value(":at", s(op.at.to_rfc3339()))
        .value(":gsi2sk", s(gsi2sk))
        .value(":zero", n(0))
        .value(":one", n(1));
        let allowed = Condition::new(
            Expr::new("#status = :pending AND token_hash = :old AND (attribute_not_exists(#day) OR #day < :max)")
                .name("#status", "status")
                .value(":pending", s(InvitationStatus::Pending.as_str()))
                .value(":old", s(invitation.token_hash.as_str()))
                .value(":max", n(limits.resends_per_invitation_per_day)),
            Refusal::Changed,
        );
        let mut tx = Tx::new(self);
        tx.update(invitation_key(org_id, id), update, Some(allowed))?;
        let retire = Expr::new("SET replaced_at = :at, expire_at = :expire")
            .value(":at", s(op.at.to_rfc3339()))
            .value(
                ":expire",
                n(op.at
                    .plus_seconds(self.retention.dead_invitation_seconds)
                    .unix_seconds()),
            );
        tx.update(token_key(&invitation.token_hash), retire, None)?;
        tx.put(
            token_item(new_hash, org_id, id, op.at),
            Some(Condition::absent(Refusal::AlreadyExists)),
        )?;
        let active = Condition::new(
            Expr::new("#status = :active")
                .name("#status", "status")
                .value(":active", s(OrgStatus::Active.as_str())),
            Refusal::Gone,
        );
        tx.check(org_key(org_id), active)?;
        count_email(&mut tx, org_id, limits, op.at)?;
        let mut resent = invitation.clone();
        resent.token_hash = new_hash.clone();
        resent.expires_at = expires_at;
        resent.sent_at = op.at;
        resent.updated_at = op.at;
        history::record(&mut tx, &sent_change(&resent, true), op, self.retention)?;
        tx.commit("resend an invitation").await?;
        let day = resend_attribute(op.at)["resends_".len()..].to_owned();
        let count = invitation.resends_on(op.at) + 1;
        resent.resends.retain(|(d, _)| *d != day);
        resent.resends.push((day, count));
        Ok(resent)
    }

    pub async fn get_invitation(
        &self,
        org: &OrgId,
        id: &InvitationId,
    ) -> StoreResult<Option<Invitation>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(invitation_key(org, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("read an invitation", e))?;
        out.item().map(Invitation::from_item).transpose()
    }

    /// The invitation and organization a token leads to, read consistently.
    pub async fn invitation_by_token(&self, hash: &TokenHash) -> StoreResult<Option<TokenMatch>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(token_key(hash)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("read an invitation token", e))?;
        let Some(token) = out.item() else {
            return Ok(None);
        };
        let r = Reader(token);
        let org_id = r.parsed("org_id", OrgId::parse)?;
        let id = r.parsed("invitation_id", InvitationId::parse)?;
        let replaced = r.opt_s("replaced_at")?.is_some();
        let keys = vec![invitation_key(&org_id, &id), org_key(&org_id)];
        let (mut invitation, mut org) = (None, None);
        for item in self
            .batch_get(
                keys,
                Read::Consistent,
                "read an invitation and its organization",
            )
            .await?
        {
            match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) if sk == ORG_SK => {
                    org = Some(Organization::from_item(&item)?)
                }
                _ => invitation = Some(Invitation::from_item(&item)?),
            }
        }
        Ok(invitation.zip(org).map(|(invitation, org)| TokenMatch {
            invitation,
            org,
            replaced,
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
        let start = after.map(|id| invitation_key(org, id));
        let pk = keys::org_pk(org);
        let items = self
            .query_filtered(
                PartitionQuery {
                    index: None,
                    pk: (keys::PK, &pk),
                    sk_prefix: Some((keys::SK, keys::INVITATION_PREFIX)),
                    descending: false,
                },
                filter,
                limit,
                start,
                "list invitations",
            )
            .await?;
        let invitations = items
            .0
            .iter()
            .map(Invitation::from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        let next = items
            .1
            .then(|| invitations.last().map(|i| i.invitation_id.clone()))
            .flatten();
        Ok(Page {
            items: invitations,
            next,
        })
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
        let pk = keys::org_pk(org);
        let (items, more) = self
            .query_filtered(
                PartitionQuery {
                    index: None,
                    pk: (keys::PK, &pk),
                    sk_prefix: Some((keys::SK, keys::INVITATION_PREFIX)),
                    descending: false,
                },
                Some(filter),
                limit,
                after.map(|id| invitation_key(org, id)),
                "list a team's invitations",
            )
            .await?;
        let invitations = items
            .iter()
            .map(Invitation::from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        let next = more
            .then(|| invitations.last().map(|i| i.invitation_id.clone()))
            .flatten();
        Ok(Page {
            items: invitations,
            next,
        })
    }

    /// Pending, unexpired invitations addressed to `email`, across organizations.
    pub async fn list_invitations_for_email(
        &self,
        email: &str,
        now: Timestamp,
        limit: usize,
        after: Option<(&OrgId, &InvitationId)>,
    ) -> StoreResult<Page<(Invitation, Organization), (OrgId, InvitationId)>> {
        let probe = (OrgId::generate(), InvitationId::generate());
        let (gsi1pk, _) = keys::invitee_gsi1(email, &probe.0, &probe.1);
        let start = after.map(|(org, id)| {
            let (pk, sk) = keys::invitee_gsi1(email, org, id);
            let mut key = invitation_key(org, id);
            key.insert(keys::GSI1PK.into(), s(pk));
            key.insert(keys::GSI1SK.into(), s(sk));
            key
        });
        let filter = Expr::new("expires_at > :now").value(":now", s(now.to_rfc3339()));
        let (items, more) = self
            .query_filtered(
                PartitionQuery {
                    index: Some(keys::GSI1),
                    pk: (keys::GSI1PK, &gsi1pk),
                    sk_prefix: None,
                    descending: false,
                },
                Some(filter),
                limit,
                start,
                "list a person's invitations",
            )
            .await?;
        let invitations = items
            .iter()
            .map(Invitation::from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        let next = more
            .then(|| {
                invitations
                    .last()
                    .map(|i| (i.org_id.clone(), i.invitation_id.clone()))
            })
            .flatten();
        let mut orgs = Vec::new();
        if !invitations.is_empty() {
            let mut seen = Vec::new();
            let mut keys = Vec::new();
            for invitation in &invitations {
                if !seen.contains(&invitation.org_id) {
                    seen.push(invitation.org_id.clone());
                    keys.push(org_key(&invitation.org_id));
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

    /// The user who holds `handle`, if a user does.
    pub async fn user_by_handle(&self, handle: &Handle) -> StoreResult<Option<User>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(handle_key(handle)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("read a handle", e))?;
        let Some(marker) = out.item() else {
            return Ok(None);
        };
        let r = Reader(marker);
        if r.s("owner_type")? != "user" {
            return Ok(None);
        }
        match UserId::parse(&r.s("owner_id")?) {
            Some(user) => self.get_user(&user).await,
            None => Ok(None),
        }
    }

    /// Which of `teams` exist in the organization.
    pub async fn existing_teams(&self, org: &OrgId, teams: &[TeamId]) -> StoreResult<Vec<TeamId>> {
        if teams.is_empty() {
            return Ok(Vec::new());
        }
        // BatchGetItem refuses a key named twice, and two invitees may name the same team.
        let mut unique: Vec<&TeamId> = teams.iter().collect();
        unique.sort_unstable();
        unique.dedup();
        let keys = unique
            .into_iter()
            .map(|team| ItemBuilder::key(keys::org_pk(org), keys::team_sk(team)).build())
            .collect();
        let found = self.batch_get(keys, Read::Consistent, "read teams").await?;
        Ok(found
            .iter()
            .filter_map(|item| Reader(item).opt_s("team_id").ok().flatten())
            .filter_map(|id| TeamId::parse(&id))
            .collect())
    }
}
