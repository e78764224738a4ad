//! The product's limits, each configurable, and the checks a request meets before it writes.
//! The store's conditions hold the same limits under concurrency; these checks refuse early,
//! before anything is sent or written.

use super::Timestamp;

/// A member can be in at most this many teams, so that removing them (a transaction of at most
/// 100 items: the membership, and each team's row and count) stays one transaction.
pub const MAX_TEAMS_PER_MEMBER: i64 = 40;

/// How long an organization counts as new, with its own lower budget of invitation emails.
pub const NEW_ORG_SECONDS: i64 = 24 * 3600;

/// Which limit a request reached; each is a 429.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitKind {
    #[error("the organization has as many pending invitations as it may")]
    PendingInvitations,
    #[error("the organization has sent as many invitation emails today as it may")]
    InvitationEmails,
    #[error("the invitation was resent as often today as it may be")]
    Resends,
    /// An invitation holds a seat until it ends, so that accepting it never overfills the
    /// organization: members and pending invitations together stay within the member limit.
    #[error("the organization's members and pending invitations reach its member limit")]
    Members,
    #[error("the member is in as many teams as a member may be")]
    TeamsPerMember,
    #[error("the organization has as many domains as it may")]
    Domains,
    #[error("the organization has as many pending join requests as it may")]
    JoinRequestsPerOrg,
    #[error("the person has as many pending join requests as one may")]
    JoinRequestsPerPerson,
    #[error("the organization has as many custom roles as it may")]
    Roles,
    #[error("the person owns as many organizations as one may")]
    OwnedOrganizations,
    #[error("the person has caused as many invitation emails today as one may")]
    PersonInvitationEmails,
    /// An organization's first day has a budget of its own, which ends at `ends_at`.
    #[error("the new organization has sent as many invitation emails as it may in its first day")]
    NewOrgInvitationEmails { ends_at: Timestamp },
}

impl LimitKind {
    /// The limit's stable name, as the 429 problem's `limit` and the configuration name it.
    pub fn name(self) -> &'static str {
        match self {
            LimitKind::PendingInvitations => "pending_invitations_per_org",
            LimitKind::InvitationEmails => "invitation_emails_per_org_per_day",
            LimitKind::Resends => "resends_per_invitation_per_day",
            LimitKind::Members => "members_per_org",
            LimitKind::TeamsPerMember => "teams_per_member",
            LimitKind::OwnedOrganizations => "orgs_per_owner",
            LimitKind::PersonInvitationEmails => "invitation_emails_per_person_per_day",
            LimitKind::NewOrgInvitationEmails { .. } => "invitation_emails_per_new_org",
            LimitKind::Domains => "domains_per_org",
            LimitKind::JoinRequestsPerOrg => "pending_join_requests_per_org",
            LimitKind::JoinRequestsPerPerson => "pending_join_requests_per_person",
            LimitKind::Roles => "roles_per_org",
        }
    }

    /// When waiting frees room under the limit, as seen at `now`: the next UTC midnight for a
    /// daily count, the end of the first day for a new organization's budget; `None` for a
    /// count that only an action frees (revoking, removing, deleting).
    pub fn resets_at(self, now: Timestamp) -> Option<Timestamp> {
        match self {
            LimitKind::InvitationEmails
            | LimitKind::Resends
            | LimitKind::PersonInvitationEmails => Some(next_utc_midnight(now)),
            LimitKind::NewOrgInvitationEmails { ends_at } => Some(ends_at),
            LimitKind::PendingInvitations
            | LimitKind::Members
            | LimitKind::TeamsPerMember
            | LimitKind::OwnedOrganizations
            | LimitKind::Domains
            | LimitKind::JoinRequestsPerOrg
            | LimitKind::JoinRequestsPerPerson
            | LimitKind::Roles => None,
        }
    }
}

/// The start of the UTC day after the one `now` is in: when the daily counts start again.
pub fn next_utc_midnight(now: Timestamp) -> Timestamp {
    let seconds = now.unix_seconds();
    let midnight = seconds - seconds.rem_euclid(86_400) + 86_400;
    Timestamp::from_unix_millis(midnight * 1000).unwrap_or(now)
}

/// The invitation emails already counted against each allowance that a new one meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EmailsSent {
    /// By the organization, today (UTC).
    pub org_today: i64,
    /// Caused by the person sending, today (UTC), across all their organizations.
    pub person_today: i64,
    /// For an organization in its first day: the emails it sent since it was created.
    pub first_day: Option<FirstDay>,
}

