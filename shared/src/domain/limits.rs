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
    #[error("the organization has as many members as it may")]
    Members,
    #[error("the member is in as many teams as a member may be")]
    TeamsPerMember,
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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            pending_invitations_per_org: 1_000,
            invitation_emails_per_org_per_day: 200,
            resends_per_invitation_per_day: 5,
            members_per_org: 10_000,
            metadata_bytes: 8 * 1024,
        }
    }
}

impl Limits {
    /// Whether `count` new invitations fit beside the organization's `pending` ones and the
    /// `emails_today` it has sent: all of them or none, so a request is never half-sent.
    pub fn admit_invitations(
        &self,
        count: i64,
        pending: i64,
        emails_today: i64,
    ) -> Result<(), LimitKind> {
        if pending + count > self.pending_invitations_per_org {
            return Err(LimitKind::PendingInvitations);
        }
        if emails_today + count > self.invitation_emails_per_org_per_day {
            return Err(LimitKind::InvitationEmails);
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
        }
    }

    #[test]
    fn invitations_fit_up_to_the_pending_limit_exactly() {
        assert_eq!(limits().admit_invitations(3, 7, 0), Ok(()));
        assert_eq!(
            limits().admit_invitations(4, 7, 0),
            Err(LimitKind::PendingInvitations)
        );
    }

    #[test]
    fn invitations_fit_up_to_the_daily_emails_exactly() {
        assert_eq!(limits().admit_invitations(5, 0, 15), Ok(()));
        assert_eq!(
            limits().admit_invitations(6, 0, 15),
            Err(LimitKind::InvitationEmails)
        );
    }

    #[test]
    fn the_pending_limit_is_named_before_the_email_limit() {
        assert_eq!(
            limits().admit_invitations(30, 10, 20),
            Err(LimitKind::PendingInvitations)
        );
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
}
