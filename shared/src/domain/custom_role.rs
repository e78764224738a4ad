//! Custom roles: an organization's own named sets of permissions, beside the system roles
//! (owner, admin, member). A member holds one organization role, system or custom; what it
//! grants is a `Grants`. Nobody creates, edits or assigns a role that grants more than they hold.

use std::collections::BTreeSet;

use super::{AppPermission, CustomRole, Permission, Role, ValidationError, is_permission_key};

/// A custom role's key: 2–40 of `a-z`, `0-9` and `-`, starting with a letter, and not a system
/// role's or a built-in team role's name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleKey(String);

/// Names a custom role may not take: the system roles' and the built-in team roles'.
const RESERVED_KEYS: &[&str] = &["owner", "admin", "member", "maintainer"];

impl RoleKey {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let shaped = (2..=40).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !shaped {
            return Err(ValidationError::new(
                "key",
                "invalid_role_key",
                "A role's key is 2 to 40 of a-z, 0-9 and -, starting with a letter.",
            ));
        }
        if RESERVED_KEYS.contains(&raw) {
            return Err(ValidationError::new(
                "key",
                "reserved_role_key",
                "owner, admin, member and maintainer are the built-in roles' keys.",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RoleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The role a request names for a member: a system role's or a custom role's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleName {
    System(Role),
    Custom(RoleKey),
}

impl RoleName {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        if let Some(role) = Role::parse(raw) {
            return Ok(RoleName::System(role));
        }
        RoleKey::parse(raw).map(RoleName::Custom).map_err(|_| {
            ValidationError::new(
                field,
                "invalid_role",
                "role is owner, admin, member, or the key of one of the organization's roles.",
            )
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            RoleName::System(role) => role.as_str(),
            RoleName::Custom(key) => key.as_str(),
        }
    }
}

/// A set of the service's permissions, one bit each: cheap to copy and to compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u32);

const _: () = assert!(
    Permission::ALL.len() <= 32,
    "PermissionSet holds 32 permissions"
);

impl PermissionSet {
    pub const EMPTY: Self = PermissionSet(0);

    const fn bit(permission: Permission) -> u32 {
        1 << permission as u32
    }

    pub fn of_role(role: Role) -> Self {
        role.permissions().into_iter().collect()
    }

    pub const fn holds(self, permission: Permission) -> bool {
        self.0 & Self::bit(permission) != 0
    }

    pub const fn with(self, permission: Permission) -> Self {
        PermissionSet(self.0 | Self::bit(permission))
    }

    pub const fn covers(self, other: PermissionSet) -> bool {
        other.0 & !self.0 == 0
    }

    /// Its permissions, in the catalog's order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.holds(*p))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, PermissionSet::with)
    }
}

/// What a role grants: the service's permissions, and the application's (every one of them,
/// for admins and owners, or those it names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grants {
    pub service: PermissionSet,
    pub app: AppGrants,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppGrants {
    All,
    Only(BTreeSet<String>),
}

impl Grants {
    /// Nothing: what a member whose custom role was not read holds (the gate reads it).
    pub fn none() -> Self {
        Grants {
            service: PermissionSet::EMPTY,
            app: AppGrants::Only(BTreeSet::new()),
        }
    }

    pub fn of_system(role: Role) -> Self {
        let app = if role.holds_app_permissions() {
            AppGrants::All
        } else {
            AppGrants::Only(BTreeSet::new())
        };
        Grants {
            service: PermissionSet::of_role(role),
            app,
        }
    }

    /// A custom role's grants from its permission keys. Every member sees the organization
    /// they are in, so `org:read` is always held.
    pub fn of_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        let listed = Self::of_listed_keys(keys);
        Grants {
            service: listed.service.with(Permission::OrgRead),
            ..listed
        }
    }

    /// Exactly the permissions `keys` name: what a team role grants within its team.
    pub fn of_listed_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        let mut service = PermissionSet::EMPTY;
        let mut app = BTreeSet::new();
        for key in keys {
            match Permission::parse(key) {
                Some(permission) => service = service.with(permission),
                None => {
                    app.insert(key.to_owned());
                }
            }
        }
        Grants {
            service,
            app: AppGrants::Only(app),
        }
    }

    pub fn holds(&self, permission: Permission) -> bool {
        self.service.holds(permission)
    }

    /// Everything either holds: a team maintainer's organization role and team role together.
    pub fn union(&self, other: &Grants) -> Grants {
        let app = match (&self.app, &other.app) {
            (AppGrants::All, _) | (_, AppGrants::All) => AppGrants::All,
            (AppGrants::Only(a), AppGrants::Only(b)) => AppGrants::Only(a | b),
        };
        Grants {
            service: self.service.iter().chain(other.service.iter()).collect(),
            app,
        }
    }

    /// Whether these grants hold everything `other` grants: what no escalation may pass.
    pub fn covers(&self, other: &Grants) -> bool {
        let app = match (&self.app, &other.app) {
            (AppGrants::All, _) => true,
            (AppGrants::Only(_), AppGrants::All) => false,
            (AppGrants::Only(mine), AppGrants::Only(theirs)) => theirs.is_subset(mine),
        };
        app && self.service.covers(other.service)
    }

    /// The keys granted, the service's in the catalog's order and then the application's in
    /// the deployment's order.
    pub fn keys(&self, deployment: &[AppPermission]) -> Vec<String> {
        let service = self.service.iter().map(|p| p.key().to_owned());
        let app = deployment
            .iter()
            .filter(|p| match &self.app {
                AppGrants::All => true,
                AppGrants::Only(named) => named.contains(&p.key),
            })
            .map(|p| p.key.clone());
        service.chain(app).collect()
    }
}

/// What a custom role is for: members of the organization, or members of a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleScope {
    Organization,
    Team,
}

