//! Warm request latency of the local API (the API Gateway stand-in calling the handlers
//! in-process) over HTTP on loopback, one request at a time across the main routes, beside
//! moto's own time for the same SDK requests, taken at the HTTP client during each request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use orgs_local::server::{LocalApi, serve};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::fixture::{Fixture, Person, Req};

/// The answers to one route.
pub struct RouteLatency {
    pub route: &'static str,
    /// Round trip of each request, as the client saw it.
    pub total: Vec<Duration>,
    /// Time spent waiting for moto during each request (sum of its SDK requests).
    pub moto: Vec<Duration>,
    /// SDK requests per request (the same every time, or the table says otherwise).
    pub calls: Vec<usize>,
}

struct Client {
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("connecting to the local API")?;
        tokio::spawn(connection);
        Ok(Self { sender })
    }

    async fn send(&mut self, token: &str, req: &Req) -> anyhow::Result<(u16, Value)> {
        let body = req
            .body
            .as_ref()
            .map(|b| Bytes::from(b.to_string()))
            .unwrap_or_default();
        let request = hyper::Request::builder()
            .method(req.method)
            .uri(&req.path)
            .header("host", "127.0.0.1")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Full::new(body))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }
}

/// The read routes, sent `rounds` times each.
pub const READS: [&str; 6] = [
    "GET /me",
    "GET /orgs",
    "GET /orgs/{org_id}",
    "GET /orgs/{org_id}/members",
    "GET /orgs/{org_id}/invitations",
    "GET /orgs/{org_id}/teams",
];

/// The write routes, sent `write_rounds` times each: stock moto copies the whole table (with
/// every stream record so far) for each item of a transaction, so each write costs more than
/// the one before, and thousands of them would take moto minutes and gigabytes.
pub const WRITES: [&str; 5] = [
    "PATCH /me",
    "POST /orgs",
    "PATCH /orgs/{org_id}",
    "PUT /orgs/{org_id}/handle",
    "DELETE /orgs/{org_id}",
];

/// The request for `route`. POST /orgs creates the organization that DELETE then removes, so
/// the table does not grow with organizations.
fn request(
    fx: &mut Fixture,
    route: &str,
    created: &mut Option<(String, String)>,
) -> anyhow::Result<(Person, Req, u16)> {
    let alice = fx.alice.clone();
    let carol = fx.carol.clone();
    let o = fx.orgs[0].id.clone();
    Ok(match route {
        "GET /me" => (alice, Req::new("GET", "/me", None), 200),
        "GET /orgs" => (alice, Req::new("GET", "/orgs", None), 200),
        "GET /orgs/{org_id}" => (alice, Req::new("GET", format!("/orgs/{o}"), None), 200),
        "GET /orgs/{org_id}/members" => (
            alice,
            Req::new("GET", format!("/orgs/{o}/members"), None),
            200,
        ),
        "GET /orgs/{org_id}/invitations" => {
            let req = Req::new("GET", format!("/orgs/{o}/invitations"), None);
            (alice, req, 200)
        }
        "GET /orgs/{org_id}/teams" => (
            alice,
            Req::new("GET", format!("/orgs/{o}/teams"), None),
            200,
        ),
        "PATCH /me" => {
            let body = json!({ "display_name": "Alice Bench" });
            (alice, Req::new("PATCH", "/me", Some(body)), 200)
        }
        "POST /orgs" => (carol, fx.create_org_req(), 201),
        "PATCH /orgs/{org_id}" => {
            let body = json!({ "display_name": "Bench Org (edited)" });
            (
                alice,
                Req::new("PATCH", format!("/orgs/{o}"), Some(body)),
                200,
            )
        }
        "PUT /orgs/{org_id}/handle" => {
            let body = json!({ "handle": fx.unique_handle() });
            let req = Req::new("PUT", format!("/orgs/{o}/handle"), Some(body));
            (alice, req, 200)
        }
        "DELETE /orgs/{org_id}" => {
            let Some((id, handle)) = created.take() else {
                bail!("POST /orgs created nothing to delete");
            };
            let req = Req::new("DELETE", format!("/orgs/{id}?confirm={handle}"), None);
            (carol, req, 204)
        }
        other => bail!("no request for {other}"),
    })
}

/// Sends `routes` once each, in order; `record` gets each one's time and SDK requests.
async fn round(
    fx: &mut Fixture,
    client: &mut Client,
    routes: &[&'static str],
    mut record: impl FnMut(&'static str, Duration, Vec<crate::counting::Call>),
) -> anyhow::Result<()> {
    let mut created = None;
    for &route in routes {
        let (person, req, want) = request(fx, route, &mut created)?;
        let token = fx.token(&person);
        fx.recorder.take();
        let started = Instant::now();
        let (status, body) = client.send(&token, &req).await?;
        let elapsed = started.elapsed();
        let calls = fx.recorder.take();
        if status != want {
            bail!(
                "{} {} answered {status}, not {want}: {body}",
                req.method,
                req.path
            );
        }
        if route == "POST /orgs" {
            let id = body["org_id"].as_str().unwrap_or_default().to_owned();
            let handle = body["handle"].as_str().unwrap_or_default().to_owned();
            created = Some((id, handle));
        }
        record(route, elapsed, calls);
    }
    Ok(())
}

/// Serves the local API on loopback and sends `rounds` rounds of the reads, the first
/// `write_rounds` of them followed by the writes (after `warmup` unrecorded rounds of both).
pub async fn measure(
    fx: &mut Fixture,
    rounds: usize,
    write_rounds: usize,
    warmup: usize,
) -> anyhow::Result<Vec<RouteLatency>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let api = Arc::new(LocalApi {
        app: fx.app.clone(),
        jwt_secret: fx.secret.clone(),
        openapi: None,
        log_requests: false,
        cors: orgs_local::cors::Cors::default(),
        timeouts: orgs_local::timeouts::FunctionTimeouts::from_template()?,
    });
    let server = tokio::spawn(serve(listener, api));
    let mut client = Client::connect(addr).await?;

    for _ in 0..warmup {
        round(fx, &mut client, &READS, |_, _, _| {}).await?;
        round(fx, &mut client, &WRITES, |_, _, _| {}).await?;
    }
    let mut results: Vec<RouteLatency> = READS
        .iter()
        .chain(&WRITES)
        .map(|route| RouteLatency {
            route,
            total: Vec::new(),
            moto: Vec::new(),
            calls: Vec::new(),
        })
        .collect();
    let mut record = |route: &'static str, elapsed: Duration, calls: Vec<crate::counting::Call>| {
        if let Some(r) = results.iter_mut().find(|r| r.route == route) {
            r.total.push(elapsed);
            r.moto.push(calls.iter().map(|c| c.wire).sum());
            r.calls.push(calls.len());
        }
    };
    for i in 0..rounds {
        round(fx, &mut client, &READS, &mut record).await?;
        if i < write_rounds {
            round(fx, &mut client, &WRITES, &mut record).await?;
        }
    }
    server.abort();
    Ok(results)
}
