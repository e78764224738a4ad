//! Handlers called directly with a built `lambda_http::Request`, as the Lambda runtime would
//! call them. These cover the answers that must come before any AWS call; the app's endpoint
//! is a closed port, so a handler that reached DynamoDB would answer 503, not what is asserted.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgs_shared::app::{App, Config};
use orgs_shared::domain::budget::GATEWAY_LIMIT;
use orgs_shared::http::{ApiError, respond};
use serde_json::{Value, json};

use crate::handlers::{me, orgs};

/// SDK settings aimed at a closed port: a test that passes with them made no request.
fn unreachable_sdk() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .http_client(crate::runtime::https_client().expect("the HTTPS client"))
        .endpoint_url("http://127.0.0.1:9")
        .build()
}

/// A store whose table cannot be reached, for the triggers' tests.
pub(crate) fn unreachable_store() -> orgs_shared::store::Store {
    orgs_shared::store::Store::from_sdk(&unreachable_sdk(), "unreachable", Default::default())
}

fn app() -> App {
    App::new(&unreachable_sdk(), Config::for_table("unreachable"))
}

/// An API Gateway payload 2.0 event, converted as the runtime converts it.
fn request(
    method: &str,
    path: &str,
    params: Value,
    query: Value,
    sub: Option<&str>,
    body: Option<String>,
) -> Request {
    let authorizer = sub.map(|sub| json!({ "jwt": { "claims": { "sub": sub, "email": "a@example.com", "email_verified": "true" } } }));
    let event = json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        // lambda_http reads the query from here (as API Gateway sends it), not from
        // `queryStringParameters`.
        "rawQueryString": raw_query(&query),
        "headers": { "host": "api.example.com" },
        "queryStringParameters": query,
        "pathParameters": params,
        "requestContext": {
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "test" },
            "requestId": "req-1",
            "routeKey": format!("{method} {path}"),
            "stage": "$default",
            "authorizer": authorizer,
        },
        "body": body,
        "isBase64Encoded": false,
    });
    lambda_http::request::from_str(&event.to_string()).expect("a valid payload 2.0 event")
}

fn raw_query(query: &Value) -> String {
    let pairs = query.as_object().into_iter().flatten();
    pairs
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("&")
}

/// A route's handler, with the gate of what its catalog entry needs, as its function runs it.
async fn handled(function: &str, req: Request) -> Result<Response<Body>, ApiError> {
    let route = crate::routes::ROUTES
        .iter()
        .find(|r| r.function == function)
        .expect("a route of the catalog");
    let (gate, _) = crate::access::Gate::new(route.needs);
    (route.handler)(&app(), req, gate).await
}

fn problem(response: Response<Body>) -> (StatusCode, Value) {
    let status = response.status();
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = serde_json::from_slice(response.body().as_ref()).expect("JSON");
    assert_eq!(body["request_id"], "req-1");
    (status, body)
}

#[tokio::test]
async fn no_verified_claims_means_401() {
    let req = request("GET", "/me", Value::Null, Value::Null, None, None);
    let (status, body) = problem(respond("req-1", me::get_me(&app(), req).await));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["type"], "urn:orgs:problem:unauthorized");
}

#[tokio::test]
async fn invalid_bodies_are_refused_before_any_aws_call() {
    let body = json!({ "handle": "no", "display_name": "ok", "region": "moon" }).to_string();
    let req = request(
        "POST",
        "/orgs",
        Value::Null,
        Value::Null,
        Some("alice"),
        Some(body),
    );
    let (status, body) = problem(respond("req-1", orgs::create_org(&app(), req).await));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["handle", "region"]);
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let body = format!("{{\"display_name\": \"{}\"}}", "x".repeat(20_000));
    let req = request(
        "PATCH",
        "/me",
        Value::Null,
        Value::Null,
        Some("alice"),
        Some(body),
    );
    let (status, _) = problem(respond("req-1", me::update_me(&app(), req).await));
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_malformed_organization_id_is_simply_not_found() {
    let req = request(
        "GET",
        "/orgs/{org_id}",
        json!({ "org_id": "ORG#x" }),
        Value::Null,
        Some("alice"),
        None,
    );
    let (status, body) = problem(respond("req-1", handled("get-org", req).await));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["type"], "urn:orgs:problem:not-found");
}

#[tokio::test]
async fn bad_paging_parameters_are_400() {
    let req = request(
        "GET",
        "/orgs",
        Value::Null,
        json!({ "limit": "500" }),
        Some("alice"),
        None,
    );
    let (status, body) = problem(respond("req-1", orgs::list_orgs(&app(), req).await));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "limit");
}

