//! Counts the requests the SDK sends, at the HTTP client: every round trip is seen, retries
//! included, whichever SDK client (DynamoDB, SES v2, EventBridge) sent it, and how long the
//! local AWS took to answer it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// One request the SDK sent.
#[derive(Clone, Debug)]
pub struct Call {
    /// `DynamoDB`, `SES` or `EventBridge` (or `other`).
    pub service: &'static str,
    /// The API operation, e.g. `BatchGetItem`.
    pub operation: String,
    /// From handing the request to the connection until the response's head arrived.
    pub wire: Duration,
}

/// The calls recorded so far; cloned into every connector the SDK asks for.
#[derive(Clone, Debug, Default)]
pub struct Recorder(Arc<Mutex<Vec<Call>>>);

impl Recorder {
    /// Everything recorded since the last `take`.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.0.lock().expect("recorder lock"))
    }

    fn push(&self, call: Call) {
        self.0.lock().expect("recorder lock").push(call);
    }
}

/// Wraps the real HTTP client; the SDK sees no difference.
#[derive(Debug)]
pub struct CountingClient {
    inner: SharedHttpClient,
    recorder: Recorder,
}

impl CountingClient {
    pub fn new(inner: SharedHttpClient, recorder: Recorder) -> Self {
        Self { inner, recorder }
    }
}

impl HttpClient for CountingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(CountingConnector {
            inner: self.inner.http_connector(settings, components),
            recorder: self.recorder.clone(),
        })
    }
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
    recorder: Recorder,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (service, operation) = classify(&request);
        let recorder = self.recorder.clone();
        let response = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let started = Instant::now();
            let result = response.await;
            recorder.push(Call {
                service,
                operation,
                wire: started.elapsed(),
            });
            result
        })
    }
}

/// The service and operation of a request: DynamoDB and EventBridge name it in `X-Amz-Target`
/// (AWS JSON protocol); SES v2 is REST, so its path says which operation it is.
fn classify(request: &HttpRequest) -> (&'static str, String) {
    if let Some(target) = request.headers().get("x-amz-target") {
        if let Some(op) = target.strip_prefix("DynamoDB_20120810.") {
            return ("DynamoDB", op.to_owned());
        }
        if let Some(op) = target.strip_prefix("AWSEvents.") {
            return ("EventBridge", op.to_owned());
        }
        return ("other", target.to_owned());
    }
    let uri = request.uri();
    let path = uri
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(uri);
    let path = path.split('?').next().unwrap_or(path);
    if path.starts_with("/v2/email/") {
        let op = match (request.method(), path) {
            ("POST", "/v2/email/outbound-emails") => "SendEmail".to_owned(),
            (method, path) => format!("{method} {path}"),
        };
        return ("SES", op);
    }
    ("other", format!("{} {path}", request.method()))
}
