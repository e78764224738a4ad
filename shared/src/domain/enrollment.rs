//! How people with a verified address at an organization's verified email domain may come in:
//! the domain's enrollment policy, and the rules that read it.

use super::{Role, ValidationError};

/// A domain's enrollment policy, chosen by an owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Enrollment {
    /// Nobody is told about the organization or let in through the domain.
    #[default]
    None,
    /// People at the domain see the organization among their suggestions and may ask to join.
    Suggest,
    /// People at the domain may join at once, with `role`: at most `admin`.
    AutoJoin { role: Role },
}

impl Enrollment {
    pub fn as_str(self) -> &'static str {
        match self {
            Enrollment::None => "none",
            Enrollment::Suggest => "suggest",
            Enrollment::AutoJoin { .. } => "auto_join",
        }
    }

    /// The role people join with, for `auto_join`.
    pub fn role(self) -> Option<Role> {
        match self {
            Enrollment::AutoJoin { role } => Some(role),
            _ => None,
        }
    }

    /// A request's `enrollment` and `default_role`. `auto_join` takes a role of at most
    /// `admin` (`member` when none is given): an owner is made only by an owner's own choice of
    /// a person. The other policies take none.
    pub fn parse(policy: &str, default_role: Option<&str>) -> Result<Self, ValidationError> {
        let role = match default_role {
            None => None,
            Some(raw) => match Role::parse(raw) {
                Some(Role::Owner) => {
                    return Err(ValidationError::new(
                        "default_role",
                        "role_too_high",
                        "People who join through a domain are at most admins.",
                    ));
                }
                Some(role) => Some(role),
                None => {
                    return Err(ValidationError::new(
                        "default_role",
                        "invalid_role",
                        "A role is member or admin.",
                    ));
                }
            },
        };
        match (policy, role) {
            ("auto_join", role) => Ok(Enrollment::AutoJoin {
                role: role.unwrap_or(Role::Member),
            }),
            ("none" | "suggest", Some(_)) => Err(ValidationError::new(
                "default_role",
                "not_auto_join",
                "Only auto_join has a default role.",
            )),
            ("none", None) => Ok(Enrollment::None),
            ("suggest", None) => Ok(Enrollment::Suggest),
            _ => Err(ValidationError::new(
                "enrollment",
                "invalid_enrollment",
                "An enrollment policy is none, suggest or auto_join.",
            )),
        }
    }

    /// As stored: the policy's name and, for `auto_join`, its role. `None` for anything else.
    pub fn from_stored(policy: &str, role: Option<&str>) -> Option<Self> {
        match (policy, role.and_then(Role::parse)) {
            ("none", _) => Some(Enrollment::None),
            ("suggest", _) => Some(Enrollment::Suggest),
            ("auto_join", Some(role)) if role < Role::Owner => Some(Enrollment::AutoJoin { role }),
            _ => None,
        }
    }
}

/// What the organization's domain item says about the domain of a person's verified address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainStanding {
    pub verified: bool,
    pub enrollment: Enrollment,
}

/// Whether the organization is suggested to a person whose verified address is at a domain with
/// this standing: only a verified domain, and only if its policy lets people in at all.
pub fn suggested(standing: DomainStanding) -> bool {
    standing.verified && standing.enrollment != Enrollment::None
}

/// Why a person may not join an organization, or ask to, through their email's domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JoinRefused {
    #[error("the person's email domain is none the organization verified")]
    NotAtDomain,
    #[error("the domain's policy lets nobody in through it")]
    Closed,
    #[error("an admin denied the person's request to join, recently")]
    Denied,
}

impl JoinRefused {
    pub fn detail(self) -> &'static str {
        match self {
            JoinRefused::NotAtDomain => {
                "Your verified email address is not at a verified domain of this organization; ask an admin for an invitation."
            }
            JoinRefused::Closed => {
                "This organization does not let people at your domain join or ask to; ask an admin for an invitation."
            }
            JoinRefused::Denied => {
                "An admin of this organization denied your request to join; you may ask again 30 days after, or ask an admin for an invitation."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_join_takes_a_role_of_at_most_admin_and_member_by_default() {
        assert_eq!(
            Enrollment::parse("auto_join", None),
            Ok(Enrollment::AutoJoin { role: Role::Member })
        );
        assert_eq!(
            Enrollment::parse("auto_join", Some("admin")),
            Ok(Enrollment::AutoJoin { role: Role::Admin })
        );
        let err = Enrollment::parse("auto_join", Some("owner")).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.code),
            ("default_role", "role_too_high")
        );
        let err = Enrollment::parse("auto_join", Some("boss")).unwrap_err();
        assert_eq!(err.code, "invalid_role");
    }

    #[test]
    fn the_other_policies_take_no_role() {
        assert_eq!(Enrollment::parse("none", None), Ok(Enrollment::None));
        assert_eq!(Enrollment::parse("suggest", None), Ok(Enrollment::Suggest));
        let err = Enrollment::parse("suggest", Some("member")).unwrap_err();
        assert_eq!(err.code, "not_auto_join");
        let err = Enrollment::parse("open", None).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.code),
            ("enrollment", "invalid_enrollment")
        );
    }

    #[test]
    fn stored_policies_read_back_and_an_owner_role_never_does() {
        for policy in [
            Enrollment::None,
            Enrollment::Suggest,
            Enrollment::AutoJoin { role: Role::Admin },
        ] {
            let role = policy.role().map(Role::as_str);
            assert_eq!(Enrollment::from_stored(policy.as_str(), role), Some(policy));
        }
        assert_eq!(Enrollment::from_stored("auto_join", Some("owner")), None);
        assert_eq!(Enrollment::from_stored("auto_join", None), None);
    }

    #[test]
    fn only_a_verified_domain_with_a_policy_is_suggested() {
        let standing = |verified, enrollment| DomainStanding {
            verified,
            enrollment,
        };
        assert!(suggested(standing(true, Enrollment::Suggest)));
        assert!(suggested(standing(
            true,
            Enrollment::AutoJoin { role: Role::Member }
        )));
        assert!(!suggested(standing(true, Enrollment::None)));
        assert!(!suggested(standing(false, Enrollment::Suggest)));
    }
}
