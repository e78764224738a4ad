//! Sending invitations: creating one, and resending it with a fresh token and deadline.

use crate::domain::payloads::InvitationSent;
use crate::domain::{Membership, Op, Organization, RoleName};

use crate::domain::Limits;
use crate::domain::{
    Change, ChangeKind, InvitationId, InvitationStatus, OrgId, OrgStatus, Role, Subject,
    TeamAssignment, TeamId, TeamRole, Timestamp, TokenHash, UserId,
};

use super::invitation::resend_attribute;
use super::mail_counter::{EmailCounter, FirstDayEmailCounter, PersonEmailCounter};
use super::token::TokenRecord;
use crate::domain::Invitation;
use crate::domain::entities::resend_day;
use crate::store::Store;
use crate::store::error::{Refusal, StoreResult};
use crate::store::history;
use crate::store::item::{Item, n, s};
use crate::store::keys;
use crate::store::tx::{Condition, Expr, Tx};

/// An invitation about to be made: the invitee already resolved to an address.
#[derive(Clone, Debug)]
pub struct NewInvitation<'a> {
    /// Lowercase.
    pub email: &'a str,
    pub invitee_user_id: Option<&'a UserId>,
    pub role: &'a RoleName,
    pub name: Option<&'a str>,
    pub note: Option<&'a str>,
    pub team_ids: &'a [TeamId],
    /// The team roles of `team_ids` (those not named: `member`).
    pub team_roles: &'a [TeamAssignment],
    pub token_hash: &'a TokenHash,
    pub expires_at: Timestamp,
    /// What the front end chose (`domain::invitation_link`); kept for resends.
    pub expires_in_days: Option<i64>,
    pub redirect_url: Option<&'a str>,
}

/// A new pending invitation and the items that hold it: the invitation (with its `gsi1` and
/// `gsi2` keys), its pending marker and its token item. `create_invitations` writes them in its
/// transaction; the benchmark fixtures write the very same items in bulk.
pub(in crate::store) fn pending_invitation_items(
    org_id: &OrgId,
    new: &NewInvitation<'_>,
    op: &Op,
) -> (Invitation, [Item; 3]) {
    let invitation = Invitation {
        org_id: org_id.clone(),
        invitation_id: InvitationId::generate(),
        email: new.email.to_owned(),
        invitee_user_id: new.invitee_user_id.cloned(),
        role: match new.role {
            RoleName::System(role) => *role,
            RoleName::Custom(_) => Role::Member,
        },
        custom_role: match new.role {
            RoleName::System(_) => None,
            RoleName::Custom(key) => Some(key.clone()),
        },
        name: new.name.map(str::to_owned),
        note: new.note.map(str::to_owned),
        team_ids: new.team_ids.to_vec(),
        team_roles: new
            .team_roles
            .iter()
            .filter(|a| a.role != TeamRole::Member)
            .cloned()
            .collect(),
        status: InvitationStatus::Pending,
        token_hash: new.token_hash.clone(),
        expires_at: new.expires_at,
        invited_by: op.actor.clone(),
        created_at: op.at,
        sent_at: op.at,
        updated_at: op.at,
        resends: Vec::new(),
        expires_in_days: new.expires_in_days,
        redirect_url: new.redirect_url.map(str::to_owned),
        delivery: None,
    };
    let token = TokenRecord::to_item(new.token_hash, org_id, &invitation.invitation_id, op.at);
    let items = [invitation.to_item(), invitation.pending_marker(), token];
    (invitation, items)
}

fn sent_change(invitation: &Invitation, resent: bool) -> Change {
    Change {
        kind: ChangeKind::InvitationSent,
        subject: Subject::Org(invitation.org_id.clone()),
        target_type: "invitation",
        target_id: invitation.invitation_id.to_string(),
        data: InvitationSent::of(invitation, resent).into(),
    }
}

/// Adds to `tx` the count of `emails` invitation emails against every allowance: the
/// organization's day, its first day if it is in it, and the day of the person sending.
fn count_emails(
    tx: &mut Tx<'_>,
    org: &Organization,
    limits: &Limits,
    op: &Op,
    emails: i64,
) -> StoreResult<()> {
    EmailCounter::count_many(tx, &org.org_id, limits, op.at, emails)?;
    FirstDayEmailCounter::count(tx, &org.org_id, org.created_at, limits, op.at, emails)?;
    PersonEmailCounter::count(tx, &op.actor, limits, op.at, emails)
}

