//! Team roles: the second level of the permission model. A member holds one organization role
//! and, in each team they are in, one team role. A team role grants its permissions only within
//! that team.

use serde::{Deserialize, Serialize};

use super::{Access, FieldErrors, MemberStatus, Permission, Standing, TeamId, ValidationError};

/// `maintainer` manages the members of their team; `member` holds nothing beyond the
/// organization role. Existing team memberships without a stored role are `member`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamRole {
    #[default]
    Member,
    Maintainer,
}

impl TeamRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Member => "member",
            TeamRole::Maintainer => "maintainer",
        }
    }
    pub fn parse(input: &str) -> Option<Self> {
        match input {
            "member" => Some(TeamRole::Member),
            "maintainer" => Some(TeamRole::Maintainer),
            _ => None,
        }
    }

    /// The permissions this team role grants within its team.
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            TeamRole::Maintainer => &[Permission::TeamsManage],
            TeamRole::Member => &[],
        }
    }
}

/// Whether `role` grants `permission` within its own team. A maintainer manages that team's
/// members (adds, removes, sets their team roles); creating, renaming and deleting teams stay
/// with the organization role, as their routes do not consult the team role.
pub fn team_role_holds(role: TeamRole, permission: Permission) -> bool {
    role.permissions().contains(&permission)
}

/// What a member holds within one of their teams through its team role: nothing while they
/// are deactivated, as with their organization role.
pub fn team_permissions(standing: Standing, role: TeamRole) -> Vec<Permission> {
    if standing.status != MemberStatus::Active {
        return Vec::new();
    }
    role.permissions().to_vec()
}

/// The decision on a route a team's maintainer may also call: the organization's decision,
/// unless it is `Forbidden` (an active member without the permission), in which case the
/// caller's role in the path's team decides. Strangers and deactivated members stay hidden,
/// whatever team item may be left of them.
pub fn team_access(org: Access, team_role: Option<TeamRole>, permission: Permission) -> Access {
    match (org, team_role) {
        (Access::Forbidden, Some(role)) if team_role_holds(role, permission) => Access::Granted,
        (decided, _) => decided,
    }
}

/// A team and the role to hold in it, as an invitation or an approval names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamAssignment {
    pub team_id: TeamId,
    pub role: TeamRole,
}

/// The role `assignments` give `team`: `member` for a team they do not name.
pub fn role_in(assignments: &[TeamAssignment], team: &TeamId) -> TeamRole {
    assignments
        .iter()
        .find(|a| a.team_id == *team)
        .map_or(TeamRole::Member, |a| a.role)
}

/// One team as a request names it: an id, and the team role to hold there (none: `member`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawTeam<'a> {
    pub team_id: &'a str,
    pub role: Option<&'a str>,
}

