//! Join requests (`ORG#{org}` / `JOINREQ#{user}`): a person at a verified `suggest` domain asks,
//! an admin approves or denies, the person may withdraw. Each is one transaction, conditioned on
//! the request still pending, so however many requests race, exactly one of them ends it.
//!
//! Counts: the org item's `join_request_count` grows under the limit's condition (a bound from
//! the tallies as read, as pending invitations do), and every end lowers a tally's
//! `join_request_delta`. A person's pending requests are the set `orgs` of their counter item
//! (`USER#{user}` / `COUNTER#JOINREQUESTS`): adding or removing an organization is idempotent,
//! so the deletion of an organization can release its requesters in any order, and again.

use crate::domain::payloads::JoinRequestFacts;
use crate::domain::{JoinRequest, Membership, Op, Organization, RoleName};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{
    Approval, Change, ChangeKind, EarlierRequest, EmailDomain, JoinRequestStatus, LimitKind, OrgId,
    OrgStatus, Subject, Timestamp, UserId,
};

use super::Store;
use super::error::{Refusal, StoreResult};
use super::history;
use super::invitations::{Joiner, joined_change, put_member};
use super::item::{Item, ItemBuilder, Reader, n, s};
use super::joining::take_seat;
use super::keys;
use super::query::{Decode, Page, PartitionQuery, sk_after};
use super::tallies::Tally;
use super::tx::{Condition, Expr, Tx};
use crate::domain::Domain;

impl JoinRequest {
    pub(super) fn key(org: &OrgId, user: &UserId) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::join_request_sk(user)).build()
    }

    fn to_item(&self) -> Item {
        ItemBuilder::key(
            keys::org_pk(&self.org_id),
            keys::join_request_sk(&self.user_id),
        )
        .s("entity", "join_request")
        .s("org_id", self.org_id.as_str())
        .s("user_id", self.user_id.as_str())
        .s("email", &self.email)
        .s("domain", self.domain.as_str())
        .s("status", self.status.as_str())
        .s("requested_at", self.requested_at.to_rfc3339())
        .build()
    }

    pub(super) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            user_id: r.parsed("user_id", UserId::parse)?,
            email: r.s("email")?,
            domain: r.parsed("domain", |d| EmailDomain::parse("domain", d).ok())?,
            status: r.parsed("status", JoinRequestStatus::parse)?,
            requested_at: r.time("requested_at")?,
            decided_at: r.opt_s("decided_at")?.and_then(|t| Timestamp::parse(&t)),
            decided_by: r.opt_s("decided_by")?.and_then(|u| UserId::parse(&u)),
        })
    }

    /// As the filing rule reads it.
    pub fn earlier(&self) -> EarlierRequest {
        EarlierRequest {
            status: self.status,
            decided_at: self.decided_at,
        }
    }

    /// A new request of `joiner`'s, at `domain`.
    pub fn new(org: &OrgId, user: &UserId, email: &str, domain: &Domain, at: Timestamp) -> Self {
        Self {
            org_id: org.clone(),
            user_id: user.clone(),
            email: email.to_owned(),
            domain: domain.domain.clone(),
            status: JoinRequestStatus::Pending,
            requested_at: at,
            decided_at: None,
            decided_by: None,
        }
    }

    fn still_pending() -> Condition {
        Condition::new(
            Expr::new("#status = :pending")
                .name("#status", "status")
                .value(":pending", s(JoinRequestStatus::Pending.as_str())),
            Refusal::Gone,
        )
    }

    /// Adds to `tx` the end of this pending request as its author becomes a member: the request
    /// gone and their own count released. The caller moves the organization's count.
    pub(super) fn end_with_membership(&self, tx: &mut Tx<'_>) -> StoreResult<()> {
        tx.delete(
            Self::key(&self.org_id, &self.user_id),
            Some(Self::still_pending()),
        )?;
        PersonJoinRequests::remove(tx, &self.user_id, &self.org_id)
    }

    /// Whether `item` (as the deletion's listing projects it) is a pending join request, and
    /// whose.
    pub(super) fn pending_requester(item: &Item) -> StoreResult<Option<UserId>> {
        let r = Reader(item);
        if r.opt_s("entity")?.as_deref() != Some("join_request")
            || r.opt_s("status")?.as_deref() != Some(JoinRequestStatus::Pending.as_str())
        {
            return Ok(None);
        }
        Ok(r.opt_s("user_id")?.and_then(|u| UserId::parse(&u)))
    }
}

/// The organizations where one person has a request pending.
pub(super) struct PersonJoinRequests;

impl PersonJoinRequests {
    fn key(user: &UserId) -> Item {
        ItemBuilder::key(keys::user_pk(user), keys::JOIN_REQUESTS_COUNTER_SK).build()
    }

