//! Team roles: the second level of the permission model. A member holds one organization role
//! and, in each team they are in, one team role. A team role grants its permissions only within
//! that team.

use serde::{Deserialize, Serialize};

use super::{
    Access, CustomRole, FieldErrors, Grants, MemberStatus, Permission, PermissionSet, RoleKey,
    RoleRefused, RoleScope, Standing, TeamId, ValidationError, may_grant,
};

/// The service's permissions a team role can grant within its team: only its routes that a
/// team role opens (adding, removing and setting the team roles of the team's members) consult
/// it. Any other service permission a team-scope custom role lists grants nothing in the team.
pub const TEAM_SCOPED: &[Permission] = &[Permission::TeamsManage];

/// `maintainer` manages the members of their team; `member` holds nothing beyond the
/// organization role; a custom role of scope `team` (its key) grants what its role item lists,
/// read when it is needed. Existing team memberships without a stored role are `member`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum TeamRole {
    #[default]
    Member,
    Maintainer,
    Custom(RoleKey),
}

impl From<TeamRole> for String {
    fn from(role: TeamRole) -> Self {
        role.as_str().to_owned()
    }
}

impl TryFrom<String> for TeamRole {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        TeamRole::parse(&raw)
            .ok_or_else(|| format!("{raw:?} is not member, maintainer, or a team role's key"))
    }
}

impl TeamRole {
    pub fn as_str(&self) -> &str {
        match self {
            TeamRole::Member => "member",
            TeamRole::Maintainer => "maintainer",
            TeamRole::Custom(key) => key.as_str(),
        }
    }

    /// `member`, `maintainer`, or a custom role's key (whether the organization has it, and
    /// for teams, is checked where it is given).
    pub fn parse(input: &str) -> Option<Self> {
        match input {
            "member" => Some(TeamRole::Member),
            "maintainer" => Some(TeamRole::Maintainer),
            other => RoleKey::parse(other).ok().map(TeamRole::Custom),
        }
    }

    /// `parse`, refused as a request's `field`: a system organization role (`owner`, `admin`)
    /// or a string of no role's shape is no team role.
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, ValidationError> {
        Self::parse(raw).ok_or_else(|| {
            ValidationError::new(
                field,
                "invalid_team_role",
                "A team role is member, maintainer, or the key of one of the organization's team roles.",
            )
        })
    }

    /// The key of the custom role it is, if it is one.
    pub fn custom_key(&self) -> Option<&RoleKey> {
        match self {
            TeamRole::Custom(key) => Some(key),
            _ => None,
        }
    }

    /// What this team role grants within its team. `custom` is the stored role of a custom
    /// team role, as read now: one that is gone, or is not a team role, grants nothing.
    pub fn grants(&self, custom: Option<&CustomRole>) -> Grants {
        match self {
            TeamRole::Member => Grants::none(),
            TeamRole::Maintainer => Grants {
                service: PermissionSet::EMPTY.with(Permission::TeamsManage),
                ..Grants::none()
            },
            TeamRole::Custom(key) => custom
                .filter(|role| role.key == *key && role.scope == RoleScope::Team)
                .map_or_else(Grants::none, team_grants_of),
        }
    }
}

/// What a custom team role grants within its team: the team-scoped service permissions it
/// lists, and the application's it lists (no implicit `org:read`: the organization role
/// grants that).
pub fn team_grants_of(role: &CustomRole) -> Grants {
    let listed = Grants::of_listed_keys(role.permissions.iter().map(String::as_str));
    Grants {
        service: listed
            .service
            .iter()
            .filter(|p| TEAM_SCOPED.contains(p))
            .collect(),
        app: listed.app,
    }
}

/// Whether a caller holding `giver` (their organization role's grants, with those of their own
/// team role in the team) may give `role` to a team member. `custom` is the organization's
/// role of that key when it is custom (`None`: it has none). `member` and `maintainer` go to
/// whoever manages the team's members; a custom role must be a team role, and grant nothing
/// the giver lacks.
pub fn may_give_team_role(
    giver: &Grants,
    role: &TeamRole,
    custom: Option<&CustomRole>,
) -> Result<(), RoleRefused> {
    if !matches!(role, TeamRole::Custom(_)) {
        return Ok(());
    }
    match custom {
        None => Err(RoleRefused::Unknown),
        Some(found) if found.scope != RoleScope::Team => Err(RoleRefused::WrongScope),
        Some(found) => may_grant(giver, &found.grants()),
    }
}

