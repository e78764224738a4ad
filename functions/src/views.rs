//! The JSON shapes of answers, as the OpenAPI document describes them.

use serde::Serialize;

use orgs_shared::domain::metadata::Object;
use orgs_shared::domain::sso::{Protocol, SamlMetadata, SsoConnection};
use orgs_shared::domain::{
    AppPermission, CustomRole, DeliveryStatus, Grants, Holds, Metadata, Role, RoleScope, Timestamp,
    role_in, visible_billing_email, visible_metadata,
};
use orgs_shared::store::{
    AuditEntry, Domain, Invitation, JoinRequest, Membership, Organization, Team, TeamMember, User,
};

#[derive(Debug, Serialize)]
pub struct UserView<'a> {
    pub user_id: &'a str,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub handle: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(user: &'a User) -> Self {
        Self {
            user_id: user.user_id.as_str(),
            email: user.email.as_deref(),
            email_verified: user.email_verified,
            handle: user.handle.as_deref(),
            display_name: user.display_name.as_deref(),
            created_at: user.created_at.to_rfc3339(),
            updated_at: user.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct OrgView<'a> {
    pub org_id: &'a str,
    pub handle: &'a str,
    pub display_name: &'a str,
    pub region: &'static str,
    pub avatar_url: Option<&'a str>,
    pub url: Option<&'a str>,
    /// Shown to admins and owners only (`domain::org::visible_billing_email`).
    pub billing_email: Option<&'a str>,
    /// The caller's role in this organization: a system role's or a custom role's key.
    pub role: &'a str,
    pub member_count: i64,
    pub metadata: MetadataView<'a>,
    pub created_at: String,
    pub updated_at: String,
    /// In a listing: the organization requires the caller to sign in through its identity
    /// provider, and this token's sign-in did not (its routes answer 403 `sso-required`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sso_required: bool,
}

/// The kinds of metadata the viewer may read (`domain::metadata::visible_metadata`): `private`
/// is left out for members.
#[derive(Debug, Serialize)]
pub struct MetadataView<'a> {
    pub public: &'a Object,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private: Option<&'a Object>,
}

impl<'a> MetadataView<'a> {
    pub fn new(metadata: &'a Metadata, viewer: impl Holds) -> Self {
        let (public, private) = visible_metadata(metadata, viewer);
        Self { public, private }
    }
}

impl<'a> OrgView<'a> {
    pub fn new(org: &'a Organization, caller: &'a Membership) -> Self {
        let held = caller.standing().held;
        Self {
            org_id: org.org_id.as_str(),
            handle: &org.handle,
            display_name: &org.display_name,
            region: org.region.as_str(),
            avatar_url: org.avatar_url.as_deref(),
            url: org.url.as_deref(),
            billing_email: visible_billing_email(org.billing_email.as_deref(), held),
            role: caller.role_key(),
            member_count: org.member_count,
            metadata: MetadataView::new(&org.metadata.value, held),
            created_at: org.created_at.to_rfc3339(),
            updated_at: org.updated_at.to_rfc3339(),
            sso_required: false,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TargetView<'a> {
    #[serde(rename = "type")]
    pub target_type: &'a str,
    pub id: &'a str,
}

/// One audit entry: who (by user id, which never changes), what, on which target, when, and the
/// request that did it.
#[derive(Debug, Serialize)]
pub struct AuditEntryView<'a> {
    pub audit_id: &'a str,
    pub action: &'a str,
    pub actor_user_id: &'a str,
    pub target: TargetView<'a>,
    pub at: String,
    pub request_id: &'a str,
    pub data: &'a serde_json::Value,
}

impl<'a> From<&'a AuditEntry> for AuditEntryView<'a> {
    fn from(entry: &'a AuditEntry) -> Self {
        Self {
            audit_id: entry.audit_id.as_str(),
            action: &entry.action,
            actor_user_id: &entry.actor_user_id,
            target: TargetView {
                target_type: &entry.target_type,
                id: &entry.target_id,
            },
            at: entry.at.to_rfc3339(),
            request_id: &entry.request_id,
            data: &entry.data,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PageView<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InvitationView<'a> {
    pub invitation_id: &'a str,
    pub org_id: &'a str,
    pub email: &'a str,
    pub invitee_user_id: Option<&'a str>,
    pub role: &'a str,
    pub name: Option<&'a str>,
    pub note: Option<&'a str>,
    pub team_ids: Vec<&'a str>,
    /// The same teams, each with the team role the invitee holds there on accepting.
    pub teams: Vec<TeamRoleView<'a>>,
    /// As a person should see it: pending past its deadline shows as expired.
    pub status: &'static str,
    pub expires_at: String,
    /// Its own lifetime in days; `null` for the configured one.
    pub expires_in_days: Option<i64>,
    /// The page its links open; `null` for the configured one.
    pub redirect_url: Option<&'a str>,
    pub invited_by: &'a str,
    pub created_at: String,
    pub sent_at: String,
    pub updated_at: String,
    /// What SES last reported about the email of its latest sending: for its organization's
    /// admins and owners, never the invitee (`list-my-invitations` leaves it out).
    pub delivery: Option<DeliveryView<'a>>,
}

/// A team and the team role held (or to be held) in it.
#[derive(Debug, Serialize)]
pub struct TeamRoleView<'a> {
    pub team_id: &'a str,
    pub role: String,
}

/// An invitation email's delivery, as SES reported it.
#[derive(Debug, Serialize)]
pub struct DeliveryView<'a> {
    pub status: &'static str,
    /// For a bounce: SES's `Permanent`, `Transient` or `Undetermined`, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounce_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounce_sub_type: Option<&'a str>,
    pub reported_at: String,
}

