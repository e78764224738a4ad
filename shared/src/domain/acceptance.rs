//! The invitee's side: whether the invitation a token leads to can still be answered, who may
//! answer it, and what answers an acceptance that its transaction refused.

use super::invitation::usable;
use super::{InvitationStatus, MemberStatus, OrgStatus, TeamId, Timestamp, Unusable, UserId};

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

/// Whether a refused acceptance may be a repeat of one that happened, worth reading the
/// caller's membership for (`repeats_acceptance` then decides): only an accepted invitation,
/// accepted again by its invitee (`invitee`: `may_answer` let them).
pub fn may_repeat_acceptance(refused: TokenRefused, invitee: bool) -> bool {
    refused == TokenRefused::Unusable(Unusable::Accepted) && invitee
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

/// What answers an acceptance or a decline that its transaction refused because the invitation
/// was no longer pending there, from the invitation as it reads now (its status and deadline;
/// `None` if it is gone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LateRefusal {
    /// Answered, revoked or expired meanwhile: said as for a token that finds it so.
    Unusable(Unusable),
    /// Gone with its organization.
    Missing,
    /// It reads as pending again (an older read): the change lost a race, and may be retried.
    Changed,
}

pub fn late_refusal(current: Option<(InvitationStatus, Timestamp)>, now: Timestamp) -> LateRefusal {
    match current {
        Some((status, expires_at)) => match usable(status, expires_at, now) {
            Err(why) => LateRefusal::Unusable(why),
            Ok(()) => LateRefusal::Changed,
        },
        None => LateRefusal::Missing,
    }
}

/// An acceptance refused because an item it writes is gone may have named a team that began its
/// deletion since the teams were read (`refused_as_gone`): only then is it worth reading which of
/// the teams it `tried` are still live.
pub fn may_have_lost_a_team(refused_as_gone: bool, tried: &[TeamId]) -> bool {
    refused_as_gone && !tried.is_empty()
}

/// The teams to try the acceptance again with, the invitee joining the others: those of `tried`
/// still `live`, if any went. `None` if none did, so the refusal stands. Teams only ever leave
/// that set, so the retries end.
pub fn teams_to_retry(tried: &[TeamId], live: Vec<TeamId>) -> Option<Vec<TeamId>> {
    (live.len() < tried.len()).then_some(live)
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
    fn only_the_invitee_accepting_an_accepted_invitation_may_be_repeating_it() {
        let accepted = TokenRefused::Unusable(Unusable::Accepted);
        assert!(may_repeat_acceptance(accepted, true));
        assert!(!may_repeat_acceptance(accepted, false));
        for other in [TokenRefused::Hidden, Unusable::Expired.into()] {
            assert!(!may_repeat_acceptance(other, true), "{other:?}");
        }
    }

    #[test]
    fn a_late_refusal_says_what_became_of_the_invitation() {
        let now = at(5);
        assert_eq!(
            late_refusal(Some((InvitationStatus::Accepted, at(10))), now),
            LateRefusal::Unusable(Unusable::Accepted)
        );
        assert_eq!(
            late_refusal(Some((InvitationStatus::Revoked, at(10))), now),
            LateRefusal::Unusable(Unusable::Revoked)
        );
        // Past its deadline, a pending invitation is expired, whether or not the sweep ran.
        assert_eq!(
            late_refusal(Some((InvitationStatus::Pending, at(5))), now),
            LateRefusal::Unusable(Unusable::Expired)
        );
        assert_eq!(
            late_refusal(Some((InvitationStatus::Pending, at(10))), now),
            LateRefusal::Changed
        );
        assert_eq!(late_refusal(None, now), LateRefusal::Missing);
    }

    #[test]
    fn an_acceptance_is_retried_without_the_teams_that_went_and_only_then() {
        let team = |n: u8| TeamId::parse(&format!("team_{:032x}", n)).unwrap();
        let tried = vec![team(1), team(2)];
        assert!(may_have_lost_a_team(true, &tried));
        assert!(!may_have_lost_a_team(false, &tried));
        assert!(!may_have_lost_a_team(true, &[]));
        assert_eq!(teams_to_retry(&tried, vec![team(2)]), Some(vec![team(2)]));
        assert_eq!(teams_to_retry(&tried, vec![]), Some(vec![]));
        assert_eq!(teams_to_retry(&tried, tried.clone()), None);
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