/// What a member holds within one of their teams through its team role (`grants`): nothing
/// while they are deactivated, as with their organization role.
pub fn team_permissions(standing: Standing, grants: &Grants) -> Grants {
    if standing.status != MemberStatus::Active {
        return Grants::none();
    }
    grants.clone()
}

/// The decision on a route a team role may also open: the organization's decision, unless it
/// is `Forbidden` (an active member without the permission), in which case what the caller's
/// role in the path's team grants (`team`: none if they are not in it) decides, for the
/// team-scoped permissions only. Strangers and deactivated members stay hidden, whatever team
/// item may be left of them.
pub fn team_access(org: Access, team: Option<&Grants>, permission: Permission) -> Access {
    match (org, team) {
        (Access::Forbidden, Some(grants))
            if TEAM_SCOPED.contains(&permission) && grants.holds(permission) =>
        {
            Access::Granted
        }
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
        .map_or(TeamRole::Member, |a| a.role.clone())
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
                    "A team role is member, maintainer, or the key of one of the organization's team roles.",
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

    use crate::domain::Role;
    use crate::domain::custom_role::stored;

    fn custom(key: &str) -> TeamRole {
        TeamRole::Custom(RoleKey::parse(key).unwrap())
    }

    #[test]
    fn a_maintainer_manages_the_team_and_nothing_else() {
        let grants = TeamRole::Maintainer.grants(None);
        assert!(grants.holds(Permission::TeamsManage));
        for permission in Permission::ALL {
            if *permission != Permission::TeamsManage {
                assert!(!grants.holds(*permission), "{permission:?}");
            }
        }
        assert_eq!(grants.keys(&[]), ["teams:manage"]);
    }

    #[test]
    fn a_team_member_holds_nothing_extra() {
        for permission in Permission::ALL {
            assert!(!TeamRole::Member.grants(None).holds(*permission));
        }
    }

    #[test]
    fn a_custom_team_role_grants_its_team_scoped_and_application_permissions() {
        let reviewer = stored(
            "reviewer",
            RoleScope::Team,
            &["teams:manage", "members:remove", "docs:review"],
        );
        let grants = custom("reviewer").grants(Some(&reviewer));
        // Only team-scoped service permissions, and no implicit org:read.
        assert!(grants.holds(Permission::TeamsManage));
        assert!(!grants.holds(Permission::MembersRemove));
        assert!(!grants.holds(Permission::OrgRead));
        let deployment = [crate::domain::AppPermission {
            key: "docs:review".into(),
            description: String::new(),
        }];
        assert_eq!(grants.keys(&deployment), ["teams:manage", "docs:review"]);
    }

    #[test]
    fn a_custom_team_role_that_is_gone_or_for_the_organization_grants_nothing() {
        let role = custom("reviewer");
        assert_eq!(role.grants(None), Grants::none());
        let org_scope = stored("reviewer", RoleScope::Organization, &["teams:manage"]);
        assert_eq!(role.grants(Some(&org_scope)), Grants::none());
        let other = stored("other", RoleScope::Team, &["teams:manage"]);
        assert_eq!(role.grants(Some(&other)), Grants::none());
    }

    #[test]
    fn a_custom_team_role_is_given_only_if_it_is_a_team_role_the_giver_covers() {
        let admin = Grants::of_system(Role::Admin);
        let reviewer = stored("reviewer", RoleScope::Team, &["teams:manage"]);
        let role = custom("reviewer");
        assert_eq!(may_give_team_role(&admin, &role, Some(&reviewer)), Ok(()));
        assert_eq!(
            may_give_team_role(&admin, &role, None),
            Err(RoleRefused::Unknown)
        );
        let org_scope = stored("reviewer", RoleScope::Organization, &["teams:manage"]);
        assert_eq!(
            may_give_team_role(&admin, &role, Some(&org_scope)),
            Err(RoleRefused::WrongScope)
        );
        // A plain member who maintains the team holds teams:manage through the team role.
        let member = Grants::of_system(Role::Member);
        assert_eq!(
            may_give_team_role(&member, &role, Some(&reviewer)),
            Err(RoleRefused::Escalation)
        );
        let maintainer = member.union(&TeamRole::Maintainer.grants(None));
        assert_eq!(
            may_give_team_role(&maintainer, &role, Some(&reviewer)),
            Ok(())
        );
        let deleter = stored("deleter", RoleScope::Team, &["org:delete"]);
        assert_eq!(
            may_give_team_role(&maintainer, &custom("deleter"), Some(&deleter)),
            Err(RoleRefused::Escalation)
        );
        // The built-in team roles need no role item.
        for builtin in [TeamRole::Member, TeamRole::Maintainer] {
            assert_eq!(may_give_team_role(&member, &builtin, None), Ok(()));
        }
    }

    #[test]
    fn a_team_role_is_granted_only_where_the_organization_forbids() {
        let manage = Permission::TeamsManage;
        let maintainer = TeamRole::Maintainer.grants(None);
        let maintainer = Some(&maintainer);
        assert_eq!(
            team_access(Access::Forbidden, maintainer, manage),
            Access::Granted
        );
        let nothing = TeamRole::Member.grants(None);
        assert_eq!(
            team_access(Access::Forbidden, Some(&nothing), manage),
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
    fn a_team_role_opens_only_team_scoped_permissions() {
        // Even grants holding more than the team-scoped permissions open nothing else.
        let everything = Grants::of_system(Role::Owner);
        assert_eq!(
            team_access(
                Access::Forbidden,
                Some(&everything),
                Permission::MembersRemove
            ),
            Access::Forbidden
        );
        assert_eq!(
            team_access(
                Access::Forbidden,
                Some(&everything),
                Permission::TeamsManage
            ),
            Access::Granted
        );
    }

    #[test]
    fn a_deactivated_maintainer_holds_nothing_in_the_team() {
        let standing = |status| Standing::of(Role::Member, status);
        let maintainer = TeamRole::Maintainer.grants(None);
        assert_eq!(
            team_permissions(standing(MemberStatus::Active), &maintainer).keys(&[]),
            ["teams:manage"]
        );
        assert!(
            team_permissions(standing(MemberStatus::Active), &Grants::none())
                .keys(&[])
                .is_empty()
        );
        assert!(
            team_permissions(standing(MemberStatus::Deactivated), &maintainer)
                .keys(&[])
                .is_empty()
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
        for refused in ["owner", "admin", "Boss!"] {
            let error = TeamRole::parse_field("role", refused).unwrap_err();
            assert_eq!(
                (error.field.as_str(), error.code),
                ("role", "invalid_team_role")
            );
        }
        assert_eq!(
            TeamRole::parse_field("role", "maintainer"),
            Ok(TeamRole::Maintainer)
        );
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
        for role in [TeamRole::Member, TeamRole::Maintainer, custom("reviewer")] {
            assert_eq!(TeamRole::parse(role.as_str()), Some(role.clone()));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(TeamRole::parse("Maintainer"), None);
        assert_eq!(TeamRole::parse("owner"), None);
        assert_eq!(TeamRole::parse("x"), None);
        assert_eq!(
            serde_json::from_str::<TeamRole>("\"reviewer\"").unwrap(),
            custom("reviewer")
        );
        assert!(serde_json::from_str::<TeamRole>("\"Owner\"").is_err());
    }

    #[test]
    fn a_custom_team_role_is_parsed_in_a_list_of_teams() {
        let a = team(1).to_string();
        let raw = [RawTeam {
            team_id: &a,
            role: Some("reviewer"),
        }];
        let mut errors = FieldErrors::default();
        let teams = parse_teams("teams", &raw, 10, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(role_in(&teams, &team(1)), custom("reviewer"));
    }
}
