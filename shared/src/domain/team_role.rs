//! Team roles: the second level of the permission model. A member holds one organization role
//! and, in each team they are in, one team role. A team role grants its permissions only within
//! that team.

use serde::{Deserialize, Serialize};

use super::{Access, MemberStatus, Permission, Standing, TeamId, ValidationError};

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

/// The teams a request names, in either of its two shapes: `team_ids` (each as a `member`) or
/// `teams` (each with its role), never both. A team named twice keeps its first role.
pub fn team_assignments(
    team_ids: Option<Vec<TeamId>>,
    teams: Option<Vec<TeamAssignment>>,
) -> Result<Vec<TeamAssignment>, ValidationError> {
    let named = match (team_ids, teams) {
        (Some(_), Some(_)) => {
            return Err(ValidationError::new(
                "teams",
                "ambiguous_teams",
                "Name the teams either as team_ids or as teams (with their roles), not both.",
            ));
        }
        (Some(ids), None) => ids
            .into_iter()
            .map(|team_id| TeamAssignment {
                team_id,
                role: TeamRole::Member,
            })
            .collect(),
        (None, Some(teams)) => teams,
        (None, None) => Vec::new(),
    };
    let mut unique: Vec<TeamAssignment> = Vec::with_capacity(named.len());
    for assignment in named {
        if !unique.iter().any(|a| a.team_id == assignment.team_id) {
            unique.push(assignment);
        }
    }
    Ok(unique)
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
        let standing = |status| Standing {
            role: Role::Member,
            status,
        };
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
    fn team_ids_join_as_members_and_teams_with_their_roles() {
        let from_ids = team_assignments(Some(vec![team(1), team(2), team(1)]), None).unwrap();
        assert_eq!(from_ids.len(), 2);
        assert!(from_ids.iter().all(|a| a.role == TeamRole::Member));
        let with_roles = vec![
            TeamAssignment {
                team_id: team(1),
                role: TeamRole::Maintainer,
            },
            TeamAssignment {
                team_id: team(1),
                role: TeamRole::Member,
            },
        ];
        let from_teams = team_assignments(None, Some(with_roles)).unwrap();
        assert_eq!(
            from_teams,
            vec![TeamAssignment {
                team_id: team(1),
                role: TeamRole::Maintainer
            }]
        );
        assert_eq!(team_assignments(None, None).unwrap(), Vec::new());
    }

    #[test]
    fn team_ids_and_teams_together_are_refused() {
        let refused = team_assignments(Some(vec![team(1)]), Some(Vec::new())).unwrap_err();
        assert_eq!(refused.code, "ambiguous_teams");
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
