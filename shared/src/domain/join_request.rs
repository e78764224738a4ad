//! Join requests: a person whose verified address is at an organization's verified `suggest`
//! domain asks to join, and an admin approves (they become a member) or denies. The rules of
//! who may file one, and when a denial stops another.

use super::enrollment::{DomainStanding, Enrollment, JoinRefused};
use super::{Role, Timestamp, ValidationError};

/// How long a denial stands: until then the person cannot ask the same organization again, so
/// that admins who said no are not asked over and over.
pub const DENIAL_STANDS_SECONDS: i64 = 30 * 24 * 3600;

/// Where a join request stands. Approved and withdrawn requests are gone; a denied one stays
/// for `DENIAL_STANDS_SECONDS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinRequestStatus {
    Pending,
    Denied,
}

impl JoinRequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinRequestStatus::Pending => "pending",
            JoinRequestStatus::Denied => "denied",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(JoinRequestStatus::Pending),
            "denied" => Some(JoinRequestStatus::Denied),
            _ => None,
        }
    }
}

/// How a person at a verified domain comes in, by the domain's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `auto_join`: at once, with this role.
    Join(Role),
    /// `suggest`: by asking; an admin decides.
    Ask,
}

/// How a person whose verified address is at a domain of this standing (`None`: the
/// organization has no such domain) may come in.
pub fn entry(standing: Option<DomainStanding>) -> Result<Entry, JoinRefused> {
    match standing {
        Some(DomainStanding {
            verified: true,
            enrollment,
        }) => match enrollment {
            Enrollment::AutoJoin { role } => Ok(Entry::Join(role)),
            Enrollment::Suggest => Ok(Entry::Ask),
            Enrollment::None => Err(JoinRefused::Closed),
        },
        _ => Err(JoinRefused::NotAtDomain),
    }
}

/// A person's earlier request to the same organization, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EarlierRequest {
    pub status: JoinRequestStatus,
    /// When an admin denied it; `None` while pending.
    pub decided_at: Option<Timestamp>,
}

/// What asking to join does, given the person's earlier request to the organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filing {
    /// A new request (none before, or a denial that no longer stands, which it replaces).
    New,
    /// The request already pending: asking again answers with it and changes nothing.
    Repeat,
}

/// Whether a person may ask at `now`, given their earlier request, if any.
pub fn filing(earlier: Option<EarlierRequest>, now: Timestamp) -> Result<Filing, JoinRefused> {
    match earlier {
        None => Ok(Filing::New),
        Some(EarlierRequest {
            status: JoinRequestStatus::Pending,
            ..
        }) => Ok(Filing::Repeat),
        Some(EarlierRequest {
            status: JoinRequestStatus::Denied,
            decided_at,
        }) => match decided_at {
            Some(at) if at.plus_seconds(DENIAL_STANDS_SECONDS) <= now => Ok(Filing::New),
            _ => Err(JoinRefused::Denied),
        },
    }
}

/// The role an approval gives (the body's `role`): `member` unless the approver names `admin`.
/// An owner is made only by an owner's own choice of a member (a role change or a transfer),
/// never by an approval.
pub fn approval_role(raw: Option<&str>) -> Result<Role, ValidationError> {
    match raw.map(|raw| (raw, Role::parse(raw))) {
        None => Ok(Role::Member),
        Some((_, Some(Role::Owner))) => Err(ValidationError::new(
            "role",
            "role_too_high",
            "An approval makes a member or an admin; make an owner by changing a member's role.",
        )),
        Some((_, Some(role))) => Ok(role),
        Some((_, None)) => Err(ValidationError::new(
            "role",
            "invalid_role",
            "A role is member or admin.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_millis(seconds * 1000).unwrap()
    }

    #[test]
    fn a_verified_domain_lets_people_in_as_its_policy_says() {
        let standing = |verified, enrollment| {
            Some(DomainStanding {
                verified,
                enrollment,
            })
        };
        let admin = Enrollment::AutoJoin { role: Role::Admin };
        assert_eq!(entry(standing(true, admin)), Ok(Entry::Join(Role::Admin)));
        assert_eq!(entry(standing(true, Enrollment::Suggest)), Ok(Entry::Ask));
        assert_eq!(
            entry(standing(true, Enrollment::None)),
            Err(JoinRefused::Closed)
        );
        assert_eq!(
            entry(standing(false, Enrollment::Suggest)),
            Err(JoinRefused::NotAtDomain)
        );
        assert_eq!(entry(None), Err(JoinRefused::NotAtDomain));
    }

    #[test]
    fn asking_again_repeats_a_pending_request_and_a_denial_stands_thirty_days() {
        let now = at(100 * 86_400);
        assert_eq!(filing(None, now), Ok(Filing::New));
        let pending = EarlierRequest {
            status: JoinRequestStatus::Pending,
            decided_at: None,
        };
        assert_eq!(filing(Some(pending), now), Ok(Filing::Repeat));
        let denied = |days_ago: i64| EarlierRequest {
            status: JoinRequestStatus::Denied,
            decided_at: Some(at(now.unix_seconds() - days_ago * 86_400)),
        };
        assert_eq!(filing(Some(denied(29)), now), Err(JoinRefused::Denied));
        assert_eq!(filing(Some(denied(30)), now), Ok(Filing::New));
    }

    #[test]
    fn an_approval_makes_a_member_unless_it_names_an_admin_and_never_an_owner() {
        assert_eq!(approval_role(None), Ok(Role::Member));
        assert_eq!(approval_role(Some("admin")), Ok(Role::Admin));
        assert_eq!(
            approval_role(Some("owner")).unwrap_err().code,
            "role_too_high"
        );
        assert_eq!(
            approval_role(Some("boss")).unwrap_err().code,
            "invalid_role"
        );
    }

    #[test]
    fn statuses_read_back() {
        for status in [JoinRequestStatus::Pending, JoinRequestStatus::Denied] {
            assert_eq!(JoinRequestStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(JoinRequestStatus::parse("approved"), None);
    }
}
