//! The conflict proxy (`orgs_local::conflicts`) itself, through the AWS SDK against moto: a
//! transaction holds its items while it is applied; another transaction touching one of them is
//! cancelled with `TransactionConflict` in that item's place, and a plain or batch write to one
//! is refused with `TransactionConflictException`; nothing refused reaches the table. Each test
//! holds the first transaction with a window far longer than it needs, looks, then releases it.

use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, TransactWriteItem, Update, WriteRequest,
};
use orgs_local::conflicts::{ConflictCounts, ConflictProxy};
use orgs_local::{aws, provision};

use crate::common::{Options, Stack, endpoint};

/// Long enough that nothing in a test outlives it: the tests end holds with `release_all`.
const HOLD: Duration = Duration::from_secs(120);

struct Table {
    name: String,
    /// Through the proxy.
    client: aws_sdk_dynamodb::Client,
    /// Straight to moto, to look at what was stored.
    direct: aws_sdk_dynamodb::Client,
    proxy: ConflictProxy,
}

async fn table() -> Table {
    let sdk = aws::sdk_config(&endpoint()).await;
    let name = format!("conflicts-{}", uuid::Uuid::new_v4().simple());
    provision::ensure_table(&sdk, &name)
        .await
        .expect("create table");
    let proxy = ConflictProxy::start(&endpoint(), HOLD)
        .await
        .expect("conflict proxy");
    let through = aws::sdk_config(proxy.endpoint()).await;
    Table {
        name,
        client: aws_sdk_dynamodb::Client::new(&through),
        direct: aws_sdk_dynamodb::Client::new(&sdk),
        proxy,
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn key(sk: &str) -> std::collections::HashMap<String, AttributeValue> {
    [("pk".to_owned(), s("P")), ("sk".to_owned(), s(sk))].into()
}

impl Table {
    fn put(&self, sk: &str, value: &str) -> TransactWriteItem {
        let mut item = key(sk);
        item.insert("v".into(), s(value));
        let put = Put::builder()
            .table_name(&self.name)
            .set_item(Some(item))
            .build()
            .expect("put");
        TransactWriteItem::builder().put(put).build()
    }

    fn update(&self, sk: &str, value: &str) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&self.name)
            .set_key(Some(key(sk)))
            .update_expression("SET v = :v")
            .expression_attribute_values(":v", s(value))
            .build()
            .expect("update");
        TransactWriteItem::builder().update(update).build()
    }

    fn check_absent(&self, sk: &str) -> TransactWriteItem {
        let check = ConditionCheck::builder()
            .table_name(&self.name)
            .set_key(Some(key(sk)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("check");
        TransactWriteItem::builder().condition_check(check).build()
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TransactWriteItemsError> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.into_service_error())
    }

    /// The stored `v` of an item, read from moto itself.
    async fn value(&self, sk: &str) -> Option<String> {
        let out = self
            .direct
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key(sk)))
            .consistent_read(true)
            .send()
            .await
            .expect("get item");
        out.item()
            .and_then(|i| i.get("v"))
            .and_then(|v| v.as_s().ok())
            .cloned()
    }

    /// Starts a transaction putting `x` and `y` with the value `first`, and returns once the
    /// proxy holds its items.
    async fn hold_x_and_y(&self) -> tokio::task::JoinHandle<Result<(), TransactWriteItemsError>> {
        let client = self.client.clone();
        let items = vec![self.put("x", "first"), self.put("y", "first")];
        let holder = tokio::spawn(async move {
            client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.into_service_error())
        });
        self.proxy.until_holding(1).await;
        holder
    }
}

