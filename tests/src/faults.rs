//! Fault injection in front of DynamoDB, SES or EventBridge, for tests: a loopback HTTP proxy that forwards
//! every request to the real endpoint (moto) unchanged, except the ones a rule picks. Those it
//! answers itself, byte for byte as DynamoDB does when it throttles or fails, or it drops the
//! connection without an answer, or it forwards them late. It is not a mock: moto still does all
//! the real work, and a faulted request never reaches it, unless it is only delayed.
//!
//! A DynamoDB call names its operation in `X-Amz-Target`; SES v2 is a REST API, whose sending
//! operation is `SendEmail` here (other SES requests are named by method and path). The answers
//! a fault makes up are DynamoDB's: on SES, use `Delay`, `Drop` or `Stall`. EventBridge
//! (`PutEvents`, in `X-Amz-Target` too) reads the same error shape, and `RefuseEntries` answers
//! as EventBridge does when it refuses entries one by one.
//!
//! Rules count *calls*: one SDK operation with all its attempts, which the SDK marks with one
//! `amz-sdk-invocation-id`. A rule on every attempt of a call exhausts the SDK's own retries; a
//! rule on the first attempt only lets the SDK's retry through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// What a faulted request gets instead of moto's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 400 `ThrottlingException`: the request rate is too high.
    Throttling,
    /// 400 `ProvisionedThroughputExceededException`: a partition is out of capacity.
    ThroughputExceeded,
    /// 400 `TransactionCanceledException` with the reason `ThrottlingError` on its first item,
    /// which is how DynamoDB reports throttling inside a transaction. Other operations get
    /// `Throttling` instead.
    TransactionThrottled,
    /// 500 `InternalServerError`.
    InternalServerError,
    /// 503 `ServiceUnavailable`.
    ServiceUnavailable,
    /// 400 `AccessDeniedException`, naming the role and the table as DynamoDB does: a fault on
    /// our side that no retry fixes.
    AccessDenied,
    /// The connection closes without an answer: DynamoDB unreachable.
    Drop,
    /// No answer for a minute, then the connection closes: DynamoDB hanging, which only the
    /// SDK's timeouts end.
    Stall,
    /// Forwarded and applied by moto, but its answer is lost: the connection closes instead, as
    /// when a timeout or the network cuts a call that DynamoDB completed. The SDK tries again
    /// with the same `ClientRequestToken`, which DynamoDB (and our moto) answers without
    /// applying the transaction twice.
    LoseAnswer,
    /// Forwarded after this delay, and answered by moto: a slow service, not a hung one. A
    /// request whose client gives up meanwhile is never forwarded (see `Call::forwarded`).
    Delay(std::time::Duration),
    /// A `BatchWriteItem` does only part of its work: the writes to partitions whose key starts
    /// with this prefix come back as `UnprocessedItems`, as when those partitions are
    /// throttled, and moto does the rest. Other operations pass untouched.
    PartlyUnprocessed(&'static str),
    /// A `PutEvents` call is answered 200 with every entry refused with this error code
    /// (`MalformedDetail`, `ThrottlingException`, ...), as EventBridge refuses entries one by
    /// one. Nothing reaches moto.
    RefuseEntries(&'static str),
}

/// Which of the calls that a rule's operation filter matches are faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// The nth (from 1).
    Nth(usize),
    /// The nth and every later one: as if the process died before the nth.
    From(usize),
    /// All of them.
    Always,
}

#[derive(Clone, Debug)]
pub struct Rule {
    /// `TransactWriteItems`, `Query`, … (the `X-Amz-Target` operation); `None` for any.
    pub operation: Option<&'static str>,
    pub when: When,
    /// Only the first attempt of a faulted call, so that the SDK's retry succeeds.
    pub first_attempt_only: bool,
    pub fault: Fault,
}

impl Rule {
    /// Every attempt of the chosen calls, of any operation.
    pub fn new(fault: Fault, when: When) -> Self {
        Self {
            operation: None,
            when,
            first_attempt_only: false,
            fault,
        }
    }

    /// Only calls of this operation count and are faulted.
    pub fn on(self, operation: &'static str) -> Self {
        Self {
            operation: Some(operation),
            ..self
        }
    }

    pub fn first_attempt_only(self) -> Self {
        Self {
            first_attempt_only: true,
            ..self
        }
    }
}

