//! DynamoDB's transaction conflicts, for tests and benchmarks: a loopback HTTP proxy in front of
//! moto (or of the fault proxy's upstream) that forwards every request, but gives
//! `TransactWriteItems` the isolation DynamoDB has and a single-threaded moto lacks.
//!
//! - A transaction holds its items for `window` from the moment it arrives, as long as DynamoDB
//!   takes to apply one (tens of milliseconds), and is answered once moto has applied it and
//!   the window has passed.
//! - Another transaction that touches any held item in that time is cancelled, without reaching
//!   moto: `TransactionCanceledException` with `TransactionConflict` at the position of each
//!   held item and `None` elsewhere, byte for byte as DynamoDB answers.
//! - A `PutItem`, `UpdateItem` or `DeleteItem` on a held item, or a `BatchWriteItem` with an
//!   entry on one, is refused with `TransactionConflictException`, and none of it is written.
//!
//! - A transaction sent again with the `ClientRequestToken` of one still being applied (the
//!   SDK's retry after a timeout) gets `TransactionInProgressException`, as from DynamoDB; once
//!   the first is answered, a repeat goes to moto, which answers it as it answered the first
//!   (`idempotent_transactions` in `tests/moto_server.py`) at once, holding nothing. A transaction goes on once it
//!   arrives, whether or not its client waits for the answer.
//!
//! Reads pass untouched: DynamoDB serves the last committed state to a read during a
//! transaction. Items are named by the table's key, `pk` and `sk`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

use crate::faults::{Answer, DYNAMO, dynamo_error, forward};

/// The key attributes of the table (`infra/template.yaml`).
const KEY_ATTRIBUTES: [&str; 2] = ["pk", "sk"];

/// DynamoDB's message for a conflict, in a cancellation reason and in
/// `TransactionConflictException`.
const ONGOING: &str = "Transaction is ongoing for the item";

/// What the proxy refused so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConflictCounts {
    /// Transactions that got through to moto.
    pub transactions: u64,
    /// Transactions cancelled with `TransactionConflict`.
    pub cancelled: u64,
    /// Single-item and batch writes refused with `TransactionConflictException`.
    pub refused_writes: u64,
    /// Repeats refused with `TransactionInProgressException`.
    pub in_progress: u64,
}

/// One item: its table and its key, as canonical JSON.
type ItemId = (String, String);

#[derive(Default)]
struct State {
    /// Each held item, with the number of the transaction holding it.
    held: HashMap<ItemId, u64>,
    /// The `ClientRequestToken` of each transaction not answered yet.
    in_progress: HashSet<String>,
    /// The `ClientRequestToken` of each transaction answered: a repeat is answered at once, as
    /// DynamoDB answers it from what it remembers, without holding anything.
    answered: HashSet<String>,
    next_transaction: u64,
    counts: ConflictCounts,
}

