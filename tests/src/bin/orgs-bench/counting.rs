//! Counts the requests the SDK sends, at the HTTP client: every round trip is seen, retries
//! included, whichever SDK client (DynamoDB, SES v2, EventBridge, Cognito) sent it, and how long the
//! local AWS took to answer it. A recorder made `with_bodies` also keeps each request's and
//! response's body (the cost benchmark sizes the items DynamoDB reads and writes from them).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use http_body_util::BodyExt;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// One request the SDK sent.
#[derive(Clone, Debug)]
pub struct Call {
    /// `DynamoDB`, `SES`, `EventBridge` or `Cognito` (or `other`).
    pub service: &'static str,
    /// The API operation, e.g. `BatchGetItem`.
    pub operation: String,
    /// From handing the request to the connection until the response's head arrived.
    pub wire: Duration,
    /// The request's body, when the recorder keeps bodies (read by the cost benchmark only).
    #[allow(dead_code)]
    pub request: Option<Bytes>,
    /// The response's body, when the recorder keeps bodies and an answer came.
    #[allow(dead_code)]
    pub response: Option<Bytes>,
}

/// The calls recorded so far; cloned into every connector the SDK asks for.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    calls: Arc<Mutex<Vec<Call>>>,
    bodies: bool,
}

impl Recorder {
    /// A recorder that also keeps every request's and response's body (the cost benchmark's).
    #[allow(dead_code)]
    pub fn with_bodies() -> Self {
        Self {
            calls: Arc::default(),
            bodies: true,
        }
    }

    /// Everything recorded since the last `take`.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().expect("recorder lock"))
    }

    fn push(&self, call: Call) {
        self.calls.lock().expect("recorder lock").push(call);
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
        let sent = recorder
            .bodies
            .then(|| request.body().bytes().map(Bytes::copy_from_slice))
            .flatten();
        let response = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let started = Instant::now();
            let mut result = response.await;
            let wire = started.elapsed();
            let mut received = None;
            if recorder.bodies
                && let Ok(answer) = result.as_mut()
            {
                let body = std::mem::replace(answer.body_mut(), Bytes::new().into());
                let bytes = buffer(body).await;
                *answer.body_mut() = bytes.clone().into();
                received = Some(bytes);
            }
            recorder.push(Call {
                service,
                operation,
                wire,
                request: sent,
                response: received,
            });
            result
        })
    }
}

/// The service and operation of a request: DynamoDB, EventBridge and Cognito's user pools name
/// it in `X-Amz-Target` (AWS JSON protocol); SES v2 is REST, so its path says which operation it
/// is.
fn classify(request: &HttpRequest) -> (&'static str, String) {
    if let Some(target) = request.headers().get("x-amz-target") {
        if let Some(op) = target.strip_prefix("DynamoDB_20120810.") {
            return ("DynamoDB", op.to_owned());
        }
        if let Some(op) = target.strip_prefix("AWSEvents.") {
            return ("EventBridge", op.to_owned());
        }
        if let Some(op) = target.strip_prefix("AWSCognitoIdentityProviderService.") {
            return ("Cognito", op.to_owned());
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

/// A response body read whole (the SDK then reads the copy); what could not be read is left
/// out, and the SDK sees the same shortened body.
async fn buffer<B>(body: B) -> Bytes
where
    B: BodyExt,
    B::Data: Buf,
{
    match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    }
}
