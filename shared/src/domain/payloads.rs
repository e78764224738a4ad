//! What each change tells its consumers: the `data` of its event and of its audit entry, one
//! struct per shape, built by the store from the entities. Every field is named here once, so
//! the compiler checks what the event schemas (`infra/events/*.schema.json`) promise. A field
//! that is `null` when it does not apply is an `Option`; one that is left out is skipped.

use serde::{Serialize, Serializer};

use super::{
    Domain, DomainStatus, EmailDomain, Enrollment, Handle, Invitation, InvitationId, JoinRequest,
    Membership, OrgId, Region, Role, Team, TeamId, Timestamp, UserId,
};

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
    DomainStatus
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
    InvitationSent(InvitationSent),
    InvitationFacts(InvitationFacts),
    InvitationAccepted(InvitationAccepted),
    InvitationExpired(InvitationExpired),
    InvitationDelivery(InvitationDelivery),
    DomainFacts(DomainFacts),
    DomainPolicy(DomainPolicy),
    JoinRequestFacts(JoinRequestFacts),
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
    InvitationSent,
    InvitationFacts,
    InvitationAccepted,
    InvitationExpired,
    InvitationDelivery,
    DomainFacts,
    DomainPolicy,
    JoinRequestFacts
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
    pub old_role: Role,
    pub new_role: Role,
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
    pub role: Role,
    pub left: bool,
}

/// `member.joined`: through an invitation or through a domain, and into which teams.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberJoined {
    #[serde(flatten)]
    pub member: MemberFacts,
    pub role: Role,
    pub invitation_id: Option<InvitationId>,
    pub domain: Option<EmailDomain>,
    pub team_ids: Vec<TeamId>,
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

/// `team.member_added` and `team.member_removed`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TeamMemberChanged {
    #[serde(flatten)]
    pub team: TeamFacts,
    pub user_id: UserId,
}

/// `invitation.sent`, first or again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvitationSent {
    pub org_id: OrgId,
    pub invitation_id: InvitationId,
    pub email: String,
    pub invitee_user_id: Option<UserId>,
    pub role: Role,
    pub expires_at: Timestamp,
    pub resent: bool,
}

/// `invitation.declined` and `invitation.revoked`; the rest of an invitation's endings add to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvitationFacts {
    pub org_id: OrgId,
    pub invitation_id: InvitationId,
    pub email: String,
    pub role: Role,
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
    pub role: Option<Role>,
}

