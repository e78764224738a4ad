//! Records which AWS calls each function makes, as IAM would authorize them, so that a check
//! (`tests/tests/api/grants.rs`) can hold them to each function's policy in the template:
//! moto enforces no IAM. Every SDK client of the local stack goes through `RecordingClient`
//! (`aws::sdk_config`); a call is recorded when it is made inside `as_function`, once
//! `record_calls` has turned recording on for the process. Each process appends the distinct
//! calls it sees to a file of its own under `target/grant-calls/`.

mod parse;

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock, PoisonError};

use anyhow::{Context, anyhow};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use serde::{Deserialize, Serialize};

pub use parse::{Authorization, HashKeys, prefix};

use crate::{provision, workspace_root};

tokio::task_local! {
    /// The Lambda function (binary name) whose code is running.
    static FUNCTION: &'static str;
}

/// Runs `future` as the function `name`: the AWS calls it makes are that function's.
pub async fn as_function<F: Future>(name: &'static str, future: F) -> F::Output {
    FUNCTION.scope(name, future).await
}

/// One distinct call: a function needed `action` on `resource` (see `parse`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GrantCall {
    pub function: String,
    pub action: String,
    pub resource: String,
    /// The partition key's prefix (`ORG#`), for `dynamodb:LeadingKeys`.
    pub leading_key: Option<String>,
    /// For `ses:FromAddress`.
    pub from_address: Option<String>,
}

/// Where every process appends its calls.
pub fn calls_dir() -> PathBuf {
    workspace_root().join("target/grant-calls")
}

struct Sink {
    seen: HashSet<GrantCall>,
    file: File,
    keys: HashKeys,
}

static SINK: OnceLock<Mutex<Sink>> = OnceLock::new();

/// Turns recording on for this process (idempotent).
pub fn record_calls() -> anyhow::Result<()> {
    if SINK.get().is_some() {
        return Ok(());
    }
    let dir = calls_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{}.jsonl", std::process::id()));
    let file = File::options()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    let sink = Sink {
        seen: HashSet::new(),
        file,
        keys: hash_keys()?,
    };
    // Two tests may race here; either sink writes to the same file.
    let _ = SINK.set(Mutex::new(sink));
    Ok(())
}

/// Turns recording on when `ORGS_RECORD_GRANT_CALLS` is set (not empty): for `cargo local`
/// and the other local commands, which do not record otherwise.
pub fn record_calls_if_asked() -> anyhow::Result<()> {
    match std::env::var_os("ORGS_RECORD_GRANT_CALLS") {
        Some(value) if !value.is_empty() => record_calls(),
        _ => Ok(()),
    }
}

/// Every call recorded by every process since `calls_dir` was last cleared.
pub fn recorded_calls() -> anyhow::Result<BTreeSet<GrantCall>> {
    let dir = calls_dir();
    let mut calls = BTreeSet::new();
    let entries = std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        for line in text.lines().filter(|l| !l.is_empty()) {
            let call = serde_json::from_str(line)
                .with_context(|| format!("{}: a line that is not a call", path.display()))?;
            calls.insert(call);
        }
    }
    Ok(calls)
}

/// The hash key of the table and of each index, from the template's table.
fn hash_keys() -> anyhow::Result<HashKeys> {
    let table = provision::table_definition()?;
    let hash = |schema: &serde_yaml_ng::Value| {
        schema
            .as_sequence()
            .into_iter()
            .flatten()
            .find(|k| k["KeyType"] == "HASH")
            .and_then(|k| k["AttributeName"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("a key schema without a HASH key"))
    };
    let mut keys = HashKeys {
        table: hash(&table["KeySchema"])?,
        ..HashKeys::default()
    };
    for index in table["GlobalSecondaryIndexes"]
        .as_sequence()
        .into_iter()
        .flatten()
    {
        let name = index["IndexName"]
            .as_str()
            .ok_or_else(|| anyhow!("an index without a name"))?;
        keys.indexes
            .insert(name.to_owned(), hash(&index["KeySchema"])?);
    }
    Ok(keys)
}

fn record(request: &HttpRequest) {
    let Some(sink) = SINK.get() else { return };
    let Ok(function) = FUNCTION.try_with(|f| *f) else {
        return;
    };
    let uri = request.uri();
    let path = uri
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(uri);
    let request = parse::Request {
        method: request.method(),
        path: path.split('?').next().unwrap_or(path),
        target: request.headers().get("x-amz-target"),
        body: request.body().bytes().unwrap_or_default(),
    };
    let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
    for found in parse::authorizations(&request, &sink.keys) {
        let call = GrantCall {
            function: function.to_owned(),
            action: found.action,
            resource: found.resource,
            leading_key: found.leading_key,
            from_address: found.from_address,
        };
        if sink.seen.insert(call.clone()) {
            let mut line = serde_json::to_string(&call).expect("a call serializes");
            line.push('\n');
            // One write per line, so that lines of concurrent writers never interleave.
            if let Err(error) = sink.file.write_all(line.as_bytes()) {
                panic!("recording a call: {error}");
            }
        }
    }
}

/// Wraps the real HTTP client; the SDK sees no difference.
#[derive(Debug)]
pub struct RecordingClient {
    inner: SharedHttpClient,
}

impl RecordingClient {
    pub fn wrap(inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(Self { inner })
    }
}

impl HttpClient for RecordingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RecordingConnector {
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct RecordingConnector {
    inner: SharedHttpConnector,
}

impl HttpConnector for RecordingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        record(&request);
        self.inner.call(request)
    }
}