impl Store {
    /// Creates a request's invitations in one transaction: per invitee the item, its pending
    /// marker and token, a check that the address is not a member's, an audit entry and an
    /// event; once for all, the counters that enforce the limits. One transaction, not one per
    /// invitee, so that a request of ten takes one turn on the org item and the email counter,
    /// which every request inviting into the organization writes.
    ///
    /// An invitee refused by their own conditions (already pending, already a member) is left
    /// out and the rest are tried again; the answer has one result per invitee, in order. A
    /// refusal of the counters (a limit reached meanwhile, the organization gone) refuses them
    /// all. The limits' bound is computed from the tallies as read (`tallies.rs`).
    pub async fn create_invitations(
        &self,
        org: &Organization,
        news: &[NewInvitation<'_>],
        limits: &Limits,
        op: &Op,
    ) -> StoreResult<Vec<Result<Invitation, Refusal>>> {
        let mut results: Vec<Option<Result<Invitation, Refusal>>> = vec![None; news.len()];
        loop {
            let left: Vec<usize> = (0..news.len()).filter(|i| results[*i].is_none()).collect();
            if left.is_empty() {
                break;
            }
            let mut tx = Tx::new(self);
            // Which invitee each item of the transaction belongs to (`None`: the counters).
            let mut owners: Vec<Option<usize>> = Vec::new();
            let mut made = Vec::new();
            for &i in &left {
                let invitation = self.add_invitation(&mut tx, &org.org_id, &news[i], op)?;
                owners.resize(tx.len(), Some(i));
                made.push((i, invitation));
            }
            self.count_invitations(&mut tx, org, left.len() as i64, limits, op)?;
            owners.resize(tx.len(), None);
            // Every invitee's result, should this transaction commit.
            let outcome: Vec<Result<Invitation, Refusal>> = (0..news.len())
                .filter_map(|i| match made.iter().find(|(j, _)| *j == i) {
                    Some((_, invitation)) => Some(Ok(invitation.clone())),
                    None => results[i].clone(),
                })
                .collect();
            tx.made(&outcome);
            match tx.commit_or_refusals("create invitations").await? {
                Ok(()) => {
                    for (i, invitation) in made {
                        results[i] = Some(Ok(invitation));
                    }
                }
                Err(refused) => {
                    for (position, refusal) in refused {
                        match owners.get(position).copied().flatten() {
                            Some(i) => results[i] = Some(Err(refusal)),
                            None => left.iter().for_each(|&i| results[i] = Some(Err(refusal))),
                        }
                    }
                }
            }
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// Adds one invitee's items to `tx`: the invitation, its marker and token (each new), the
    /// check that the address is not a member's, and the audit entry and event.
    fn add_invitation(
        &self,
        tx: &mut Tx<'_>,
        org_id: &OrgId,
        new: &NewInvitation<'_>,
        op: &Op,
    ) -> StoreResult<Invitation> {
        let (invitation, [item, pending, token]) = pending_invitation_items(org_id, new, op);
        tx.put(item, Some(Condition::absent(Refusal::AlreadyExists)))?;
        tx.put(pending, Some(Condition::absent(Refusal::AlreadyPending)))?;
        tx.put(token, Some(Condition::absent(Refusal::AlreadyExists)))?;
        let member_marker = match new.invitee_user_id {
            Some(user) => Membership::key(org_id, user),
            None => Membership::email_key(org_id, new.email),
        };
        tx.check(member_marker, Condition::absent(Refusal::AlreadyMember))?;
        history::record(tx, &sent_change(&invitation, false), op, self.retention)?;
        Ok(invitation)
    }

    /// Adds to `tx` the count of `count` new invitations: on the org item (only while active,
    /// within the room the limits leave) and on today's email counter.
    fn count_invitations(
        &self,
        tx: &mut Tx<'_>,
        org: &Organization,
        count: i64,
        limits: &Limits,
        op: &Op,
    ) -> StoreResult<()> {
        let (room, limit) = limits.invitation_room(org.member_count, org.pending_invitations);
        // The org item's own count may grow by the room the tallies as read leave: they can
        // only have freed more seats since.
        let bound = org.pending_on_item + room - count;
        let update = Expr::new("ADD pending_count :count").value(":count", n(count));
        let room = Condition::new(
            Expr::new("#status = :active AND (attribute_not_exists(pending_count) OR pending_count <= :bound)")
                .name("#status", "status")
                .value(":active", s(OrgStatus::Active.as_str()))
                .value(":bound", n(bound)),
            Refusal::Limit(limit),
        );
        tx.update(Organization::key(&org.org_id), update, Some(room))?;
        count_emails(tx, org, limits, op, count)
    }

    /// A fresh token and a fresh lifetime; the old token is kept only to say it was replaced.
    pub async fn resend_invitation(
        &self,
        org: &Organization,
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
             gsi2sk = :gsi2sk, #day = if_not_exists(#day, :zero) + :one \
             REMOVE delivery_status, delivery_rank, delivery_at, bounce_type, bounce_sub_type",
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
        tx.update(Invitation::key(org_id, id), update, Some(allowed))?;
        let retire = Expr::new("SET replaced_at = :at, expire_at = :expire")
            .value(":at", s(op.at.to_rfc3339()))
            .value(
                ":expire",
                n(op.at
                    .plus_seconds(self.retention.dead_invitation_seconds)
                    .unix_seconds()),
            );
        tx.update(TokenRecord::key(&invitation.token_hash), retire, None)?;
        tx.put(
            TokenRecord::to_item(new_hash, org_id, id, op.at),
            Some(Condition::absent(Refusal::AlreadyExists)),
        )?;
        tx.check(Organization::key(org_id), Organization::is_active())?;
        count_emails(&mut tx, org, limits, op, 1)?;
        let mut resent = invitation.clone();
        resent.token_hash = new_hash.clone();
        resent.expires_at = expires_at;
        resent.sent_at = op.at;
        resent.updated_at = op.at;
        // A new email: what SES said of the last one no longer applies.
        resent.delivery = None;
        history::record(&mut tx, &sent_change(&resent, true), op, self.retention)?;
        tx.commit("resend an invitation").await?;
        let day = resend_day(op.at);
        let count = invitation.resends_on(op.at) + 1;
        resent.resends.retain(|(d, _)| *d != day);
        resent.resends.push((day, count));
        Ok(resent)
    }
}
