//! An organization's custom roles (`ORG#{org}` / `ROLE#{key}`). The organization item counts
//! them (`role_count`, under the limit's condition); each role counts its holders (`holders`),
//! moved in the same transaction as every membership that takes or leaves it, so a role that
//! anyone holds cannot be deleted, whatever races with the deletion.

use crate::domain::payloads::RoleFacts;
use crate::domain::{
    Change, ChangeKind, CustomRole, LimitKind, Op, OrgId, Organization, RoleKey, RoleScope,
    RoleSpec, Subject,
};

use super::error::{Refusal, StoreError, StoreResult};
use super::history;
use super::item::{Item, ItemBuilder, Reader, n, s};
use super::keys;
use super::query::{Decode, PartitionQuery, sk_after};
use super::tx::{Condition, Expr, Tx};
use super::{Read, Store};

impl CustomRole {
    pub(super) fn key(org: &OrgId, role: &RoleKey) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::role_sk(role)).build()
    }

    fn to_item(&self) -> Item {
        ItemBuilder::key(keys::org_pk(&self.org_id), keys::role_sk(&self.key))
            .s("entity", "role")
            .s("org_id", self.org_id.as_str())
            .s("role_key", self.key.as_str())
            .s("scope", self.scope.as_str())
            .s("name", self.name.as_str())
            .s("description", self.description.as_str())
            .s("permissions", self.permissions.join(" "))
            .n("holders", self.holders)
            .s("created_at", self.created_at.to_rfc3339())
            .s("updated_at", self.updated_at.to_rfc3339())
            .build()
    }

    pub(super) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            key: r.parsed("role_key", |k| RoleKey::parse(k).ok())?,
            scope: r.parsed("scope", RoleScope::parse)?,
            name: r.s("name")?,
            description: r.opt_s("description")?.unwrap_or_default(),
            // Space-separated: a permission key never holds a space, and a list of at most a
            // hundred stays one small attribute.
            permissions: r
                .s("permissions")?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            holders: r.opt_n("holders")?.unwrap_or(0),
            created_at: r.time("created_at")?,
            updated_at: r.time("updated_at")?,
        })
    }

    /// Adds `delta` to its holders, in a transaction that gives or takes it: giving it needs
    /// it to exist (a deletion meanwhile refuses the change).
    pub(super) fn count_holder(
        tx: &mut Tx<'_>,
        org: &OrgId,
        role: &RoleKey,
        delta: i64,
    ) -> StoreResult<()> {
        let update = Expr::new("ADD holders :delta").value(":delta", n(delta));
        tx.update(
            Self::key(org, role),
            update,
            Some(Condition::present(Refusal::RoleGone)),
        )
    }

    /// Moves the holders of several roles in one transaction: each role's deltas summed into
    /// one update (a transaction names an item once); a role whose deltas cancel is left alone.
    pub(super) fn count_holders<'k>(
        tx: &mut Tx<'_>,
        org: &OrgId,
        deltas: impl IntoIterator<Item = (&'k RoleKey, i64)>,
    ) -> StoreResult<()> {
        let mut summed: std::collections::BTreeMap<&RoleKey, i64> = Default::default();
        for (key, delta) in deltas {
            *summed.entry(key).or_default() += delta;
        }
        for (key, delta) in summed {
            if delta != 0 {
                Self::count_holder(tx, org, key, delta)?;
            }
        }
        Ok(())
    }
}

fn role_change(kind: ChangeKind, role: &CustomRole) -> Change {
    Change {
        kind,
        subject: Subject::Org(role.org_id.clone()),
        target_type: "role",
        target_id: role.key.to_string(),
        data: RoleFacts::of(role).into(),
    }
}

impl Store {
    /// The organization's custom roles, by key: at most the role limit, so one page.
    pub async fn list_roles(&self, org: &OrgId) -> StoreResult<Vec<CustomRole>> {
        let pk = keys::org_pk(org);
        let page = self
            .list(
                PartitionQuery {
                    index: None,
                    pk: (keys::PK, &pk),
                    sk_prefix: Some((keys::SK, keys::ROLE_PREFIX)),
                    descending: false,
                },
                None,
                1000,
                None,
                Decode {
                    item: CustomRole::from_item,
                    position: |r| r.key.clone(),
                    key_position: |key| RoleKey::parse(sk_after(key, keys::ROLE_PREFIX)?).ok(),
                },
                "list roles",
            )
            .await?;
        Ok(page.items)
    }

