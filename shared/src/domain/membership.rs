//! Who may change whose membership, and how. The rule that an organization keeps at least one
//! active owner is not here: only the store can hold it under concurrency (a condition on the
//! organization's counted owners), so it is enforced there.

use super::{
    MemberStatus, Membership, Permission, Role, RoleName, Standing, Timestamp, ValidationError,
};

/// A change one member asks for on another (or on themselves).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberChange {
    SetRole(Role),
    SetStatus(MemberStatus),
    Remove,
}

/// Why a member may not make a change; each is a 403 with this detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.detail())]
pub enum Denied {
    RoleTooLow,
    OnlyOwnersManageOwners,
    AboveOwnRole,
    SelfDeactivation,
    OwnerMustBeActive,
    /// An invitation to a role above the caller's: resending one is a fresh link to that role.
    InvitationAboveOwnRole,
}

impl Denied {
    pub fn detail(self) -> &'static str {
        match self {
            Denied::RoleTooLow => "Your role does not manage members.",
            Denied::OnlyOwnersManageOwners => "Only owners change or remove owners.",
            Denied::AboveOwnRole => "Nobody can give a role above their own.",
            Denied::SelfDeactivation => {
                "You cannot deactivate yourself; leave the organization instead."
            }
            Denied::OwnerMustBeActive => {
                "Only an active member can be made owner; reactivate them first."
            }
            Denied::InvitationAboveOwnRole => {
                "Only owners resend or revoke an invitation to be owner."
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
    let needed = match change {
        MemberChange::Remove => Permission::MembersRemove,
        MemberChange::SetRole(_) | MemberChange::SetStatus(_) => Permission::MembersUpdate,
    };
    if !caller.held.holds(needed) {
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

/// A change of a member's role, status or both, as one request asks for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberUpdate {
    pub role: Option<RoleName>,
    pub status: Option<MemberStatus>,
}

impl MemberUpdate {
    /// Refuses the first field that is wrong, and an update of nothing: neither role, nor
    /// status, nor (`with_metadata`) metadata.
    pub fn parse(
        role: Option<&str>,
        status: Option<&str>,
        with_metadata: bool,
    ) -> Result<Self, ValidationError> {
        let role = role.map(|r| RoleName::parse("role", r)).transpose()?;
        let status = status
            .map(|s| {
                MemberStatus::parse(s).ok_or_else(|| {
                    ValidationError::new(
                        "status",
                        "invalid_status",
                        "status is active or deactivated.",
                    )
                })
            })
            .transpose()?;
        if role.is_none() && status.is_none() && !with_metadata {
            return Err(ValidationError::new(
                "body",
                "required",
                "Send a role, a status, metadata, or several of them.",
            ));
        }
        Ok(Self { role, status })
    }

    /// Whether `caller` may make every part of this update on `target`: `may_change` for each
    /// (a custom role is a `member`'s by rank; what it grants is checked by `may_grant`).
    pub fn allowed(
        &self,
        caller: Standing,
        caller_is_target: bool,
        target: Standing,
    ) -> Result<(), Denied> {
        let rank = |name: &RoleName| match name {
            RoleName::System(role) => *role,
            RoleName::Custom(_) => Role::Member,
        };
        let mut changes = (self.role.as_ref().map(|r| MemberChange::SetRole(rank(r))))
            .into_iter()
            .chain(self.status.map(MemberChange::SetStatus));
        changes.try_for_each(|change| may_change(caller, caller_is_target, target, change))
    }

    /// Whether it changes anything: asking for what is already so writes nothing.
    pub fn changes(&self, target: &Membership) -> bool {
        self.role.as_ref().is_some_and(|r| *r != target.role_name())
            || self.status.is_some_and(|s| s != target.status)
    }
}

/// Why ownership cannot go to the member asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransferRefused {
    #[error("the user is not a member of the organization")]
    NotAMember,
    #[error("the member is already an owner")]
    AlreadyOwner,
    #[error("the member is deactivated")]
    Deactivated,
}

impl TransferRefused {
    pub fn detail(self) -> &'static str {
        match self {
            Self::NotAMember => "Ownership goes to a member of the organization.",
            Self::AlreadyOwner => "This member is already an owner.",
            Self::Deactivated => "Ownership goes only to an active member; reactivate them first.",
        }
    }
}

/// Whether an owner may hand ownership to `target`, a member (anyone else is `NotAMember`):
/// only to an active member who is not an owner already. The caller, an owner, is one.
pub fn may_transfer(caller_is_target: bool, target: Standing) -> Result<(), TransferRefused> {
    if caller_is_target || target.role == Role::Owner {
        return Err(TransferRefused::AlreadyOwner);
    }
    if target.status != MemberStatus::Active {
        return Err(TransferRefused::Deactivated);
    }
    Ok(())
}

/// The two memberships a transfer of ownership changes, as it leaves them.
#[derive(Clone, Debug, PartialEq)]
pub struct Transfer {
    pub caller: Membership,
    pub target: Membership,
}

/// A transfer of ownership (once `may_transfer` allowed it), at `at`: the target becomes owner
/// and the caller, an owner, admin, in one step, so the count of active owners stays as it was.
pub fn transfer(caller: &Membership, target: &Membership, at: Timestamp) -> Transfer {
    let with_role = |member: &Membership, role| Membership {
        role,
        custom_role: None,
        custom_grants: None,
        updated_at: at,
        ..member.clone()
    };
    Transfer {
        caller: with_role(caller, Role::Admin),
        target: with_role(target, Role::Owner),
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
    use crate::domain::{OrgId, UserId, VersionedMetadata};
    use MemberChange::*;

    fn active(role: Role) -> Standing {
        Standing::of(role, MemberStatus::Active)
    }

    fn member(user: &str, role: Role) -> Membership {
        Membership {
            org_id: OrgId::parse("org_00000000000000000000000000000001").unwrap(),
            user_id: UserId::parse(user).unwrap(),
            role,
            custom_role: None,
            custom_grants: None,
            status: MemberStatus::Active,
            email: None,
            team_ids: vec![],
            metadata: VersionedMetadata::default(),
            joined_at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            updated_at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
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
        let deactivated = Standing::of(Role::Member, MemberStatus::Deactivated);
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
        let off = Standing::of(Role::Owner, MemberStatus::Deactivated);
        assert_eq!(owner_delta(owner, Some(active(Role::Admin))), -1);
        assert_eq!(owner_delta(owner, Some(off)), -1);
        assert_eq!(owner_delta(owner, None), -1);
        assert_eq!(owner_delta(off, Some(owner)), 1);
        assert_eq!(owner_delta(active(Role::Member), Some(owner)), 1);
        assert_eq!(owner_delta(active(Role::Member), None), 0);
        assert_eq!(owner_delta(off, None), 0);
    }

    #[test]
    fn an_update_names_its_first_bad_field_and_needs_something_to_change() {
        assert_eq!(
            MemberUpdate::parse(Some("admin"), None, false),
            Ok(MemberUpdate {
                role: Some(RoleName::System(Role::Admin)),
                status: None
            })
        );
        assert_eq!(
            MemberUpdate::parse(Some("Boss"), Some("asleep"), true)
                .unwrap_err()
                .field,
            "role"
        );
        assert_eq!(
            MemberUpdate::parse(None, Some("asleep"), false)
                .unwrap_err()
                .code,
            "invalid_status"
        );
        assert_eq!(
            MemberUpdate::parse(None, None, false).unwrap_err().code,
            "required"
        );
        // Metadata alone is an update too, of neither role nor status.
        assert_eq!(
            MemberUpdate::parse(None, None, true),
            Ok(MemberUpdate {
                role: None,
                status: None
            })
        );
    }

    #[test]
    fn an_update_is_allowed_only_if_each_of_its_changes_is() {
        let admin = active(Role::Admin);
        let both = MemberUpdate {
            role: Some(RoleName::System(Role::Admin)),
            status: Some(MemberStatus::Deactivated),
        };
        assert_eq!(both.allowed(admin, false, active(Role::Member)), Ok(()));
        let too_high = MemberUpdate {
            role: Some(RoleName::System(Role::Owner)),
            ..both
        };
        assert_eq!(
            too_high.allowed(admin, false, active(Role::Member)),
            Err(Denied::AboveOwnRole)
        );
        // Raising oneself is refused before deactivating oneself would be.
        assert_eq!(
            both.allowed(active(Role::Member), true, active(Role::Member)),
            Err(Denied::AboveOwnRole)
        );
        assert_eq!(
            MemberUpdate { role: None, ..both }.allowed(admin, true, admin),
            Err(Denied::SelfDeactivation)
        );
    }

    #[test]
    fn an_update_to_what_is_already_so_changes_nothing() {
        let member = &member("bob", Role::Member);
        let same = MemberUpdate {
            role: Some(RoleName::System(Role::Member)),
            status: Some(MemberStatus::Active),
        };
        assert!(!same.changes(member));
        assert!(
            MemberUpdate {
                role: Some(RoleName::System(Role::Admin)),
                ..same
            }
            .changes(member)
        );
        assert!(
            MemberUpdate {
                role: None,
                status: Some(MemberStatus::Deactivated)
            }
            .changes(member)
        );
        let custom = MemberUpdate {
            role: Some(RoleName::parse("role", "billing-manager").unwrap()),
            status: None,
        };
        assert!(custom.changes(member));
        let holder = Membership {
            custom_role: Some(crate::domain::RoleKey::parse("billing-manager").unwrap()),
            ..member.clone()
        };
        assert!(!custom.changes(&holder));
    }

    #[test]
    fn a_custom_role_that_manages_members_manages_them_but_gives_no_more_than_member() {
        let manager = Standing {
            held: crate::domain::Grants::of_keys(["members:update"]).service,
            ..active(Role::Member)
        };
        let to_admin = SetRole(Role::Admin);
        assert_eq!(
            may_change(
                manager,
                false,
                active(Role::Member),
                SetStatus(MemberStatus::Deactivated)
            ),
            Ok(())
        );
        assert_eq!(
            may_change(manager, false, active(Role::Member), to_admin),
            Err(Denied::AboveOwnRole)
        );
        assert_eq!(
            may_change(manager, false, active(Role::Member), Remove),
            Err(Denied::RoleTooLow)
        );
    }

    #[test]
    fn a_transfer_makes_the_target_owner_and_the_caller_admin() {
        let (alice, bob) = (member("alice", Role::Owner), member("bob", Role::Member));
        let at = Timestamp::parse("2026-02-01T00:00:00Z").unwrap();
        let done = transfer(&alice, &bob, at);
        assert_eq!(
            (done.caller.role, done.target.role),
            (Role::Admin, Role::Owner)
        );
        assert_eq!(
            (&done.caller.user_id, &done.target.user_id),
            (&alice.user_id, &bob.user_id)
        );
        assert_eq!((done.caller.updated_at, done.target.updated_at), (at, at));
        let owners = owner_delta(alice.standing(), Some(done.caller.standing()))
            + owner_delta(bob.standing(), Some(done.target.standing()));
        assert_eq!(owners, 0);
    }

    #[test]
    fn ownership_goes_only_to_an_active_member_who_is_not_an_owner() {
        assert_eq!(may_transfer(false, active(Role::Member)), Ok(()));
        assert_eq!(may_transfer(false, active(Role::Admin)), Ok(()));
        assert_eq!(
            may_transfer(false, active(Role::Owner)),
            Err(TransferRefused::AlreadyOwner)
        );
        assert_eq!(
            may_transfer(true, active(Role::Owner)),
            Err(TransferRefused::AlreadyOwner)
        );
        let deactivated = Standing::of(Role::Member, MemberStatus::Deactivated);
        assert_eq!(
            may_transfer(false, deactivated),
            Err(TransferRefused::Deactivated)
        );
        // A deactivated owner is an owner still: the transfer cannot make them one.
        let off_owner = Standing::of(Role::Owner, MemberStatus::Deactivated);
        assert_eq!(
            may_transfer(false, off_owner),
            Err(TransferRefused::AlreadyOwner)
        );
    }
}
