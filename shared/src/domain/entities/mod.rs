//! The things the store keeps, as the domain knows them: organizations, memberships, teams,
//! join requests and the stamp of who changes them (here), invitations, organizations' email
//! domains, users and audit entries (beside). The store (`crate::store`) reads and writes them
//! (their items, keys and queries); the rules here and in the other domain modules decide on
//! them.

mod audit_entry;
mod invitation;
mod org_domain;
mod user;

pub use audit_entry::AuditEntry;
pub use invitation::Invitation;
pub(crate) use invitation::resend_day;
pub use org_domain::{Domain, DomainStatus};
pub use user::User;

use crate::domain::custom_role::{Grants, RoleKey, RoleName, RoleScope};
use crate::domain::sso::OrgSso;
use crate::domain::{
    EmailDomain, JoinRequestStatus, MemberStatus, Metadata, OrgId, OrgStatus, Region, Role,
    Standing, TeamId, TeamRole, Timestamp, UserId,
};

/// An organization, as its item holds it (with its tallies when they were read along).
#[derive(Clone, Debug, PartialEq)]
pub struct Organization {
    pub org_id: OrgId,
    pub handle: String,
    pub display_name: String,
    pub region: Region,
    pub avatar_url: Option<String>,
    pub url: Option<String>,
    pub billing_email: Option<String>,
    pub status: OrgStatus,
    /// Members, and pending invitations, with the tallies' deltas (`tallies.rs`) when they were
    /// read along.
    pub member_count: i64,
    pub owner_count: i64,
    pub pending_invitations: i64,
    /// The org item's own `pending_count`, which the limits' conditions test.
    pub(crate) pending_on_item: i64,
    /// Email domains added (verified or not), held to the domain limit by their own condition.
    pub domain_count: i64,
    /// Pending join requests, with the tallies' deltas when they were read along.
    pub join_requests: i64,
    /// The org item's own `join_request_count`, which the limit's condition tests.
    pub(crate) join_requests_on_item: i64,
    pub metadata: VersionedMetadata,
    /// The owner whose count of owned organizations includes this one (`owned_orgs.rs`): its
    /// creator, or whom they transferred it to. Absent on organizations older than the count.
    pub counted_owner: Option<UserId>,
    /// Its single sign-on as every sign-in and request needs it, and its verified domains.
    pub sso: OrgSso,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Organization {
    /// Whether it takes requests: not once its deletion has begun (it is then hidden from all
    /// but the owner who finishes it).
    pub fn is_live(&self) -> bool {
        self.status == OrgStatus::Active
    }
}

/// A person's membership of one organization.
#[derive(Clone, Debug, PartialEq)]
pub struct Membership {
    pub org_id: OrgId,
    pub user_id: UserId,
    /// The system role: `member` for the holder of a custom role, which grants instead.
    pub role: Role,
    /// The organization's custom role this member holds, if any.
    pub custom_role: Option<RoleKey>,
    /// What the custom role grants, once read (the gate reads the caller's); until then the
    /// holder of a custom role is taken to hold nothing.
    pub custom_grants: Option<Grants>,
    pub status: MemberStatus,
    pub email: Option<String>,
    /// The teams of the organization this member is in.
    pub team_ids: Vec<TeamId>,
    pub metadata: VersionedMetadata,
    pub joined_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Membership {
    /// The role and status the domain's rules decide on.
    pub fn standing(&self) -> Standing {
        Standing {
            role: self.role,
            status: self.status,
            held: self.grants().service,
        }
    }

    /// What its role grants: the system role's, or the custom role's once read.
    pub fn grants(&self) -> Grants {
        match (&self.custom_role, &self.custom_grants) {
            (None, _) => Grants::of_system(self.role),
            (Some(_), Some(grants)) => grants.clone(),
            (Some(_), None) => Grants::none(),
        }
    }

    /// The key of the role it holds, as answers and tokens name it.
    pub fn role_key(&self) -> &str {
        match &self.custom_role {
            Some(key) => key.as_str(),
            None => self.role.as_str(),
        }
    }

    /// The role it holds, as a request would name it.
    pub fn role_name(&self) -> RoleName {
        match &self.custom_role {
            Some(key) => RoleName::Custom(key.clone()),
            None => RoleName::System(self.role),
        }
    }
}

/// An organization's own role: a named set of permissions for its members (or, with the
/// `Team` scope, for members of its teams).
#[derive(Clone, Debug, PartialEq)]
pub struct CustomRole {
    pub org_id: OrgId,
    pub key: RoleKey,
    pub scope: RoleScope,
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    /// The members (or team members) who hold it.
    pub holders: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl CustomRole {
    pub fn grants(&self) -> Grants {
        Grants::of_keys(self.permissions.iter().map(String::as_str))
    }
}

/// A team of an organization.
#[derive(Clone, Debug, PartialEq)]
pub struct Team {
    pub org_id: OrgId,
    pub team_id: TeamId,
    pub name: String,
    pub member_count: i64,
    pub created_at: Timestamp,
    /// `false` while a deletion is under way: hidden, and closed to changes.
    pub active: bool,
}

/// One member of a team, as the team lists them.
#[derive(Clone, Debug, PartialEq)]
pub struct TeamMember {
    pub user_id: UserId,
    /// What they may do within the team (`member` for rows stored before team roles).
    pub role: TeamRole,
    pub added_at: Timestamp,
}

/// A person's request to join an organization through a verified domain.
#[derive(Clone, Debug, PartialEq)]
pub struct JoinRequest {
    pub org_id: OrgId,
    pub user_id: UserId,
    /// The requester's verified address when they asked: at `domain`.
    pub email: String,
    pub domain: EmailDomain,
    pub status: JoinRequestStatus,
    pub requested_at: Timestamp,
    /// When, and by whom, it was denied.
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<UserId>,
}

/// An item's metadata and its version (0 before the first write).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VersionedMetadata {
    pub value: Metadata,
    pub version: i64,
}

/// Who is making a change, for which request, and when: stamped on every audit entry.
#[derive(Clone, Debug)]
pub struct Op {
    pub actor: UserId,
    pub request_id: String,
    pub at: Timestamp,
    /// For a write an admin or owner makes: the role the caller was authorized with. The
    /// change's transaction then holds only if the caller still has it, active, at commit (not
    /// demoted, deactivated or removed while the request ran). `None` for writes anyone may
    /// make on their own behalf.
    pub acting_as: Option<ActingAs>,
}

/// The role a caller was authorized with, in one organization.
#[derive(Clone, Debug)]
pub struct ActingAs {
    pub org_id: OrgId,
    pub role: Role,
    pub custom_role: Option<RoleKey>,
    /// The team role that authorized the write where the organization role did not (a team's
    /// maintainer managing its members): it must still hold at commit too.
    pub team_role: Option<(TeamId, TeamRole)>,
}

impl Op {
    /// The same stamp, for a write authorized by this role (a membership, `From` it).
    pub fn acting_as(self, acting: impl Into<ActingAs>) -> Self {
        Self {
            acting_as: Some(acting.into()),
            ..self
        }
    }

