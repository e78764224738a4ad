//! A change, described once: the store turns it into an audit entry and an event record that
//! commit in the same transaction as the change itself.

use serde_json::Value;

use super::{OrgId, UserId};

/// Every kind of change, with its audit action and the event's detail-type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    UserCreated,
    UserUpdated,
    HandleChanged,
    OrganizationCreated,
    OrganizationUpdated,
    OrganizationDeleted,
    InvitationSent,
    InvitationAccepted,
    InvitationDeclined,
    InvitationRevoked,
    InvitationExpired,
    MemberJoined,
    MemberRemoved,
    RoleChanged,
    MemberDeactivated,
    MemberReactivated,
    OwnershipTransferred,
    TeamCreated,
    TeamRenamed,
    TeamDeleted,
    TeamMemberAdded,
    TeamMemberRemoved,
}

impl ChangeKind {
    /// The audit log's `action`.
    pub fn action(self) -> &'static str {
        match self {
            ChangeKind::UserCreated => "user.created",
            ChangeKind::UserUpdated => "user.updated",
            ChangeKind::HandleChanged => "handle.changed",
            ChangeKind::OrganizationCreated => "organization.created",
            ChangeKind::OrganizationUpdated => "organization.updated",
            ChangeKind::OrganizationDeleted => "organization.deleted",
            ChangeKind::InvitationSent => "invitation.sent",
            ChangeKind::InvitationAccepted => "invitation.accepted",
            ChangeKind::InvitationDeclined => "invitation.declined",
            ChangeKind::InvitationRevoked => "invitation.revoked",
            ChangeKind::InvitationExpired => "invitation.expired",
            ChangeKind::MemberJoined => "member.joined",
            ChangeKind::MemberRemoved => "member.removed",
            ChangeKind::RoleChanged => "member.role_changed",
            ChangeKind::MemberDeactivated => "member.deactivated",
            ChangeKind::MemberReactivated => "member.reactivated",
            ChangeKind::OwnershipTransferred => "organization.ownership_transferred",
            ChangeKind::TeamCreated => "team.created",
            ChangeKind::TeamRenamed => "team.renamed",
            ChangeKind::TeamDeleted => "team.deleted",
            ChangeKind::TeamMemberAdded => "team.member_added",
            ChangeKind::TeamMemberRemoved => "team.member_removed",
        }
    }

    /// The EventBridge `detail-type`.
    pub fn detail_type(self) -> &'static str {
        match self {
            ChangeKind::UserCreated => "UserCreated",
            ChangeKind::UserUpdated => "UserUpdated",
            ChangeKind::HandleChanged => "HandleChanged",
            ChangeKind::OrganizationCreated => "OrganizationCreated",
            ChangeKind::OrganizationUpdated => "OrganizationUpdated",
            ChangeKind::OrganizationDeleted => "OrganizationDeleted",
            ChangeKind::InvitationSent => "InvitationSent",
            ChangeKind::InvitationAccepted => "InvitationAccepted",
            ChangeKind::InvitationDeclined => "InvitationDeclined",
            ChangeKind::InvitationRevoked => "InvitationRevoked",
            ChangeKind::InvitationExpired => "InvitationExpired",
            ChangeKind::MemberJoined => "MemberJoined",
            ChangeKind::MemberRemoved => "MemberRemoved",
            ChangeKind::RoleChanged => "RoleChanged",
            ChangeKind::MemberDeactivated => "MemberDeactivated",
            ChangeKind::MemberReactivated => "MemberReactivated",
            ChangeKind::OwnershipTransferred => "OwnershipTransferred",
            ChangeKind::TeamCreated => "TeamCreated",
            ChangeKind::TeamRenamed => "TeamRenamed",
            ChangeKind::TeamDeleted => "TeamDeleted",
            ChangeKind::TeamMemberAdded => "TeamMemberAdded",
            ChangeKind::TeamMemberRemoved => "TeamMemberRemoved",
        }
    }
}

/// Whose history a change belongs to: an organization's, or a user's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Org(OrgId),
    User(UserId),
}

/// What changed, on what, and the facts an event consumer needs. Never a token or secret.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    pub subject: Subject,
    /// What the change acted on, e.g. `("organization", "org_…")`.
    pub target_type: &'static str,
    pub target_id: String,
    pub data: Value,
}
