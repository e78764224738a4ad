//! The record of an `Idempotency-Key`, in the partition of the person who sent it
//! (`IDEM#{user}`, `KEY#{key}`): the first request's fingerprint, its stage, its lease while it
//! runs, and its answer once there is one. DynamoDB's TTL (`expire_at`) sheds it after 24 h.
//! The claim is a conditional put; the record of a write goes into the write's own transaction
//! (`record`, called by `Tx`), so that a repeat can never apply the write again.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use super::Store;
use super::error::{Refusal, StoreError, StoreResult};
use super::expr::{Condition, Expr};
use super::item::{Item, ItemBuilder, Reader, n, s};
use super::keys::{self, EXPIRE_AT};
use crate::domain::idempotency::{KeyRecord, Stage};
use crate::idempotency::{Held, StoredAnswer};

const RUNNING: &str = "running";
const COMMITTED: &str = "committed";
const COMPLETED: &str = "completed";

/// What claiming a key found.
#[derive(Debug)]
pub enum Claim {
    /// The lease is ours: run.
    Held,
    /// The key's record as it stands, with its answer if it has one.
    Found(KeyRecord, Option<StoredAnswer>),
}

fn record_item(held: &Held, stage: &str) -> ItemBuilder {
    ItemBuilder::key(
        keys::idempotency_pk(&held.user),
        keys::idempotency_sk(held.key.as_str()),
    )
    .s("stage", stage)
    .s("fingerprint", &held.fingerprint)
    .s("lease_id", &held.lease_id)
    .n(EXPIRE_AT, held.expire_at)
}

fn with_answer(item: ItemBuilder, answer: Option<&StoredAnswer>) -> ItemBuilder {
    match answer {
        Some(a) => item
            .n("status", a.status)
            .opt_s("content_type", a.content_type.clone())
            .opt_s("location", a.location.clone())
            .s("body", &a.body),
        None => item,
    }
}

/// Only while the lease is ours.
fn ours(held: &Held) -> Expr {
    Expr::new("lease_id = :lease").value(":lease", s(&held.lease_id))
}

fn parse(item: &Item) -> StoreResult<(KeyRecord, Option<StoredAnswer>)> {
    let r = Reader(item);
    let answer = match r.opt_n("status")? {
        Some(status) => Some(StoredAnswer {
            status: u16::try_from(status)
                .map_err(|_| StoreError::Corrupt(format!("status {status}")))?,
            content_type: r.opt_s("content_type")?,
            location: r.opt_s("location")?,
            body: r.opt_s("body")?.unwrap_or_default(),
        }),
        None => None,
    };
    let stage = match r.s("stage")?.as_str() {
        RUNNING => Stage::Running {
            lease_until_ms: r.n("lease_until")?,
        },
        COMMITTED => Stage::Committed {
            answered: answer.is_some(),
        },
        COMPLETED => Stage::Completed,
        other => return Err(StoreError::Corrupt(format!("stage {other}"))),
    };
    let record = KeyRecord {
        fingerprint: r.s("fingerprint")?,
        stage,
        expire_at: r.n(EXPIRE_AT)?,
    };
    Ok((record, answer))
}

/// The key's record for the transaction of its write (`Tx` puts it): committed, with the answer
/// when the handler gave it beforehand, on the condition that the lease is still ours.
pub(super) fn record(held: &Held, answer: Option<&StoredAnswer>) -> (Item, Condition) {
    let item = with_answer(record_item(held, COMMITTED), answer).build();
    (item, Condition::new(ours(held), Refusal::Changed))
}

impl Store {
    /// Takes the key's lease until `lease_until_ms` unless its record counts: a request still
    /// running, or one that committed or answered, within 24 h. Otherwise the record found.
    pub async fn claim_key(
        &self,
        held: &Held,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> StoreResult<Claim> {
        let item = record_item(held, RUNNING)
            .n("lease_until", lease_until_ms)
            .build();
        let free = "attribute_not_exists(pk) OR #expire < :now_s OR (stage = :running AND lease_until <= :now_ms)";
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(free)
            .expression_attribute_names("#expire", EXPIRE_AT)
            .expression_attribute_values(":now_s", n(now_ms / 1000))
            .expression_attribute_values(":now_ms", n(now_ms))
            .expression_attribute_values(":running", s(RUNNING))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Held),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let found = failed.item().ok_or_else(|| {
                        StoreError::Corrupt("a refused claim without the record".to_owned())
                    })?;
                    let (record, answer) = parse(found)?;
                    Ok(Claim::Found(record, answer))
                }
                _ => Err(StoreError::from_sdk("claim an idempotency key", err)),
            },
        }
    }

    /// Keeps the answer for repeats, while the lease is ours.
    pub async fn keep_answer(&self, held: &Held, answer: &StoredAnswer) -> StoreResult<()> {
        let item = with_answer(record_item(held, COMPLETED), Some(answer)).build();
        self.put_if_ours(held, item, "keep an idempotent answer")
            .await
    }

    /// Frees the key for a repeat, the request having written nothing: its record lapses now.
    pub async fn release_key(&self, held: &Held) -> StoreResult<()> {
        let lapsed = Held {
            expire_at: 0,
            ..held.clone()
        };
        let item = record_item(&lapsed, RUNNING).n("lease_until", 0).build();
        self.put_if_ours(held, item, "release an idempotency key")
            .await
    }

    async fn put_if_ours(&self, held: &Held, item: Item, context: &'static str) -> StoreResult<()> {
        let (text, _, values) = ours(held).into_parts();
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(text)
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk(context, e))?;
        Ok(())
    }
}
