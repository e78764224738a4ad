//! The ends of a pending invitation: accepted (the invitee becomes a member), declined, or
//! revoked (here), or expired (`expiry.rs`). Each is one transaction, conditioned on the
//! invitation still being pending, so however many requests race, exactly one of them ends it.

use crate::domain::Payload;
use crate::domain::payloads::{InvitationAccepted, InvitationFacts, MemberFacts, MemberJoined};
use crate::domain::{
    Membership, Op, Organization, Team, TeamAssignment, TeamMember, TeamRole, role_in,
};

use crate::domain::CustomRole;
use crate::domain::ProviderName;
use crate::domain::{
    Change, ChangeKind, EmailDomain, EndingDeadline, InvitationId, InvitationStatus, MemberStatus,
    OrgId, Role, RoleName, Subject, TeamId, UserId,
};

use super::token::TokenRecord;
use crate::domain::Invitation;
use crate::store::Store;
use crate::store::error::{Refusal, StoreError, StoreResult};
use crate::store::history;
use crate::store::item::{n, s};
use crate::store::known_addresses::KnownAddress;
use crate::store::tallies::Tally;
use crate::store::teams::team_is_live;
use crate::store::tx::{Condition, Expr, Tx};

/// The accepting user, as the verified claims name them.
#[derive(Clone, Debug)]
pub struct Joiner<'a> {
    pub user_id: &'a UserId,
    /// Their verified email, kept as the member-email marker so later invitations to it are
    /// refused as "already a member".
    pub verified_email: Option<&'a str>,
}

pub(in crate::store) fn change(
    kind: ChangeKind,
    invitation: &Invitation,
    data: impl Into<Payload>,
) -> Change {
    Change {
        kind,
        subject: Subject::Org(invitation.org_id.clone()),
        target_type: "invitation",
        target_id: invitation.invitation_id.to_string(),
        data: data.into(),
    }
}

/// Adds a new member's items to `tx`: the membership and member-email marker (each new, else
/// `AlreadyMember`), their rows in `teams` (live ones only) with the team roles `team_roles`
/// give them (`member` where it names none), and an owner's count on the org item. The seat is
/// the caller's to take: an invitation held one; a join takes one.
pub(in crate::store) fn put_member(
    tx: &mut Tx<'_>,
    org_id: &OrgId,
    joiner: &Joiner<'_>,
    role: &RoleName,
    (teams, team_roles): (&[TeamId], &[TeamAssignment]),
    op: &Op,
) -> StoreResult<Membership> {
    let (system, custom) = match role {
        RoleName::System(role) => (*role, None),
        RoleName::Custom(key) => (Role::Member, Some(key.clone())),
    };
    let membership = Membership {
        custom_role: custom,
        custom_grants: None,
        org_id: org_id.clone(),
        user_id: joiner.user_id.clone(),
        role: system,
        status: MemberStatus::Active,
        // Set exactly when the member-email marker below is written.
        email: joiner.verified_email.map(str::to_owned),
        team_ids: teams.to_vec(),
        metadata: Default::default(),
        joined_at: op.at,
        updated_at: op.at,
    };
    tx.put(
        membership.to_item(),
        Some(Condition::absent(Refusal::AlreadyMember)),
    )?;
    if let Some(email) = joiner.verified_email {
        let marker = Membership::email_marker(org_id, email, joiner.user_id);
        tx.put(marker, Some(Condition::absent(Refusal::AlreadyMember)))?;
        // Whoever joins with a verified address has an account: a later invitation to it is
        // the plain notification, not the welcome.
        KnownAddress::add(tx, email, joiner.user_id)?;
    }
    // The organization role and each custom team role held count on their role items.
    let team_roles: Vec<_> = teams.iter().map(|team| role_in(team_roles, team)).collect();
    let held = membership
        .custom_role
        .iter()
        .chain(team_roles.iter().filter_map(TeamRole::custom_key))
        .map(|key| (key, 1));
    CustomRole::count_holders(tx, org_id, held)?;
    // An owner counts among the organization's owners at once.
    if system == Role::Owner {
        let owners = Expr::new("ADD owner_count :one").value(":one", n(1));
        tx.update(
            Organization::key(org_id),
            owners,
            Some(Organization::is_active()),
        )?;
    }
    for (team, role) in teams.iter().zip(team_roles) {
        let row = TeamMember {
            user_id: joiner.user_id.clone(),
            role,
            added_at: op.at,
        };
        tx.put(row.to_item(org_id, team), None)?;
        let grow = Expr::new("ADD member_count :one").value(":one", n(1));
        // Never into a team being deleted: its sweep may have passed already.
        tx.update(Team::key(org_id, team), grow, Some(team_is_live()))?;
    }
    Ok(membership)
}