impl RoleScope {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleScope::Organization => "organization",
            RoleScope::Team => "team",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "organization" => Some(RoleScope::Organization),
            "team" => Some(RoleScope::Team),
            _ => None,
        }
    }
}

/// A role's name, description and permissions as a request sets them, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleSpec {
    pub name: String,
    pub description: String,
    /// Distinct keys, in the order given.
    pub permissions: Vec<String>,
}

/// Why a role cannot be created, changed, assigned or deleted as asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RoleRefused {
    #[error("the role grants a permission the caller does not hold")]
    Escalation,
    #[error("the organization has no role with this key")]
    Unknown,
    #[error("the role is for teams, not for the organization (or the other way round)")]
    WrongScope,
}

impl RoleRefused {
    pub fn detail(self) -> &'static str {
        match self {
            RoleRefused::Escalation => {
                "Nobody creates, edits or assigns a role that grants a permission they lack."
            }
            RoleRefused::Unknown => "The organization has no role with this key.",
            RoleRefused::WrongScope => {
                "This role is not for this: organization roles go to members, team roles to \
                 team members."
            }
        }
    }
}

impl RoleSpec {
    /// Checks a name (1–80 characters), a description (at most 500) and permissions: each a
    /// key of the catalog (the service's or the deployment's), at most `max_permissions`.
    pub fn parse(
        name: &str,
        description: Option<&str>,
        permissions: &[String],
        deployment: &[AppPermission],
        max_permissions: usize,
    ) -> Result<Self, ValidationError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(ValidationError::new(
                "name",
                "invalid_name",
                "A role's name is 1 to 80 characters.",
            ));
        }
        let description = description.unwrap_or("").trim();
        if description.chars().count() > 500 {
            return Err(ValidationError::new(
                "description",
                "too_long",
                "A role's description is at most 500 characters.",
            ));
        }
        let mut seen = BTreeSet::new();
        let mut keys = Vec::new();
        for (index, key) in permissions.iter().enumerate() {
            let known =
                Permission::parse(key).is_some() || deployment.iter().any(|p| &p.key == key);
            if !is_permission_key(key) || !known {
                return Err(ValidationError::new(
                    &format!("permissions[{index}]"),
                    "unknown_permission",
                    &format!("{key:?} is not in the permission catalog (GET /permissions)."),
                ));
            }
            if seen.insert(key.as_str()) {
                keys.push(key.clone());
            }
        }
        if keys.len() > max_permissions {
            return Err(ValidationError::new(
                "permissions",
                "too_many",
                &format!("A role grants at most {max_permissions} permissions."),
            ));
        }
        Ok(RoleSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            permissions: keys,
        })
    }

    pub fn grants(&self) -> Grants {
        Grants::of_keys(self.permissions.iter().map(String::as_str))
    }
}

