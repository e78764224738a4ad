//! User profiles, and the handles users take.

use crate::domain::payloads::{FieldsChanged, UserCreated, UserHandleChanged};
use crate::domain::{Op, User};

use crate::domain::{Change, ChangeKind, DisplayName, Handle, Subject, UserId};

use super::error::{Refusal, StoreError, StoreResult};
use super::handles::{HandleMarker, HandleOwner};
use super::history;
use super::item::{Item, ItemBuilder, Reader, s};
use super::keys;
use super::known_addresses::KnownAddress;
use super::tx::{Condition, Expr, Tx};
use super::{Read, Store};

/// What the verified claims say about a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user_id: UserId,
    pub email: Option<String>,
    pub email_verified: bool,
}

/// A change to one's own profile. `display_name: Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct UserPatch {
    pub handle: Option<Handle>,
    pub display_name: Option<Option<DisplayName>>,
}

impl User {
    /// The key of a user's profile.
    pub(super) fn key(user: &UserId) -> Item {
        ItemBuilder::key(keys::user_pk(user), keys::PROFILE_SK).build()
    }

    fn to_item(&self) -> Item {
        ItemBuilder::key(keys::user_pk(&self.user_id), keys::PROFILE_SK)
            .s("entity", "user")
            .s("user_id", self.user_id.as_str())
            .opt_s("email", self.email.clone())
            .bool("email_verified", self.email_verified)
            .opt_s("handle", self.handle.clone())
            .opt_s("display_name", self.display_name.clone())
            .s("created_at", self.created_at.to_rfc3339())
            .s("updated_at", self.updated_at.to_rfc3339())
            .build()
    }

    pub(super) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        Ok(Self {
            user_id: r.parsed("user_id", UserId::parse)?,
            email: r.opt_s("email")?,
            email_verified: r.bool("email_verified")?,
            handle: r.opt_s("handle")?,
            display_name: r.opt_s("display_name")?,
            created_at: r.time("created_at")?,
            updated_at: r.time("updated_at")?,
        })
    }
}

impl Store {
    pub async fn get_user(&self, user: &UserId) -> StoreResult<Option<User>> {
        self.get_item(User::key(user), "read a user profile")
            .await?
            .as_ref()
            .map(User::from_item)
            .transpose()
    }

    /// The user who holds `handle`, if a user does.
    pub async fn user_by_handle(&self, handle: &Handle) -> StoreResult<Option<User>> {
        let Some(marker) = self
            .get_item(HandleMarker::key(handle), "read a handle")
            .await?
        else {
            return Ok(None);
        };
        match HandleMarker::user_from_item(&marker)? {
            Some(user) => self.get_user(&user).await,
            None => Ok(None),
        }
    }

    /// Profiles of `users`, in no particular order; missing ones are left out.
    pub async fn profiles(&self, users: &[UserId]) -> StoreResult<Vec<User>> {
        let keys = users.iter().map(User::key).collect();
        self.batch_get(keys, Read::Eventual, "read profiles")
            .await?
            .iter()
            .map(User::from_item)
            .collect()
    }

    /// Creates the profile on first use; if a concurrent request created it first, returns that.
    pub async fn create_user(&self, identity: &Identity, op: &Op) -> StoreResult<User> {
        let user = User {
            user_id: identity.user_id.clone(),
            email: identity.email.clone(),
            email_verified: identity.email_verified,
            handle: None,
            display_name: None,
            created_at: op.at,
            updated_at: op.at,
        };
        let mut tx = Tx::new(self);
        tx.put(
            user.to_item(),
            Some(Condition::absent(Refusal::AlreadyExists)),
        )?;
        if let Some(email) = identity
            .email
            .as_deref()
            .filter(|_| identity.email_verified)
        {
            KnownAddress::add(&mut tx, email, &user.user_id)?;
        }
        let change = Change {
            kind: ChangeKind::UserCreated,
            subject: Subject::User(user.user_id.clone()),
            target_type: "user",
            target_id: user.user_id.to_string(),
            data: UserCreated {
                user_id: user.user_id.clone(),
            }
            .into(),
        };
        history::record(&mut tx, &change, op, self.retention)?;
        match tx.commit("create a user profile").await {
            Ok(()) => Ok(user),
            Err(StoreError::Refused(Refusal::AlreadyExists)) => self
                .get_user(&user.user_id)
                .await?
                .ok_or(StoreError::Refused(Refusal::Changed)),
            Err(e) => Err(e),
        }
    }