/// The teams of a request's list at `field` (`invitations[0].teams`, `team_ids`), each once
/// with its role (a team named twice keeps its first), at most `max`; each refusal goes to
/// `errors`.
pub fn parse_teams(
    field: &str,
    raw: &[RawTeam<'_>],
    max: usize,
    errors: &mut FieldErrors,
) -> Vec<TeamAssignment> {
    if raw.len() > max {
        errors.push(ValidationError::new(
            field,
            "too_many",
            &format!("At most {max} teams."),
        ));
    }
    let mut teams: Vec<TeamAssignment> = Vec::new();
    for (i, team) in raw.iter().enumerate().take(max) {
        let role = match team.role.map(|raw| (raw, TeamRole::parse(raw))) {
            None => Some(TeamRole::Member),
            Some((_, Some(role))) => Some(role),
            Some((_, None)) => {
                errors.push(ValidationError::new(
                    &format!("{field}[{i}].role"),
                    "invalid_team_role",
                    "A team role is member or maintainer.",
                ));
                None
            }
        };
        match (TeamId::parse(team.team_id), role) {
            (Some(team_id), Some(role)) if !teams.iter().any(|a| a.team_id == team_id) => {
                teams.push(TeamAssignment { team_id, role })
            }
            (Some(_), _) => {}
            (None, _) => errors.push(ValidationError::new(
                &format!("{field}[{i}]"),
                "invalid_team",
                "Not a team id.",
            )),
        }
    }
    teams
}

/// Which of a request's two ways of naming teams it used: `team_ids` (ids, each as a
/// `member`) or `teams` (each with its role), with that field's name; never both.
pub fn one_team_list<T>(
    team_ids: Option<T>,
    teams: Option<T>,
) -> Result<Option<(&'static str, T)>, ValidationError> {
    match (team_ids, teams) {
        (Some(_), Some(_)) => Err(ValidationError::new(
            "teams",
            "ambiguous_teams",
            "Name the teams either as team_ids or as teams (with their roles), not both.",
        )),
        (Some(ids), None) => Ok(Some(("team_ids", ids))),
        (None, Some(teams)) => Ok(Some(("teams", teams))),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_maintainer_manages_the_team_and_nothing_else() {
        assert!(team_role_holds(
            TeamRole::Maintainer,
            Permission::TeamsManage
        ));
        for permission in Permission::ALL {
            if *permission != Permission::TeamsManage {
                assert!(
                    !team_role_holds(TeamRole::Maintainer, *permission),
                    "{permission:?}"
                );
            }
        }
    }

    #[test]
    fn a_team_member_holds_nothing_extra() {
        for permission in Permission::ALL {
            assert!(!team_role_holds(TeamRole::Member, *permission));
        }
    }

    #[test]
    fn a_maintainer_is_granted_only_where_the_organization_forbids() {
        let manage = Permission::TeamsManage;
        let maintainer = Some(TeamRole::Maintainer);
        assert_eq!(
            team_access(Access::Forbidden, maintainer, manage),
            Access::Granted
        );
        assert_eq!(
            team_access(Access::Forbidden, Some(TeamRole::Member), manage),
            Access::Forbidden
        );
        assert_eq!(
            team_access(Access::Forbidden, None, manage),
            Access::Forbidden
        );
        assert_eq!(
            team_access(Access::Forbidden, maintainer, Permission::TeamsRead),
            Access::Forbidden
        );
        // Deactivated members and strangers learn nothing, maintainer or not.
        assert_eq!(
            team_access(Access::Hidden, maintainer, manage),
            Access::Hidden
        );
        assert_eq!(team_access(Access::Granted, None, manage), Access::Granted);
    }

    #[test]
    fn a_deactivated_maintainer_holds_nothing_in_the_team() {
        use crate::domain::Role;
        let standing = |status| Standing::of(Role::Member, status);
        assert_eq!(
            team_permissions(standing(MemberStatus::Active), TeamRole::Maintainer),
            [Permission::TeamsManage]
        );
        assert!(team_permissions(standing(MemberStatus::Active), TeamRole::Member).is_empty());
        assert!(
            team_permissions(standing(MemberStatus::Deactivated), TeamRole::Maintainer).is_empty()
        );
    }

    fn team(n: u8) -> TeamId {
        TeamId::parse(&format!("team_{:032}", n)).unwrap()
    }

    #[test]
    fn teams_are_parsed_each_once_with_their_roles() {
        let (a, b) = (team(1).to_string(), team(2).to_string());
        let raw = [
            RawTeam {
                team_id: &a,
                role: Some("maintainer"),
            },
            RawTeam {
                team_id: &b,
                role: None,
            },
            RawTeam {
                team_id: &a,
                role: Some("member"),
            },
        ];
        let mut errors = FieldErrors::default();
        let teams = parse_teams("teams", &raw, 10, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(
            teams,
            [
                TeamAssignment {
                    team_id: team(1),
                    role: TeamRole::Maintainer
                },
                TeamAssignment {
                    team_id: team(2),
                    role: TeamRole::Member
                },
            ]
        );
        assert_eq!(role_in(&teams, &team(1)), TeamRole::Maintainer);
        assert_eq!(role_in(&teams, &team(3)), TeamRole::Member);
    }

    #[test]
    fn a_bad_team_id_or_role_and_too_many_teams_are_refused() {
        let a = team(1).to_string();
        let raw = [
            RawTeam {
                team_id: "team_?",
                role: None,
            },
            RawTeam {
                team_id: &a,
                role: Some("owner"),
            },
        ];
        let mut errors = FieldErrors::default();
        assert!(parse_teams("teams", &raw, 1, &mut errors).is_empty());
        let codes: Vec<_> = errors
            .into_vec()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        assert_eq!(
            codes,
            [
                ("teams".to_owned(), "too_many"),
                ("teams[0]".to_owned(), "invalid_team")
            ]
        );
        let mut errors = FieldErrors::default();
        parse_teams("teams", &raw[1..], 10, &mut errors);
        assert_eq!(errors.into_vec()[0].code, "invalid_team_role");
    }

    #[test]
    fn team_ids_and_teams_together_are_refused() {
        assert_eq!(
            one_team_list(Some(1), Some(2)).unwrap_err().code,
            "ambiguous_teams"
        );
        assert_eq!(one_team_list(Some(1), None).unwrap(), Some(("team_ids", 1)));
        assert_eq!(one_team_list(None, Some(2)).unwrap(), Some(("teams", 2)));
        assert_eq!(one_team_list::<u8>(None, None).unwrap(), None);
    }

    #[test]
    fn the_default_team_role_is_member() {
        assert_eq!(TeamRole::default(), TeamRole::Member);
    }

    #[test]
    fn team_role_names_round_trip() {
        for role in [TeamRole::Member, TeamRole::Maintainer] {
            assert_eq!(TeamRole::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(TeamRole::parse("Maintainer"), None);
        assert_eq!(TeamRole::parse("owner"), None);
    }
}
