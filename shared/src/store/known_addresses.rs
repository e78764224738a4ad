//! Addresses the service knows people by: one item per verified address, holding the set of
//! users whose profile (or an organization they created) verified it. Several people may share
//! an address (one per sign-in provider), hence a set. An invitation to a known address is the
//! plain notification; to any other, the welcome (`mail::Welcome`).

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::UserId;

use super::Store;
use super::error::StoreResult;
use super::item::{Item, ItemBuilder, s};
use super::keys;
use super::tx::{Expr, Tx};

pub(super) struct KnownAddress;

impl KnownAddress {
    pub(super) fn key(email: &str) -> Item {
        ItemBuilder::key(
            keys::known_address_pk(&email.to_lowercase()),
            keys::KNOWN_ADDRESS_SK,
        )
        .build()
    }

    /// Whether a stored item names anyone (a set emptied by `remove` stays as an empty item).
    pub(super) fn has_users(item: &Item) -> bool {
        matches!(item.get("users"), Some(AttributeValue::Ss(users)) if !users.is_empty())
    }

    fn user(user: &UserId) -> AttributeValue {
        AttributeValue::Ss(vec![user.as_str().to_owned()])
    }

    /// `user` holds `email`, verified. Adding to a set: repeating it changes nothing.
    pub(super) fn add(tx: &mut Tx<'_>, email: &str, user: &UserId) -> StoreResult<()> {
        let add = Expr::new("SET entity = :entity ADD #users :user")
            .name("#users", "users")
            .value(":entity", s("known_address"))
            .value(":user", Self::user(user));
        tx.update(Self::key(email), add, None)
    }

    /// `user` no longer holds `email`.
    pub(super) fn remove(tx: &mut Tx<'_>, email: &str, user: &UserId) -> StoreResult<()> {
        let remove = Expr::new("DELETE #users :user")
            .name("#users", "users")
            .value(":user", Self::user(user));
        tx.update(Self::key(email), remove, None)
    }
}

impl Store {
    /// Whether someone holds `email` as their verified address: a profile or an organization's
    /// owner. One consistent GetItem.
    pub async fn is_known_address(&self, email: &str) -> StoreResult<bool> {
        let item = self
            .get_item(KnownAddress::key(email), "read a known address")
            .await?;
        Ok(item.as_ref().is_some_and(KnownAddress::has_users))
    }
}
