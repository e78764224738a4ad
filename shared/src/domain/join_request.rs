//! Join requests: a person whose verified address is at an organization's verified `suggest`
//! domain asks to join, and an admin approves (they become a member) or denies. The rules of
//! who may file one, and when a denial stops another.

use super::enrollment::{DomainStanding, Enrollment, JoinRefused};
use super::invitation::MAX_TEAMS;
use super::{
    FieldErrors, RawTeam, Role, RoleName, TeamAssignment, TeamId, Timestamp, ValidationError,
    parse_teams,
};

/// How long a denial stands: until then the person cannot ask the same organization again, so
/// that admins who said no are not asked over and over.
pub const DENIAL_STANDS_SECONDS: i64 = 30 * 24 * 3600;

/// Where a join request stands. Approved and withdrawn requests are gone; a denied one stays
/// for `DENIAL_STANDS_SECONDS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinRequestStatus {
    Pending,
    Denied,
}

impl JoinRequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinRequestStatus::Pending => "pending",
            JoinRequestStatus::Denied => "denied",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(JoinRequestStatus::Pending),
            "denied" => Some(JoinRequestStatus::Denied),
            _ => None,
        }
    }
}

/// How a person at a verified domain comes in, by the domain's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `auto_join`: at once, with this role.
    Join(Role),
    /// `suggest`: by asking; an admin decides.
    Ask,
}

/// How a person whose verified address is at a domain of this standing (`None`: the
/// organization has no such domain) may come in.
pub fn entry(standing: Option<DomainStanding>) -> Result<Entry, JoinRefused> {
    match standing {
        Some(DomainStanding {
            verified: true,
            enrollment,
        }) => match enrollment {
            Enrollment::AutoJoin { role } => Ok(Entry::Join(role)),
            Enrollment::Suggest => Ok(Entry::Ask),
            Enrollment::None => Err(JoinRefused::Closed),
        },
        _ => Err(JoinRefused::NotAtDomain),
    }
}

/// A person's earlier request to the same organization, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EarlierRequest {
    pub status: JoinRequestStatus,
    /// When an admin denied it; `None` while pending.
    pub decided_at: Option<Timestamp>,
}

/// What asking to join does, given the person's earlier request to the organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filing {
    /// A new request (none before, or a denial that no longer stands, which it replaces).
    New,
    /// The request already pending: asking again answers with it and changes nothing.
    Repeat,
}

/// Whether a person may ask at `now`, given their earlier request, if any.
pub fn filing(earlier: Option<EarlierRequest>, now: Timestamp) -> Result<Filing, JoinRefused> {
    match earlier {
        None => Ok(Filing::New),
        Some(EarlierRequest {
            status: JoinRequestStatus::Pending,
            ..
        }) => Ok(Filing::Repeat),
        Some(EarlierRequest {
            status: JoinRequestStatus::Denied,
            decided_at,
        }) => match decided_at {
            Some(at) if at.plus_seconds(DENIAL_STANDS_SECONDS) <= now => Ok(Filing::New),
            _ => Err(JoinRefused::Denied),
        },
    }
}

/// What an approver decides besides yes: the new member's role and teams, as an invitation's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    pub role: RoleName,
    /// Each once; at most `MAX_TEAMS`.
    pub teams: Vec<TeamId>,
    /// Each of `teams` with the team role the person holds there.
    pub team_roles: Vec<TeamAssignment>,
}

