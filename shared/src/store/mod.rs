//! The store: the only code that knows the DynamoDB key layout (see `docs/data-model.md`).
//! Every change is one transaction that also writes its audit entry and event record.

mod audit;
mod backoff;
mod deletion;
mod domain_checks;
mod domains;
pub mod error;
mod expr;
#[cfg(feature = "fixtures")]
mod fixtures;
mod handles;
mod history;
mod idempotency;
mod invitations;
mod item;
mod join_requests;
mod joining;
mod keys;
mod known_addresses;
mod members;
mod metadata;
mod org_read;
mod orgs;
mod owned_orgs;
mod query;
mod roles;
mod sso;
#[cfg(feature = "fixtures")]
mod stored;
mod tallies;
mod teams;
mod token_orgs;
mod tx;
mod users;

use aws_sdk_dynamodb::types::KeysAndAttributes;

use crate::budget::WithinBudget;

/// BatchGetItem's most keys a request.
const KEYS_PER_BATCH: usize = 100;

/// How a batch read sees recent writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// Every write acknowledged before the read: what decisions are made on.
    Consistent,
    /// Possibly a moment behind, at half the cost: for listings only.
    Eventual,
}

// The entities the store keeps live in the domain; named here too, beside their reads.
pub use crate::domain::{
    ActingAs, AuditEntry, Domain, DomainStatus, Invitation, JoinRequest, MAX_TEAMS_PER_MEMBER,
    Membership, Op, Organization, Team, TeamMember, User, VersionedMetadata,
};
pub use audit::{AuditFilter, AuditPosition};
pub use domain_checks::{CheckCursor, DomainCheck, DueChecks};
pub use error::{LimitKind, Refusal, StoreError, StoreResult};
#[cfg(feature = "fixtures")]
pub use fixtures::{INVITATION_TOKEN_PARTITIONS, SeedMember};
pub use history::{Retention, event_from_item};
pub use idempotency::Claim;
pub use invitations::{
    DueCursor, DuePage, Expiry, Joiner, NewInvitation, Recorded, TokenMatch, expiry_shards,
};
pub use item::Item;
pub use keys::Partition;
pub use metadata::Rereads;
pub use org_read::{ItemKey, OrgRead, ReadItems, UncountedRead};
pub use orgs::FIRST_TEAM_NAME;
pub use query::{MAX_QUERIES_PER_PAGE, Page};
pub use sso::ClientProviders;
#[cfg(feature = "fixtures")]
pub use stored::{Of, PARTITION_PREFIXES, Stored};
pub use token_orgs::LiveMembership;
pub use users::{Identity, UserPatch};

#[derive(Clone, Debug)]
pub struct Store {
    client: aws_sdk_dynamodb::Client,
    table: String,
    retention: Retention,
}

impl Store {
    /// Every call through `client` is bounded by the budget of the request it serves
    /// (`crate::budget::WithinBudget`).
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        retention: Retention,
    ) -> Self {
        let config = client.config().to_builder().interceptor(WithinBudget);
        Self {
            client: aws_sdk_dynamodb::Client::from_conf(config.build()),
            table: table.into(),
            retention,
        }
    }

    /// A store with its own DynamoDB client, for a function that needs no other client.
    pub fn from_sdk(
        sdk: &aws_config::SdkConfig,
        table: impl Into<String>,
        retention: Retention,
    ) -> Self {
        Self::new(aws_sdk_dynamodb::Client::new(sdk), table, retention)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The item under `key`, read consistently, if there is one.
    pub(crate) async fn get_item(
        &self,
        key: Item,
        context: &'static str,
    ) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk(context, e))?;
        Ok(out.item)
    }

    /// Reads `keys` of this table (each at most once: BatchGetItem refuses a key named twice),
    /// 100 a request, retrying what DynamoDB leaves unprocessed; missing items are left out.
    pub(crate) async fn batch_get(
        &self,
        keys: Vec<Item>,
        read: Read,
        context: &'static str,
    ) -> StoreResult<Vec<Item>> {
        let mut items = Vec::new();
        for chunk in keys.chunks(KEYS_PER_BATCH) {
            let keys = KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(read == Read::Consistent)
                .build()
                .map_err(|e| StoreError::Dynamo {
                    context: "build a read",
                    source: Box::new(e),
                })?;
            items.extend(self.batch_get_chunk(keys, context).await?);
        }
        Ok(items)
    }

    async fn batch_get_chunk(
        &self,
        keys: KeysAndAttributes,
        context: &'static str,
    ) -> StoreResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut pending = Some(keys);
        for attempt in 0u32.. {
            let Some(keys) = pending.take() else { break };
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, keys)
                .send()
                .await
                .map_err(|e| StoreError::from_sdk(context, e))?;
            if let Some(found) = out.responses().and_then(|r| r.get(&self.table)) {
                items.extend(found.iter().cloned());
            }
            pending = out
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .filter(|k| !k.keys().is_empty())
                .cloned();
            if pending.is_some() {
                if attempt >= 8 {
                    return Err(StoreError::Incomplete {
                        context,
                        unprocessed: 1,
                    });
                }
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
        }
        Ok(items)
    }
}