    /// One role, read consistently. Through BatchGetItem, which every route inside an
    /// organization may call already: the gate reads a holder's role with it.
    pub async fn get_role(&self, org: &OrgId, role: &RoleKey) -> StoreResult<Option<CustomRole>> {
        let found = self
            .batch_get(
                vec![CustomRole::key(org, role)],
                Read::Consistent,
                "read a role",
            )
            .await?;
        found.first().map(CustomRole::from_item).transpose()
    }

    /// Creates a role; the org item's `role_count` grows under the condition that it stays
    /// within `max`, so concurrent creations cannot pass the limit.
    pub async fn create_role(
        &self,
        org: &OrgId,
        key: &RoleKey,
        scope: RoleScope,
        spec: &RoleSpec,
        max: i64,
        op: &Op,
    ) -> StoreResult<CustomRole> {
        let role = CustomRole {
            org_id: org.clone(),
            key: key.clone(),
            scope,
            name: spec.name.clone(),
            description: spec.description.clone(),
            permissions: spec.permissions.clone(),
            holders: 0,
            created_at: op.at,
            updated_at: op.at,
        };
        let mut tx = Tx::new(self);
        tx.put(
            role.to_item(),
            Some(Condition::absent(Refusal::AlreadyExists)),
        )?;
        tx.update(
            Organization::key(org),
            Expr::new("ADD role_count :one").value(":one", n(1)),
            Some(Condition::new(
                Expr::new(
                    "#status = :active AND (attribute_not_exists(role_count) OR role_count < :max)",
                )
                .name("#status", "status")
                .value(":active", s("active"))
                .value(":max", n(max)),
                Refusal::Limit(LimitKind::Roles),
            )),
        )?;
        history::record(
            &mut tx,
            &role_change(ChangeKind::RoleCreated, &role),
            op,
            self.retention,
        )?;
        tx.made(&role);
        tx.commit("create a role").await?;
        Ok(role)
    }

    /// Sets a role's name, description and permissions, as read in `before` (a change
    /// meanwhile refuses it). Its holders are not rewritten: the gate reads the role.
    pub async fn update_role(
        &self,
        before: &CustomRole,
        spec: &RoleSpec,
        op: &Op,
    ) -> StoreResult<CustomRole> {
        let after = CustomRole {
            name: spec.name.clone(),
            description: spec.description.clone(),
            permissions: spec.permissions.clone(),
            updated_at: op.at,
            ..before.clone()
        };
        let update = Expr::new(
            "SET #name = :name, description = :description, #permissions = :permissions, \
             updated_at = :at",
        )
        .name("#name", "name")
        .name("#permissions", "permissions")
        .value(":name", s(after.name.as_str()))
        .value(":description", s(after.description.as_str()))
        .value(":permissions", s(after.permissions.join(" ")))
        .value(":at", s(op.at.to_rfc3339()));
        let unchanged = Condition::new(
            Expr::new("updated_at = :seen").value(":seen", s(before.updated_at.to_rfc3339())),
            Refusal::Changed,
        );
        let mut tx = Tx::new(self);
        tx.update(
            CustomRole::key(&before.org_id, &before.key),
            update,
            Some(unchanged),
        )?;
        history::record(
            &mut tx,
            &role_change(ChangeKind::RoleUpdated, &after),
            op,
            self.retention,
        )?;
        tx.made(&after);
        tx.commit("change a role").await?;
        Ok(after)
    }

    /// Deletes a role that nobody holds: `Refusal::RoleHeld` with their count if anyone does.
    pub async fn delete_role(&self, role: &CustomRole, op: &Op) -> StoreResult<()> {
        let unheld = Condition::new(
            Expr::new(
                "attribute_exists(pk) AND (attribute_not_exists(holders) OR holders = :zero)",
            )
            .value(":zero", n(0)),
            Refusal::RoleHeld(role.holders),
        );
        let mut tx = Tx::new(self);
        tx.delete(CustomRole::key(&role.org_id, &role.key), Some(unheld))?;
        tx.update(
            Organization::key(&role.org_id),
            Expr::new("ADD role_count :minus").value(":minus", n(-1)),
            None,
        )?;
        history::record(
            &mut tx,
            &role_change(ChangeKind::RoleDeleted, role),
            op,
            self.retention,
        )?;
        match tx.commit("delete a role").await {
            // Held after all, or gone: read again to tell which.
            Err(StoreError::Refused(Refusal::RoleHeld(_))) => {
                match self.get_role(&role.org_id, &role.key).await? {
                    None => Err(StoreError::Refused(Refusal::Gone)),
                    Some(now) => Err(StoreError::Refused(Refusal::RoleHeld(now.holders))),
                }
            }
            done => done,
        }
    }
}