impl<'a> DeliveryView<'a> {
    fn new((status, at): &'a (DeliveryStatus, Timestamp)) -> Self {
        let (bounce_type, bounce_sub_type) = match status {
            DeliveryStatus::Bounced {
                bounce_type,
                sub_type,
            } => (Some(bounce_type.as_str()), Some(sub_type.as_str())),
            _ => (None, None),
        };
        Self {
            status: status.as_str(),
            bounce_type,
            bounce_sub_type,
            reported_at: at.to_rfc3339(),
        }
    }
}

impl<'a> InvitationView<'a> {
    pub fn new(invitation: &'a Invitation, now: Timestamp) -> Self {
        Self {
            invitation_id: invitation.invitation_id.as_str(),
            org_id: invitation.org_id.as_str(),
            email: &invitation.email,
            invitee_user_id: invitation.invitee_user_id.as_ref().map(|u| u.as_str()),
            role: invitation
                .custom_role
                .as_ref()
                .map_or(invitation.role.as_str(), |key| key.as_str()),
            name: invitation.name.as_deref(),
            note: invitation.note.as_deref(),
            team_ids: invitation.team_ids.iter().map(|t| t.as_str()).collect(),
            teams: invitation
                .team_ids
                .iter()
                .map(|team| TeamRoleView {
                    team_id: team.as_str(),
                    role: role_in(&invitation.team_roles, team).as_str().to_owned(),
                })
                .collect(),
            status: invitation
                .status
                .effective(invitation.expires_at, now)
                .as_str(),
            expires_at: invitation.expires_at.to_rfc3339(),
            expires_in_days: invitation.expires_in_days,
            redirect_url: invitation.redirect_url.as_deref(),
            invited_by: invitation.invited_by.as_str(),
            created_at: invitation.created_at.to_rfc3339(),
            sent_at: invitation.sent_at.to_rfc3339(),
            updated_at: invitation.updated_at.to_rfc3339(),
            delivery: invitation.delivery.as_ref().map(DeliveryView::new),
        }
    }
}

/// An organization as an invitee sees it before joining.
#[derive(Debug, Serialize)]
pub struct OrgSummary<'a> {
    pub org_id: &'a str,
    pub handle: &'a str,
    pub display_name: &'a str,
    pub avatar_url: Option<&'a str>,
}

