//! A minimal Lambda Runtime API on loopback: enough for `lambda_runtime` to fetch events and post
//! answers, and for the benchmark to see when each happens.
//!
//! `GET /2018-06-01/runtime/invocation/next` reports that the function is ready and waits until
//! the benchmark hands that very request an event; `POST …/invocation/{id}/response` and
//! `…/error`, and `POST …/runtime/init/error`, report what the function answered. Each process
//! gets its own instance, so nothing a killed process left pending can reach the next one.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

const PREFIX: &str = "/2018-06-01/runtime/";

/// What the function did, with the moment the Runtime API saw it.
#[derive(Debug)]
pub enum Report {
    /// It asked for its next event; it gets the one sent on `reply`.
    Next {
        at: Instant,
        reply: oneshot::Sender<Invocation>,
    },
    /// It answered invocation `id`.
    Response {
        id: String,
        at: Instant,
        body: Bytes,
    },
    /// It reported that invocation `id` failed.
    Error { id: String, body: Bytes },
    /// It could not start.
    InitError(Bytes),
}

/// An event to hand out.
#[derive(Debug)]
pub struct Invocation {
    pub id: String,
    pub event: String,
    /// The time the function has for it: the deadline it is told is this far off.
    pub timeout: Duration,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    reports: mpsc::UnboundedReceiver<Report>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the Runtime API")?;
        let addr = listener.local_addr()?;
        let (report_tx, reports) = mpsc::unbounded_channel();
        let report_tx = Arc::new(report_tx);
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let report_tx = report_tx.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let report_tx = report_tx.clone();
                        async move { Ok::<_, Infallible>(handle(&report_tx, req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            reports,
            server,
        })
    }

    /// The next thing the function did, waiting at most `limit`.
    pub async fn report(&mut self, limit: Duration) -> anyhow::Result<Report> {
        tokio::time::timeout(limit, self.reports.recv())
            .await
            .map_err(|_| anyhow!("the function did nothing for {limit:?}"))?
            .ok_or_else(|| anyhow!("the Runtime API has stopped"))
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn answer(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

async fn handle(
    reports: &mpsc::UnboundedSender<Report>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return answer(StatusCode::NOT_FOUND, "");
    };
    if method == "GET" && rest == "invocation/next" {
        let (reply, event) = oneshot::channel();
        let _ = reports.send(Report::Next {
            at: Instant::now(),
            reply,
        });
        // Until the benchmark hands this request an event (or drops it at the end of a run).
        let Ok(invocation) = event.await else {
            return answer(StatusCode::SERVICE_UNAVAILABLE, "");
        };
        let timeout = i64::try_from(invocation.timeout.as_millis()).unwrap_or(i64::MAX);
        let deadline = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + timeout;
        let mut response = answer(StatusCode::OK, invocation.event);
        let headers = response.headers_mut();
        let mut set = |name: &'static str, value: String| {
            if let Ok(value) = value.parse() {
                headers.insert(name, value);
            }
        };
        set("content-type", "application/json".into());
        set("lambda-runtime-aws-request-id", invocation.id);
        set("lambda-runtime-deadline-ms", deadline.to_string());
        set(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:000000000000:function:orgs-bench".into(),
        );
        set(
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
        );
        return response;
    }
    if method != "POST" {
        return answer(StatusCode::NOT_FOUND, "");
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let at = Instant::now();
    let report = if rest == "init/error" {
        Report::InitError(body)
    } else if let Some(id) = rest
        .strip_prefix("invocation/")
        .and_then(|r| r.strip_suffix("/response"))
    {
        Report::Response {
            id: id.to_owned(),
            at,
            body,
        }
    } else if let Some(id) = rest
        .strip_prefix("invocation/")
        .and_then(|r| r.strip_suffix("/error"))
    {
        Report::Error {
            id: id.to_owned(),
            body,
        }
    } else {
        return answer(StatusCode::NOT_FOUND, "");
    };
    let _ = reports.send(report);
    answer(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}