/// The codes of a cancellation's reasons, in order, and its message.
fn reasons(err: &TransactWriteItemsError) -> (Vec<String>, String) {
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = err else {
        panic!("not a cancellation: {err:?}");
    };
    let codes = cancelled
        .cancellation_reasons()
        .iter()
        .map(|r| r.code().unwrap_or_default().to_owned())
        .collect();
    (codes, cancelled.message().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_transaction_touching_a_held_item_is_cancelled_with_the_conflict_in_its_place() {
    let t = table().await;
    let holder = t.hold_x_and_y().await;

    let err = t
        .transact(vec![
            t.put("z", "second"),
            t.update("y", "second"),
            t.check_absent("w"),
        ])
        .await
        .expect_err("cancelled");
    let (codes, message) = reasons(&err);
    assert_eq!(codes, ["None", "TransactionConflict", "None"]);
    assert_eq!(
        message,
        "Transaction cancelled, please refer cancellation reasons for specific reasons \
         [None, TransactionConflict, None]"
    );
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = &err else {
        unreachable!()
    };
    assert_eq!(
        cancelled.cancellation_reasons()[1].message(),
        Some("Transaction is ongoing for the item")
    );
    assert_eq!(cancelled.cancellation_reasons()[0].message(), None);

    t.proxy.release_all();
    holder
        .await
        .expect("task")
        .expect("the first transaction commits");
    // The cancelled transaction wrote nothing; the holder wrote everything.
    assert_eq!(t.value("z").await, None);
    assert_eq!(t.value("y").await.as_deref(), Some("first"));
    assert_eq!(t.value("x").await.as_deref(), Some("first"));
    assert_eq!(
        t.proxy.counts(),
        ConflictCounts {
            transactions: 1,
            cancelled: 1,
            refused_writes: 0,
            in_progress: 0,
        }
    );

    // Once the items are free again, the same transaction commits.
    t.proxy.set_window(Duration::ZERO);
    t.transact(vec![t.put("z", "second"), t.update("y", "second")])
        .await
        .expect("commits after the hold");
    assert_eq!(t.value("y").await.as_deref(), Some("second"));
}

#[tokio::test]
async fn a_repeat_of_a_transaction_is_told_it_is_in_progress_and_then_answered_without_reapplying_it()
 {
    let t = table().await;
    // moto remembers tokens across tables, as DynamoDB does across an account's.
    let token = uuid::Uuid::new_v4().to_string();
    let send = |items: Vec<TransactWriteItem>| {
        let client = t.client.clone();
        let token = token.clone();
        async move {
            client
                .transact_write_items()
                .set_transact_items(Some(items))
                .client_request_token(token)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.into_service_error())
        }
    };
    let first = tokio::spawn(send(vec![t.put("x", "first")]));
    t.proxy.until_holding(1).await;

    // The SDK's retry of a call that timed out, while the first is still being applied.
    let err = send(vec![t.put("x", "first")])
        .await
        .expect_err("in progress");
    assert_eq!(
        err.code(),
        Some("TransactionInProgressException"),
        "{err:?}"
    );
    // The SDK tries again itself before it gives up (its retries count here too).
    assert!(t.proxy.counts().in_progress >= 1, "{:?}", t.proxy.counts());

    t.proxy.release_all();
    first.await.expect("task").expect("the first commits");
    assert_eq!(t.value("x").await.as_deref(), Some("first"));
    // Someone else changes the item; a late repeat must not put the first value back.
    t.direct
        .put_item()
        .table_name(&t.name)
        .set_item(Some({
            let mut item = key("x");
            item.insert("v".into(), s("later"));
            item
        }))
        .send()
        .await
        .expect("put");
    t.proxy.set_window(Duration::ZERO);
    send(vec![t.put("x", "first")])
        .await
        .expect("answered as the first was");
    assert_eq!(t.value("x").await.as_deref(), Some("later"));

    // The same token for another transaction is a mistake DynamoDB refuses.
    let err = send(vec![t.put("x", "other")]).await.expect_err("mismatch");
    assert_eq!(
        err.code(),
        Some("IdempotentParameterMismatchException"),
        "{err:?}"
    );
    assert_eq!(t.value("x").await.as_deref(), Some("later"));
}

#[tokio::test]
async fn a_transaction_on_other_items_commits_beside_a_held_one() {
    let t = table().await;
    let holder = t.hold_x_and_y().await;
    let client = t.client.clone();
    let items = vec![t.put("a", "other"), t.put("b", "other")];
    let beside = tokio::spawn(async move {
        client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
    });
    // Both hold their items at once: neither conflicts with the other.
    t.proxy.until_holding(2).await;
    t.proxy.release_all();
    holder.await.expect("task").expect("the first commits");
    beside.await.expect("task").expect("the second commits");
    assert_eq!(t.value("a").await.as_deref(), Some("other"));
    assert_eq!(t.proxy.counts().cancelled, 0);
}

#[tokio::test]
async fn single_item_writes_to_a_held_item_get_transaction_conflict_exception() {
    let t = table().await;
    let holder = t.hold_x_and_y().await;

    let put = t
        .client
        .put_item()
        .table_name(&t.name)
        .set_item(Some(key("x")))
        .item("v", s("put"))
        .send()
        .await
        .expect_err("refused")
        .into_service_error();
    assert!(put.is_transaction_conflict_exception(), "{put:?}");
    assert_eq!(put.message(), Some("Transaction is ongoing for the item"));

    let update = t
        .client
        .update_item()
        .table_name(&t.name)
        .set_key(Some(key("y")))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", s("update"))
        .send()
        .await
        .expect_err("refused")
        .into_service_error();
    assert!(update.is_transaction_conflict_exception(), "{update:?}");

    let delete = t
        .client
        .delete_item()
        .table_name(&t.name)
        .set_key(Some(key("x")))
        .send()
        .await
        .expect_err("refused")
        .into_service_error();
    assert!(delete.is_transaction_conflict_exception(), "{delete:?}");

    // A write to an item nobody holds goes through meanwhile.
    t.client
        .put_item()
        .table_name(&t.name)
        .set_item(Some(key("free")))
        .item("v", s("free"))
        .send()
        .await
        .expect("a free item is written");

    t.proxy.release_all();
    holder.await.expect("task").expect("the holder commits");
    assert_eq!(t.value("x").await.as_deref(), Some("first"));
    assert_eq!(t.value("y").await.as_deref(), Some("first"));
    assert_eq!(t.value("free").await.as_deref(), Some("free"));
    assert_eq!(t.proxy.counts().refused_writes, 3);
}

#[tokio::test]
async fn a_batch_write_with_an_entry_on_a_held_item_is_refused_whole() {
    let t = table().await;
    let holder = t.hold_x_and_y().await;
    let write = |sk: &str| {
        let mut item = key(sk);
        item.insert("v".into(), s("batch"));
        let put = aws_sdk_dynamodb::types::PutRequest::builder()
            .set_item(Some(item))
            .build()
            .expect("put request");
        WriteRequest::builder().put_request(put).build()
    };
    let delete = aws_sdk_dynamodb::types::DeleteRequest::builder()
        .set_key(Some(key("y")))
        .build()
        .expect("delete request");
    let err = t
        .client
        .batch_write_item()
        .request_items(
            &t.name,
            vec![
                write("c"),
                WriteRequest::builder().delete_request(delete).build(),
            ],
        )
        .send()
        .await
        .expect_err("refused")
        .into_service_error();
    // The SDK's model lists no such error for BatchWriteItem: it comes as an unmodelled one.
    assert_eq!(err.code(), Some("TransactionConflictException"), "{err:?}");

    t.proxy.release_all();
    holder.await.expect("task").expect("the holder commits");
    assert_eq!(t.value("c").await, None, "nothing of the batch is written");
    assert_eq!(t.value("y").await.as_deref(), Some("first"));

    // Once free, the same batch goes through.
    t.proxy.until_idle().await;
    t.client
        .batch_write_item()
        .request_items(&t.name, vec![write("c"), write("y")])
        .send()
        .await
        .expect("a batch on free items");
    assert_eq!(t.value("c").await.as_deref(), Some("batch"));
}

#[tokio::test]
async fn a_transaction_holds_its_items_only_while_it_is_applied() {
    let t = table().await;
    t.proxy.set_window(Duration::ZERO);
    t.transact(vec![t.put("x", "one")]).await.expect("commits");
    // With no window, the hold ended with the answer: a second transaction, and a plain write,
    // on the same item pass.
    t.transact(vec![t.update("x", "two")])
        .await
        .expect("the item is free again");
    t.client
        .put_item()
        .table_name(&t.name)
        .set_item(Some(key("x")))
        .item("v", s("three"))
        .send()
        .await
        .expect("a plain write");
    assert_eq!(t.value("x").await.as_deref(), Some("three"));
    assert_eq!(t.proxy.counts().cancelled, 0);
}

#[tokio::test]
async fn a_stack_with_a_conflict_window_sends_the_apps_writes_through_the_proxy() {
    let stack = Stack::start_with(Options {
        conflict_window: Some(Duration::from_millis(5)),
        ..Options::default()
    })
    .await;
    let owner = stack.person("owner");
    stack.create_org(&owner, "through-the-proxy").await;
    assert_eq!(stack.conflicts().counts().transactions, 1);
}
