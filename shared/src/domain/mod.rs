//! The rules of the product, free of AWS and HTTP: values that validate when parsed, roles and
//! what they allow, the limits, and the changes that the store records. Time is always passed
//! in. Each refusal is a typed error; `http::problem` is the one place that answers with it.

pub mod acceptance;
pub mod budget;
pub mod change;
pub mod custom_role;
pub mod delivery;
pub mod domain_check;
pub mod email_domain;
pub mod enrollment;
pub mod entities;
pub mod first_org;
pub mod handle;
pub mod idempotency;
pub mod identity;
pub mod ids;
pub mod invitation;
pub mod invitation_link;
pub mod join_request;
pub mod limits;
pub mod membership;
pub mod metadata;
pub mod org;
pub mod payloads;
pub mod permission;
pub mod publishing;
pub mod role;
pub mod sending;
pub mod sso;
pub mod team_role;
pub mod text;
pub mod time;
pub mod token;
pub mod token_claims;
pub mod web;

pub use acceptance::{
    LateRefusal, NotInvitee, TokenRefused, answerable, late_refusal, may_answer,
    may_have_lost_a_team, may_repeat_acceptance, repeats_acceptance, teams_to_retry,
};
pub use budget::{Budget, OutOfTime};
pub use change::{Change, ChangeKind, Subject};
pub use custom_role::{
    AppGrants, Grants, PermissionSet, RoleKey, RoleName, RoleRefused, RoleScope, RoleSpec,
    may_assign, may_grant,
};
pub use delivery::{DeliveryReport, DeliveryStatus, Suppressed};
pub use domain_check::{Lookup, Recheck, RecheckPolicy};
pub use email_domain::{Challenge, ClaimRules, EmailDomain, NotVerified, TxtAnswer, Unclaimable};
pub use enrollment::{DomainStanding, Enrollment, JoinRefused, suggested};
pub use entities::{
    ActingAs, AuditEntry, CustomRole, Domain, DomainStatus, Invitation, JoinRequest, Membership,
    Op, Organization, Team, TeamMember, User, VersionedMetadata,
};
pub use handle::Handle;
pub use identity::{EmailClaims, StoredEmail};
pub use ids::{AuditId, EventId, InvitationId, OrgId, TeamId, UserId};
pub use invitation::{
    EndingDeadline, InvitationSpec, InvitationStatus, Invitee, NotPending, RawInvitee, Unusable,
    may_manage_invitation,
};
pub use join_request::{Approval, EarlierRequest, Entry, Filing, JoinRequestStatus, entry, filing};
pub use limits::{
    EmailsSent, FirstDay, LimitKind, Limits, MAX_TEAMS_PER_MEMBER, next_utc_midnight,
};
pub use membership::{
    Denied, MemberChange, MemberUpdate, Transfer, TransferRefused, may_change, may_transfer,
    owner_delta, transfer,
};
pub use metadata::{
    Metadata, MetadataChange, MetadataKind, MetadataPatch, may_write_metadata, visible_metadata,
};
pub use org::{
    NewOrganization, OrgProfilePatch, OrgStatus, Region, confirm_deletion, deletion_access,
    visible_billing_email,
};
pub use payloads::Payload;
pub use permission::{
    AppPermission, Holds, Permission, effective_permissions, is_permission_key,
    may_see_permissions_of,
};
pub use publishing::{PublishFailure, entry_size, publish_failure};
pub use role::{Access, MemberStatus, Role, Standing, access};
pub use sending::{FreshToken, NoAddress, NoRandomness, ResendRefused, inviter_name, may_resend};
pub use sso::{
    AttributeMapping, ClientSecret, OrgSso, Protocol, ProviderName, RawOidc, RawSso, SamlMetadata,
    SsoConnection, SsoSpec, may_keep_secret, provisioned_access,
};
pub use team_role::{
    RawTeam, TEAM_SCOPED, TeamAssignment, TeamRole, may_give_team_role, one_team_list, parse_teams,
    role_in, team_access, team_grants_of, team_permissions,
};
pub use text::{DisplayName, Note};
pub use time::Timestamp;
pub use token::{InvitationToken, TokenHash};
pub use token_claims::{ListedMembership, MaxTokenOrgs, OrgClaim, TokenClaims, pick_memberships};
pub use web::{Email, HttpsUrl};

/// One field that failed its rule: where, a stable code, and what a person should do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &str, code: &'static str, message: &str) -> Self {
        Self {
            field: field.to_owned(),
            code,
            message: message.to_owned(),
        }
    }
}

/// Collects every field's error so one answer lists them all.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<ValidationError>);

impl FieldErrors {
    /// Keeps the value, or records why it was refused.
    pub fn take<T>(&mut self, result: Result<T, ValidationError>) -> Option<T> {
        result.map_err(|e| self.0.push(e)).ok()
    }

    pub fn push(&mut self, error: ValidationError) {
        self.0.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<ValidationError> {
        self.0
    }
}