impl InvitationSent {
    pub fn of(invitation: &Invitation, resent: bool) -> Self {
        Self {
            org_id: invitation.org_id.clone(),
            invitation_id: invitation.invitation_id.clone(),
            email: invitation.email.clone(),
            invitee_user_id: invitation.invitee_user_id.clone(),
            role: invitation.role,
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
            role: invitation.role,
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
    pub fn of(request: &JoinRequest, role: Option<Role>) -> Self {
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
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const ORG: &str = "org_00000000000000000000000000000001";
    const INV: &str = "inv_00000000000000000000000000000002";
    const TEAM: &str = "team_00000000000000000000000000000003";
    const AT: &str = "2026-11-22T14:27:00.000Z";

    fn org() -> OrgId {
        OrgId::parse(ORG).unwrap()
    }
    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }
    fn at() -> Timestamp {
        Timestamp::parse(AT).unwrap()
    }
    fn domain() -> EmailDomain {
        EmailDomain::parse("domain", "acme.com").unwrap()
    }
    fn member() -> MemberFacts {
        MemberFacts {
            org_id: org(),
            user_id: user("bob"),
        }
    }
    fn team() -> TeamFacts {
        TeamFacts {
            org_id: org(),
            team_id: TeamId::parse(TEAM).unwrap(),
            name: "Core".into(),
        }
    }
    fn invitation() -> InvitationFacts {
        InvitationFacts {
            org_id: org(),
            invitation_id: InvitationId::parse(INV).unwrap(),
            email: "bob@acme.com".into(),
            role: Role::Admin,
        }
    }
    fn keys() -> MetadataKeys {
        MetadataKeys {
            public: vec!["plan".into()],
            private: vec![],
        }
    }

    /// The JSON a payload goes out as, through `Payload` as the store records it.
    fn json_of(shape: impl Into<Payload>) -> Value {
        serde_json::to_value(shape.into()).unwrap()
    }

    #[test]
    fn user_payloads() {
        let created = UserCreated {
            user_id: user("alice"),
        };
        assert_eq!(json_of(created), json!({ "user_id": "alice" }));
        let fields = FieldsChanged {
            fields: vec!["email"],
        };
        assert_eq!(json_of(fields), json!({ "fields": ["email"] }));
        let renamed = UserHandleChanged {
            old_handle: None,
            new_handle: Handle::parse("alice").unwrap(),
        };
        assert_eq!(
            json_of(renamed),
            json!({ "old_handle": null, "new_handle": "alice" })
        );
    }

    #[test]
    fn organization_payloads() {
        let created = OrganizationCreated {
            org_id: org(),
            handle: "acme".into(),
            display_name: "Acme".into(),
            region: Region::Us,
            owner_user_id: user("alice"),
        };
        assert_eq!(
            json_of(created),
            json!({ "org_id": ORG, "handle": "acme", "display_name": "Acme",
                    "region": Region::Us.as_str(), "owner_user_id": "alice" })
        );
        let renamed = OrganizationHandleChanged {
            org_id: org(),
            old_handle: Handle::parse("acme").unwrap(),
            new_handle: Handle::parse("acme-inc").unwrap(),
        };
        assert_eq!(
            json_of(renamed),
            json!({ "org_id": ORG, "old_handle": "acme", "new_handle": "acme-inc" })
        );
        let deleted = OrganizationDeleted {
            org_id: org(),
            handle: Handle::parse("acme").unwrap(),
        };
        assert_eq!(json_of(deleted), json!({ "org_id": ORG, "handle": "acme" }));
        let transferred = OwnershipTransferred {
            org_id: org(),
            from_user_id: user("alice"),
            to_user_id: user("bob"),
        };
        assert_eq!(
            json_of(transferred),
            json!({ "org_id": ORG, "from_user_id": "alice", "to_user_id": "bob" })
        );
    }

    #[test]
    fn an_organization_update_names_metadata_keys_only_when_metadata_changed() {
        let profile = OrganizationUpdated {
            org_id: org(),
            fields: vec!["display_name"],
            metadata_keys: None,
        };
        assert_eq!(
            json_of(profile),
            json!({ "org_id": ORG, "fields": ["display_name"] })
        );
        let metadata = OrganizationUpdated {
            org_id: org(),
            fields: vec!["metadata"],
            metadata_keys: Some(keys()),
        };
        assert_eq!(
            json_of(metadata),
            json!({ "org_id": ORG, "fields": ["metadata"],
                    "metadata_keys": { "public": ["plan"], "private": [] } })
        );
    }

    #[test]
    fn member_payloads() {
        assert_eq!(
            json_of(member()),
            json!({ "org_id": ORG, "user_id": "bob" })
        );
        let role = RoleChanged {
            member: member(),
            old_role: Role::Member,
            new_role: Role::Admin,
        };
        assert_eq!(
            json_of(role),
            json!({ "org_id": ORG, "user_id": "bob", "old_role": "member", "new_role": "admin" })
        );
        let updated = MemberUpdated {
            member: member(),
            metadata_keys: keys(),
        };
        assert_eq!(
            json_of(updated),
            json!({ "org_id": ORG, "user_id": "bob",
                    "metadata_keys": { "public": ["plan"], "private": [] } })
        );
        let removed = MemberRemoved {
            member: member(),
            role: Role::Member,
            left: true,
        };
        assert_eq!(
            json_of(removed),
            json!({ "org_id": ORG, "user_id": "bob", "role": "member", "left": true })
        );
    }

    #[test]
    fn a_member_joined_names_its_invitation_or_domain_else_null() {
        let invited = MemberJoined {
            member: member(),
            role: Role::Admin,
            invitation_id: Some(InvitationId::parse(INV).unwrap()),
            domain: None,
            team_ids: vec![TeamId::parse(TEAM).unwrap()],
        };
        assert_eq!(
            json_of(invited),
            json!({ "org_id": ORG, "user_id": "bob", "role": "admin", "invitation_id": INV,
                    "domain": null, "team_ids": [TEAM] })
        );
        let through_domain = MemberJoined {
            member: member(),
            role: Role::Member,
            invitation_id: None,
            domain: Some(domain()),
            team_ids: vec![],
        };
        assert_eq!(
            json_of(through_domain),
            json!({ "org_id": ORG, "user_id": "bob", "role": "member", "invitation_id": null,
                    "domain": "acme.com", "team_ids": [] })
        );
    }

    #[test]
    fn team_payloads() {
        assert_eq!(
            json_of(team()),
            json!({ "org_id": ORG, "team_id": TEAM, "name": "Core" })
        );
        let renamed = TeamRenamed {
            team: team(),
            old_name: "Platform".into(),
        };
        assert_eq!(
            json_of(renamed),
            json!({ "org_id": ORG, "team_id": TEAM, "name": "Core", "old_name": "Platform" })
        );
        let added = TeamMemberChanged {
            team: team(),
            user_id: user("bob"),
        };
        assert_eq!(
            json_of(added),
            json!({ "org_id": ORG, "team_id": TEAM, "name": "Core", "user_id": "bob" })
        );
    }

    #[test]
    fn invitation_payloads() {
        let base = json!({ "org_id": ORG, "invitation_id": INV, "email": "bob@acme.com",
                           "role": "admin" });
        let with = |extra: Value| {
            let mut all = base.clone();
            all.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            all
        };
        let sent = InvitationSent {
            org_id: org(),
            invitation_id: InvitationId::parse(INV).unwrap(),
            email: "bob@acme.com".into(),
            invitee_user_id: None,
            role: Role::Admin,
            expires_at: at(),
            resent: false,
        };
        assert_eq!(
            json_of(sent),
            with(json!({ "invitee_user_id": null, "expires_at": AT, "resent": false }))
        );
        assert_eq!(json_of(invitation()), base);
        let accepted = InvitationAccepted {
            invitation: invitation(),
            user_id: user("bob"),
        };
        assert_eq!(json_of(accepted), with(json!({ "user_id": "bob" })));
        let expired = InvitationExpired {
            invitation: invitation(),
            expires_at: at(),
        };
        assert_eq!(json_of(expired), with(json!({ "expires_at": AT })));
    }

    #[test]
    fn only_a_bounce_names_its_bounce() {
        let complained = InvitationDelivery {
            invitation: invitation(),
            reported_at: at(),
            bounce: None,
        };
        assert_eq!(
            json_of(complained),
            json!({ "org_id": ORG, "invitation_id": INV, "email": "bob@acme.com",
                    "role": "admin", "reported_at": AT })
        );
        let bounced = InvitationDelivery {
            invitation: invitation(),
            reported_at: at(),
            bounce: Some(Bounce {
                bounce_type: "Permanent".into(),
                bounce_sub_type: "General".into(),
            }),
        };
        assert_eq!(
            json_of(bounced),
            json!({ "org_id": ORG, "invitation_id": INV, "email": "bob@acme.com",
                    "role": "admin", "reported_at": AT, "bounce_type": "Permanent",
                    "bounce_sub_type": "General" })
        );
    }

    #[test]
    fn domain_payloads() {
        let facts = || DomainFacts {
            org_id: org(),
            domain: domain(),
            status: DomainStatus::Verified,
        };
        assert_eq!(
            json_of(facts()),
            json!({ "org_id": ORG, "domain": "acme.com", "status": "verified" })
        );
        let auto_join = DomainPolicy {
            domain: facts(),
            enrollment: Enrollment::AutoJoin { role: Role::Member },
            default_role: Some(Role::Member),
        };
        assert_eq!(
            json_of(auto_join),
            json!({ "org_id": ORG, "domain": "acme.com", "status": "verified",
                    "enrollment": "auto_join", "default_role": "member" })
        );
        let suggest = DomainPolicy {
            domain: facts(),
            enrollment: Enrollment::Suggest,
            default_role: None,
        };
        assert_eq!(
            json_of(suggest),
            json!({ "org_id": ORG, "domain": "acme.com", "status": "verified",
                    "enrollment": "suggest", "default_role": null })
        );
    }

    #[test]
    fn a_join_request_names_a_role_only_when_approved() {
        let request = |role| JoinRequestFacts {
            org_id: org(),
            user_id: user("bob"),
            email: "bob@acme.com".into(),
            domain: domain(),
            role,
        };
        assert_eq!(
            json_of(request(None)),
            json!({ "org_id": ORG, "user_id": "bob", "email": "bob@acme.com",
                    "domain": "acme.com" })
        );
        assert_eq!(
            json_of(request(Some(Role::Member))),
            json!({ "org_id": ORG, "user_id": "bob", "email": "bob@acme.com",
                    "domain": "acme.com", "role": "member" })
        );
    }
}
