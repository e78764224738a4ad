//! Who may change whose membership, and how. The rule that an organization keeps at least one
//! active owner is not here: only the store can hold it under concurrency (a condition on the
//! organization's counted owners), so it is enforced there.

use super::{MemberStatus, Role, Standing};

/// A change one member asks for on another (or on themselves).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberChange {
    SetRole(Role),
    SetStatus(MemberStatus),
    Remove,
}

/// Why a member may not make a change; each is a 403 with this detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    RoleTooLow,
    OnlyOwnersManageOwners,
    AboveOwnRole,
    SelfDeactivation,
    OwnerMustBeActive,
}

impl Denied {
    pub fn detail(self) -> &'static str {
        match self {
            Denied::RoleTooLow => "Only admins and owners manage members.",
            Denied::OnlyOwnersManageOwners => "Only owners change or remove owners.",
            Denied::AboveOwnRole => "Nobody can give a role above their own.",
            Denied::SelfDeactivation => {
                "You cannot deactivate yourself; leave the organization instead."
            }
            Denied::OwnerMustBeActive => {
                "Only an active member can be made owner; reactivate them first."
            }
        }
    }
}

/// Whether `caller` (an active member) may apply `change` to `target`.
pub fn may_change(
    caller: Standing,
    caller_is_target: bool,
    target: Standing,
    change: MemberChange,
) -> Result<(), Denied> {
    if caller_is_target {
        return match change {
            // Leaving is every member's right; the last owner is stopped by the store.
            MemberChange::Remove => Ok(()),
            MemberChange::SetStatus(_) => Err(Denied::SelfDeactivation),
            MemberChange::SetRole(new) if new > caller.role => Err(Denied::AboveOwnRole),
            MemberChange::SetRole(_) => Ok(()),
        };
    }
    if caller.role < Role::Admin {
        return Err(Denied::RoleTooLow);
    }
    if target.role == Role::Owner && caller.role != Role::Owner {
        return Err(Denied::OnlyOwnersManageOwners);
    }
    match change {
        MemberChange::SetRole(new) if new > caller.role => Err(Denied::AboveOwnRole),
        MemberChange::SetRole(Role::Owner) if target.status != MemberStatus::Active => {
            Err(Denied::OwnerMustBeActive)
        }
        _ => Ok(()),
    }
}

/// How a change moves the count of active owners: -1, 0 or +1.
pub fn owner_delta(before: Standing, after: Option<Standing>) -> i64 {
    let counts = |s: Standing| s.role == Role::Owner && s.status == MemberStatus::Active;
    i64::from(after.is_some_and(counts)) - i64::from(counts(before))
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemberChange::*;

    fn active(role: Role) -> Standing {
        Standing {
            role,
            status: MemberStatus::Active,
        }
    }

    #[test]
    fn admins_manage_members_and_admins_but_never_owners() {
        let admin = active(Role::Admin);
        assert_eq!(
            may_change(admin, false, active(Role::Member), SetRole(Role::Admin)),
            Ok(())
        );
        assert_eq!(
            may_change(
                admin,
                false,
                active(Role::Admin),
                SetStatus(MemberStatus::Deactivated)
            ),
            Ok(())
        );
        assert_eq!(
            may_change(admin, false, active(Role::Admin), Remove),
            Ok(())
        );
        for change in [
            SetRole(Role::Member),
            SetStatus(MemberStatus::Deactivated),
            Remove,
        ] {
            assert_eq!(
                may_change(admin, false, active(Role::Owner), change),
                Err(Denied::OnlyOwnersManageOwners)
            );
        }
        assert_eq!(
            may_change(admin, false, active(Role::Member), SetRole(Role::Owner)),
            Err(Denied::AboveOwnRole)
        );
    }

    #[test]
    fn members_manage_nobody_but_may_leave() {
        let member = active(Role::Member);
        assert_eq!(
            may_change(member, false, active(Role::Member), Remove),
            Err(Denied::RoleTooLow)
        );
        assert_eq!(may_change(member, true, member, Remove), Ok(()));
        assert_eq!(
            may_change(member, true, member, SetRole(Role::Admin)),
            Err(Denied::AboveOwnRole)
        );
    }

    #[test]
    fn owners_manage_owners_and_make_only_active_members_owner() {
        let owner = active(Role::Owner);
        assert_eq!(
            may_change(owner, false, active(Role::Owner), SetRole(Role::Admin)),
            Ok(())
        );
        assert_eq!(
            may_change(owner, false, active(Role::Member), SetRole(Role::Owner)),
            Ok(())
        );
        let deactivated = Standing {
            role: Role::Member,
            status: MemberStatus::Deactivated,
        };
        assert_eq!(
            may_change(owner, false, deactivated, SetRole(Role::Owner)),
            Err(Denied::OwnerMustBeActive)
        );
        assert_eq!(
            may_change(owner, true, owner, SetStatus(MemberStatus::Deactivated)),
            Err(Denied::SelfDeactivation)
        );
    }

    #[test]
    fn counts_only_active_owners() {
        let owner = active(Role::Owner);
        let off = Standing {
            role: Role::Owner,
            status: MemberStatus::Deactivated,
        };
        assert_eq!(owner_delta(owner, Some(active(Role::Admin))), -1);
        assert_eq!(owner_delta(owner, Some(off)), -1);
        assert_eq!(owner_delta(owner, None), -1);
        assert_eq!(owner_delta(off, Some(owner)), 1);
        assert_eq!(owner_delta(active(Role::Member), Some(owner)), 1);
        assert_eq!(owner_delta(active(Role::Member), None), 0);
        assert_eq!(owner_delta(off, None), 0);
    }
}
