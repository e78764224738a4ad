//! Sending an invitation, first or again: the token and deadline each sending hands out, when a
//! resend may go, and how the email names the inviter.

use super::{
    EmailsSent, InvitationStatus, InvitationToken, LimitKind, Limits, NotPending, Timestamp, UserId,
};

/// The operating system gave no random bytes, so no token can be made.
#[derive(Debug, thiserror::Error)]
#[error("the system random generator failed: {0}")]
pub struct NoRandomness(pub(super) getrandom::Error);

/// What every sending of an invitation hands out: a new token for the link, and the deadline
/// it is good until. Creating and resending both make it here, the same way.
#[derive(Debug)]
pub struct FreshToken {
    pub token: InvitationToken,
    pub expires_at: Timestamp,
}

impl FreshToken {
    pub fn issue(now: Timestamp, lifetime_seconds: i64) -> Result<Self, NoRandomness> {
        Ok(Self {
            token: InvitationToken::generate().map_err(NoRandomness)?,
            expires_at: now.plus_seconds(lifetime_seconds),
        })
    }
}

/// Why an invitation may not be resent now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResendRefused {
    #[error(transparent)]
    NotPending(#[from] NotPending),
    #[error(transparent)]
    Limit(#[from] LimitKind),
}

/// Whether an invitation in `status`, resent `resends_today` times, may be resent by an
/// organization, by a person, who already sent the emails `sent`.
pub fn may_resend(
    status: InvitationStatus,
    resends_today: i64,
    sent: &EmailsSent,
    limits: &Limits,
) -> Result<(), ResendRefused> {
    status.require_pending()?;
    limits.admit_resend(resends_today, sent)?;
    Ok(())
}

/// A user invited by handle has no email address on file to send the invitation to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the invited user has no email address on file")]
pub struct NoAddress;

/// How the inviter is named in an email: their display name, else their handle, else their
/// email address, else (for someone with none of these) their user id.
pub fn inviter_name(
    display_name: Option<&str>,
    handle: Option<&str>,
    email: Option<&str>,
    user: &UserId,
) -> String {
    display_name
        .or(handle)
        .or(email)
        .map_or_else(|| user.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_millis(seconds * 1000).unwrap()
    }

    #[test]
    fn each_sending_gets_a_new_token_and_a_full_lifetime() {
        let first = FreshToken::issue(at(1_000), 7 * 86_400).unwrap();
        let again = FreshToken::issue(at(5_000), 7 * 86_400).unwrap();
        assert_eq!(first.expires_at, at(1_000 + 7 * 86_400));
        assert_eq!(again.expires_at, at(5_000 + 7 * 86_400));
        assert_ne!(first.token, again.token);
    }

    #[test]
    fn a_resend_needs_a_pending_invitation_first_then_room_in_the_limits() {
        let sent = |org_today| EmailsSent {
            org_today,
            ..EmailsSent::default()
        };
        let limits = Limits {
            resends_per_invitation_per_day: 1,
            invitation_emails_per_org_per_day: 1,
            ..Limits::default()
        };
        let pending = InvitationStatus::Pending;
        assert_eq!(may_resend(pending, 0, &sent(0), &limits), Ok(()));
        assert_eq!(
            may_resend(InvitationStatus::Accepted, 5, &sent(5), &limits),
            Err(ResendRefused::NotPending(NotPending))
        );
        assert_eq!(
            may_resend(pending, 1, &sent(0), &limits),
            Err(ResendRefused::Limit(LimitKind::Resends))
        );
        assert_eq!(
            may_resend(pending, 0, &sent(1), &limits),
            Err(ResendRefused::Limit(LimitKind::InvitationEmails))
        );
    }

    #[test]
    fn the_inviter_is_named_by_the_first_name_they_have() {
        let user = UserId::parse("alice").unwrap();
        let name = |d, h, e| inviter_name(d, h, e, &user);
        assert_eq!(
            name(Some("Alice"), Some("al"), Some("a@x.example")),
            "Alice"
        );
        assert_eq!(name(None, Some("al"), Some("a@x.example")), "al");
        assert_eq!(name(None, None, Some("a@x.example")), "a@x.example");
        assert_eq!(name(None, None, None), "alice");
    }
}
