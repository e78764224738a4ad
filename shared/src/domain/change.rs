//! A change, described once: the store turns it into an audit entry and an event record that
//! commit in the same transaction as the change itself.

use serde_json::Value;

use super::{OrgId, Payload, UserId};

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
    MemberUpdated,
    OwnershipTransferred,
    TeamCreated,
    TeamRenamed,
    TeamDeleted,
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamRoleChanged,
    DomainAdded,
    DomainRemoved,
    DomainVerified,
    DomainUnverified,
    DomainUpdated,
    InvitationBounced,
    InvitationComplained,
    JoinRequested,
    JoinRequestApproved,
    JoinRequestDenied,
    JoinRequestWithdrawn,
    RoleCreated,
    RoleUpdated,
    RoleDeleted,
    SsoConnectionSet,
    SsoConnectionRemoved,
}

impl ChangeKind {
    /// Every kind, for the audit log's `action` filter and the tests that hold each kind to its
    /// event schema (`infra/events/{detail_type}.schema.json`). A new kind goes here too; the
    /// unit test below stops compiling as a reminder.
    pub const ALL: [ChangeKind; 40] = [
        ChangeKind::UserCreated,
        ChangeKind::UserUpdated,
        ChangeKind::HandleChanged,
        ChangeKind::OrganizationCreated,
        ChangeKind::OrganizationUpdated,
        ChangeKind::OrganizationDeleted,
        ChangeKind::InvitationSent,
        ChangeKind::InvitationAccepted,
        ChangeKind::InvitationDeclined,
        ChangeKind::InvitationRevoked,
        ChangeKind::InvitationExpired,
        ChangeKind::MemberJoined,
        ChangeKind::MemberRemoved,
        ChangeKind::RoleChanged,
        ChangeKind::MemberDeactivated,
        ChangeKind::MemberReactivated,
        ChangeKind::MemberUpdated,
        ChangeKind::OwnershipTransferred,
        ChangeKind::TeamCreated,
        ChangeKind::TeamRenamed,
        ChangeKind::TeamDeleted,
        ChangeKind::TeamMemberAdded,
        ChangeKind::TeamMemberRemoved,
        ChangeKind::DomainAdded,
        ChangeKind::DomainRemoved,
        ChangeKind::DomainVerified,
        ChangeKind::DomainUnverified,
        ChangeKind::InvitationBounced,
        ChangeKind::InvitationComplained,
        ChangeKind::DomainUpdated,
        ChangeKind::JoinRequested,
        ChangeKind::JoinRequestApproved,
        ChangeKind::JoinRequestDenied,
        ChangeKind::JoinRequestWithdrawn,
        ChangeKind::RoleCreated,
        ChangeKind::RoleUpdated,
        ChangeKind::RoleDeleted,
        ChangeKind::TeamRoleChanged,
        ChangeKind::SsoConnectionSet,
        ChangeKind::SsoConnectionRemoved,
    ];