impl Approval {
    /// The body's `role` (`member` unless it names `admin`; an owner is made only by an owner's
    /// own choice of a member, never by an approval) and its teams, as the body's `team_ids`
    /// or `teams` list named them (`field`, see `one_team_list`).
    pub fn parse(
        role: Option<&str>,
        field: &str,
        teams: &[RawTeam<'_>],
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let role = match role.map(|raw| RoleName::parse("role", raw)) {
            None => Some(RoleName::System(Role::Member)),
            Some(Ok(RoleName::System(Role::Owner))) => {
                errors.push(ValidationError::new(
                    "role",
                    "role_too_high",
                    "An approval makes a member or an admin; make an owner by changing a member's role.",
                ));
                None
            }
            Some(Ok(role)) => Some(role),
            Some(Err(invalid)) => {
                errors.push(invalid);
                None
            }
        };
        let team_roles = parse_teams(field, teams, MAX_TEAMS, &mut errors);
        let ids = team_roles.iter().map(|a| a.team_id.clone()).collect();
        match role {
            Some(role) if errors.is_empty() => Ok(Self {
                role,
                teams: ids,
                team_roles,
            }),
            _ => Err(errors),
        }
    }

    /// Every team it names is one of the organization's live teams (`live`).
    pub fn check_teams(&self, live: &[TeamId]) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        for team in self.teams.iter().filter(|t| !live.contains(t)) {
            errors.push(ValidationError::new(
                "team_ids",
                "unknown_team",
                &format!("The organization has no team {team}."),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_millis(seconds * 1000).unwrap()
    }

    #[test]
    fn a_verified_domain_lets_people_in_as_its_policy_says() {
        let standing = |verified, enrollment| {
            Some(DomainStanding {
                verified,
                enrollment,
            })
        };
        let admin = Enrollment::AutoJoin { role: Role::Admin };
        assert_eq!(entry(standing(true, admin)), Ok(Entry::Join(Role::Admin)));
        assert_eq!(entry(standing(true, Enrollment::Suggest)), Ok(Entry::Ask));
        assert_eq!(
            entry(standing(true, Enrollment::None)),
            Err(JoinRefused::Closed)
        );
        assert_eq!(
            entry(standing(false, Enrollment::Suggest)),
            Err(JoinRefused::NotAtDomain)
        );
        assert_eq!(entry(None), Err(JoinRefused::NotAtDomain));
    }

    #[test]
    fn asking_again_repeats_a_pending_request_and_a_denial_stands_thirty_days() {
        let now = at(100 * 86_400);
        assert_eq!(filing(None, now), Ok(Filing::New));
        let pending = EarlierRequest {
            status: JoinRequestStatus::Pending,
            decided_at: None,
        };
        assert_eq!(filing(Some(pending), now), Ok(Filing::Repeat));
        let denied = |days_ago: i64| EarlierRequest {
            status: JoinRequestStatus::Denied,
            decided_at: Some(at(now.unix_seconds() - days_ago * 86_400)),
        };
        assert_eq!(filing(Some(denied(29)), now), Err(JoinRefused::Denied));
        assert_eq!(filing(Some(denied(30)), now), Ok(Filing::New));
    }

    fn codes(errors: FieldErrors) -> Vec<(String, &'static str)> {
        errors
            .into_vec()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn an_approval_makes_a_member_unless_it_names_an_admin_and_never_an_owner() {
        let role = |raw| Approval::parse(raw, "team_ids", &[]).map(|a| a.role).ok();
        assert_eq!(role(None), Some(RoleName::System(Role::Member)));
        assert_eq!(role(Some("admin")), Some(RoleName::System(Role::Admin)));
        assert_eq!(
            role(Some("billing-manager")).map(|r| r.as_str().to_owned()),
            Some("billing-manager".to_owned())
        );
        let refused = |raw| codes(Approval::parse(Some(raw), "team_ids", &[]).unwrap_err());
        assert_eq!(refused("owner"), [("role".to_owned(), "role_too_high")]);
        assert_eq!(refused("Boss"), [("role".to_owned(), "invalid_role")]);
    }

    #[test]
    fn an_approval_names_each_team_once_and_only_teams_that_exist() {
        let team = TeamId::generate();
        let text = team.to_string();
        let raw = |role| RawTeam {
            team_id: &text,
            role,
        };
        let approval = Approval::parse(None, "team_ids", &[raw(None), raw(None)]).unwrap();
        assert_eq!(approval.teams, std::slice::from_ref(&team));
        assert!(approval.check_teams(std::slice::from_ref(&team)).is_ok());
        let unknown = codes(approval.check_teams(&[]).unwrap_err());
        assert_eq!(unknown, [("team_ids".to_owned(), "unknown_team")]);
        let nope = RawTeam {
            team_id: "nope",
            role: None,
        };
        let bad = codes(Approval::parse(None, "team_ids", &[nope]).unwrap_err());
        assert_eq!(bad, [("team_ids[0]".to_owned(), "invalid_team")]);
        let many: Vec<String> = (0..11).map(|_| TeamId::generate().to_string()).collect();
        let many: Vec<RawTeam> = many
            .iter()
            .map(|team_id| RawTeam {
                team_id,
                role: None,
            })
            .collect();
        let too_many = codes(Approval::parse(None, "team_ids", &many).unwrap_err());
        assert_eq!(too_many, [("team_ids".to_owned(), "too_many")]);
    }

    #[test]
    fn an_approval_names_teams_with_their_roles() {
        let team = TeamId::generate();
        let text = team.to_string();
        let maintained = RawTeam {
            team_id: &text,
            role: Some("maintainer"),
        };
        let approval = Approval::parse(None, "teams", &[maintained]).unwrap();
        assert_eq!(
            approval.team_roles[0].role,
            crate::domain::TeamRole::Maintainer
        );
        // A custom team role's key parses (whether it is one is checked where it is given).
        let custom = RawTeam {
            team_id: &text,
            role: Some("boss"),
        };
        let approval = Approval::parse(None, "teams", &[custom]).unwrap();
        assert_eq!(approval.team_roles[0].role.as_str(), "boss");
        let boss = RawTeam {
            team_id: &text,
            role: Some("Boss!"),
        };
        let refused = codes(Approval::parse(None, "teams", &[boss]).unwrap_err());
        assert_eq!(refused, [("teams[0].role".to_owned(), "invalid_team_role")]);
    }

    #[test]
    fn statuses_read_back() {
        for status in [JoinRequestStatus::Pending, JoinRequestStatus::Denied] {
            assert_eq!(JoinRequestStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(JoinRequestStatus::parse("approved"), None);
    }
}
