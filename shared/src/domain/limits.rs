//! The product's limits, each configurable, and the checks a request meets before it writes.
//! The store's conditions hold the same limits under concurrency; these checks refuse early,
//! before anything is sent or written.

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
        }
    }
}

impl Limits {
    /// Whether `count` new invitations fit in an organization of `members` and `pending`
    /// invitations that sent `emails_today`: all of them or none, so a request is never
    /// half-sent. Each invitation takes a seat (`LimitKind::Members`).
    pub fn admit_invitations(
        &self,
        count: i64,
        members: i64,
        pending: i64,
        emails_today: i64,
    ) -> Result<(), LimitKind> {
        if pending + count > self.pending_invitations_per_org {
            return Err(LimitKind::PendingInvitations);
        }
        if members + pending + count > self.members_per_org {
            return Err(LimitKind::Members);
        }
        if emails_today + count > self.invitation_emails_per_org_per_day {
            return Err(LimitKind::InvitationEmails);
        }
        Ok(())
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

    /// Whether one more email fits for an invitation resent `resends_today` times, in an
    /// organization that sent `emails_today`.
    pub fn admit_resend(&self, resends_today: i64, emails_today: i64) -> Result<(), LimitKind> {
        if resends_today >= self.resends_per_invitation_per_day {
            return Err(LimitKind::Resends);
        }
        if emails_today >= self.invitation_emails_per_org_per_day {
            return Err(LimitKind::InvitationEmails);
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
            domains_per_org: 3,
        }
    }

    #[test]
    fn invitations_fit_up_to_the_pending_limit_exactly() {
        assert_eq!(limits().admit_invitations(3, 0, 7, 0), Ok(()));
        assert_eq!(
            limits().admit_invitations(4, 0, 7, 0),
            Err(LimitKind::PendingInvitations)
        );
    }

    #[test]
    fn invitations_fit_up_to_the_daily_emails_exactly() {
        assert_eq!(limits().admit_invitations(5, 0, 0, 15), Ok(()));
        assert_eq!(
            limits().admit_invitations(6, 0, 0, 15),
            Err(LimitKind::InvitationEmails)
        );
    }

    #[test]
    fn the_pending_limit_is_named_before_the_email_limit() {
        assert_eq!(
            limits().admit_invitations(30, 0, 10, 20),
            Err(LimitKind::PendingInvitations)
        );
    }

    #[test]
    fn members_and_pending_invitations_share_the_seats_of_the_member_limit() {
        assert_eq!(limits().admit_invitations(4, 92, 4, 0), Ok(()));
        assert_eq!(
            limits().admit_invitations(5, 92, 4, 0),
            Err(LimitKind::Members)
        );
        assert_eq!(
            limits().admit_invitations(1, 100, 0, 0),
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
        assert_eq!(limits().admit_resend(1, 19), Ok(()));
        assert_eq!(limits().admit_resend(2, 0), Err(LimitKind::Resends));
        assert_eq!(
            limits().admit_resend(0, 20),
            Err(LimitKind::InvitationEmails)
        );
        assert_eq!(limits().admit_resend(2, 20), Err(LimitKind::Resends));
    }

    #[test]
    fn domains_fit_up_to_the_limit_exactly() {
        assert_eq!(limits().admit_domain(2), Ok(()));
        assert_eq!(limits().admit_domain(3), Err(LimitKind::Domains));
    }
}
