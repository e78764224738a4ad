//! What each change tells its consumers: the `data` of its event and of its audit entry, one
//! struct per shape, built by the store from the entities. Every field is named here once, so
//! the compiler checks what the event schemas (`infra/events/*.schema.json`) promise. A field
//! that is `null` when it does not apply is an `Option`; one that is left out is skipped.

use serde::{Serialize, Serializer};

use super::{
    Domain, DomainStatus, EmailDomain, Enrollment, Handle, Invitation, InvitationId, JoinRequest,
    Membership, OrgId, Region, Role, RoleKey, RoleName, RoleScope, Team, TeamId, TeamRole,
    Timestamp, UserId,
};
use crate::domain::CustomRole;
use crate::domain::sso::{ProviderName, SsoConnection};

/// Ids, names and codes go out as the text they are stored as.
macro_rules! serialize_as_text {
    ($($name:ty),*) => {$(
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    )*};
}

serialize_as_text!(
    OrgId,
    InvitationId,
    TeamId,
    UserId,
    EmailDomain,
    Handle,
    Region,
    Enrollment,
    DomainStatus,
    RoleKey,
    RoleName,
    RoleScope,
    ProviderName
);

/// Times go out as RFC 3339 with milliseconds, as everywhere else.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

/// The `data` of a change: exactly one of the shapes below.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Payload {
    UserCreated(UserCreated),
    FieldsChanged(FieldsChanged),
    UserHandleChanged(UserHandleChanged),
    OrganizationCreated(OrganizationCreated),
    OrganizationUpdated(OrganizationUpdated),
    OrganizationHandleChanged(OrganizationHandleChanged),
    OrganizationDeleted(OrganizationDeleted),
    OwnershipTransferred(OwnershipTransferred),
    MemberFacts(MemberFacts),
    RoleChanged(RoleChanged),
    MemberUpdated(MemberUpdated),
    MemberRemoved(MemberRemoved),
    MemberJoined(MemberJoined),
    TeamFacts(TeamFacts),
    TeamRenamed(TeamRenamed),
    TeamMemberChanged(TeamMemberChanged),
    TeamRoleChanged(TeamRoleChanged),
    InvitationSent(InvitationSent),
    InvitationFacts(InvitationFacts),
    InvitationAccepted(InvitationAccepted),
    InvitationExpired(InvitationExpired),
    InvitationDelivery(InvitationDelivery),
    DomainFacts(DomainFacts),
    DomainPolicy(DomainPolicy),
    JoinRequestFacts(JoinRequestFacts),
    RoleFacts(RoleFacts),
    SsoFacts(SsoFacts),
}

macro_rules! into_payload {
    ($($shape:ident),*) => {$(
        impl From<$shape> for Payload {
            fn from(shape: $shape) -> Self {
                Payload::$shape(shape)
            }
        }
    )*};
}

into_payload!(
    UserCreated,
    FieldsChanged,
    UserHandleChanged,
    OrganizationCreated,
    OrganizationUpdated,
    OrganizationHandleChanged,
    OrganizationDeleted,
    OwnershipTransferred,
    MemberFacts,
    RoleChanged,
    MemberUpdated,
    MemberRemoved,
    MemberJoined,
    TeamFacts,
    TeamRenamed,
    TeamMemberChanged,
    TeamRoleChanged,
    InvitationSent,
    InvitationFacts,
    InvitationAccepted,
    InvitationExpired,
    InvitationDelivery,
    DomainFacts,
    DomainPolicy,
    JoinRequestFacts,
    RoleFacts,
    SsoFacts
);

/// `user.created`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UserCreated {
    pub user_id: UserId,
}

/// `user.updated`: which of a profile's fields changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldsChanged {
    pub fields: Vec<&'static str>,
}

/// `handle.changed`, of a user.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UserHandleChanged {
    pub old_handle: Option<String>,
    pub new_handle: Handle,
}

/// `organization.created`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OrganizationCreated {
    pub org_id: OrgId,
    pub handle: String,
    pub display_name: String,
    pub region: Region,
    pub owner_user_id: UserId,
}

