//! Invitations: who is invited, with what, and the state machine
//! `pending` → `accepted` | `declined` | `revoked` | `expired`.

use super::{
    Denied, DisplayName, Email, FieldErrors, Handle, Note, RawTeam, Role, RoleName, TeamAssignment,
    TeamId, Timestamp, ValidationError, parse_teams,
};

/// At most this many invitees in one request.
pub const MAX_INVITEES: usize = 10;
/// At most this many teams on one invitation (accepting joins them in one transaction).
pub const MAX_TEAMS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
    pub fn parse(input: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Accepted,
            Self::Declined,
            Self::Revoked,
            Self::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == input)
    }

    /// The status a person should see: a pending invitation past its expiry is expired even
    /// before the scheduled function has marked it so.
    pub fn effective(self, expires_at: Timestamp, now: Timestamp) -> Self {
        if self == Self::Pending && now >= expires_at {
            Self::Expired
        } else {
            self
        }
    }
}

/// Why a token can no longer be used: the `reason` of a 410 answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.detail())]
pub enum Unusable {
    Expired,
    Revoked,
    Declined,
    Accepted,
    /// A resend gave the invitation a new link; this one is dead.
    Replaced,
}

impl Unusable {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Declined => "declined",
            Self::Accepted => "already_accepted",
            Self::Replaced => "replaced",
        }
    }
    pub fn detail(self) -> &'static str {
        match self {
            Self::Expired => "This invitation has expired. Ask for a new one.",
            Self::Revoked => "This invitation was revoked.",
            Self::Declined => "This invitation was declined.",
            Self::Accepted => "This invitation has already been accepted.",
            Self::Replaced => "This link was replaced by a newer one; use the latest email.",
        }
    }
}

/// Whether a token may still be accepted or declined at `now`.
pub fn usable(
    status: InvitationStatus,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(), Unusable> {
    match status.effective(expires_at, now) {
        InvitationStatus::Pending => Ok(()),
        InvitationStatus::Expired => Err(Unusable::Expired),
        InvitationStatus::Revoked => Err(Unusable::Revoked),
        InvitationStatus::Declined => Err(Unusable::Declined),
        InvitationStatus::Accepted => Err(Unusable::Accepted),
    }
}

/// Resending or revoking an invitation that is no longer pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the invitation is no longer pending")]
pub struct NotPending;

impl InvitationStatus {
    /// Resending and revoking act on a pending invitation only. The stored status decides: one
    /// past its deadline that the scheduled function has not yet marked still counts (revoking
    /// it tidies up, resending gives it a fresh lifetime).
    pub fn require_pending(self) -> Result<(), NotPending> {
        match self {
            Self::Pending => Ok(()),
            _ => Err(NotPending),
        }
    }
}

/// Who an invitation is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invitee {
    Email(Email),
    /// An existing user, by handle.
    Handle(Handle),
}

/// One valid invitee of a request, before the store resolves handles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationSpec {
    pub invitee: Invitee,
    pub role: RoleName,
    pub name: Option<DisplayName>,
    pub note: Option<Note>,
    pub teams: Vec<TeamId>,
    /// Each of `teams` with the team role the invitee holds there on accepting.
    pub team_roles: Vec<TeamAssignment>,
}

/// The raw fields of one invitee, as the request carried them.
#[derive(Clone, Debug, Default)]
pub struct RawInvitee<'a> {
    pub email: Option<&'a str>,
    pub handle: Option<&'a str>,
    pub role: Option<&'a str>,
    pub name: Option<&'a str>,
    pub note: Option<&'a str>,
    pub teams: &'a [RawTeam<'a>],
}

