//! One atomic write: the change, its conditions, and the refusal each condition stands for.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use uuid::Uuid;

use super::Store;
use super::backoff::Backoff;
use super::error::{Refusal, StoreError, StoreResult};
use super::item::Item;
use crate::idempotency::{self, StoredAnswer};

// The expressions live in `expr.rs`; named here too, where most of the store takes them.
use super::expr::placeholders;
pub use super::expr::{Condition, Expr};

fn build_err(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Dynamo {
        context: "build a transaction",
        source: Box::new(err),
    }
}

pub struct Tx<'a> {
    store: &'a Store,
    items: Vec<TransactWriteItem>,
    /// For each item, the refusal its condition stands for (`Changed` where it has none).
    refusals: Vec<Refusal>,
    /// Updates that may land on any of several items (`update_any`): their positions and the
    /// keys they may take instead.
    movable: Vec<(usize, Vec<Item>)>,
    /// The caller's membership (and team row) and the condition each must still meet
    /// (`hold_actor`).
    actor: Vec<(Item, Condition)>,
    /// The handler's answer to what this transaction makes (`made`), for an idempotency key's
    /// record.
    answer: Option<StoredAnswer>,
}

impl<'a> Tx<'a> {
    pub fn new(store: &'a Store) -> Self {
        Self {
            store,
            items: Vec::new(),
            refusals: Vec::new(),
            movable: Vec::new(),
            actor: Vec::new(),
            answer: None,
        }
    }

    /// Hands what this transaction makes to the handler's answer (`idempotency::answer_at_commit`),
    /// so that a request with an `Idempotency-Key` stores its answer with the write.
    pub fn made<T: std::any::Any>(&mut self, made: &T) {
        self.answer = idempotency::rendered(made);
    }

    /// At commit, the transaction also checks the caller's membership `key` against
    /// `condition` (their authorization still stands), unless the transaction writes or checks
    /// that item already, with a condition of its own (DynamoDB takes one operation per item),
    /// or is full.
    pub fn hold_actor(&mut self, key: Item, condition: Condition) {
        self.actor.push((key, condition));
    }

    /// The key of each item the transaction touches.
    fn touches(&self, key: &Item) -> bool {
        let same = |other: Option<&HashMap<String, AttributeValue>>| {
            other.is_some_and(|other| {
                key.iter()
                    .all(|(name, value)| other.get(name) == Some(value))
            })
        };
        self.items.iter().any(|item| {
            same(item.put().map(|p| p.item()))
                || same(item.update().map(|u| u.key()))
                || same(item.delete().map(|d| d.key()))
                || same(item.condition_check().map(|c| c.key()))
        })
    }

    pub fn put(&mut self, item: Item, mut condition: Option<Condition>) -> StoreResult<()> {
        let (names, values) = placeholders(None, condition.as_mut());
        let put = Put::builder()
            .table_name(&self.store.table)
            .set_item(Some(item))
            .set_condition_expression(condition.as_ref().map(|c| c.expr.text.clone()))
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(build_err)?;
        self.push(TransactWriteItem::builder().put(put).build(), condition);
        Ok(())
    }

    pub fn update(
        &mut self,
        key: Item,
        update: Expr,
        mut condition: Option<Condition>,
    ) -> StoreResult<()> {
        let text = update.text.clone();
        let (names, values) = placeholders(Some(update), condition.as_mut());
        let update = Update::builder()
            .table_name(&self.store.table)
            .set_key(Some(key))
            .update_expression(text)
            .set_condition_expression(condition.as_ref().map(|c| c.expr.text.clone()))
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(build_err)?;
        self.push(
            TransactWriteItem::builder().update(update).build(),
            condition,
        );
        Ok(())
    }

    /// An update that may land on any one of `keys` (at least one; the first is tried first),
    /// such as a count spread over shards: should another transaction in flight hold it, the
    /// retry moves it to the next of them, round the list, instead of waiting for that one.
    pub fn update_any(
        &mut self,
        mut keys: Vec<Item>,
        update: Expr,
        condition: Option<Condition>,
    ) -> StoreResult<()> {
        let first = keys.remove(0);
        let position = self.items.len();
        self.update(first, update, condition)?;
        if !keys.is_empty() {
            self.movable.push((position, keys));
        }
        Ok(())
    }

