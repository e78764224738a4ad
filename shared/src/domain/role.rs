//! Roles, membership status and who may do what.

use serde::{Deserialize, Serialize};

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

/// Everything a member can ask to do inside an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    ViewOrganization,
    EditProfile,
    ManageInvitations,
    ManageMembers,
    ManageTeams,
    ReadAuditLog,
    ChangeHandle,
    TransferOwnership,
    DeleteOrganization,
    /// Reading the organization's email domains and their records.
    ViewDomains,
    /// Adding, verifying and removing domains, and setting their enrollment policy.
    ManageDomains,
}

impl Permission {
    /// The least role that holds this permission.
    pub const fn least_role(self) -> Role {
        use Permission::*;
        match self {
            ViewOrganization => Role::Member,
            EditProfile | ManageInvitations | ManageMembers | ManageTeams | ReadAuditLog
            | ViewDomains => Role::Admin,
            ChangeHandle | TransferOwnership | DeleteOrganization | ManageDomains => Role::Owner,
        }
    }
}

/// A caller's standing in one organization, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub status: MemberStatus,
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
            role,
        }) if role >= permission.least_role() => Access::Granted,
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
        Some(Standing {
            role,
            status: MemberStatus::Active,
        })
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Owner > Role::Admin && Role::Admin > Role::Member);
    }

    #[test]
    fn each_role_gets_exactly_its_permissions() {
        use Permission::*;
        assert_eq!(
            access(active(Role::Member), ViewOrganization),
            Access::Granted
        );
        assert_eq!(access(active(Role::Member), EditProfile), Access::Forbidden);
        assert_eq!(access(active(Role::Admin), EditProfile), Access::Granted);
        assert_eq!(access(active(Role::Admin), ReadAuditLog), Access::Granted);
        assert_eq!(access(active(Role::Admin), ChangeHandle), Access::Forbidden);
        assert_eq!(
            access(active(Role::Admin), DeleteOrganization),
            Access::Forbidden
        );
        assert_eq!(
            access(active(Role::Owner), DeleteOrganization),
            Access::Granted
        );
        assert_eq!(access(active(Role::Member), ViewDomains), Access::Forbidden);
        assert_eq!(access(active(Role::Admin), ViewDomains), Access::Granted);
        assert_eq!(
            access(active(Role::Admin), ManageDomains),
            Access::Forbidden
        );
        assert_eq!(access(active(Role::Owner), ManageDomains), Access::Granted);
    }

    #[test]
    fn strangers_and_deactivated_members_see_nothing() {
        let deactivated = Some(Standing {
            role: Role::Owner,
            status: MemberStatus::Deactivated,
        });
        assert_eq!(
            access(deactivated, Permission::ViewOrganization),
            Access::Hidden
        );
        assert_eq!(access(None, Permission::ViewOrganization), Access::Hidden);
    }

    #[test]
    fn role_names_round_trip() {
        for role in [Role::Member, Role::Admin, Role::Owner] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Owner"), None);
    }
}
