//! Each payload's JSON, pinned: the events' consumers (and their schemas) and the audit log
//! read it field by field.

use serde_json::{Value, json};

use super::*;
use crate::domain::RoleName;

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
        role: RoleName::System(Role::Admin),
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
        old_role: RoleName::System(Role::Member),
        new_role: RoleName::System(Role::Admin),
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
        role: RoleName::System(Role::Member),
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
        role: RoleName::System(Role::Admin),
        invitation_id: Some(InvitationId::parse(INV).unwrap()),
        domain: None,
        team_ids: vec![TeamId::parse(TEAM).unwrap()],
        identity_provider: None,
    };
    assert_eq!(
        json_of(invited),
        json!({ "org_id": ORG, "user_id": "bob", "role": "admin", "invitation_id": INV,
                "domain": null, "team_ids": [TEAM] })
    );
    let through_domain = MemberJoined {
        member: member(),
        role: RoleName::System(Role::Member),
        invitation_id: None,
        domain: Some(domain()),
        team_ids: vec![],
        identity_provider: None,
    };
    assert_eq!(
        json_of(through_domain),
        json!({ "org_id": ORG, "user_id": "bob", "role": "member", "invitation_id": null,
                "domain": "acme.com", "team_ids": [] })
    );
    let provider = "o-0123456789abcdef0123456789abcd";
    let through_sso = MemberJoined {
        member: member(),
        role: RoleName::System(Role::Member),
        invitation_id: None,
        domain: Some(domain()),
        team_ids: vec![],
        identity_provider: crate::domain::ProviderName::parse(provider),
    };
    assert_eq!(
        json_of(through_sso),
        json!({ "org_id": ORG, "user_id": "bob", "role": "member", "invitation_id": null,
                "domain": "acme.com", "team_ids": [], "identity_provider": provider })
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
        role: TeamRole::Maintainer,
    };
    assert_eq!(
        json_of(added),
        json!({ "org_id": ORG, "team_id": TEAM, "name": "Core", "user_id": "bob",
            "role": "maintainer" })
    );
    let role_changed = TeamRoleChanged {
        team: team(),
        user_id: user("bob"),
        role: TeamRole::Maintainer,
        previous_role: TeamRole::Member,
    };
    assert_eq!(
        json_of(role_changed),
        json!({ "org_id": ORG, "team_id": TEAM, "name": "Core", "user_id": "bob",
                "role": "maintainer", "previous_role": "member" })
    );
    // A custom team role goes out as its key.
    let to_custom = TeamRoleChanged {
        team: team(),
        user_id: user("bob"),
        role: TeamRole::parse("reviewer").unwrap(),
        previous_role: TeamRole::Maintainer,
    };
    assert_eq!(
        json_of(to_custom),
        json!({ "org_id": ORG, "team_id": TEAM, "name": "Core", "user_id": "bob",
                "role": "reviewer", "previous_role": "maintainer" })
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
        role: RoleName::System(Role::Admin),
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
        json_of(request(Some(RoleName::System(Role::Member)))),
        json!({ "org_id": ORG, "user_id": "bob", "email": "bob@acme.com",
                "domain": "acme.com", "role": "member" })
    );
}