/// A new organization's first day, and the emails it sent in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstDay {
    pub sent: i64,
    pub ends_at: Timestamp,
}

/// The product's limits; each one configurable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub pending_invitations_per_org: i64,
    /// Counted per UTC day.
    pub invitation_emails_per_org_per_day: i64,
    /// Counted per UTC day.
    pub resends_per_invitation_per_day: i64,
    pub members_per_org: i64,
    /// Bytes of compact JSON in each kind of metadata (`domain::metadata`).
    pub metadata_bytes: usize,
    /// Email domains an organization may add, verified or not.
    pub domains_per_org: i64,
    /// Organizations one person may own at once: those they created or had transferred to
    /// them, until deleted or transferred away.
    pub orgs_per_owner: i64,
    /// Invitation emails (invitations and resends) one person may cause per UTC day, across
    /// all their organizations.
    pub invitation_emails_per_person_per_day: i64,
    /// Invitation emails an organization may send in its first 24 hours (`NEW_ORG_SECONDS`).
    pub invitation_emails_per_new_org: i64,
    /// Join requests waiting for an admin in one organization.
    pub pending_join_requests_per_org: i64,
    /// Join requests one person may have waiting, across organizations.
    pub pending_join_requests_per_person: i64,
    /// Custom roles an organization may define, for members and for teams together.
    pub roles_per_org: i64,
    /// Permissions one custom role may grant.
    pub permissions_per_role: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            pending_invitations_per_org: 1_000,
            invitation_emails_per_org_per_day: 200,
            resends_per_invitation_per_day: 5,
            members_per_org: 10_000,
            metadata_bytes: 8 * 1024,
            domains_per_org: 10,
            orgs_per_owner: 10,
            invitation_emails_per_person_per_day: 500,
            invitation_emails_per_new_org: 20,
            pending_join_requests_per_org: 5_000,
            pending_join_requests_per_person: 5,
            roles_per_org: 20,
            permissions_per_role: 100,
        }
    }
}

impl Limits {
    /// Whether `count` new invitations fit in an organization of `members` and `pending`
    /// invitations, with the emails already `sent`: all of them or none, so a request is never
    /// half-sent. Each invitation takes a seat (`LimitKind::Members`).
    pub fn admit_invitations(
        &self,
        count: i64,
        members: i64,
        pending: i64,
        sent: &EmailsSent,
    ) -> Result<(), LimitKind> {
        if pending + count > self.pending_invitations_per_org {
            return Err(LimitKind::PendingInvitations);
        }
        if members + pending + count > self.members_per_org {
            return Err(LimitKind::Members);
        }
        self.admit_emails(count, sent)
    }

    /// Whether `count` more invitation emails fit in every allowance they count against: the
    /// new organization's first day, the organization's day and the sender's day.
    pub fn admit_emails(&self, count: i64, sent: &EmailsSent) -> Result<(), LimitKind> {
        if let Some(first_day) = sent.first_day
            && first_day.sent + count > self.invitation_emails_per_new_org
        {
            return Err(LimitKind::NewOrgInvitationEmails {
                ends_at: first_day.ends_at,
            });
        }
        if sent.org_today + count > self.invitation_emails_per_org_per_day {
            return Err(LimitKind::InvitationEmails);
        }
        if sent.person_today + count > self.invitation_emails_per_person_per_day {
            return Err(LimitKind::PersonInvitationEmails);
        }
        Ok(())
    }

    /// When the first day of an organization created at `created_at` ends, if `now` is in it.
    pub fn first_day_ends(created_at: Timestamp, now: Timestamp) -> Option<Timestamp> {
        let ends_at = created_at.plus_seconds(NEW_ORG_SECONDS);
        (now < ends_at).then_some(ends_at)
    }

    /// How many more invitations the organization has room for (under the pending limit, and
    /// in the seats its members leave free), and the limit that is the tighter.
    pub fn invitation_room(&self, members: i64, pending: i64) -> (i64, LimitKind) {
        let under_pending = self.pending_invitations_per_org - pending;
        let seats = self.members_per_org - members - pending;
        if under_pending <= seats {
            (under_pending.max(0), LimitKind::PendingInvitations)
        } else {
            (seats.max(0), LimitKind::Members)
        }
    }

    /// Whether one more domain fits in an organization that has `domains`.
    pub fn admit_domain(&self, domains: i64) -> Result<(), LimitKind> {
        if domains >= self.domains_per_org {
            return Err(LimitKind::Domains);
        }
        Ok(())
    }