/// The proxy. Dropping it closes its port and its connections.
pub struct ConflictProxy {
    endpoint: String,
    state: Arc<Mutex<State>>,
    window: Arc<Mutex<Duration>>,
    /// How many transactions hold items right now.
    holding: watch::Receiver<usize>,
    /// Bumped to end every hold at once, whatever its window.
    releases: Arc<watch::Sender<u64>>,
    task: JoinHandle<()>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Drop for ConflictProxy {
    fn drop(&mut self) {
        self.task.abort();
        let connections = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for connection in connections.iter() {
            connection.abort();
        }
    }
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<State>>,
    window: Arc<Mutex<Duration>>,
    holding: Arc<watch::Sender<usize>>,
    releases: watch::Receiver<u64>,
    upstream: String,
}

impl ConflictProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://host:port`); each
    /// transaction holds its items for `window`.
    pub async fn start(upstream: &str, window: Duration) -> std::io::Result<Self> {
        let upstream = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State::default()));
        let window = Arc::new(Mutex::new(window));
        let (holding_tx, holding) = watch::channel(0);
        let (releases, releases_rx) = watch::channel(0);
        let shared = Shared {
            state: state.clone(),
            window: window.clone(),
            holding: Arc::new(holding_tx),
            releases: releases_rx,
            upstream,
        };
        let connections = Arc::new(Mutex::new(Vec::new()));
        let open = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                let connection = tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, std::convert::Infallible>(handle(&shared, req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
                open.retain(|c: &AbortHandle| !c.is_finished());
                open.push(connection.abort_handle());
            }
        });
        Ok(Self {
            endpoint,
            state,
            window,
            holding,
            releases: Arc::new(releases),
            task,
            connections,
        })
    }

    /// The endpoint to give the SDK client under test.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// How long each transaction from now on holds its items.
    pub fn set_window(&self, window: Duration) {
        *self.window.lock().unwrap_or_else(PoisonError::into_inner) = window;
    }

    /// What the proxy let through and refused so far.
    pub fn counts(&self) -> ConflictCounts {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .counts
    }

    /// Waits until `n` transactions hold items at once.
    pub async fn until_holding(&self, n: usize) {
        let mut holding = self.holding.clone();
        // The sender lives as long as the proxy's task, which lives as long as `self`.
        let _ = holding.wait_for(|held| *held >= n).await;
    }

    /// Ends every hold now, once moto has applied its transaction: a test holds items with a
    /// long window, looks at what happens meanwhile, and then lets go.
    pub fn release_all(&self) {
        self.releases.send_modify(|generation| *generation += 1);
    }

    /// Waits until no transaction holds items.
    pub async fn until_idle(&self) {
        let mut holding = self.holding.clone();
        let _ = holding.wait_for(|held| *held == 0).await;
    }
}

/// The canonical name of an item from its key (or from a whole item, of which only the key
/// attributes count).
fn item_id(table: &str, item: &Value) -> ItemId {
    let key: serde_json::Map<String, Value> = KEY_ATTRIBUTES
        .iter()
        .filter_map(|name| item.get(*name).map(|v| ((*name).to_owned(), v.clone())))
        .collect();
    (table.to_owned(), Value::Object(key).to_string())
}

/// The item each entry of a `TransactWriteItems` request acts on, in order.
fn transaction_items(request: &Value) -> Vec<ItemId> {
    let entries = request["TransactItems"].as_array().cloned();
    entries
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            let action = entry.as_object()?.values().next()?;
            let table = action["TableName"].as_str().unwrap_or_default();
            let key = action.get("Key").or_else(|| action.get("Item"))?;
            Some(item_id(table, key))
        })
        .collect()
}