/// What the proxy saw of one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub operation: String,
    pub attempts: u32,
    /// The fault its attempts got, if a rule chose it.
    pub fault: Option<Fault>,
    /// Attempts that got the fault.
    pub faulted: u32,
    /// Attempts handed to moto (a delayed one only once its delay is over).
    pub forwarded: u32,
    /// The request's body as the client sent it (its first attempt), as text.
    pub body: String,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    /// How many calls each rule's filter matched so far.
    matched: Vec<usize>,
    calls: Vec<Call>,
    /// Call index by invocation id.
    invocations: HashMap<String, usize>,
    first_attempt_only: Vec<bool>,
}

impl State {
    /// Logs one attempt and says which fault it gets.
    fn attempt(&mut self, invocation: Option<&str>, operation: &str, body: &[u8]) -> Option<Fault> {
        let known = invocation.and_then(|id| self.invocations.get(id).copied());
        let index = match known {
            Some(index) => index,
            None => {
                let mut chosen: Option<&Rule> = None;
                for (rule, matched) in self.rules.iter().zip(self.matched.iter_mut()) {
                    if rule.operation.is_some_and(|op| op != operation) {
                        continue;
                    }
                    *matched += 1;
                    let fires = match rule.when {
                        When::Nth(n) => *matched == n,
                        When::From(n) => *matched >= n,
                        When::Always => true,
                    };
                    if fires && chosen.is_none() {
                        chosen = Some(rule);
                    }
                }
                self.first_attempt_only
                    .push(chosen.is_some_and(|r| r.first_attempt_only));
                self.calls.push(Call {
                    operation: operation.to_owned(),
                    attempts: 0,
                    fault: chosen.map(|r| r.fault),
                    faulted: 0,
                    forwarded: 0,
                    body: String::from_utf8_lossy(body).into_owned(),
                });
                let index = self.calls.len() - 1;
                if let Some(id) = invocation {
                    self.invocations.insert(id.to_owned(), index);
                }
                index
            }
        };
        let call = &mut self.calls[index];
        call.attempts += 1;
        let fault = call
            .fault
            .filter(|_| call.attempts == 1 || !self.first_attempt_only[index]);
        if fault.is_some() {
            call.faulted += 1;
        }
        fault
    }

    fn forwarded(&mut self, invocation: Option<&str>) {
        let index = invocation.and_then(|id| self.invocations.get(id).copied());
        if let Some(call) = index.and_then(|index| self.calls.get_mut(index)) {
            call.forwarded += 1;
        }
    }
}

/// The proxy. Dropping it closes its port and every open connection, so that DynamoDB then
/// refuses connections.
pub struct FaultProxy {
    endpoint: String,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Drop for FaultProxy {
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

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let upstream = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State::default()));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let shared = state.clone();
        let open = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                let upstream = upstream.clone();
                let connection = tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let state = state.clone();
                        let upstream = upstream.clone();
                        async move { handle(&state, &upstream, req).await }
                    });
                    // A dropped request ends its connection with an error; nothing to report.
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
            task,
            connections,
        })
    }

    /// The endpoint to give the SDK client under test.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the rules, and starts counting and logging calls afresh.
    pub fn set(&self, rules: Vec<Rule>) {
        let mut state = self.state();
        *state = State {
            matched: vec![0; rules.len()],
            rules,
            ..State::default()
        };
    }

    /// One rule instead of the current ones (see `set`).
    pub fn inject(&self, rule: Rule) {
        self.set(vec![rule]);
    }

    /// No more faults (see `set`).
    pub fn clear(&self) {
        self.set(Vec::new());
    }

    /// Every call since the rules were last set, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }
}

/// The id DynamoDB would give the faulted request; a test can look for it in answers.
pub const FAULT_REQUEST_ID: &str = "FAULTINJECTED0000000000000000000000000000000000000";

pub(crate) type Answer = Response<Full<Bytes>>;

#[derive(Debug, thiserror::Error)]
enum ProxyError {
    #[error("connection dropped on purpose")]
    Dropped,
}