    fn one(org: &OrgId) -> AttributeValue {
        AttributeValue::Ss(vec![org.as_str().to_owned()])
    }

    /// Adds `org` to the person's set, within `max` organizations.
    fn add(tx: &mut Tx<'_>, user: &UserId, org: &OrgId, max: i64) -> StoreResult<()> {
        let add = Expr::new("ADD orgs :org").value(":org", Self::one(org));
        let room = Condition::new(
            Expr::new("attribute_not_exists(orgs) OR size(orgs) < :max").value(":max", n(max)),
            Refusal::Limit(LimitKind::JoinRequestsPerPerson),
        );
        tx.update(Self::key(user), add, Some(room))
    }

    fn remove(tx: &mut Tx<'_>, user: &UserId, org: &OrgId) -> StoreResult<()> {
        let remove = Expr::new("DELETE orgs :org").value(":org", Self::one(org));
        tx.update(Self::key(user), remove, None)
    }
}

fn request_change(kind: ChangeKind, request: &JoinRequest, role: Option<RoleName>) -> Change {
    Change {
        kind,
        subject: Subject::Org(request.org_id.clone()),
        target_type: "join_request",
        target_id: request.user_id.to_string(),
        data: JoinRequestFacts::of(request, role).into(),
    }
}

impl Store {
    /// Files `request`, replacing `earlier` (a denial that no longer stands) if given: within the
    /// organization's pending requests (`room`, from `Limits::join_request_room` as read) and
    /// the person's (`per_person`), while the domain is still verified with `suggest`.
    pub async fn file_join_request(
        &self,
        org: &Organization,
        domain: &Domain,
        request: &JoinRequest,
        earlier: Option<&JoinRequest>,
        (room, per_person): (i64, i64),
        op: &Op,
    ) -> StoreResult<()> {
        let org_id = &org.org_id;
        let mut tx = Tx::new(self);
        let unchanged = match earlier {
            None => Condition::absent(Refusal::Changed),
            Some(earlier) => Condition::new(
                Expr::new("#status = :denied AND decided_at = :decided")
                    .name("#status", "status")
                    .value(":denied", s(JoinRequestStatus::Denied.as_str()))
                    .value(
                        ":decided",
                        s(earlier
                            .decided_at
                            .map(|t| t.to_rfc3339())
                            .unwrap_or_default()),
                    ),
                Refusal::Changed,
            ),
        };
        tx.put(request.to_item(), Some(unchanged))?;
        let bound = org.join_requests_on_item + room - 1;
        let within = Condition::new(
            Expr::new(
                "#status = :active AND (attribute_not_exists(join_request_count) OR join_request_count <= :bound)",
            )
            .name("#status", "status")
            .value(":active", s(OrgStatus::Active.as_str()))
            .value(":bound", n(bound)),
            Refusal::Limit(LimitKind::JoinRequestsPerOrg),
        );
        let count = Expr::new("ADD join_request_count :one").value(":one", n(1));
        tx.update(Organization::key(org_id), count, Some(within))?;
        PersonJoinRequests::add(&mut tx, &request.user_id, org_id, per_person)?;
        tx.check(Domain::key(org_id, &domain.domain), domain.still_suggest())?;
        let change = request_change(ChangeKind::JoinRequested, request, None);
        history::record(&mut tx, &change, op, self.retention)?;
        tx.commit("file a join request").await
    }

    /// The requester becomes a member with `role`, in one transaction with every invariant an
    /// acceptance keeps: a seat within the member limit (`room`, from `Limits::seat_room`), the
    /// membership and member-email marker, the request gone (refused with `Gone` unless still
    /// pending), the counts, audit entries and events (`JoinRequestApproved`, `MemberJoined`),
    /// and the member in the approval's teams (each still live, else `Gone`).
    pub async fn approve_join_request(
        &self,
        org: &Organization,
        request: &JoinRequest,
        approval: &Approval,
        room: i64,
        op: &Op,
    ) -> StoreResult<Membership> {
        let (role, teams) = (&approval.role, approval.teams.as_slice());
        let org_id = &org.org_id;
        let mut tx = Tx::new(self);
        let joiner = Joiner {
            user_id: &request.user_id,
            verified_email: Some(&request.email),
        };
        let with_roles = (teams, approval.team_roles.as_slice());
        let membership = put_member(&mut tx, org_id, &joiner, role, with_roles, op)?;
        take_seat(&mut tx, org, room)?;
        Tally::count_with_requests(&mut tx, org_id, 1, -1, -1)?;
        request.end_with_membership(&mut tx)?;
        let approved = request_change(ChangeKind::JoinRequestApproved, request, Some(role.clone()));
        history::record(&mut tx, &approved, op, self.retention)?;
        let joined = joined_change(
            org_id,
            &request.user_id,
            role,
            (None, Some(&request.domain)),
            teams,
            None,
        );
        history::record(&mut tx, &joined, op, self.retention)?;
        tx.made(&membership);
        tx.commit("approve a join request").await?;
        Ok(membership)
    }

