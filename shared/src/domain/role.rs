//! Roles, membership status and who may do what.

use serde::{Deserialize, Serialize};

use super::Permission;
use super::custom_role::PermissionSet;

/// `owner` > `admin` > `member`. The derived order follows the declaration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }
    pub fn parse(input: &str) -> Option<Self> {
        match input {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Active,
    Deactivated,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Active => "active",
            MemberStatus::Deactivated => "deactivated",
        }
    }
    pub fn parse(input: &str) -> Option<Self> {
        match input {
            "active" => Some(MemberStatus::Active),
            "deactivated" => Some(MemberStatus::Deactivated),
            _ => None,
        }
    }
}

/// A caller's standing in one organization, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub status: MemberStatus,
    /// The service's permissions its role grants (a custom role's, for its holders).
    pub held: PermissionSet,
}

impl Standing {
    /// The standing of a system role's holder.
    pub fn of(role: Role, status: MemberStatus) -> Self {
        Standing {
            role,
            status,
            held: PermissionSet::of_role(role),
        }
    }
}

/// What a caller may learn or do in an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Granted,
    /// A member in good standing without the role: they may know the organization exists.
    Forbidden,
    /// Not a member, or deactivated: the organization is not shown to them at all.
    Hidden,
}

/// Deactivated members lose every right, and learn no more than a stranger would.
pub fn access(standing: Option<Standing>, permission: Permission) -> Access {
    match standing {
        Some(Standing {
            status: MemberStatus::Active,
            held,
            ..
        }) if held.holds(permission) => Access::Granted,
        Some(Standing {
            status: MemberStatus::Active,
            ..
        }) => Access::Forbidden,
        _ => Access::Hidden,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(role: Role) -> Option<Standing> {
        Some(Standing::of(role, MemberStatus::Active))
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Owner > Role::Admin && Role::Admin > Role::Member);
    }

    #[test]
    fn each_role_gets_exactly_its_permissions() {
        use Permission::*;
        assert_eq!(access(active(Role::Member), OrgRead), Access::Granted);
        assert_eq!(access(active(Role::Member), OrgUpdate), Access::Forbidden);
        assert_eq!(access(active(Role::Admin), OrgUpdate), Access::Granted);
        assert_eq!(access(active(Role::Admin), AuditRead), Access::Granted);
        assert_eq!(access(active(Role::Admin), HandleUpdate), Access::Forbidden);
        assert_eq!(access(active(Role::Admin), OrgDelete), Access::Forbidden);
        assert_eq!(access(active(Role::Owner), OrgDelete), Access::Granted);
        assert_eq!(access(active(Role::Member), DomainsRead), Access::Forbidden);
        assert_eq!(access(active(Role::Admin), DomainsRead), Access::Granted);
        assert_eq!(
            access(active(Role::Admin), DomainsManage),
            Access::Forbidden
        );
        assert_eq!(access(active(Role::Owner), DomainsManage), Access::Granted);
    }

    #[test]
    fn strangers_and_deactivated_members_see_nothing() {
        let deactivated = Some(Standing::of(Role::Owner, MemberStatus::Deactivated));
        assert_eq!(access(deactivated, Permission::OrgRead), Access::Hidden);
        assert_eq!(access(None, Permission::OrgRead), Access::Hidden);
    }

    #[test]
    fn role_names_round_trip() {
        for role in [Role::Member, Role::Admin, Role::Owner] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Owner"), None);
    }
}