impl<'a> From<&'a Organization> for OrgSummary<'a> {
    fn from(org: &'a Organization) -> Self {
        Self {
            org_id: org.org_id.as_str(),
            handle: &org.handle,
            display_name: &org.display_name,
            avatar_url: org.avatar_url.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct MemberView<'a> {
    pub user_id: &'a str,
    pub email: Option<&'a str>,
    pub handle: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub role: &'a str,
    pub status: &'static str,
    pub team_ids: Vec<&'a str>,
    pub metadata: MetadataView<'a>,
    pub joined_at: String,
    pub updated_at: String,
}

impl<'a> MemberView<'a> {
    /// `profile` adds the person's handle and name, where they have a profile; `viewer` is the
    /// caller's permissions, which decide the metadata shown.
    pub fn new(member: &'a Membership, profile: Option<&'a User>, viewer: impl Holds) -> Self {
        Self {
            user_id: member.user_id.as_str(),
            email: member
                .email
                .as_deref()
                .or(profile.and_then(|p| p.email.as_deref())),
            handle: profile.and_then(|p| p.handle.as_deref()),
            display_name: profile.and_then(|p| p.display_name.as_deref()),
            role: member.role_key(),
            status: member.status.as_str(),
            team_ids: member.team_ids.iter().map(|t| t.as_str()).collect(),
            metadata: MetadataView::new(&member.metadata.value, viewer),
            joined_at: member.joined_at.to_rfc3339(),
            updated_at: member.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TeamView<'a> {
    pub team_id: &'a str,
    pub org_id: &'a str,
    pub name: &'a str,
    pub member_count: i64,
    pub created_at: String,
}

impl<'a> From<&'a Team> for TeamView<'a> {
    fn from(team: &'a Team) -> Self {
        Self {
            team_id: team.team_id.as_str(),
            org_id: team.org_id.as_str(),
            name: &team.name,
            member_count: team.member_count,
            created_at: team.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TeamMemberView<'a> {
    pub user_id: &'a str,
    pub handle: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub role: &'a str,
    pub added_at: String,
}

impl<'a> TeamMemberView<'a> {
    /// A team's member, with what their profile says of them (if they have one).
    pub fn new(member: &'a TeamMember, profile: Option<&'a User>) -> Self {
        Self {
            user_id: member.user_id.as_str(),
            handle: profile.and_then(|p| p.handle.as_deref()),
            display_name: profile.and_then(|p| p.display_name.as_deref()),
            role: member.role.as_str(),
            added_at: member.added_at.to_rfc3339(),
        }
    }
}

/// The DNS record that proves a domain: a TXT record of this name holding this value.
#[derive(Debug, Serialize)]
pub struct RecordView<'a> {
    #[serde(rename = "type")]
    pub record_type: &'static str,
    pub name: String,
    pub value: &'a str,
}

#[derive(Debug, Serialize)]
pub struct DomainView<'a> {
    pub domain: &'a str,
    pub org_id: &'a str,
    pub status: &'static str,
    pub record: RecordView<'a>,
    pub enrollment: &'static str,
    pub default_role: Option<&'static str>,
    pub added_at: String,
    pub verified_at: Option<String>,
}

impl<'a> From<&'a Domain> for DomainView<'a> {
    fn from(domain: &'a Domain) -> Self {
        Self {
            domain: domain.domain.as_str(),
            org_id: domain.org_id.as_str(),
            status: domain.status.as_str(),
            record: RecordView {
                record_type: "TXT",
                name: domain.domain.record_name(),
                value: domain.challenge.as_str(),
            },
            enrollment: domain.enrollment.as_str(),
            default_role: domain.enrollment.role().map(Role::as_str),
            added_at: domain.added_at.to_rfc3339(),
            verified_at: domain.verified_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// An organization a person's verified email domain suggests, with the domain's policy.
#[derive(Debug, Serialize)]
pub struct SuggestionView<'a> {
    pub organization: OrgSummary<'a>,
    pub domain: &'a str,
    pub enrollment: &'static str,
    pub default_role: Option<&'static str>,
    /// The person's own request to join it, pending or denied, if any.
    pub join_request: Option<JoinRequestView<'a>>,
}

impl<'a> SuggestionView<'a> {
    pub fn new(
        org: &'a Organization,
        domain: &'a Domain,
        request: Option<&'a JoinRequest>,
    ) -> Self {
        Self {
            organization: OrgSummary::from(org),
            domain: domain.domain.as_str(),
            enrollment: domain.enrollment.as_str(),
            default_role: domain.enrollment.role().map(Role::as_str),
            join_request: request.map(JoinRequestView::from),
        }
    }
}

/// A person's request to join an organization through its verified `suggest` domain.
#[derive(Debug, Serialize)]
pub struct JoinRequestView<'a> {
    pub org_id: &'a str,
    pub user_id: &'a str,
    pub email: &'a str,
    pub domain: &'a str,
    pub status: &'static str,
    pub requested_at: String,
    pub decided_at: Option<String>,
}

impl<'a> From<&'a JoinRequest> for JoinRequestView<'a> {
    fn from(request: &'a JoinRequest) -> Self {
        Self {
            org_id: request.org_id.as_str(),
            user_id: request.user_id.as_str(),
            email: &request.email,
            domain: request.domain.as_str(),
            status: request.status.as_str(),
            requested_at: request.requested_at.to_rfc3339(),
            decided_at: request.decided_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// One permission of the catalog, as `GET /permissions` lists it.
#[derive(Serialize)]
pub struct PermissionView<'a> {
    pub key: &'a str,
    pub description: &'a str,
    /// `service` (the service's own operations need it) or `application` (the deployment's).
    pub source: &'static str,
    /// The system roles that hold it.
    pub roles: Vec<&'static str>,
}

/// What a member may do in an organization, as `GET /orgs/{org_id}/permissions` answers.
#[derive(Serialize)]
pub struct EffectivePermissionsView<'a> {
    pub org_id: &'a str,
    pub user_id: &'a str,
    pub role: &'a str,
    pub status: &'static str,
    pub permissions: Vec<String>,
    /// The member's teams, each with its team role and what it grants within that team.
    pub teams: Vec<TeamPermissionsView>,
}

#[derive(Debug, Serialize)]
pub struct TeamPermissionsView {
    pub team_id: String,
    /// `member`, `maintainer`, or a custom team role's key.
    pub role: String,
    /// What the team role grants within the team: the team-scoped service permissions
    /// (`teams:manage`) and the application's (no implicit `org:read`).
    pub permissions: Vec<String>,
}

/// A role, system or custom, as `GET /orgs/{org_id}/roles` lists it.
#[derive(Serialize)]
pub struct RoleView<'a> {
    pub key: &'a str,
    pub scope: &'static str,
    pub name: &'a str,
    pub description: &'a str,
    /// Every permission it grants (a custom role always grants `org:read`).
    pub permissions: Vec<String>,
    /// A built-in role, which cannot be changed.
    pub system: bool,
    /// The members who hold it (custom roles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holders: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl<'a> RoleView<'a> {
    pub fn system(role: Role, deployment: &[AppPermission]) -> Self {
        let (name, description) = match role {
            Role::Owner => ("Owner", "Everything, including deleting the organization."),
            Role::Admin => ("Admin", "Manages members, teams, invitations and settings."),
            Role::Member => (
                "Member",
                "Sees the organization, its members and its teams.",
            ),
        };
        Self {
            key: role.as_str(),
            scope: RoleScope::Organization.as_str(),
            name,
            description,
            permissions: Grants::of_system(role).keys(deployment),
            system: true,
            holders: None,
            created_at: None,
            updated_at: None,
        }
    }

    pub fn custom(role: &'a CustomRole, deployment: &[AppPermission]) -> Self {
        Self {
            key: role.key.as_str(),
            scope: role.scope.as_str(),
            name: &role.name,
            description: &role.description,
            permissions: role.grants().keys(deployment),
            system: false,
            holders: Some(role.holders),
            created_at: Some(role.created_at.to_rfc3339()),
            updated_at: Some(role.updated_at.to_rfc3339()),
        }
    }
}

/// A single sign-on connection, as `GET|PUT /orgs/{org_id}/sso` answer it: never its secret,
/// and of a metadata document only that there is one.
#[derive(Serialize)]
pub struct SsoView<'a> {
    pub org_id: &'a str,
    pub identity_provider: &'a str,
    pub protocol: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saml: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc: Option<serde_json::Value>,
    pub attribute_mapping: serde_json::Value,
    pub default_role: &'a str,
    pub default_teams: Vec<serde_json::Value>,
    pub sso_required: bool,
    pub domains: Vec<&'a str>,
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> SsoView<'a> {
    pub fn of(c: &'a SsoConnection) -> Self {
        let (saml, oidc) = match &c.protocol {
            Protocol::Saml(SamlMetadata::Url(url)) => {
                (Some(serde_json::json!({ "metadata_url": url })), None)
            }
            Protocol::Saml(SamlMetadata::Document(_)) => {
                (Some(serde_json::json!({ "metadata_document": true })), None)
            }
            Protocol::Oidc {
                issuer,
                client_id,
                scopes,
                ..
            } => (
                None,
                Some(serde_json::json!({
                    "issuer": issuer,
                    "client_id": client_id,
                    "scopes": scopes,
                    "client_secret_set": true,
                })),
            ),
        };
        SsoView {
            org_id: c.org_id.as_str(),
            identity_provider: c.provider.as_str(),
            protocol: c.protocol.kind(),
            saml,
            oidc,
            attribute_mapping: serde_json::json!({
                "email": c.mapping.email,
                "name": c.mapping.name,
            }),
            default_role: c.default_role.as_str(),
            default_teams: c
                .default_teams
                .iter()
                .map(|a| serde_json::json!({ "team_id": a.team_id.as_str(), "role": a.role.as_str() }))
                .collect(),
            sso_required: c.sso_required,
            domains: c.domains.iter().map(|d| d.as_str()).collect(),
            created_at: c.created_at.to_rfc3339(),
            updated_at: c.updated_at.to_rfc3339(),
        }
    }
}