impl InvitationSpec {
    /// Checks one invitee; `field` prefixes errors (`invitations[2].email`). `inviter` is the
    /// caller's role: nobody invites above it, and only owners invite owners.
    pub fn parse(field: &str, raw: &RawInvitee<'_>, inviter: Role) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let at = |name: &str| format!("{field}.{name}");
        let invitee = match (raw.email, raw.handle) {
            (Some(email), None) => errors
                .take(Email::parse(&at("email"), email))
                .map(Invitee::Email),
            (None, Some(handle)) => errors
                .take(Handle::parse(handle).map_err(|e| ValidationError {
                    field: at("handle"),
                    ..e
                }))
                .map(Invitee::Handle),
            _ => {
                errors.push(ValidationError::new(
                    field,
                    "invitee",
                    "Give either an email or a handle.",
                ));
                None
            }
        };
        // A custom role is checked against the organization's roles by the caller, which
        // reads them; nobody invites to a system role above their own.
        let role = match raw.role {
            None => Some(RoleName::System(Role::Member)),
            Some(raw_role) => match RoleName::parse(&at("role"), raw_role) {
                Err(invalid) => {
                    errors.push(invalid);
                    None
                }
                Ok(RoleName::System(role)) if role > inviter => {
                    errors.push(ValidationError::new(
                        &at("role"),
                        "role_too_high",
                        "You cannot invite someone to a role above your own.",
                    ));
                    None
                }
                Ok(role) => Some(role),
            },
        };
        let name = raw
            .name
            .and_then(|n| errors.take(DisplayName::parse(&at("name"), n)));
        let note = raw
            .note
            .and_then(|n| errors.take(Note::parse(&at("note"), n)));
        let team_roles = parse_teams(&at("teams"), raw.teams, MAX_TEAMS, &mut errors);
        let teams = team_roles.iter().map(|a| a.team_id.clone()).collect();
        match (invitee, role) {
            (Some(invitee), Some(role)) if errors.is_empty() => Ok(Self {
                invitee,
                role,
                name,
                note,
                teams,
                team_roles,
            }),
            _ => Err(errors),
        }
    }
}

/// One request carries 1 to `MAX_INVITEES` invitees.
pub fn check_batch_size(count: usize) -> Result<(), ValidationError> {
    if count == 0 || count > MAX_INVITEES {
        return Err(ValidationError::new(
            "invitations",
            "count",
            "Send 1 to 10 invitations.",
        ));
    }
    Ok(())
}