async fn handle(
    state: &Mutex<State>,
    upstream: &str,
    req: Request<Incoming>,
) -> Result<Answer, ProxyError> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let operation = match header("x-amz-target") {
        Some(target) => target
            .split_once('.')
            .map(|(_, op)| op.to_owned())
            .unwrap_or_default(),
        None => rest_operation(req.method().as_str(), req.uri().path()),
    };
    let invocation = header("amz-sdk-invocation-id");
    let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Err(ProxyError::Dropped),
    };
    let fault = lock().attempt(invocation.as_deref(), &operation, &body);
    if let Some(Fault::Delay(delay)) = fault {
        // Should the client hang up meanwhile, its connection ends and this with it.
        tokio::time::sleep(delay).await;
    }
    let forwarded = matches!(
        fault,
        None | Some(Fault::Delay(_) | Fault::PartlyUnprocessed(_) | Fault::LoseAnswer)
    );
    if forwarded {
        lock().forwarded(invocation.as_deref());
    }
    match fault {
        None | Some(Fault::Delay(_)) => Ok(forward(upstream, parts, body).await),
        Some(Fault::PartlyUnprocessed(prefix)) if operation == "BatchWriteItem" => {
            Ok(partly_unprocessed(upstream, parts, &body, prefix).await)
        }
        Some(Fault::PartlyUnprocessed(_)) => Ok(forward(upstream, parts, body).await),
        Some(Fault::Drop) => Err(ProxyError::Dropped),
        Some(Fault::LoseAnswer) => {
            forward(upstream, parts, body).await;
            Err(ProxyError::Dropped)
        }
        Some(Fault::Stall) => {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            Err(ProxyError::Dropped)
        }
        Some(fault) => Ok(fault_answer(fault, &operation, &body)),
    }
}

/// The operation of a REST request (SES v2): `SendEmail` for a send, else method and path.
fn rest_operation(method: &str, path: &str) -> String {
    if method == "POST" && path.trim_end_matches('/') == "/v2/email/outbound-emails" {
        "SendEmail".to_owned()
    } else {
        format!("{method} {path}")
    }
}

pub(crate) fn dynamo_error(status: StatusCode, error_type: &str, mut body: Value) -> Answer {
    body["__type"] = json!(error_type);
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().expect("static"),
    );
    headers.insert(
        "x-amzn-requestid",
        FAULT_REQUEST_ID.parse().expect("static"),
    );
    response
}

pub(crate) const DYNAMO: &str = "com.amazonaws.dynamodb.v20120810#";

fn fault_answer(fault: Fault, operation: &str, request: &[u8]) -> Answer {
    let message = |text: &str| json!({ "message": text });
    match fault {
        Fault::Throttling => dynamo_error(
            StatusCode::BAD_REQUEST,
            &format!("{DYNAMO}ThrottlingException"),
            message("Rate of requests exceeds the allowed throughput."),
        ),
        Fault::ThroughputExceeded => dynamo_error(
            StatusCode::BAD_REQUEST,
            &format!("{DYNAMO}ProvisionedThroughputExceededException"),
            message(
                "The level of configured provisioned throughput for the table was exceeded. \
                 Consider increasing your provisioning level with the UpdateTable API.",
            ),
        ),
        Fault::TransactionThrottled if operation == "TransactWriteItems" => {
            let items = serde_json::from_slice::<Value>(request)
                .ok()
                .and_then(|r| r["TransactItems"].as_array().map(Vec::len))
                .unwrap_or(1)
                .max(1);
            let mut reasons = vec![json!({
                "Code": "ThrottlingError",
                "Message": "Throughput exceeds the current capacity of your table or index. \
                            DynamoDB is automatically scaling your table or index so please try \
                            again shortly.",
            })];
            reasons.resize(items, json!({ "Code": "None" }));
            let codes: Vec<&str> = reasons
                .iter()
                .map(|r| r["Code"].as_str().unwrap_or_default())
                .collect();
            dynamo_error(
                StatusCode::BAD_REQUEST,
                &format!("{DYNAMO}TransactionCanceledException"),
                json!({
                    "message": format!(
                        "Transaction cancelled, please refer cancellation reasons for specific \
                         reasons [{}]",
                        codes.join(", ")
                    ),
                    "CancellationReasons": reasons,
                }),
            )
        }
        Fault::TransactionThrottled => fault_answer(Fault::Throttling, operation, request),
        Fault::InternalServerError => dynamo_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("{DYNAMO}InternalServerError"),
            message("Internal server error"),
        ),
        Fault::ServiceUnavailable => dynamo_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("{DYNAMO}ServiceUnavailable"),
            message("Service unavailable"),
        ),
        Fault::RefuseEntries(code) => {
            let entries = serde_json::from_slice::<Value>(request)
                .ok()
                .and_then(|r| r["Entries"].as_array().map(Vec::len))
                .unwrap_or(1);
            let refused = json!({
                "ErrorCode": code,
                "ErrorMessage": format!("refused by the fault proxy: {code}"),
            });
            let body = json!({ "FailedEntryCount": entries, "Entries": vec![refused; entries] });
            let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
            response.headers_mut().insert(
                "content-type",
                "application/x-amz-json-1.1".parse().expect("static"),
            );
            response
        }
        Fault::AccessDenied if operation == "PutEvents" => dynamo_error(
            StatusCode::BAD_REQUEST,
            "AccessDeniedException",
            message(
                "User: arn:aws:sts::123456789012:assumed-role/orgs-function/orgs is not \
                 authorized to perform: events:PutEvents on resource: \
                 arn:aws:events:us-east-1:123456789012:event-bus/orgs because no \
                 identity-based policy allows the events:PutEvents action",
            ),
        ),
        Fault::AccessDenied => {
            let table = serde_json::from_slice::<Value>(request)
                .ok()
                .and_then(|r| r["TableName"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "orgs".into());
            dynamo_error(
                StatusCode::BAD_REQUEST,
                "com.amazon.coral.service#AccessDeniedException",
                message(&format!(
                    "User: arn:aws:sts::123456789012:assumed-role/orgs-function/orgs is not \
                     authorized to perform: dynamodb:{operation} on resource: \
                     arn:aws:dynamodb:us-east-1:123456789012:table/{table} because no \
                     identity-based policy allows the dynamodb:{operation} action"
                )),
            )
        }
        Fault::Drop
        | Fault::Stall
        | Fault::LoseAnswer
        | Fault::Delay(_)
        | Fault::PartlyUnprocessed(_) => {
            unreachable!("answered elsewhere")
        }
    }
}