    /// After a conflict: moves each movable update that conflicted to the next of its keys.
    fn move_conflicted(&mut self, conflicted: &[usize]) {
        for (position, others) in &mut self.movable {
            let Some(update) = self.items[*position].update.as_mut() else {
                continue;
            };
            if conflicted.contains(position) {
                let next = others.remove(0);
                others.push(std::mem::replace(&mut update.key, next));
            }
        }
    }

    pub fn delete(&mut self, key: Item, mut condition: Option<Condition>) -> StoreResult<()> {
        let (names, values) = placeholders(None, condition.as_mut());
        let delete = Delete::builder()
            .table_name(&self.store.table)
            .set_key(Some(key))
            .set_condition_expression(condition.as_ref().map(|c| c.expr.text.clone()))
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(build_err)?;
        self.push(
            TransactWriteItem::builder().delete(delete).build(),
            condition,
        );
        Ok(())
    }

    pub fn check(&mut self, key: Item, mut condition: Condition) -> StoreResult<()> {
        let (names, values) = placeholders(None, Some(&mut condition));
        let check = ConditionCheck::builder()
            .table_name(&self.store.table)
            .set_key(Some(key))
            .condition_expression(condition.expr.text.clone())
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(build_err)?;
        self.push(
            TransactWriteItem::builder().condition_check(check).build(),
            Some(condition),
        );
        Ok(())
    }

    fn push(&mut self, item: TransactWriteItem, condition: Option<Condition>) {
        self.items.push(item);
        self.refusals
            .push(condition.map_or(Refusal::Changed, |c| c.refusal));
    }

    /// Commits all or nothing. A failed condition comes back as the refusal it stands for.
    /// A conflict with another transaction in flight (nothing was written) is retried with
    /// jittered exponential backoff within the request's time budget (`Backoff::for_request`),
    /// and then reported as `Contended` (503, not 409: repeating the request may well pass); a
    /// cancellation for throttling is retried likewise a few times before it is reported as
    /// `Unavailable`. A try whose answer was lost is repeated with its `ClientRequestToken`, so
    /// that it is applied once however often it is sent.
    pub async fn commit(self, context: &'static str) -> StoreResult<()> {
        match self.commit_or_refusals(context).await? {
            Ok(()) => Ok(()),
            Err(refused) => Err(StoreError::Refused(refused[0].1)),
        }
    }