    /// Whether one more email fits for an invitation resent `resends_today` times, with the
    /// emails already `sent`.
    pub fn admit_resend(&self, resends_today: i64, sent: &EmailsSent) -> Result<(), LimitKind> {
        if resends_today >= self.resends_per_invitation_per_day {
            return Err(LimitKind::Resends);
        }
        self.admit_emails(1, sent)
    }

    /// The seats left for a member who joins without an invitation (through a verified
    /// domain): members and pending invitations (which hold seats) stay within the limit.
    pub fn seat_room(&self, members: i64, pending: i64) -> Result<i64, LimitKind> {
        let room = self.members_per_org - members - pending;
        if room < 1 {
            return Err(LimitKind::Members);
        }
        Ok(room)
    }

    /// The join requests an organization with `pending` of them may still take (at least one),
    /// as the bound on its own count that the store's condition holds.
    pub fn join_request_room(&self, pending: i64) -> Result<i64, LimitKind> {
        let room = self.pending_join_requests_per_org - pending;
        if room < 1 {
            return Err(LimitKind::JoinRequestsPerOrg);
        }
        Ok(room)
    }

    /// Whether a person who owns `owned` organizations may create another.
    pub fn admit_new_org(&self, owned: i64) -> Result<(), LimitKind> {
        if owned >= self.orgs_per_owner {
            return Err(LimitKind::OwnedOrganizations);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            pending_invitations_per_org: 10,
            invitation_emails_per_org_per_day: 20,
            resends_per_invitation_per_day: 2,
            members_per_org: 100,
            metadata_bytes: 1024,
            roles_per_org: 20,
            permissions_per_role: 100,
            domains_per_org: 3,
            orgs_per_owner: 3,
            invitation_emails_per_person_per_day: 50,
            invitation_emails_per_new_org: 5,
            pending_join_requests_per_org: 2,
            pending_join_requests_per_person: 1,
        }
    }

