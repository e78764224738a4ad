//! People joining through a verified email domain: the organization a domain suggests, and
//! joining at once (`auto_join`), in one transaction with every invariant accepting an
//! invitation keeps.

use crate::domain::{EmailDomain, LimitKind, OrgStatus, Role, RoleName, UserId};
use crate::domain::{JoinRequest, Membership, Op, Organization};

use super::Store;
use super::error::{Refusal, StoreResult};
use super::history;
use super::invitations::{Joiner, joined_change, put_member};
use super::item::{n, s};
use super::org_read::{ItemKey, OrgRead};
use super::tallies::Tally;
use super::tx::{Condition, Expr, Tx};
use crate::domain::sso::SsoConnection;
use crate::domain::{Domain, DomainStatus, TeamAssignment, TeamId};

impl Store {
    /// The organization that holds `domain` verified, with `person`'s membership and join
    /// request and the domain's item, read together; `None` if no organization holds it.
    pub async fn domain_holder(
        &self,
        domain: &EmailDomain,
        person: &UserId,
    ) -> StoreResult<Option<OrgRead>> {
        let Some(org) = self.domain_owner(domain).await? else {
            return Ok(None);
        };
        let also = [ItemKey::Domain(domain), ItemKey::JoinRequest(person)];
        self.read_org(&org, person, &also).await
    }

    /// `joiner` becomes a member with `role` through `domain`, as read with the organization:
    /// the membership and member-email marker (new), a seat taken as an invitation takes one
    /// (the org item's own pending count grows within the room the limits leave, and a tally
    /// moves the seat from pending to members, as an acceptance does), the domain checked to
    /// be still verified with this policy, an audit entry and an event. `room`: the seats the
    /// limits leave as the organization was read (`Limits::seat_room`), beside the role. A request of theirs
    /// still pending from when the policy was `suggest` (`pending`) ends with it.
    pub async fn join_through_domain(
        &self,
        org: &Organization,
        domain: &Domain,
        joiner: &Joiner<'_>,
        (role, room): (Role, i64),
        pending: Option<&JoinRequest>,
        op: &Op,
    ) -> StoreResult<Membership> {
        let org_id = &org.org_id;
        let mut tx = Tx::new(self);
        let role_name = RoleName::System(role);
        let membership = put_member(&mut tx, org_id, joiner, &role_name, (&[], &[]), op)?;
        take_seat_ending(&mut tx, org, room, pending)?;
        tx.check(
            Domain::key(org_id, &domain.domain),
            domain.still_auto_join(role),
        )?;
        let joined = joined_change(
            org_id,
            joiner.user_id,
            &RoleName::System(role),
            (None, Some(&domain.domain)),
            &[],
            None,
        );
        history::record(&mut tx, &joined, op, self.retention)?;
        tx.commit("join through a domain").await?;
        Ok(membership)
    }

    /// `joiner`, signing in for the first time through the organization's identity provider
    /// (`connection`, as read), becomes a member with its default role and `teams` (those of its
    /// default teams that were live when read), taking a seat within `room` as
    /// `join_through_domain` does, at `domain`, which must still be verified. A request of
    /// theirs still pending (`pending`) ends with it.
    pub async fn join_through_sso(
        &self,
        org: &Organization,
        connection: &SsoConnection,
        (joiner, domain): (&Joiner<'_>, &EmailDomain),
        (role, teams): (&RoleName, &[TeamAssignment]),
        (room, pending): (i64, Option<&JoinRequest>),
        op: &Op,
    ) -> StoreResult<Membership> {
        let org_id = &org.org_id;
        let mut tx = Tx::new(self);
        let team_ids: Vec<TeamId> = teams.iter().map(|t| t.team_id.clone()).collect();
        let membership = put_member(&mut tx, org_id, joiner, role, (&team_ids, teams), op)?;
        take_seat_ending(&mut tx, org, room, pending)?;
        let verified = Condition::new(
            Expr::new("#status = :verified")
                .name("#status", "status")
                .value(":verified", s(DomainStatus::Verified.as_str())),
            Refusal::Changed,
        );
        tx.check(Domain::key(org_id, domain), verified)?;
        tx.check(
            SsoConnection::key(org_id),
            Condition::new(
                Expr::new("version = :version").value(":version", n(connection.version)),
                Refusal::Changed,
            ),
        )?;
        let joined = joined_change(
            org_id,
            joiner.user_id,
            role,
            (None, Some(domain)),
            &team_ids,
            Some(&connection.provider),
        );
        history::record(&mut tx, &joined, op, self.retention)?;
        tx.made(&membership);
        tx.commit("join through single sign-on").await?;
        Ok(membership)
    }
}

/// `take_seat`, and the tally moving it to the members; a request of the joiner's still pending
/// (`pending`) ends with it.
fn take_seat_ending(
    tx: &mut Tx<'_>,
    org: &Organization,
    room: i64,
    pending: Option<&JoinRequest>,
) -> StoreResult<()> {
    take_seat(tx, org, room)?;
    match pending {
        Some(request) => {
            request.end_with_membership(tx)?;
            Tally::count_with_requests(tx, &org.org_id, 1, -1, -1)
        }
        None => Tally::count(tx, &org.org_id, 1, -1),
    }
}

/// Takes a seat for a member who comes in without an invitation, as an invitation takes one:
/// the org item's own pending count grows within the room the limits leave (`room`, from
/// `Limits::seat_room` as the organization was read); the caller's tally change then moves the
/// seat from pending to members, as an acceptance does.
pub(super) fn take_seat(tx: &mut Tx<'_>, org: &Organization, room: i64) -> StoreResult<()> {
    let bound = org.pending_on_item + room - 1;
    let seat = Condition::new(
        Expr::new(
            "#status = :active AND (attribute_not_exists(pending_count) OR pending_count <= :bound)",
        )
        .name("#status", "status")
        .value(":active", s(OrgStatus::Active.as_str()))
        .value(":bound", n(bound)),
        Refusal::Limit(LimitKind::Members),
    );
    let take = Expr::new("ADD pending_count :one").value(":one", n(1));
    tx.update(Organization::key(&org.org_id), take, Some(seat))
}
