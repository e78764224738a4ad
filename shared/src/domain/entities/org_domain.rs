//! An email domain of an organization, and whether it is verified.

use crate::domain::{Challenge, DomainStanding, EmailDomain, Enrollment, OrgId, Timestamp, UserId};

/// An email domain an organization added: proved by its TXT record, it lets people at it in as
/// its enrollment says.
#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    pub org_id: OrgId,
    pub domain: EmailDomain,
    /// The value its TXT record must carry.
    pub challenge: Challenge,
    pub status: DomainStatus,
    /// Who may come in through it once it is verified.
    pub enrollment: Enrollment,
    pub added_at: Timestamp,
    pub added_by: UserId,
    pub verified_at: Option<Timestamp>,
}

impl Domain {
    /// What the domain lets people at it do, as the rules read it.
    pub fn standing(&self) -> DomainStanding {
        DomainStanding {
            verified: self.status == DomainStatus::Verified,
            enrollment: self.enrollment,
        }
    }
}

/// Whether the organization has proved it controls the domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainStatus {
    /// Added; its TXT record has not been found yet.
    Pending,
    Verified,
}

impl DomainStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainStatus::Pending => "pending",
            DomainStatus::Verified => "verified",
        }
    }
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(DomainStatus::Pending),
            "verified" => Some(DomainStatus::Verified),
            _ => None,
        }
    }
}