#[tokio::test]
async fn bad_audit_log_filters_are_400_before_any_aws_call() {
    let req = request(
        "GET",
        "/orgs/{org_id}/audit-log",
        json!({ "org_id": "org_00000000000000000000000000000000" }),
        json!({ "action": "org.hacked", "actor": "" }),
        Some("alice"),
        None,
    );
    let (status, body) = problem(respond("req-1", handled("list-audit-log", req).await));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["action", "actor"]);
}

#[tokio::test]
async fn an_unreachable_table_is_503_with_retry_after() {
    let req = request("GET", "/me", Value::Null, Value::Null, Some("alice"), None);
    let response = respond("req-1", me::get_me(&app(), req).await);
    assert_eq!(response.headers()["retry-after"], "1");
    let (status, body) = problem(response);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["type"], "urn:orgs:problem:unavailable");
}

/// `request`, with the Lambda context of an invocation whose deadline is `left` from now.
fn request_with_deadline(req: Request, left: std::time::Duration) -> Request {
    use lambda_http::RequestExt;
    let deadline = std::time::SystemTime::now() + left;
    let mut context = lambda_http::Context::default();
    context.deadline = deadline
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap())
        .unwrap();
    req.with_lambda_context(context)
}

#[tokio::test]
async fn a_handler_still_working_at_its_deadline_is_answered_503_in_time() {
    let left = std::time::Duration::from_millis(800);
    let req = request("GET", "/me", Value::Null, Value::Null, Some("alice"), None);
    let req = request_with_deadline(req, left);
    let started = std::time::Instant::now();
    let response = orgs_shared::http::answer_in_time(GATEWAY_LIMIT, req, |_| async {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        Ok(orgs_shared::http::no_content())
    })
    .await;
    assert!(started.elapsed() < left, "{:?}", started.elapsed());
    assert_eq!(response.headers()["retry-after"], "1");
    let (status, body) = problem(response);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["type"], "urn:orgs:problem:unavailable");
}

#[tokio::test]
async fn an_aws_call_that_hangs_is_cut_by_the_budget_and_answered_by_the_store() {
    // A DynamoDB that takes connections and never answers; the app sets no timeouts of its own.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .http_client(crate::runtime::https_client().expect("the HTTPS client"))
        .endpoint_url(format!("http://{}", hung.local_addr().unwrap()))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("test", "test", None, None, "test"),
            ),
        )
        .build();
    let app = App::new(&sdk, Config::for_table("hung"));
    let left = std::time::Duration::from_secs(2);
    let req = request("GET", "/me", Value::Null, Value::Null, Some("alice"), None);
    let req = request_with_deadline(req, left);
    let started = std::time::Instant::now();
    let response =
        orgs_shared::http::answer_in_time(GATEWAY_LIMIT, req, |req| me::get_me(&app, req)).await;
    assert!(started.elapsed() < left, "{:?}", started.elapsed());
    let (status, body) = problem(response);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // The store's own answer (DynamoDB unavailable), not the backstop's: the call was bounded.
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("dependency")),
        "{body}"
    );
    drop(hung);
}

/// A handler that answers without looking at its gate.
fn answers_without_opening<'a>(
    _: &'a App,
    _: Request,
    _: crate::access::Gate,
) -> crate::routes::Answer<'a> {
    Box::pin(async { Ok(orgs_shared::http::no_content()) })
}

#[tokio::test]
async fn a_route_that_needs_a_permission_cannot_answer_without_opening_its_gate() {
    let needs = crate::access::Needs {
        permission: orgs_shared::domain::Permission::TeamsManage,
        on_oneself: None,
        or_else: None,
        in_team: false,
    };
    let req = || {
        request(
            "POST",
            "/orgs/{org_id}/teams",
            json!({ "org_id": "org_00000000000000000000000000000000" }),
            Value::Null,
            Some("alice"),
            None,
        )
    };
    let refused = crate::routes::serve(&app(), req(), Some(needs), answers_without_opening).await;
    assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // The same handler on a route that needs nothing in an organization answers.
    let answered = crate::routes::serve(&app(), req(), None, answers_without_opening).await;
    assert_eq!(answered.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_route_that_declares_no_permission_cannot_open_a_gate() {
    let req = request(
        "GET",
        "/orgs/{org_id}",
        json!({ "org_id": "org_00000000000000000000000000000000" }),
        Value::Null,
        Some("alice"),
        None,
    );
    let (gate, _) = crate::access::Gate::new(None);
    let caller = orgs_shared::http::caller(&req).expect("claims");
    // Refused before any read (the app's AWS is unreachable).
    let opened = gate.open(&app(), &caller, &req).await;
    assert!(matches!(opened, Err(ApiError::Unguarded)));
}