/// The items a single-item or batch write acts on.
fn written_items(operation: &str, request: &Value) -> Vec<ItemId> {
    let table = request["TableName"].as_str().unwrap_or_default();
    match operation {
        "PutItem" => vec![item_id(table, &request["Item"])],
        "UpdateItem" | "DeleteItem" => vec![item_id(table, &request["Key"])],
        "BatchWriteItem" => request["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(table, writes)| {
                writes.as_array().into_iter().flatten().filter_map(|w| {
                    let item = w
                        .pointer("/PutRequest/Item")
                        .or_else(|| w.pointer("/DeleteRequest/Key"))?;
                    Some(item_id(table, item))
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish_holding(&self, state: &State) {
        let mut holders: Vec<u64> = state.held.values().copied().collect();
        holders.sort_unstable();
        holders.dedup();
        self.holding.send_replace(holders.len());
    }
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Answer {
    let operation = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split_once('.').map(|(_, op)| op.to_owned()))
        .unwrap_or_default();
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return bad_gateway("the request's body could not be read"),
    };
    let request = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    match operation.as_str() {
        "TransactWriteItems" => transact(shared, parts, body, &request).await,
        "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem" => {
            let items = written_items(&operation, &request);
            let conflicted = {
                let mut state = shared.state();
                let conflicted = items.iter().any(|item| state.held.contains_key(item));
                if conflicted {
                    state.counts.refused_writes += 1;
                }
                conflicted
            };
            if conflicted {
                dynamo_error(
                    StatusCode::BAD_REQUEST,
                    &format!("{DYNAMO}TransactionConflictException"),
                    json!({ "message": ONGOING }),
                )
            } else {
                forward(&shared.upstream, parts, body).await
            }
        }
        _ => forward(&shared.upstream, parts, body).await,
    }
}

/// Cancels the transaction if another holds any of its items; else holds them while moto
/// applies it, for the window.
async fn transact(
    shared: &Shared,
    parts: hyper::http::request::Parts,
    body: Bytes,
    request: &Value,
) -> Answer {
    let items = transaction_items(request);
    let token = request["ClientRequestToken"].as_str().map(str::to_owned);
    let started = tokio::time::Instant::now();
    let window = *shared.window.lock().unwrap_or_else(PoisonError::into_inner);
    let mut releases = shared.releases.clone();
    releases.mark_unchanged();
    let answered_before = token
        .as_ref()
        .is_some_and(|token| shared.state().answered.contains(token));
    if answered_before {
        // moto answers the repeat as it answered the first, and it holds nothing.
        return forward(&shared.upstream, parts, body).await;
    }
    let transaction = {
        let mut state = shared.state();
        if let Some(token) = &token {
            if state.in_progress.contains(token) {
                state.counts.in_progress += 1;
                return dynamo_error(
                    StatusCode::BAD_REQUEST,
                    &format!("{DYNAMO}TransactionInProgressException"),
                    json!({ "message": "The transaction with the given request token is already in progress." }),
                );
            }
            state.in_progress.insert(token.clone());
        }
        let conflicts: Vec<bool> = items.iter().map(|i| state.held.contains_key(i)).collect();
        if conflicts.contains(&true) {
            state.counts.cancelled += 1;
            if let Some(token) = &token {
                state.in_progress.remove(token);
            }
            drop(state);
            return cancelled(&conflicts);
        }
        state.next_transaction += 1;
        state.counts.transactions += 1;
        let transaction = state.next_transaction;
        for item in &items {
            state.held.insert(item.clone(), transaction);
        }
        shared.publish_holding(&state);
        transaction
    };
    // The hold follows DynamoDB's clock, not moto's: it ends after the window (or a
    // `release_all`) even if moto is still busy, since moto applies one request at a time and so
    // cannot interleave two transactions anyway. The answer waits for both.
    let shared = shared.clone();
    // Its own task: DynamoDB applies a transaction it received even if the client hangs up.
    let applied = tokio::spawn(async move {
        let hold = async {
            tokio::select! {
                () = tokio::time::sleep_until(started + window) => {}
                _ = releases.changed() => {}
            }
            let mut state = shared.state();
            state.held.retain(|_, holder| *holder != transaction);
            shared.publish_holding(&state);
        };
        let (answer, ()) = tokio::join!(forward(&shared.upstream, parts, body), hold);
        if let Some(token) = token {
            let mut state = shared.state();
            state.in_progress.remove(&token);
            if answer.status().is_success() {
                state.answered.insert(token);
            }
        }
        answer
    });
    applied
        .await
        .unwrap_or_else(|_| bad_gateway("the transaction's task failed"))
}

/// DynamoDB's cancellation of a transaction some of whose items (`true`) another holds.
fn cancelled(conflicts: &[bool]) -> Answer {
    let reasons: Vec<Value> = conflicts
        .iter()
        .map(|&conflict| {
            if conflict {
                json!({ "Code": "TransactionConflict", "Message": ONGOING })
            } else {
                json!({ "Code": "None" })
            }
        })
        .collect();
    let codes: Vec<&str> = conflicts
        .iter()
        .map(|&c| if c { "TransactionConflict" } else { "None" })
        .collect();
    dynamo_error(
        StatusCode::BAD_REQUEST,
        &format!("{DYNAMO}TransactionCanceledException"),
        json!({
            "CancellationReasons": reasons,
            "Message": format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons \
                 [{}]",
                codes.join(", ")
            ),
        }),
    )
}

fn bad_gateway(message: &str) -> Answer {
    let mut response = Answer::new(http_body_util::Full::new(Bytes::from(message.to_owned())));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}