    /// Items added so far: the position the next one will take.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// As `commit`, but a transaction cancelled by its conditions comes back as the position
    /// and refusal of every item whose condition failed, in order (at least one), so that a
    /// caller writing several independent things at once can tell which were refused.
    pub async fn commit_or_refusals(
        mut self,
        context: &'static str,
    ) -> StoreResult<Result<(), Vec<(usize, Refusal)>>> {
        /// DynamoDB's most items in one transaction.
        const MOST_ITEMS: usize = 100;
        // An idempotency key's record goes with the request's first write, before the actor's
        // check: the store's batches leave it room. A transaction full already (none is) would
        // leave it to the next one, or to the answer kept after.
        let recording = match idempotency::to_record() {
            Some((held, deletes)) if self.items.len() < MOST_ITEMS => {
                let answer = self.answer.take().or_else(|| deletes.then(no_content));
                let (record, condition) = super::idempotency::record(&held, answer.as_ref());
                self.put(record, Some(condition))?;
                Some(answer.is_some())
            }
            _ => None,
        };
        for (key, condition) in std::mem::take(&mut self.actor) {
            if !self.touches(&key) && self.items.len() < MOST_ITEMS {
                self.check(key, condition)?;
            }
        }
        const THROTTLED_ATTEMPTS: u32 = 4;
        let mut throttled_attempts = 0;
        let mut conflicts = Backoff::for_request();
        // One token per try that DynamoDB may have applied: the SDK's own retries (after a
        // timeout or a lost answer) and ours after `TransactionInProgressException` repeat it,
        // so that DynamoDB applies the transaction once and answers the repeat as the first.
        // A cancelled try wrote nothing; the next one gets a new token.
        let mut token = Uuid::new_v4().to_string();
        let err = loop {
            idempotency::note_in_flight(true);
            let result = self
                .store
                .client
                .transact_write_items()
                .set_transact_items(Some(self.items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            let Err(err) = result else {
                idempotency::note_in_flight(false);
                if let Some(answered) = recording {
                    idempotency::note_recorded(answered);
                }
                return Ok(Ok(()));
            };
            // Refused outright, nothing was written; a fault or no answer leaves it unknown.
            if let SdkError::ServiceError(e) = &err
                && e.raw().status().is_client_error()
                && !in_progress(&err)
            {
                idempotency::note_in_flight(false);
            }
            if in_progress(&err) {
                if !conflicts.wait().await {
                    return Err(StoreError::Unavailable {
                        context,
                        source: Box::new(err),
                    });
                }
                continue;
            }
            token = Uuid::new_v4().to_string();
            let refused = self.refused(&err);
            if !refused.is_empty() {
                return Ok(Err(refused));
            }
            let held = conflicted(&err);
            match self.refusal(&err) {
                Some(Refusal::Changed) if !held.is_empty() => {
                    self.move_conflicted(&held);
                    if !conflicts.wait().await {
                        return Err(StoreError::Contended {
                            context,
                            source: Box::new(err),
                        });
                    }
                }
                Some(refusal) => return Err(StoreError::Refused(refusal)),
                None if throttled(&err) => {
                    throttled_attempts += 1;
                    if throttled_attempts >= THROTTLED_ATTEMPTS {
                        // Nothing was written, and it may well pass later: 503, not 500.
                        return Err(StoreError::Unavailable {
                            context,
                            source: Box::new(err),
                        });
                    }
                    let ceiling = 100u64 << throttled_attempts;
                    let jittered = ceiling / 2 + fastrand::u64(0..=ceiling / 2);
                    tokio::time::sleep(std::time::Duration::from_millis(jittered)).await;
                }
                None => break err,
            }
        };
        Err(StoreError::from_sdk(context, err))
    }

    /// The items whose conditions cancelled the transaction, with the refusal each stands for.
    fn refused<R>(&self, err: &SdkError<TransactWriteItemsError, R>) -> Vec<(usize, Refusal)> {
        cancelled_by(err, "ConditionalCheckFailed")
            .into_iter()
            .filter_map(|position| Some((position, *self.refusals.get(position)?)))
            .collect()
    }

    /// The refusal a cancelled transaction stands for, if it was cancelled by a condition or a
    /// conflict rather than failing outright.
    fn refusal<R>(&self, err: &SdkError<TransactWriteItemsError, R>) -> Option<Refusal> {
        let TransactWriteItemsError::TransactionCanceledException(cancelled) =
            err.as_service_error()?
        else {
            return None;
        };
        cancelled
            .cancellation_reasons()
            .iter()
            .zip(&self.refusals)
            .find_map(|(reason, refusal)| match reason.code() {
                Some("ConditionalCheckFailed") => Some(*refusal),
                Some("TransactionConflict") => Some(Refusal::Changed),
                _ => None,
            })
    }
}

/// A `DELETE`'s answer, whatever it deleted.
fn no_content() -> StoredAnswer {
    StoredAnswer {
        status: 204,
        content_type: None,
        location: None,
        body: String::new(),
    }
}

/// Whether a cancellation came from throttling: DynamoDB reports a transaction's throttled item
/// as a cancellation reason, not as a `ThrottlingException`, so the SDK does not retry it.
fn throttled<R>(err: &SdkError<TransactWriteItemsError, R>) -> bool {
    matches!(
        err.as_service_error(),
        Some(TransactWriteItemsError::TransactionCanceledException(c))
            if c.cancellation_reasons().iter().any(|r| matches!(
                r.code(),
                Some("ThrottlingError" | "ProvisionedThroughputExceeded")
            ))
    )
}

/// Whether an earlier try of this transaction, with the same token, is still being applied: its
/// outcome is not known yet, so the same token is tried again.
fn in_progress<R>(err: &SdkError<TransactWriteItemsError, R>) -> bool {
    matches!(
        err.as_service_error(),
        Some(TransactWriteItemsError::TransactionInProgressException(_))
    )
}

/// The positions of the items that another transaction in flight held: none unless the
/// cancellation came from a conflict.
fn conflicted<R>(err: &SdkError<TransactWriteItemsError, R>) -> Vec<usize> {
    cancelled_by(err, "TransactionConflict")
}

/// The positions of a cancelled transaction's items whose cancellation reason is `code`.
fn cancelled_by<R>(err: &SdkError<TransactWriteItemsError, R>, code: &str) -> Vec<usize> {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        err.as_service_error()
    else {
        return Vec::new();
    };
    cancelled
        .cancellation_reasons()
        .iter()
        .enumerate()
        .filter(|(_, r)| r.code() == Some(code))
        .map(|(position, _)| position)
        .collect()
}