    /// The same stamp, authorized also by a team role (`None`: by the organization role alone).
    pub fn through_team(self, team_role: Option<(TeamId, TeamRole)>) -> Self {
        Self {
            acting_as: self.acting_as.map(|acting| ActingAs {
                team_role,
                ..acting
            }),
            ..self
        }
    }
}

/// The role a membership authorizes its holder with, for a write's check at commit.
impl From<&Membership> for ActingAs {
    fn from(membership: &Membership) -> Self {
        Self {
            org_id: membership.org_id.clone(),
            role: membership.role,
            custom_role: membership.custom_role.clone(),
            team_role: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organization_being_deleted_is_not_live() {
        let at = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let mut org = Organization {
            org_id: OrgId::parse("org_00000000000000000000000000000001").unwrap(),
            handle: "acme".into(),
            display_name: "Acme".into(),
            region: Region::Us,
            avatar_url: None,
            url: None,
            billing_email: None,
            status: OrgStatus::Active,
            member_count: 1,
            owner_count: 1,
            pending_invitations: 0,
            pending_on_item: 0,
            domain_count: 0,
            join_requests: 0,
            join_requests_on_item: 0,
            metadata: VersionedMetadata::default(),
            counted_owner: None,
            sso: OrgSso::default(),
            created_at: at,
            updated_at: at,
        };
        assert!(org.is_live());
        org.status = OrgStatus::Deleting;
        assert!(!org.is_live());
    }
}
