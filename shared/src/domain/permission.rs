//! The permission catalog: every right inside an organization is a `resource:action` key, such
//! as `members:invite`. The service's own are the `Permission` variants, each with its key, a
//! description and the least system role that holds it; a deployment adds the application's
//! own (`AppPermission`, from its configuration), which `GET /permissions` lists beside them.

use std::collections::BTreeSet;

use super::{Denied, Grants, MemberStatus, PermissionSet, Role, Standing, ValidationError};

/// Declares the service's permissions in one table: each variant with its key, the least
/// system role that holds it, and its description.
macro_rules! permissions {
    ($($variant:ident => $key:literal, $least:ident, $description:literal;)*) => {
        /// A right inside an organization that one of the service's operations needs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Permission {
            $($variant,)*
        }

        impl Permission {
            /// Every one of the service's permissions, in the catalog's order.
            pub const ALL: &[Permission] = &[$(Permission::$variant,)*];

            /// Its key in the catalog, as answers, roles and tokens spell it.
            pub const fn key(self) -> &'static str {
                match self {
                    $(Permission::$variant => $key,)*
                }
            }

            pub const fn description(self) -> &'static str {
                match self {
                    $(Permission::$variant => $description,)*
                }
            }

            /// The least system role that holds it: `member` < `admin` < `owner`, each
            /// holding what the one below holds.
            pub const fn least_role(self) -> Role {
                match self {
                    $(Permission::$variant => Role::$least,)*
                }
            }
        }
    };
}

permissions! {
    OrgRead => "org:read", Member, "See the organization, its profile and counts.";
    OrgUpdate => "org:update", Admin, "Edit the organization's profile.";
    BillingRead => "org:billing:read", Admin, "See the organization's billing email.";
    BillingUpdate => "org:billing:update", Admin, "Set the organization's billing email.";
    HandleUpdate => "org:handle:update", Owner, "Change the organization's handle.";
    OwnershipTransfer => "org:ownership:transfer", Owner, "Hand ownership to another member.";
    OrgDelete => "org:delete", Owner, "Delete the organization and everything in it.";
    MembersRead => "members:read", Member, "List members and read one.";
    MembersInvite => "members:invite", Admin, "Invite people, by email or handle.";
    MembersUpdate => "members:update", Admin, "Change members' roles and status.";
    MembersRemove => "members:remove", Admin, "Remove members.";
    InvitationsManage => "invitations:manage", Admin,
        "List, read, resend and revoke invitations.";
    TeamsRead => "teams:read", Member, "List teams and their members.";
    TeamsManage => "teams:manage", Admin,
        "Create, rename and delete teams, and fill and empty them.";
    RolesManage => "roles:manage", Admin,
        "Create, change and delete the organization's custom roles (never beyond one's own).";
    AuditRead => "audit:read", Admin, "Read the audit log.";
    DomainsRead => "domains:read", Admin,
        "See the organization's email domains and their records.";
    DomainsManage => "domains:manage", Owner,
        "Add, verify and remove email domains, and set who may join through them.";
    JoinRequestsManage => "join_requests:manage", Admin, "Approve and deny join requests.";
    SsoManage => "sso:manage", Owner,
        "Connect, change and remove the organization's single sign-on identity provider.";
    MetadataPrivateRead => "metadata:private:read", Admin, "See private metadata.";
    MetadataPrivateUpdate => "metadata:private:update", Admin,
        "Write metadata, private and public, on the organization and its members.";
}

impl Permission {
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.key() == key)
    }
}

impl Role {
    /// Whether this system role holds `permission`.
    pub const fn holds(self, permission: Permission) -> bool {
        self as u8 >= permission.least_role() as u8
    }

    /// The service's permissions this system role holds, in the catalog's order.
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(|p| self.holds(*p))
            .collect()
    }

    /// Whether it holds the application's own permissions: admins and owners hold all of them,
    /// members none (a custom role names the ones it grants).
    pub const fn holds_app_permissions(self) -> bool {
        !matches!(self, Role::Member)
    }
}

/// A permission of the application's own, as the deployment declares it: a key in the
/// catalog's shape (`projects:create`) and its description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppPermission {
    pub key: String,
    pub description: String,
}

/// Whether `key` has the catalog's shape: two or three segments of `[a-z0-9_]`, joined by `:`.
pub fn is_permission_key(key: &str) -> bool {
    let segments: Vec<&str> = key.split(':').collect();
    (2..=3).contains(&segments.len())
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

impl AppPermission {
    /// Parses the deployment's list: `key=description` entries separated by `,` (a description
    /// may be left out). A key must have the catalog's shape and be neither one of the
    /// service's nor given twice.
    pub fn parse_list(raw: &str) -> Result<Vec<AppPermission>, ValidationError> {
        let invalid = |message: String| {
            ValidationError::new("app_permissions", "invalid_permission", &message)
        };
        let mut seen = BTreeSet::new();
        let mut list = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, description) = match entry.split_once('=') {
                Some((key, description)) => (key.trim(), description.trim()),
                None => (entry, ""),
            };
            if !is_permission_key(key) {
                return Err(invalid(format!(
                    "{key:?} is not a permission key: two or three segments of a-z, 0-9 and _, \
                     joined by ':' (projects:create)."
                )));
            }
            if Permission::parse(key).is_some() {
                return Err(invalid(format!(
                    "{key} is one of the service's own permissions."
                )));
            }
            if !seen.insert(key.to_owned()) {
                return Err(invalid(format!("{key} is given twice.")));
            }
            list.push(AppPermission {
                key: key.to_owned(),
                description: description.to_owned(),
            });
        }
        Ok(list)
    }
}

