//! An invitation, as the store keeps it.

use crate::domain::{
    DeliveryStatus, InvitationId, InvitationStatus, OrgId, Role, TeamAssignment, TeamId, Timestamp,
    TokenHash, UserId,
};
use crate::domain::{RoleKey, RoleName};

/// An invitation to join an organization, by email or by handle, whatever became of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Invitation {
    pub org_id: OrgId,
    pub invitation_id: InvitationId,
    /// Lowercase. For a handle invitation, the invited user's address when it was sent.
    pub email: String,
    /// Set for an invitation by handle: only this user may accept it.
    pub invitee_user_id: Option<UserId>,
    /// The system role it gives: `member` with a custom role, which gives instead.
    pub role: Role,
    /// The organization's custom role it gives, if any.
    pub custom_role: Option<RoleKey>,
    pub name: Option<String>,
    pub note: Option<String>,
    pub team_ids: Vec<TeamId>,
    /// The team roles other than `member` that accepting gives in `team_ids` (`role_in`).
    pub team_roles: Vec<TeamAssignment>,
    /// As stored; see `InvitationStatus::effective` for what to show.
    pub status: InvitationStatus,
    pub token_hash: TokenHash,
    pub expires_at: Timestamp,
    pub invited_by: UserId,
    pub created_at: Timestamp,
    pub sent_at: Timestamp,
    pub updated_at: Timestamp,
    /// `(YYYYMMDD, count)` of resends per UTC day.
    pub resends: Vec<(String, i64)>,
    /// The lifetime it was given, in days; `None`: the configured one. Each sending restarts it.
    pub expires_in_days: Option<i64>,
    /// The page its links open, instead of the configured one.
    pub redirect_url: Option<String>,
    /// What SES last reported about the email of its latest sending, and when; `None` until
    /// the first report (and again after a resend).
    pub delivery: Option<(DeliveryStatus, Timestamp)>,
}

impl Invitation {
    /// The role it gives, as a request names it.
    pub fn role_name(&self) -> RoleName {
        match &self.custom_role {
            Some(key) => RoleName::Custom(key.clone()),
            None => RoleName::System(self.role),
        }
    }

    /// How many times it was resent on the UTC day of `at`.
    pub fn resends_on(&self, at: Timestamp) -> i64 {
        let day = resend_day(at);
        self.resends
            .iter()
            .find(|(d, _)| *d == day)
            .map_or(0, |(_, n)| *n)
    }
}

/// The UTC day resends are counted on: `YYYYMMDD` of `at`.
pub(crate) fn resend_day(at: Timestamp) -> String {
    at.to_rfc3339()[..10].replace('-', "")
}