/// `organization.updated`: which fields changed, and which metadata keys if any did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OrganizationUpdated {
    pub org_id: OrgId,
    pub fields: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_keys: Option<MetadataKeys>,
}

/// `handle.changed`, of an organization.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OrganizationHandleChanged {
    pub org_id: OrgId,
    pub old_handle: Handle,
    pub new_handle: Handle,
}

/// `organization.deleted`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OrganizationDeleted {
    pub org_id: OrgId,
    pub handle: Handle,
}

/// `organization.ownership_transferred`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OwnershipTransferred {
    pub org_id: OrgId,
    pub from_user_id: UserId,
    pub to_user_id: UserId,
}

/// The names of the metadata keys a change touched, per kind: never their values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetadataKeys {
    pub public: Vec<String>,
    pub private: Vec<String>,
}

/// `member.deactivated` and `member.reactivated`: whose membership.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberFacts {
    pub org_id: OrgId,
    pub user_id: UserId,
}

/// `member.role_changed`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoleChanged {
    #[serde(flatten)]
    pub member: MemberFacts,
    pub old_role: RoleName,
    pub new_role: RoleName,
}

/// `member.updated`: its metadata.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberUpdated {
    #[serde(flatten)]
    pub member: MemberFacts,
    pub metadata_keys: MetadataKeys,
}

/// `member.removed`: `left` when they removed themselves.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberRemoved {
    #[serde(flatten)]
    pub member: MemberFacts,
    pub role: RoleName,
    pub left: bool,
}

/// `member.joined`: through an invitation or through a domain, and into which teams.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberJoined {
    #[serde(flatten)]
    pub member: MemberFacts,
    pub role: RoleName,
    pub invitation_id: Option<InvitationId>,
    pub domain: Option<EmailDomain>,
    pub team_ids: Vec<TeamId>,
    /// The organization's identity provider, for a member provisioned at their first sign-in
    /// through it (single sign-on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<ProviderName>,
}

/// `team.created` and `team.deleted`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TeamFacts {
    pub org_id: OrgId,
    pub team_id: TeamId,
    pub name: String,
}

/// `team.renamed`: `name` is the new one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TeamRenamed {
    #[serde(flatten)]
    pub team: TeamFacts,
    pub old_name: String,
}

/// `team.member_added` and `team.member_removed`, with the team role given or held.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TeamMemberChanged {
    #[serde(flatten)]
    pub team: TeamFacts,
    pub user_id: UserId,
    pub role: TeamRole,
}

/// `team.role_changed`: a team member's team role, and the one it replaced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TeamRoleChanged {
    #[serde(flatten)]
    pub team: TeamFacts,
    pub user_id: UserId,
    pub role: TeamRole,
    pub previous_role: TeamRole,
}

/// `invitation.sent`, first or again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvitationSent {
    pub org_id: OrgId,
    pub invitation_id: InvitationId,
    pub email: String,
    pub invitee_user_id: Option<UserId>,
    pub role: RoleName,
    pub expires_at: Timestamp,
    pub resent: bool,
}

/// `invitation.declined` and `invitation.revoked`; the rest of an invitation's endings add to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvitationFacts {
    pub org_id: OrgId,
    pub invitation_id: InvitationId,
    pub email: String,
    pub role: RoleName,
}

/// `invitation.accepted`: by whom.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvitationAccepted {
    #[serde(flatten)]
    pub invitation: InvitationFacts,
    pub user_id: UserId,
}

/// `invitation.expired`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvitationExpired {
    #[serde(flatten)]
    pub invitation: InvitationFacts,
    pub expires_at: Timestamp,
}

/// `invitation.bounced` (with the bounce) and `invitation.complained`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvitationDelivery {
    #[serde(flatten)]
    pub invitation: InvitationFacts,
    pub reported_at: Timestamp,
    #[serde(flatten)]
    pub bounce: Option<Bounce>,
}