/// The permission keys a member holds, in the catalog's order and then the application's:
/// an active member's role's grants; nothing for a deactivated member.
pub fn effective_permissions(
    status: MemberStatus,
    grants: &Grants,
    app: &[AppPermission],
) -> Vec<String> {
    if status != MemberStatus::Active {
        return Vec::new();
    }
    grants.keys(app)
}

/// Anything that answers whether it holds a permission: a system role, or a set of them.
pub trait Holds: Copy {
    fn holds(self, permission: Permission) -> bool;
}

impl Holds for Role {
    fn holds(self, permission: Permission) -> bool {
        Role::holds(self, permission)
    }
}

impl Holds for PermissionSet {
    fn holds(self, permission: Permission) -> bool {
        PermissionSet::holds(self, permission)
    }
}

/// Whether `caller` may see another member's permissions: it takes `members:read`; anyone sees
/// their own.
pub fn may_see_permissions_of(caller: Standing, myself: bool) -> Result<(), Denied> {
    if myself || caller.held.holds(Permission::MembersRead) {
        Ok(())
    } else {
        Err(Denied::RoleTooLow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_has_the_catalogs_shape_and_parses_back() {
        let keys: BTreeSet<&str> = Permission::ALL.iter().map(|p| p.key()).collect();
        assert_eq!(keys.len(), Permission::ALL.len());
        for &permission in Permission::ALL {
            assert!(is_permission_key(permission.key()), "{}", permission.key());
            assert_eq!(Permission::parse(permission.key()), Some(permission));
            assert!(permission.description().ends_with('.'));
        }
        assert_eq!(Permission::BillingUpdate.key(), "org:billing:update");
    }

    #[test]
    fn keys_have_two_or_three_lower_case_segments() {
        for good in ["projects:create", "org:billing:read", "a_1:b"] {
            assert!(is_permission_key(good), "{good}");
        }
        for bad in [
            "projects",
            "a:b:c:d",
            "Projects:create",
            "a::b",
            "a:b-c",
            ":a",
            "a:",
        ] {
            assert!(!is_permission_key(bad), "{bad}");
        }
    }

    #[test]
    fn each_system_role_holds_the_one_belows_and_more() {
        let member = Role::Member.permissions();
        let admin = Role::Admin.permissions();
        let owner = Role::Owner.permissions();
        assert_eq!(
            member,
            [
                Permission::OrgRead,
                Permission::MembersRead,
                Permission::TeamsRead
            ]
        );
        assert!(member.iter().all(|p| admin.contains(p)));
        assert!(admin.iter().all(|p| owner.contains(p)));
        assert_eq!(owner.len(), Permission::ALL.len());
        assert!(Role::Admin.holds(Permission::BillingUpdate));
        assert!(!Role::Admin.holds(Permission::OrgDelete));
        assert!(!Role::Member.holds(Permission::MembersInvite));
        assert!(Role::Admin.holds_app_permissions() && !Role::Member.holds_app_permissions());
    }

    #[test]
    fn a_standing_gives_its_roles_permissions_and_a_deactivated_one_none() {
        let app = AppPermission::parse_list("projects:create").unwrap();
        let of = |role, status| effective_permissions(status, &Grants::of_system(role), &app);
        let member = of(Role::Member, MemberStatus::Active);
        assert_eq!(member, ["org:read", "members:read", "teams:read"]);
        let admin = of(Role::Admin, MemberStatus::Active);
        assert!(admin.contains(&"org:billing:update".to_owned()));
        assert!(!admin.contains(&"org:delete".to_owned()));
        assert_eq!(admin.last().map(String::as_str), Some("projects:create"));
        let gone = of(Role::Owner, MemberStatus::Deactivated);
        assert!(gone.is_empty());
    }

    #[test]
    fn members_see_each_others_permissions_and_everyone_their_own() {
        let member = Standing::of(Role::Member, MemberStatus::Active);
        assert!(may_see_permissions_of(member, false).is_ok());
        assert!(may_see_permissions_of(member, true).is_ok());
    }

    #[test]
    fn the_deployments_permissions_are_parsed_and_checked() {
        let list =
            AppPermission::parse_list(" projects:create=Create projects, reports:read ").unwrap();
        assert_eq!(
            list,
            [
                AppPermission {
                    key: "projects:create".into(),
                    description: "Create projects".into()
                },
                AppPermission {
                    key: "reports:read".into(),
                    description: String::new()
                },
            ]
        );
        assert_eq!(AppPermission::parse_list("").unwrap(), []);
        for bad in ["Projects:create", "org:read", "a:b,a:b", "nocolon"] {
            assert!(AppPermission::parse_list(bad).is_err(), "{bad}");
        }
    }
}