    /// Keeps the stored email in step with the verified claims.
    pub async fn refresh_identity(
        &self,
        user: &User,
        identity: &Identity,
        op: &Op,
    ) -> StoreResult<User> {
        let mut tx = Tx::new(self);
        let mut set = Expr::new("SET email_verified = :verified, updated_at = :at")
            .value(
                ":verified",
                aws_sdk_dynamodb::types::AttributeValue::Bool(identity.email_verified),
            )
            .value(":at", s(op.at.to_rfc3339()));
        set = match &identity.email {
            Some(email) => set.append(", email = :email").value(":email", s(email)),
            None => set.append(" REMOVE email"),
        };
        tx.update(
            User::key(&user.user_id),
            set,
            Some(Condition::present(Refusal::Gone)),
        )?;
        // The known address follows the verified one. Added again when it stays the same: a
        // profile older than the known addresses gets its entry so.
        let verified = |email: &Option<String>, verified: bool| {
            email.as_deref().filter(|_| verified).map(str::to_lowercase)
        };
        let old = verified(&user.email, user.email_verified);
        let new = verified(&identity.email, identity.email_verified);
        if let Some(old) = old.as_deref().filter(|old| Some(*old) != new.as_deref()) {
            KnownAddress::remove(&mut tx, old, &user.user_id)?;
        }
        if let Some(new) = &new {
            KnownAddress::add(&mut tx, new, &user.user_id)?;
        }
        let change = Change {
            kind: ChangeKind::UserUpdated,
            subject: Subject::User(user.user_id.clone()),
            target_type: "user",
            target_id: user.user_id.to_string(),
            data: FieldsChanged {
                fields: vec!["email"],
            }
            .into(),
        };
        history::record(&mut tx, &change, op, self.retention)?;
        tx.commit("refresh a user's email").await?;
        Ok(User {
            email: identity.email.clone(),
            email_verified: identity.email_verified,
            updated_at: op.at,
            ..user.clone()
        })
    }

    /// Applies a profile change. A new handle takes its marker and frees the old one in the
    /// same transaction; the condition on the old value refuses a concurrent change.
    pub async fn update_user(
        &self,
        current: &User,
        patch: &UserPatch,
        op: &Op,
    ) -> StoreResult<User> {
        let user_id = &current.user_id;
        let mut updated = current.clone();
        let mut tx = Tx::new(self);
        let mut sets = vec!["updated_at = :at"];
        let mut removes = Vec::new();
        let mut expr = Expr::default().value(":at", s(op.at.to_rfc3339()));

        let new_handle = patch
            .handle
            .as_ref()
            .filter(|h| current.handle.as_deref() != Some(h.as_str()));
        if let Some(handle) = new_handle {
            sets.push("handle = :handle");
            expr = expr.value(":handle", s(handle.as_str()));
            let owner = HandleOwner::User(user_id);
            tx.put(
                HandleMarker::to_item(handle, owner),
                Some(Condition::absent(Refusal::HandleTaken)),
            )?;
            if let Some(old) = current
                .handle
                .as_deref()
                .and_then(|h| Handle::parse(h).ok())
            {
                tx.delete(HandleMarker::key(&old), Some(HandleMarker::owned_by(owner)))?;
            }
            updated.handle = Some(handle.to_string());
        }
        if let Some(display_name) = &patch.display_name {
            match display_name {
                Some(name) => {
                    sets.push("display_name = :name");
                    expr = expr.value(":name", s(name.as_str()));
                }
                None => removes.push("display_name"),
            }
            updated.display_name = display_name.as_ref().map(|n| n.as_str().to_owned());
        }
        if new_handle.is_none() && patch.display_name.is_none() {
            return Ok(current.clone());
        }

        let mut text = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            text.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        expr.text = text;
        let unchanged_handle = match &current.handle {
            Some(old) => Expr::new("handle = :old").value(":old", s(old)),
            None => Expr::new("attribute_exists(pk) AND attribute_not_exists(handle)"),
        };
        tx.update(
            User::key(user_id),
            expr,
            Some(Condition::new(unchanged_handle, Refusal::Changed)),
        )?;

        if let Some(handle) = new_handle {
            let change = Change {
                kind: ChangeKind::HandleChanged,
                subject: Subject::User(user_id.clone()),
                target_type: "user",
                target_id: user_id.to_string(),
                data: UserHandleChanged {
                    old_handle: current.handle.clone(),
                    new_handle: handle.clone(),
                }
                .into(),
            };
            history::record(&mut tx, &change, op, self.retention)?;
        }
        if patch.display_name.is_some() {
            let change = Change {
                kind: ChangeKind::UserUpdated,
                subject: Subject::User(user_id.clone()),
                target_type: "user",
                target_id: user_id.to_string(),
                data: FieldsChanged {
                    fields: vec!["display_name"],
                }
                .into(),
            };
            history::record(&mut tx, &change, op, self.retention)?;
        }
        updated.updated_at = op.at;
        tx.made(&updated);
        tx.commit("update a user profile").await?;
        Ok(updated)
    }
}
