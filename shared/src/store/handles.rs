//! Handle markers: one namespace for the handles of users and organizations. Each handle is a
//! marker item written with `attribute_not_exists` in the transaction that takes it, so no two
//! owners ever hold one.

use crate::domain::{Handle, OrgId, UserId};

use super::error::{Refusal, StoreResult};
use super::item::{Item, ItemBuilder, Reader, s};
use super::keys;
use super::tx::{Condition, Expr};

/// Who holds a handle.
#[derive(Clone, Copy, Debug)]
pub(super) enum HandleOwner<'a> {
    User(&'a UserId),
    Org(&'a OrgId),
}

impl HandleOwner<'_> {
    fn kind(&self) -> &'static str {
        match self {
            HandleOwner::User(_) => "user",
            HandleOwner::Org(_) => "org",
        }
    }
    fn id(&self) -> &str {
        match self {
            HandleOwner::User(user) => user.as_str(),
            HandleOwner::Org(org) => org.as_str(),
        }
    }
}

pub(super) struct HandleMarker;

impl HandleMarker {
    pub(super) fn key(handle: &Handle) -> Item {
        ItemBuilder::key(keys::handle_pk(handle), keys::HANDLE_SK).build()
    }

    /// The marker that holds `handle` for `owner`.
    pub(super) fn to_item(handle: &Handle, owner: HandleOwner<'_>) -> Item {
        ItemBuilder::key(keys::handle_pk(handle), keys::HANDLE_SK)
            .s("entity", "handle")
            .s("handle", handle.as_str())
            .s("owner_type", owner.kind())
            .s("owner_id", owner.id())
            .build()
    }

    /// The user a marker names, if a user holds the handle.
    pub(super) fn user_from_item(item: &Item) -> StoreResult<Option<UserId>> {
        let r = Reader(item);
        if r.s("owner_type")? != "user" {
            return Ok(None);
        }
        Ok(UserId::parse(&r.s("owner_id")?))
    }

    /// Deleting a marker only if it still belongs to `owner`.
    pub(super) fn owned_by(owner: HandleOwner<'_>) -> Condition {
        Condition::new(
            Expr::new("owner_id = :owner").value(":owner", s(owner.id())),
            Refusal::Changed,
        )
    }
}