/// `MemberJoined`: through an invitation, or through a verified domain.
pub(in crate::store) fn joined_change(
    org_id: &OrgId,
    user_id: &UserId,
    role: &RoleName,
    (invitation, domain): (Option<&InvitationId>, Option<&EmailDomain>),
    teams: &[TeamId],
    identity_provider: Option<&ProviderName>,
) -> Change {
    Change {
        kind: ChangeKind::MemberJoined,
        subject: Subject::Org(org_id.clone()),
        target_type: "member",
        target_id: user_id.to_string(),
        data: MemberJoined {
            member: MemberFacts {
                org_id: org_id.clone(),
                user_id: user_id.clone(),
            },
            role: role.clone(),
            invitation_id: invitation.cloned(),
            domain: domain.cloned(),
            team_ids: teams.to_vec(),
            identity_provider: identity_provider.cloned(),
        }
        .into(),
    }
}

impl Store {
    /// Adds the ending of `invitation` to `tx`: its new status (only if still pending and its
    /// deadline is as ending in that status requires, `InvitationStatus::ending_deadline`), its
    /// markers gone, its TTL set.
    pub(in crate::store) fn end_invitation(
        &self,
        tx: &mut Tx<'_>,
        invitation: &Invitation,
        status: InvitationStatus,
        op: &Op,
    ) -> StoreResult<()> {
        let deadline = status
            .ending_deadline()
            .ok_or(StoreError::Refused(Refusal::NotPending))?;
        let shed_at = n(op
            .at
            .plus_seconds(self.retention.dead_invitation_seconds)
            .unix_seconds());
        let update = Expr::new(
            "SET #status = :status, updated_at = :at, ended_by = :actor, expire_at = :shed \
             REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk",
        )
        .name("#status", "status")
        .value(":status", s(status.as_str()))
        .value(":at", s(op.at.to_rfc3339()))
        .value(":actor", s(op.actor.as_str()))
        .value(":shed", shed_at.clone());
        let mut still_pending = Expr::new("#status = :pending")
            .value(":pending", s(InvitationStatus::Pending.as_str()));
        match deadline {
            EndingDeadline::Any => {}
            EndingDeadline::Ahead => {
                still_pending = still_pending
                    .append(" AND expires_at > :now")
                    .value(":now", s(op.at.to_rfc3339()));
            }
            EndingDeadline::Passed => {
                still_pending = still_pending
                    .append(" AND expires_at <= :now AND token_hash = :hash")
                    .value(":now", s(op.at.to_rfc3339()))
                    .value(":hash", s(invitation.token_hash.as_str()));
            }
        }
        let key = Invitation::key(&invitation.org_id, &invitation.invitation_id);
        tx.update(
            key,
            update,
            Some(Condition::new(still_pending, Refusal::NotPending)),
        )?;
        tx.delete(
            Invitation::pending_key(&invitation.org_id, &invitation.email),
            None,
        )?;
        let shed = Expr::new("SET expire_at = :shed").value(":shed", shed_at);
        tx.update(TokenRecord::key(&invitation.token_hash), shed, None)
    }

    /// The invitee joins with the invited role and `teams`, the invitation's teams that were
    /// live when read. Refused with `Refusal::Gone` if one of them is being deleted or gone
    /// since: read them again (`live_teams`) and accept into those.
    pub async fn accept_invitation(
        &self,
        invitation: &Invitation,
        joiner: &Joiner<'_>,
        teams: &[TeamId],
        op: &Op,
    ) -> StoreResult<Membership> {
        let org_id = &invitation.org_id;
        let mut tx = Tx::new(self);
        self.end_invitation(&mut tx, invitation, InvitationStatus::Accepted, op)?;
        let role = invitation.role_name();
        let with_roles = (teams, invitation.team_roles.as_slice());
        let membership = put_member(&mut tx, org_id, joiner, &role, with_roles, op)?;
        // A pending invitation held this member's seat (`tallies.rs`): no limit to test.
        Tally::count(&mut tx, org_id, 1, -1)?;
        let accepted = change(
            ChangeKind::InvitationAccepted,
            invitation,
            InvitationAccepted {
                invitation: InvitationFacts::of(invitation),
                user_id: joiner.user_id.clone(),
            },
        );
        history::record(&mut tx, &accepted, op, self.retention)?;
        let joined = joined_change(
            org_id,
            joiner.user_id,
            &role,
            (Some(&invitation.invitation_id), None),
            teams,
            None,
        );
        history::record(&mut tx, &joined, op, self.retention)?;
        tx.made(&membership);
        tx.commit("accept an invitation").await?;
        Ok(membership)
    }

    /// The invitee says no (`Declined`), or an admin takes the invitation back (`Revoked`).
    pub async fn close_invitation(
        &self,
        invitation: &Invitation,
        status: InvitationStatus,
        op: &Op,
    ) -> StoreResult<Invitation> {
        let kind = match status {
            InvitationStatus::Declined => ChangeKind::InvitationDeclined,
            _ => ChangeKind::InvitationRevoked,
        };
        let mut tx = Tx::new(self);
        self.end_invitation(&mut tx, invitation, status, op)?;
        Tally::count(&mut tx, &invitation.org_id, 0, -1)?;
        history::record(
            &mut tx,
            &change(kind, invitation, InvitationFacts::of(invitation)),
            op,
            self.retention,
        )?;
        let closed = Invitation {
            status,
            updated_at: op.at,
            ..invitation.clone()
        };
        tx.made(&closed);
        tx.commit("close an invitation").await?;
        Ok(closed)
    }
}