/// The team ids a request's invitees name, each once, so they can be read before the request
/// is checked. Malformed ids, and those past an invitee's first `MAX_TEAMS`, are left out:
/// `InvitationSpec::parse` refuses them.
pub fn named_teams(batch: &[RawInvitee<'_>]) -> Vec<TeamId> {
    let mut teams: Vec<TeamId> = Vec::new();
    for raw in batch.iter().flat_map(|i| i.teams.iter().take(MAX_TEAMS)) {
        if let Some(team) = TeamId::parse(raw.team_id)
            && !teams.contains(&team)
        {
            teams.push(team);
        }
    }
    teams
}

/// Checks every invitee of one request (`invitations[i]`), then that each team they name is
/// one of `existing_teams`; the errors of all of them at once.
pub fn parse_batch(
    batch: &[RawInvitee<'_>],
    inviter: Role,
    existing_teams: &[TeamId],
) -> Result<Vec<InvitationSpec>, FieldErrors> {
    let mut errors = FieldErrors::default();
    let parsed: Vec<(usize, InvitationSpec)> = batch
        .iter()
        .enumerate()
        .filter_map(|(i, raw)| {
            InvitationSpec::parse(&format!("invitations[{i}]"), raw, inviter)
                .map_err(|e| e.into_vec().into_iter().for_each(|e| errors.push(e)))
                .ok()
                .map(|spec| (i, spec))
        })
        .collect();
    for (i, spec) in &parsed {
        for team in spec.teams.iter().filter(|t| !existing_teams.contains(t)) {
            errors.push(ValidationError::new(
                &format!("invitations[{i}].teams"),
                "unknown_team",
                &format!("The organization has no team {team}."),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(parsed.into_iter().map(|(_, spec)| spec).collect())
}

/// Whether `manager` may resend or revoke an invitation to `invited`: nobody acts on an
/// invitation to a role above their own, as nobody invites to one. A resend is a fresh link,
/// so an admin who could resend an owner's invitation could make an owner.
pub fn may_manage_invitation(manager: Role, invited: Role) -> Result<(), Denied> {
    if invited > manager {
        Err(Denied::InvitationAboveOwnRole)
    } else {
        Ok(())
    }
}

/// What ending an invitation requires of its deadline at the time of the change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndingDeadline {
    /// The invitee's answers: only before the deadline.
    Ahead,
    /// An admin's revocation: at any time.
    Any,
    /// The expiry: only once the deadline has passed, and only the version that was read. A
    /// resend since then gave it a new token and a new deadline; the index may not show that
    /// yet, so the token hash is checked too.
    Passed,
}

impl InvitationStatus {
    /// What ending a pending invitation in this status requires of its deadline: the invitee
    /// accepts or declines only before it, an admin revokes at any time, and it expires only
    /// once it has passed. `None` for `Pending`, which ends nothing.
    pub fn ending_deadline(self) -> Option<EndingDeadline> {
        match self {
            Self::Pending => None,
            Self::Accepted | Self::Declined => Some(EndingDeadline::Ahead),
            Self::Revoked => Some(EndingDeadline::Any),
            Self::Expired => Some(EndingDeadline::Passed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_resend_or_revoke_an_invitation_to_be_owner() {
        assert_eq!(
            may_manage_invitation(Role::Admin, Role::Owner),
            Err(Denied::InvitationAboveOwnRole)
        );
        assert_eq!(may_manage_invitation(Role::Admin, Role::Admin), Ok(()));
        assert_eq!(may_manage_invitation(Role::Owner, Role::Owner), Ok(()));
        assert_eq!(
            may_manage_invitation(Role::Member, Role::Admin),
            Err(Denied::InvitationAboveOwnRole)
        );
    }

    #[test]
    fn the_invitee_answers_before_the_deadline_an_admin_revokes_any_time_and_it_expires_after() {
        use InvitationStatus::*;
        assert_eq!(Accepted.ending_deadline(), Some(EndingDeadline::Ahead));
        assert_eq!(Declined.ending_deadline(), Some(EndingDeadline::Ahead));
        assert_eq!(Revoked.ending_deadline(), Some(EndingDeadline::Any));
        assert_eq!(Expired.ending_deadline(), Some(EndingDeadline::Passed));
        assert_eq!(Pending.ending_deadline(), None);
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_millis(seconds * 1000).unwrap()
    }

    #[test]
    fn a_pending_invitation_expires_at_its_deadline_exactly() {
        let expires = at(100);
        assert_eq!(usable(InvitationStatus::Pending, expires, at(99)), Ok(()));
        assert_eq!(
            usable(InvitationStatus::Pending, expires, at(100)),
            Err(Unusable::Expired)
        );
        assert_eq!(
            InvitationStatus::Pending.effective(expires, at(101)),
            InvitationStatus::Expired
        );
    }

    #[test]
    fn finished_invitations_say_why() {
        let later = at(1_000);
        assert_eq!(
            usable(InvitationStatus::Accepted, later, at(0)),
            Err(Unusable::Accepted)
        );
        assert_eq!(
            usable(InvitationStatus::Revoked, later, at(0)),
            Err(Unusable::Revoked)
        );
        assert_eq!(
            usable(InvitationStatus::Declined, later, at(0)),
            Err(Unusable::Declined)
        );
        assert_eq!(
            usable(InvitationStatus::Expired, later, at(0)),
            Err(Unusable::Expired)
        );
        // A revoked invitation stays revoked after its deadline.
        assert_eq!(
            InvitationStatus::Revoked.effective(at(1), at(2)),
            InvitationStatus::Revoked
        );
    }

    #[test]
    fn parses_an_email_invitee_with_defaults() {
        let raw = RawInvitee {
            email: Some("Bob@Example.com"),
            ..Default::default()
        };
        let spec = InvitationSpec::parse("invitations[0]", &raw, Role::Admin).unwrap();
        assert_eq!(
            spec.invitee,
            Invitee::Email(Email::parse("e", "bob@example.com").unwrap())
        );
        assert_eq!(spec.role, RoleName::System(Role::Member));
    }

    #[test]
    fn nobody_invites_above_their_own_role() {
        let raw = RawInvitee {
            email: Some("b@example.com"),
            role: Some("owner"),
            ..Default::default()
        };
        let errors = InvitationSpec::parse("invitations[0]", &raw, Role::Admin)
            .unwrap_err()
            .into_vec();
        assert_eq!(errors[0].code, "role_too_high");
        assert!(InvitationSpec::parse("invitations[0]", &raw, Role::Owner).is_ok());
    }

    #[test]
    fn needs_exactly_one_of_email_and_handle_and_names_bad_fields() {
        let both = RawInvitee {
            email: Some("b@example.com"),
            handle: Some("bob"),
            ..Default::default()
        };
        assert_eq!(
            InvitationSpec::parse("i", &both, Role::Owner)
                .unwrap_err()
                .into_vec()[0]
                .field,
            "i"
        );
        let teams = [RawTeam {
            team_id: "team_x",
            role: None,
        }];
        let bad = RawInvitee {
            handle: Some("-bob"),
            note: Some(""),
            teams: &teams,
            ..Default::default()
        };
        let fields: Vec<String> = InvitationSpec::parse("i", &bad, Role::Owner)
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["i.handle", "i.note", "i.teams[0]"]);
    }

    fn email(address: &str) -> RawInvitee<'_> {
        RawInvitee {
            email: Some(address),
            ..Default::default()
        }
    }

    #[test]
    fn only_pending_invitations_are_resent_or_revoked() {
        assert_eq!(InvitationStatus::Pending.require_pending(), Ok(()));
        for done in [
            InvitationStatus::Accepted,
            InvitationStatus::Declined,
            InvitationStatus::Revoked,
            InvitationStatus::Expired,
        ] {
            assert_eq!(done.require_pending(), Err(NotPending));
        }
    }

    #[test]
    fn a_request_carries_one_to_ten_invitees() {
        assert!(check_batch_size(1).is_ok());
        assert!(check_batch_size(MAX_INVITEES).is_ok());
        for count in [0, MAX_INVITEES + 1] {
            assert_eq!(check_batch_size(count).unwrap_err().code, "count");
        }
    }

    fn raw_team(team_id: &str) -> RawTeam<'_> {
        RawTeam {
            team_id,
            role: None,
        }
    }

    #[test]
    fn named_teams_are_each_read_once_and_malformed_ones_are_left_out() {
        let a = TeamId::generate();
        let b = TeamId::generate();
        let (a_text, b_text) = (a.to_string(), b.to_string());
        let first = [raw_team(&a_text), raw_team("team_?"), raw_team(&a_text)];
        let second = [raw_team(&b_text), raw_team(&a_text)];
        let batch = [
            RawInvitee {
                teams: &first,
                ..email("a@example.com")
            },
            RawInvitee {
                teams: &second,
                ..email("b@example.com")
            },
        ];
        assert_eq!(named_teams(&batch), [a, b]);
    }

    #[test]
    fn a_batch_names_unknown_teams_by_the_invitee_that_named_them() {
        let known = TeamId::generate();
        let unknown = TeamId::generate();
        let (known_text, unknown_text) = (known.to_string(), unknown.to_string());
        let teams = [
            RawTeam {
                team_id: &known_text,
                role: Some("maintainer"),
            },
            raw_team(&unknown_text),
        ];
        let batch = [
            email("not an address"),
            RawInvitee {
                teams: &teams,
                ..email("b@example.com")
            },
        ];
        let errors = parse_batch(&batch, Role::Owner, std::slice::from_ref(&known))
            .unwrap_err()
            .into_vec();
        let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            found,
            [
                ("invitations[0].email", "invalid_email"),
                ("invitations[1].teams", "unknown_team")
            ]
        );
    }

    #[test]
    fn a_valid_batch_keeps_its_order() {
        let batch = [email("a@example.com"), email("b@example.com")];
        let specs = parse_batch(&batch, Role::Admin, &[]).unwrap();
        let emails: Vec<Invitee> = specs.into_iter().map(|s| s.invitee).collect();
        assert_eq!(
            emails,
            [
                Invitee::Email(Email::parse("e", "a@example.com").unwrap()),
                Invitee::Email(Email::parse("e", "b@example.com").unwrap()),
            ]
        );
    }
}