    /// An admin denies the request (refused with `Gone` unless still pending): it stays, denied,
    /// so that the person cannot ask again while the denial stands; the table sheds it after.
    pub async fn deny_join_request(
        &self,
        request: &JoinRequest,
        shed_at: Timestamp,
        op: &Op,
    ) -> StoreResult<JoinRequest> {
        let org_id = &request.org_id;
        let mut tx = Tx::new(self);
        let deny = Expr::new(
            "SET #status = :denied, decided_at = :at, decided_by = :actor, expire_at = :shed",
        )
        .name("#status", "status")
        .value(":denied", s(JoinRequestStatus::Denied.as_str()))
        .value(":at", s(op.at.to_rfc3339()))
        .value(":actor", s(op.actor.as_str()))
        .value(":shed", n(shed_at.unix_seconds()));
        tx.update(
            JoinRequest::key(org_id, &request.user_id),
            deny,
            Some(JoinRequest::still_pending()),
        )?;
        Tally::count_with_requests(&mut tx, org_id, 0, 0, -1)?;
        PersonJoinRequests::remove(&mut tx, &request.user_id, org_id)?;
        let change = request_change(ChangeKind::JoinRequestDenied, request, None);
        history::record(&mut tx, &change, op, self.retention)?;
        let denied = JoinRequest {
            status: JoinRequestStatus::Denied,
            decided_at: Some(op.at),
            decided_by: Some(op.actor.clone()),
            ..request.clone()
        };
        tx.made(&denied);
        tx.commit("deny a join request").await?;
        Ok(denied)
    }

    /// Its author withdraws the request (refused with `Gone` unless still pending).
    pub async fn withdraw_join_request(&self, request: &JoinRequest, op: &Op) -> StoreResult<()> {
        let org_id = &request.org_id;
        let mut tx = Tx::new(self);
        tx.delete(
            JoinRequest::key(org_id, &request.user_id),
            Some(JoinRequest::still_pending()),
        )?;
        Tally::count_with_requests(&mut tx, org_id, 0, 0, -1)?;
        PersonJoinRequests::remove(&mut tx, &request.user_id, org_id)?;
        let change = request_change(ChangeKind::JoinRequestWithdrawn, request, None);
        history::record(&mut tx, &change, op, self.retention)?;
        tx.commit("withdraw a join request").await
    }

    /// A page of the organization's pending join requests, oldest requester id first.
    pub async fn list_join_requests(
        &self,
        org: &OrgId,
        limit: usize,
        after: Option<&UserId>,
    ) -> StoreResult<Page<JoinRequest, UserId>> {
        let pk = keys::org_pk(org);
        let pending = Expr::new("#status = :pending")
            .name("#status", "status")
            .value(":pending", s(JoinRequestStatus::Pending.as_str()));
        self.list(
            PartitionQuery {
                index: None,
                pk: (keys::PK, &pk),
                sk_prefix: Some((keys::SK, keys::JOIN_REQUEST_PREFIX)),
                descending: false,
            },
            Some(pending),
            limit,
            after.map(|user| JoinRequest::key(org, user)),
            Decode {
                item: JoinRequest::from_item,
                position: |r| r.user_id.clone(),
                key_position: |key| {
                    sk_after(key, keys::JOIN_REQUEST_PREFIX).and_then(UserId::parse)
                },
            },
            "list join requests",
        )
        .await
    }

    /// Takes `org` out of its pending requesters' sets, for its deletion: idempotent, so a
    /// deletion may stop and run again anywhere. One transaction per `RELEASES_PER_TX`
    /// requesters, rather than a request each: a page of an organization can hold thousands.
    pub(super) async fn release_requesters(
        &self,
        org: &OrgId,
        requesters: &[UserId],
    ) -> StoreResult<()> {
        for chunk in requesters.chunks(RELEASES_PER_TX) {
            let mut tx = Tx::new(self);
            for user in chunk {
                PersonJoinRequests::remove(&mut tx, user, org)?;
            }
            tx.commit("release a deleted organization's requesters")
                .await?;
        }
        Ok(())
    }
}

/// DynamoDB's limit on the items of one transaction (100), less the room an idempotency key's
/// record may take (`Tx::commit_or_refusals`).
const RELEASES_PER_TX: usize = 99;