    #[test]
    fn a_join_request_fits_while_the_organization_has_room_for_one() {
        let limits = limits();
        assert_eq!(limits.join_request_room(0), Ok(2));
        assert_eq!(limits.join_request_room(1), Ok(1));
        assert_eq!(
            limits.join_request_room(2),
            Err(LimitKind::JoinRequestsPerOrg)
        );
    }

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp::parse(rfc3339).unwrap()
    }

    /// Emails sent by an organization past its first day.
    fn org_sent(org_today: i64) -> EmailsSent {
        EmailsSent {
            org_today,
            ..EmailsSent::default()
        }
    }

    #[test]
    fn invitations_fit_up_to_the_pending_limit_exactly() {
        assert_eq!(limits().admit_invitations(3, 0, 7, &org_sent(0)), Ok(()));
        assert_eq!(
            limits().admit_invitations(4, 0, 7, &org_sent(0)),
            Err(LimitKind::PendingInvitations)
        );
    }

    #[test]
    fn invitations_fit_up_to_the_daily_emails_exactly() {
        assert_eq!(limits().admit_invitations(5, 0, 0, &org_sent(15)), Ok(()));
        assert_eq!(
            limits().admit_invitations(6, 0, 0, &org_sent(15)),
            Err(LimitKind::InvitationEmails)
        );
    }

    #[test]
    fn the_pending_limit_is_named_before_the_email_limit() {
        assert_eq!(
            limits().admit_invitations(30, 0, 10, &org_sent(20)),
            Err(LimitKind::PendingInvitations)
        );
    }

    #[test]
    fn members_and_pending_invitations_share_the_seats_of_the_member_limit() {
        assert_eq!(limits().admit_invitations(4, 92, 4, &org_sent(0)), Ok(()));
        assert_eq!(
            limits().admit_invitations(5, 92, 4, &org_sent(0)),
            Err(LimitKind::Members)
        );
        assert_eq!(
            limits().admit_invitations(1, 100, 0, &org_sent(0)),
            Err(LimitKind::Members)
        );
    }

    #[test]
    fn the_room_for_invitations_is_the_tighter_of_the_two_limits_and_never_negative() {
        let pending_limit = LimitKind::PendingInvitations;
        assert_eq!(limits().invitation_room(0, 4), (6, pending_limit));
        assert_eq!(limits().invitation_room(95, 2), (3, LimitKind::Members));
        assert_eq!(limits().invitation_room(100, 5), (0, LimitKind::Members));
    }

    #[test]
    fn a_resend_needs_a_resend_and_an_email_left_today() {
        assert_eq!(limits().admit_resend(1, &org_sent(19)), Ok(()));
        assert_eq!(
            limits().admit_resend(2, &org_sent(0)),
            Err(LimitKind::Resends)
        );
        assert_eq!(
            limits().admit_resend(0, &org_sent(20)),
            Err(LimitKind::InvitationEmails)
        );
        assert_eq!(
            limits().admit_resend(2, &org_sent(20)),
            Err(LimitKind::Resends)
        );
    }

    #[test]
    fn a_person_causes_at_most_their_daily_emails_across_organizations() {
        let sent = |person_today| EmailsSent {
            org_today: 0,
            person_today,
            first_day: None,
        };
        assert_eq!(limits().admit_emails(10, &sent(40)), Ok(()));
        assert_eq!(
            limits().admit_emails(11, &sent(40)),
            Err(LimitKind::PersonInvitationEmails)
        );
        assert_eq!(
            limits().admit_resend(0, &sent(50)),
            Err(LimitKind::PersonInvitationEmails)
        );
        // The organization's own day is named first: it is the one its admins can see.
        let both = EmailsSent {
            org_today: 20,
            person_today: 50,
            first_day: None,
        };
        assert_eq!(
            limits().admit_emails(1, &both),
            Err(LimitKind::InvitationEmails)
        );
    }

    #[test]
    fn a_new_organization_has_a_lower_budget_for_its_first_24_hours() {
        let created = at("2026-11-29T23:00:00.000Z");
        let ends_at = at("2026-11-30T23:00:00.000Z");
        assert_eq!(
            Limits::first_day_ends(created, at("2026-11-30T22:59:59.999Z")),
            Some(ends_at)
        );
        assert_eq!(Limits::first_day_ends(created, ends_at), None);
        let sent = |first_day_sent| EmailsSent {
            org_today: 0,
            person_today: 0,
            first_day: Some(FirstDay {
                sent: first_day_sent,
                ends_at,
            }),
        };
        assert_eq!(limits().admit_emails(2, &sent(3)), Ok(()));
        assert_eq!(
            limits().admit_emails(3, &sent(3)),
            Err(LimitKind::NewOrgInvitationEmails { ends_at })
        );
        assert_eq!(
            limits().admit_resend(0, &sent(5)),
            Err(LimitKind::NewOrgInvitationEmails { ends_at })
        );
    }

    #[test]
    fn a_person_owns_at_most_the_configured_organizations() {
        assert_eq!(limits().admit_new_org(2), Ok(()));
        assert_eq!(
            limits().admit_new_org(3),
            Err(LimitKind::OwnedOrganizations)
        );
    }

    #[test]
    fn daily_limits_reset_at_the_next_utc_midnight_and_counts_only_by_action() {
        let now = at("2026-11-29T05:10:00.000Z");
        let midnight = at("2026-11-30T00:00:00.000Z");
        assert_eq!(next_utc_midnight(now), midnight);
        assert_eq!(next_utc_midnight(at("2026-11-29T00:00:00.000Z")), midnight);
        assert_eq!(LimitKind::InvitationEmails.resets_at(now), Some(midnight));
        assert_eq!(
            LimitKind::PersonInvitationEmails.resets_at(now),
            Some(midnight)
        );
        assert_eq!(LimitKind::Resends.resets_at(now), Some(midnight));
        let ends_at = at("2026-11-29T20:00:00.000Z");
        assert_eq!(
            LimitKind::NewOrgInvitationEmails { ends_at }.resets_at(now),
            Some(ends_at)
        );
        assert_eq!(LimitKind::OwnedOrganizations.resets_at(now), None);
        assert_eq!(LimitKind::PendingInvitations.resets_at(now), None);
    }

    #[test]
    fn a_member_joining_without_an_invitation_needs_a_seat_pending_invitations_leave() {
        assert_eq!(limits().seat_room(97, 2), Ok(1));
        assert_eq!(limits().seat_room(98, 2), Err(LimitKind::Members));
        assert_eq!(limits().seat_room(100, 0), Err(LimitKind::Members));
    }

    #[test]
    fn domains_fit_up_to_the_limit_exactly() {
        assert_eq!(limits().admit_domain(2), Ok(()));
        assert_eq!(limits().admit_domain(3), Err(LimitKind::Domains));
    }
}