    /// The kind whose audit `action` this is.
    pub fn from_action(action: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.action() == action)
    }

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
            ChangeKind::MemberUpdated => "member.updated",
            ChangeKind::OwnershipTransferred => "organization.ownership_transferred",
            ChangeKind::TeamCreated => "team.created",
            ChangeKind::TeamRenamed => "team.renamed",
            ChangeKind::TeamDeleted => "team.deleted",
            ChangeKind::TeamMemberAdded => "team.member_added",
            ChangeKind::TeamMemberRemoved => "team.member_removed",
            ChangeKind::TeamRoleChanged => "team.role_changed",
            ChangeKind::DomainAdded => "domain.added",
            ChangeKind::DomainRemoved => "domain.removed",
            ChangeKind::DomainVerified => "domain.verified",
            ChangeKind::DomainUnverified => "domain.unverified",
            ChangeKind::DomainUpdated => "domain.updated",
            ChangeKind::InvitationBounced => "invitation.bounced",
            ChangeKind::InvitationComplained => "invitation.complained",
            ChangeKind::JoinRequested => "join_request.created",
            ChangeKind::JoinRequestApproved => "join_request.approved",
            ChangeKind::JoinRequestDenied => "join_request.denied",
            ChangeKind::JoinRequestWithdrawn => "join_request.withdrawn",
            ChangeKind::RoleCreated => "role.created",
            ChangeKind::RoleUpdated => "role.updated",
            ChangeKind::RoleDeleted => "role.deleted",
            ChangeKind::SsoConnectionSet => "sso.connection_set",
            ChangeKind::SsoConnectionRemoved => "sso.connection_removed",
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
            ChangeKind::MemberUpdated => "MemberUpdated",
            ChangeKind::OwnershipTransferred => "OwnershipTransferred",
            ChangeKind::TeamCreated => "TeamCreated",
            ChangeKind::TeamRenamed => "TeamRenamed",
            ChangeKind::TeamDeleted => "TeamDeleted",
            ChangeKind::TeamMemberAdded => "TeamMemberAdded",
            ChangeKind::TeamMemberRemoved => "TeamMemberRemoved",
            ChangeKind::TeamRoleChanged => "TeamRoleChanged",
            ChangeKind::DomainAdded => "DomainAdded",
            ChangeKind::DomainRemoved => "DomainRemoved",
            ChangeKind::DomainVerified => "DomainVerified",
            ChangeKind::DomainUnverified => "DomainUnverified",
            ChangeKind::DomainUpdated => "DomainUpdated",
            ChangeKind::InvitationBounced => "InvitationBounced",
            ChangeKind::InvitationComplained => "InvitationComplained",
            ChangeKind::JoinRequested => "JoinRequested",
            ChangeKind::JoinRequestApproved => "JoinRequestApproved",
            ChangeKind::JoinRequestDenied => "JoinRequestDenied",
            ChangeKind::JoinRequestWithdrawn => "JoinRequestWithdrawn",
            ChangeKind::RoleCreated => "RoleCreated",
            ChangeKind::RoleUpdated => "RoleUpdated",
            ChangeKind::RoleDeleted => "RoleDeleted",
            ChangeKind::SsoConnectionSet => "SsoConnectionSet",
            ChangeKind::SsoConnectionRemoved => "SsoConnectionRemoved",
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
    pub data: Payload,
}

impl Change {
    /// The `data` of its event and its audit entry, as JSON.
    pub fn data_json(&self) -> Value {
        serde_json::to_value(&self.data).expect("a payload is plain data, always JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No wildcard, on purpose: a new kind stops this compiling, as a reminder to list it in
    /// `ALL` (which the event schema tests and the audit filter go by) at the same time.
    fn position(kind: ChangeKind) -> usize {
        use ChangeKind::*;
        match kind {
            UserCreated => 0,
            UserUpdated => 1,
            HandleChanged => 2,
            OrganizationCreated => 3,
            OrganizationUpdated => 4,
            OrganizationDeleted => 5,
            InvitationSent => 6,
            InvitationAccepted => 7,
            InvitationDeclined => 8,
            InvitationRevoked => 9,
            InvitationExpired => 10,
            MemberJoined => 11,
            MemberRemoved => 12,
            RoleChanged => 13,
            MemberDeactivated => 14,
            MemberReactivated => 15,
            MemberUpdated => 16,
            OwnershipTransferred => 17,
            TeamCreated => 18,
            TeamRenamed => 19,
            TeamDeleted => 20,
            TeamMemberAdded => 21,
            TeamMemberRemoved => 22,
            DomainAdded => 23,
            DomainRemoved => 24,
            DomainVerified => 25,
            DomainUnverified => 26,
            InvitationBounced => 27,
            InvitationComplained => 28,
            DomainUpdated => 29,
            JoinRequested => 30,
            JoinRequestApproved => 31,
            JoinRequestDenied => 32,
            JoinRequestWithdrawn => 33,
            RoleCreated => 34,
            RoleUpdated => 35,
            RoleDeleted => 36,
            TeamRoleChanged => 37,
            SsoConnectionSet => 38,
            SsoConnectionRemoved => 39,
        }
    }

    #[test]
    fn all_lists_every_kind_once() {
        for (i, kind) in ChangeKind::ALL.iter().enumerate() {
            assert_eq!(position(*kind), i, "{kind:?}");
            assert_eq!(ChangeKind::from_action(kind.action()), Some(*kind));
        }
        let mut types: Vec<_> = ChangeKind::ALL.iter().map(|k| k.detail_type()).collect();
        types.sort_unstable();
        types.dedup();
        assert_eq!(types.len(), ChangeKind::ALL.len());
        assert_eq!(ChangeKind::from_action("nothing.happened"), None);
    }
}