/// Whether a caller holding `caller` may create, edit or assign a role granting `role`.
pub fn may_grant(caller: &Grants, role: &Grants) -> Result<(), RoleRefused> {
    if caller.covers(role) {
        Ok(())
    } else {
        Err(RoleRefused::Escalation)
    }
}

/// Whether a caller holding `caller` may give a member the organization role `name`, whose
/// stored role is `custom` when it names one (`None`: the organization has none by that key).
/// What the role grants, if so. System roles go by rank instead, where they are given
/// (`may_change`, `InvitationSpec::parse`, `Approval::parse`): nobody gives one above their
/// own, and a custom role ranks as `member`.
pub fn may_assign(
    caller: &Grants,
    name: &RoleName,
    custom: Option<&CustomRole>,
) -> Result<Grants, RoleRefused> {
    let grants = match (name, custom) {
        (RoleName::System(role), _) => return Ok(Grants::of_system(*role)),
        (RoleName::Custom(_), None) => return Err(RoleRefused::Unknown),
        (RoleName::Custom(_), Some(role)) if role.scope != RoleScope::Organization => {
            return Err(RoleRefused::WrongScope);
        }
        (RoleName::Custom(_), Some(role)) => role.grants(),
    };
    may_grant(caller, &grants)?;
    Ok(grants)
}

