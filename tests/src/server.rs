//! A local stand-in for API Gateway's HTTP API: verifies the bearer token as the JWT authorizer
//! would, builds the payload 2.0 event, converts it with `lambda_http` exactly as the Lambda
//! runtime does, and calls the same handler the function's binary runs.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use lambda_http::RequestExt;
use orgs_functions::routes::{self, Auth};
use orgs_shared::app::App;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::cors::Cors;
use crate::gateway_path::{decode_params, decode_path};
use crate::timeouts::FunctionTimeouts;
use crate::token;

/// API Gateway's own limit on a request's payload.
const GATEWAY_MAX_BODY: usize = 10 * 1024 * 1024;

pub struct LocalApi {
    pub app: App,
    pub jwt_secret: String,
    /// The OpenAPI document as JSON, served at `/openapi.json`.
    pub openapi: Option<String>,
    /// Log one line per request.
    pub log_requests: bool,
    /// The HTTP API's `CorsConfiguration` origins (`CorsAllowedOrigins`).
    pub cors: Cors,
    /// Each function's Lambda timeout: a handler is told the deadline it would have on Lambda.
    pub timeouts: FunctionTimeouts,
}

/// Serves until the listener's task is dropped.
pub async fn serve(listener: TcpListener, api: Arc<LocalApi>) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let api = api.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let api = api.clone();
                async move { Ok::<_, Infallible>(handle(&api, req, peer.ip().to_string()).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn gateway_answer(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(
        json!({ "message": message }).to_string(),
    )));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().expect("static"));
    response
}

async fn handle(
    api: &LocalApi,
    req: Request<Incoming>,
    source_ip: String,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let request_headers = req.headers().clone();
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut response = if req.method() == hyper::Method::OPTIONS && api.cors.enabled() {
        // API Gateway answers every preflight itself once CORS is configured.
        let mut preflight = Response::new(Full::new(Bytes::new()));
        *preflight.status_mut() = StatusCode::NO_CONTENT;
        *preflight.headers_mut() = api.cors.preflight_headers(&request_headers);
        preflight
    } else {
        let mut answer = route(api, req, source_ip, &request_id).await;
        api.cors.decorate(&request_headers, answer.headers_mut());
        answer
    };
    if let Ok(id) = request_id.parse() {
        response.headers_mut().insert("apigw-requestid", id);
    }
    if api.log_requests {
        eprintln!(
            "{method} {path} -> {} ({} ms)",
            response.status().as_u16(),
            started.elapsed().as_millis()
        );
    }
    response
}

async fn route(
    api: &LocalApi,
    req: Request<Incoming>,
    source_ip: String,
    request_id: &str,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, GATEWAY_MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return gateway_answer(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
    };
    let path = parts.uri.path();
    if parts.method == "GET"
        && path == "/openapi.json"
        && let Some(doc) = &api.openapi
    {
        let mut response = Response::new(Full::new(Bytes::from(doc.clone())));
        let json = "application/json".parse().expect("static");
        response.headers_mut().insert("content-type", json);
        return response;
    }
    let Some((route, path, path_params)) = find_route(&parts) else {
        return gateway_answer(StatusCode::NOT_FOUND, "Not Found");
    };
    let claims = match route.auth {
        Auth::Public => None,
        Auth::Jwt => {
            let bearer = parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            match bearer.and_then(|t| token::verify(&api.jwt_secret, t.trim())) {
                Some(claims) => Some(claims),
                None => return gateway_answer(StatusCode::UNAUTHORIZED, "Unauthorized"),
            }
        }
    };
    let event = payload_v2(
        &parts,
        &body,
        Routed {
            route,
            path,
            path_params,
        },
        claims,
        source_ip,
        request_id,
    );
    let request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(request) => request.with_lambda_context(lambda_context(api.timeouts.of(route.function))),
        Err(_) => return gateway_answer(StatusCode::BAD_REQUEST, "Bad Request"),
    };
    let answer = routes::invoke(route.function, &api.app, request);
    match crate::grants::as_function(route.function, answer).await {
        Some(response) => to_hyper(response),
        None => gateway_answer(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    }
}

/// The context Lambda gives an invocation of a function with this timeout: its own request id,
/// and the deadline the timeout sets from now.
fn lambda_context(timeout: Duration) -> lambda_http::Context {
    let deadline = SystemTime::now() + timeout;
    let mut context = lambda_http::Context::default();
    context.request_id = uuid::Uuid::new_v4().to_string();
    context.deadline = deadline
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    context
}

/// The payload 2.0 event API Gateway would send for this request once routed and authorized,
/// with `claims` as its JWT authorizer's verified claims; `None` when no route matches. The
/// benchmark hands these events to function binaries through the Lambda Runtime API.
pub fn gateway_event(
    parts: &hyper::http::request::Parts,
    body: &Bytes,
    claims: Option<HashMap<String, String>>,
) -> Option<Value> {
    let (route, path, path_params) = find_route(parts)?;
    Some(payload_v2(
        parts,
        body,
        Routed {
            route,
            path,
            path_params,
        },
        claims,
        "127.0.0.1".into(),
        &uuid::Uuid::new_v4().to_string(),
    ))
}

/// A request matched to its route, with the decoded path and parameters a function receives.
struct Routed {
    route: &'static routes::Route,
    path: String,
    path_params: HashMap<String, String>,
}

/// Routes as an HTTP API does: on the decoded path, with each parameter decoded once more
/// (see `gateway_path`).
fn find_route(
    parts: &hyper::http::request::Parts,
) -> Option<(&'static routes::Route, String, HashMap<String, String>)> {
    let path = decode_path(parts.uri.path())?;
    let (route, matched) = routes::find(parts.method.as_str(), &path)?;
    Some((route, path, decode_params(matched)?))
}

/// The event API Gateway (HTTP API, payload format 2.0) sends to a function.
fn payload_v2(
    parts: &hyper::http::request::Parts,
    body: &Bytes,
    routed: Routed,
    claims: Option<HashMap<String, String>>,
    source_ip: String,
    request_id: &str,
) -> Value {
    let Routed {
        route,
        path,
        path_params,
    } = routed;
    let mut headers: HashMap<String, String> = HashMap::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let raw_query = parts.uri.query().unwrap_or_default();
    let mut query: HashMap<String, String> = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        query
            .entry(name.into_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    let (body, is_base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let now = time::OffsetDateTime::now_utc();
    let route_key = format!("{} {}", route.method, route.path);
    let authorizer = claims.map(|claims| json!({ "jwt": { "claims": claims, "scopes": null } }));
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": &path,
        "rawQueryString": raw_query,
        "headers": headers,
        "queryStringParameters": if query.is_empty() { Value::Null } else { json!(query) },
        "pathParameters": if path_params.is_empty() { Value::Null } else { json!(path_params) },
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host").cloned().unwrap_or_else(|| "127.0.0.1".into()),
            "domainPrefix": "local",
            "http": {
                "method": parts.method.as_str(),
                "path": &path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.to_string(),
            "timeEpoch": now.unix_timestamp() * 1000,
            "authorizer": authorizer,
        },
        "body": if body.is_empty() { Value::Null } else { json!(body) },
        "isBase64Encoded": is_base64,
    })
}

fn to_hyper(response: lambda_http::Response<lambda_http::Body>) -> Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, Full::new(Bytes::copy_from_slice(body.as_ref())))
}