/// What the mail service said of a bounce.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bounce {
    pub bounce_type: String,
    pub bounce_sub_type: String,
}

/// `domain.added`, `domain.removed`, `domain.verified` and `domain.unverified`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainFacts {
    pub org_id: OrgId,
    pub domain: EmailDomain,
    pub status: DomainStatus,
}

/// `domain.updated`: its enrollment, and the role of `auto_join` (else `null`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainPolicy {
    #[serde(flatten)]
    pub domain: DomainFacts,
    pub enrollment: Enrollment,
    pub default_role: Option<Role>,
}

/// Every `join_request.*` change; `role` only on an approval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JoinRequestFacts {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub email: String,
    pub domain: EmailDomain,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleName>,
}

impl InvitationSent {
    pub fn of(invitation: &Invitation, resent: bool) -> Self {
        Self {
            org_id: invitation.org_id.clone(),
            invitation_id: invitation.invitation_id.clone(),
            email: invitation.email.clone(),
            invitee_user_id: invitation.invitee_user_id.clone(),
            role: invitation.role_name(),
            expires_at: invitation.expires_at,
            resent,
        }
    }
}

impl InvitationFacts {
    pub fn of(invitation: &Invitation) -> Self {
        Self {
            org_id: invitation.org_id.clone(),
            invitation_id: invitation.invitation_id.clone(),
            email: invitation.email.clone(),
            role: invitation.role_name(),
        }
    }
}

/// Every `role.*` change: the custom role as it stands after it (as it stood, when deleted).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoleFacts {
    pub org_id: OrgId,
    pub role: RoleKey,
    pub scope: RoleScope,
    pub name: String,
    pub permissions: Vec<String>,
}

impl RoleFacts {
    pub fn of(role: &CustomRole) -> Self {
        Self {
            org_id: role.org_id.clone(),
            role: role.key.clone(),
            scope: role.scope,
            name: role.name.clone(),
            permissions: role.permissions.clone(),
        }
    }
}

impl DomainFacts {
    pub fn of(domain: &Domain) -> Self {
        Self {
            org_id: domain.org_id.clone(),
            domain: domain.domain.clone(),
            status: domain.status,
        }
    }
}

impl DomainPolicy {
    pub fn of(domain: &Domain) -> Self {
        Self {
            domain: DomainFacts::of(domain),
            enrollment: domain.enrollment,
            default_role: domain.enrollment.role(),
        }
    }
}

impl MemberFacts {
    pub fn of(member: &Membership) -> Self {
        Self {
            org_id: member.org_id.clone(),
            user_id: member.user_id.clone(),
        }
    }
}

impl TeamFacts {
    pub fn of(team: &Team) -> Self {
        Self {
            org_id: team.org_id.clone(),
            team_id: team.team_id.clone(),
            name: team.name.clone(),
        }
    }
}

impl JoinRequestFacts {
    /// The request's facts, with the role it was approved with.
    pub fn of(request: &JoinRequest, role: Option<RoleName>) -> Self {
        Self {
            org_id: request.org_id.clone(),
            user_id: request.user_id.clone(),
            email: request.email.clone(),
            domain: request.domain.clone(),
            role,
        }
    }
}

#[cfg(test)]
mod tests;

/// `sso.connection_set` and `sso.connection_removed`: the connection as it stands after the
/// change (as it stood, when removed). Never its secret nor its metadata.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SsoFacts {
    pub org_id: OrgId,
    pub identity_provider: ProviderName,
    pub protocol: &'static str,
    pub default_role: RoleName,
    pub sso_required: bool,
    pub domains: Vec<EmailDomain>,
}

impl SsoFacts {
    pub fn of(connection: &SsoConnection) -> Self {
        SsoFacts {
            org_id: connection.org_id.clone(),
            identity_provider: connection.provider.clone(),
            protocol: connection.protocol.kind(),
            default_role: connection.default_role.clone(),
            sso_required: connection.sso_required,
            domains: connection.domains.clone(),
        }
    }
}