/// Forwards the writes of a `BatchWriteItem` to partitions outside `prefix`, and answers the
/// others as unprocessed beside moto's answer.
async fn partly_unprocessed(
    upstream: &str,
    mut parts: hyper::http::request::Parts,
    body: &[u8],
    prefix: &str,
) -> Answer {
    let Ok(mut request) = serde_json::from_slice::<Value>(body) else {
        return forward(upstream, parts, Bytes::copy_from_slice(body)).await;
    };
    let mut done = serde_json::Map::new();
    let mut left = serde_json::Map::new();
    for (table, writes) in request["RequestItems"]
        .as_object()
        .cloned()
        .unwrap_or_default()
    {
        let (skip, keep): (Vec<Value>, Vec<Value>) = writes
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .partition(|w| {
                let key = w
                    .pointer("/DeleteRequest/Key/pk/S")
                    .or_else(|| w.pointer("/PutRequest/Item/pk/S"));
                key.and_then(Value::as_str)
                    .is_some_and(|pk| pk.starts_with(prefix))
            });
        if !keep.is_empty() {
            done.insert(table.clone(), Value::Array(keep));
        }
        if !skip.is_empty() {
            left.insert(table, Value::Array(skip));
        }
    }
    let mut answer = if done.is_empty() {
        json!({})
    } else {
        request["RequestItems"] = Value::Object(done);
        let body = Bytes::from(request.to_string());
        parts.headers.insert("content-length", body.len().into());
        let response = forward(upstream, parts, body).await;
        if !response.status().is_success() {
            return response;
        }
        let bytes = response.into_body().collect().await.map(|b| b.to_bytes());
        match bytes
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        {
            Some(answer) => answer,
            None => json!({}),
        }
    };
    answer["UnprocessedItems"] = Value::Object(left);
    let mut response = Response::new(Full::new(Bytes::from(answer.to_string())));
    response.headers_mut().insert(
        "content-type",
        "application/x-amz-json-1.0".parse().expect("static"),
    );
    response
}

/// Hands the request to the upstream unchanged and returns its answer; a 502 if it is down.
pub(crate) async fn forward(
    upstream: &str,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Answer {
    let attempt = async {
        let stream = TcpStream::connect(upstream).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let mut request = Request::from_parts(parts, Full::new(body));
        request.headers_mut().remove("transfer-encoding");
        let response = sender.send_request(request).await?;
        let (mut parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        parts.headers.remove("transfer-encoding");
        parts.headers.remove("connection");
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Response::from_parts(
            parts,
            Full::new(body),
        ))
    };
    match attempt.await {
        Ok(response) => response,
        Err(err) => {
            let mut response = Response::new(Full::new(Bytes::from(format!(
                "the proxy could not reach {upstream}: {err}"
            ))));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            response
        }
    }
}