/// A stored role for the tests of the rules that read one.
#[cfg(test)]
pub(crate) fn stored(key: &str, scope: RoleScope, permissions: &[&str]) -> CustomRole {
    let at = super::Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
    CustomRole {
        org_id: super::OrgId::generate(),
        key: RoleKey::parse(key).unwrap(),
        scope,
        name: key.into(),
        description: String::new(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        holders: 0,
        created_at: at,
        updated_at: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_given_only_if_it_exists_for_members_and_grants_no_more_than_the_giver_holds() {
        let admin = Grants::of_system(Role::Admin);
        let billing = stored("billing", RoleScope::Organization, &["org:billing:update"]);
        let name = RoleName::parse("role", "billing").unwrap();
        assert!(may_assign(&admin, &name, Some(&billing)).is_ok());
        assert_eq!(may_assign(&admin, &name, None), Err(RoleRefused::Unknown));
        let team_role = stored("billing", RoleScope::Team, &[]);
        assert_eq!(
            may_assign(&admin, &name, Some(&team_role)),
            Err(RoleRefused::WrongScope)
        );
        let deleter = stored("billing", RoleScope::Organization, &["org:delete"]);
        assert_eq!(
            may_assign(&admin, &name, Some(&deleter)),
            Err(RoleRefused::Escalation)
        );
        let holder = billing.grants();
        assert_eq!(
            may_assign(&holder, &name, Some(&billing)),
            Ok(holder.clone())
        );
        let wider = stored(
            "wider",
            RoleScope::Organization,
            &["org:billing:update", "members:read"],
        );
        assert_eq!(
            may_assign(&holder, &name, Some(&wider)),
            Err(RoleRefused::Escalation)
        );
        assert!(may_assign(&admin, &RoleName::System(Role::Member), None).is_ok());
    }

    fn app() -> Vec<AppPermission> {
        AppPermission::parse_list("projects:create,reports:read").unwrap()
    }

    #[test]
    fn role_keys_are_shaped_and_never_a_built_in_roles() {
        for good in ["billing-manager", "ci2", "a-b-c"] {
            assert_eq!(RoleKey::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "a",
            "Billing",
            "2fa",
            "billing_manager",
            &"x".repeat(41),
        ] {
            assert_eq!(RoleKey::parse(bad).unwrap_err().code, "invalid_role_key");
        }
        for reserved in ["owner", "admin", "member", "maintainer"] {
            assert_eq!(
                RoleKey::parse(reserved).unwrap_err().code,
                "reserved_role_key"
            );
        }
    }

    #[test]
    fn a_role_name_is_a_system_role_or_a_custom_key() {
        assert_eq!(
            RoleName::parse("role", "admin"),
            Ok(RoleName::System(Role::Admin))
        );
        let custom = RoleName::parse("role", "billing-manager").unwrap();
        assert_eq!(custom.as_str(), "billing-manager");
        assert_eq!(RoleName::parse("role", "Boss").unwrap_err().field, "role");
    }

    #[test]
    fn a_permission_set_holds_covers_and_lists_in_catalog_order() {
        let set: PermissionSet = [Permission::MembersRead, Permission::OrgRead]
            .into_iter()
            .collect();
        assert!(set.holds(Permission::OrgRead) && !set.holds(Permission::OrgDelete));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Permission::OrgRead, Permission::MembersRead]
        );
        let owner = PermissionSet::of_role(Role::Owner);
        assert!(owner.covers(set) && !set.covers(owner));
        assert!(set.covers(PermissionSet::EMPTY));
    }

    #[test]
    fn a_custom_role_holds_what_it_names_and_always_sees_the_organization() {
        let grants = Grants::of_keys(["org:billing:update", "projects:create"]);
        assert!(grants.holds(Permission::BillingUpdate));
        assert!(grants.holds(Permission::OrgRead));
        assert!(!grants.holds(Permission::OrgUpdate));
        assert_eq!(
            grants.keys(&app()),
            ["org:read", "org:billing:update", "projects:create"]
        );
    }

    #[test]
    fn nobody_grants_more_than_they_hold() {
        let admin = Grants::of_system(Role::Admin);
        let member = Grants::of_system(Role::Member);
        let billing = Grants::of_keys(["org:billing:update", "members:read"]);
        let deleter = Grants::of_keys(["org:delete"]);
        let projects = Grants::of_keys(["projects:create"]);
        assert_eq!(may_grant(&admin, &billing), Ok(()));
        assert_eq!(may_grant(&admin, &projects), Ok(()));
        assert_eq!(may_grant(&admin, &deleter), Err(RoleRefused::Escalation));
        assert_eq!(may_grant(&member, &billing), Err(RoleRefused::Escalation));
        assert_eq!(may_grant(&billing, &projects), Err(RoleRefused::Escalation));
        // A custom role may hand on what it holds, and no more.
        assert_eq!(
            may_grant(&billing, &Grants::of_keys(["members:read"])),
            Ok(())
        );
        assert_eq!(
            may_grant(&billing, &Grants::of_system(Role::Admin)),
            Err(RoleRefused::Escalation)
        );
        assert_eq!(may_grant(&Grants::of_system(Role::Owner), &admin), Ok(()));
    }

    #[test]
    fn a_spec_names_its_first_bad_field_and_keeps_distinct_permissions() {
        let keys = |list: &[&str]| list.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        let spec = RoleSpec::parse(
            " Billing ",
            None,
            &keys(&[
                "org:billing:update",
                "projects:create",
                "org:billing:update",
            ]),
            &app(),
            100,
        )
        .unwrap();
        assert_eq!(spec.name, "Billing");
        assert_eq!(spec.permissions, ["org:billing:update", "projects:create"]);
        let error = |name: &str, list: &[&str], max| {
            RoleSpec::parse(name, None, &keys(list), &app(), max).unwrap_err()
        };
        assert_eq!(error("", &[], 100).field, "name");
        assert_eq!(
            error("B", &["org:read", "ships:sail"], 100).field,
            "permissions[1]"
        );
        assert_eq!(error("B", &["nope"], 100).code, "unknown_permission");
        assert_eq!(
            error("B", &["org:read", "members:read"], 1).code,
            "too_many"
        );
        let long = "d".repeat(501);
        assert_eq!(
            RoleSpec::parse("B", Some(&long), &[], &app(), 100)
                .unwrap_err()
                .field,
            "description"
        );
    }

    #[test]
    fn scopes_round_trip() {
        for scope in [RoleScope::Organization, RoleScope::Team] {
            assert_eq!(RoleScope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(RoleScope::parse("org"), None);
    }
}
