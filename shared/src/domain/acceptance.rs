//! The invitee's side: whether the invitation a token leads to can still be answered, and who
//! may answer it.

use super::invitation::usable;
use super::{InvitationStatus, MemberStatus, OrgStatus, Timestamp, Unusable, UserId};

/// Why a token leads to no invitation that can be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    /// The organization is being deleted: its invitations are as if they never existed.
    #[error("the invitation's organization is being deleted")]
    Hidden,
    #[error(transparent)]
    Unusable(#[from] Unusable),
}

/// Whether the invitation a token found may still be looked up, accepted or declined at `now`.
/// `replaced` says a resend gave the invitation a newer token than this one.
pub fn answerable(
    org: OrgStatus,
    replaced: bool,
    status: InvitationStatus,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(), TokenRefused> {
    if org != OrgStatus::Active {
        return Err(TokenRefused::Hidden);
    }
    if replaced {
        return Err(Unusable::Replaced.into());
    }
    Ok(usable(status, expires_at, now)?)
}

/// Whether accepting an invitation already accepted is a repeat of the acceptance, answered as
/// the first was: the invitee (checked apart, as for any answer) accepting again, who is an
/// active member of a live organization. Its first answer may have been lost (a timeout, a
/// dropped connection), or they clicked twice. Anyone else, or a member since deactivated or
/// removed, is told the invitation was accepted.
pub fn repeats_acceptance(
    refused: TokenRefused,
    org: OrgStatus,
    member: Option<MemberStatus>,
) -> bool {
    refused == TokenRefused::Unusable(Unusable::Accepted)
        && org == OrgStatus::Active
        && member == Some(MemberStatus::Active)
}

/// Why the caller may not answer an invitation; each is a 403 that does not reveal the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotInvitee {
    #[error("the caller has no verified email address")]
    Unverified,
    #[error("the invitation is for someone else")]
    SomeoneElse,
}

impl NotInvitee {
    pub fn detail(self) -> &'static str {
        match self {
            Self::Unverified => {
                "Verify your email address with your sign-in provider, then try again."
            }
            Self::SomeoneElse => {
                "This invitation was sent to someone else. Sign in as the person it was sent to."
            }
        }
    }
}

/// Only the invitee may answer: the invited user for an invitation by handle, otherwise whoever
/// has verified the invited address.
pub fn may_answer(
    invited_user: Option<&UserId>,
    invited_email: &str,
    caller: &UserId,
    verified_email: Option<&str>,
) -> Result<(), NotInvitee> {
    let allowed = match invited_user {
        Some(user) => user == caller,
        None => verified_email == Some(invited_email),
    };
    match (allowed, invited_user, verified_email) {
        (true, _, _) => Ok(()),
        // Verifying the address might be all it takes; for a handle it would not help.
        (false, None, None) => Err(NotInvitee::Unverified),
        _ => Err(NotInvitee::SomeoneElse),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_millis(seconds * 1000).unwrap()
    }

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    #[test]
    fn only_an_accepted_invitation_accepted_again_by_an_active_member_is_a_repeat() {
        let accepted = TokenRefused::Unusable(Unusable::Accepted);
        let active = Some(MemberStatus::Active);
        assert!(repeats_acceptance(accepted, OrgStatus::Active, active));
        assert!(!repeats_acceptance(accepted, OrgStatus::Active, None));
        assert!(!repeats_acceptance(
            accepted,
            OrgStatus::Active,
            Some(MemberStatus::Deactivated)
        ));
        assert!(!repeats_acceptance(accepted, OrgStatus::Deleting, active));
        for other in [
            TokenRefused::Hidden,
            Unusable::Declined.into(),
            Unusable::Revoked.into(),
            Unusable::Expired.into(),
            Unusable::Replaced.into(),
        ] {
            assert!(
                !repeats_acceptance(other, OrgStatus::Active, active),
                "{other:?}"
            );
        }
    }

    #[test]
    fn a_pending_invitation_of_a_live_organization_can_be_answered_until_its_deadline() {
        let answer = |now| {
            answerable(
                OrgStatus::Active,
                false,
                InvitationStatus::Pending,
                at(10),
                now,
            )
        };
        assert_eq!(answer(at(9)), Ok(()));
        assert_eq!(
            answer(at(10)),
            Err(TokenRefused::Unusable(Unusable::Expired))
        );
    }

    #[test]
    fn a_deleting_organization_hides_its_invitations_before_anything_else_is_said() {
        assert_eq!(
            answerable(
                OrgStatus::Deleting,
                true,
                InvitationStatus::Accepted,
                at(0),
                at(1)
            ),
            Err(TokenRefused::Hidden)
        );
    }

    #[test]
    fn a_replaced_token_says_so_whatever_became_of_the_invitation() {
        for status in [InvitationStatus::Pending, InvitationStatus::Accepted] {
            assert_eq!(
                answerable(OrgStatus::Active, true, status, at(10), at(1)),
                Err(TokenRefused::Unusable(Unusable::Replaced))
            );
        }
        assert_eq!(
            answerable(
                OrgStatus::Active,
                false,
                InvitationStatus::Revoked,
                at(10),
                at(1)
            ),
            Err(TokenRefused::Unusable(Unusable::Revoked))
        );
    }

    #[test]
    fn an_invitation_by_handle_is_answered_by_that_user_only() {
        let bob = user("bob");
        let by_handle = |caller: &str, verified| {
            may_answer(Some(&bob), "bob@x.example", &user(caller), verified)
        };
        assert_eq!(by_handle("bob", None), Ok(()));
        // The address the invitation went to does not make anyone else the invitee.
        assert_eq!(
            by_handle("eve", Some("bob@x.example")),
            Err(NotInvitee::SomeoneElse)
        );
        assert_eq!(by_handle("eve", None), Err(NotInvitee::SomeoneElse));
    }

    #[test]
    fn an_invitation_by_email_is_answered_by_whoever_verified_that_address() {
        let by_email =
            |caller: &str, verified| may_answer(None, "bob@x.example", &user(caller), verified);
        assert_eq!(by_email("anyone", Some("bob@x.example")), Ok(()));
        assert_eq!(
            by_email("eve", Some("eve@x.example")),
            Err(NotInvitee::SomeoneElse)
        );
        assert_eq!(by_email("bob", None), Err(NotInvitee::Unverified));
    }
}
