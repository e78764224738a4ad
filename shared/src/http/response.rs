//! Building answers, and the request id that ties an answer to its logs and audit entry.

use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

use super::problem::{ApiError, PROBLEM_TYPE_PREFIX, Problem};

fn build(status: StatusCode, content_type: &str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = content_type.parse() {
        headers.insert(CONTENT_TYPE, value);
    }
    headers.insert(CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(text) => build(status, "application/json", Body::Text(text)),
        // Our own types always serialize; if one ever does not, say so plainly.
        Err(_) => build(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            Body::Empty,
        ),
    }
}

pub fn created<T: Serialize>(location: &str, value: &T) -> Response<Body> {
    let mut response = json(StatusCode::CREATED, value);
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

pub fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// API Gateway's request id, or the Lambda invocation's when there is none.
pub fn request_id(req: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(context)) = req.request_context_ref()
        && let Some(id) = &context.request_id
    {
        return id.clone();
    }
    req.lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// A problem as one item of a batch answer: its `type`, `title`, `status` and `detail`.
pub fn embedded_problem(err: &ApiError) -> serde_json::Value {
    let answer = err.answer();
    serde_json::json!({
        "type": format!("{PROBLEM_TYPE_PREFIX}{}", answer.code),
        "title": answer.title,
        "status": answer.status.as_u16(),
        "detail": answer.detail,
    })
}

/// Turns a handler's result into the answer; errors become problem+json, and faults on our side
/// are logged with their whole chain (never with the request body).
pub fn respond(request_id: &str, result: Result<Response<Body>, ApiError>) -> Response<Body> {
    let err = match result {
        Ok(response) => return response,
        Err(err) => err,
    };
    let answer = err.answer();
    if answer.status.is_server_error() {
        let chain = crate::logs::error_chain(&err);
        tracing::error!(request_id, status = answer.status.as_u16(), error = %chain, "request failed");
    }
    let problem = Problem {
        problem_type: format!("{PROBLEM_TYPE_PREFIX}{}", answer.code),
        title: answer.title,
        status: answer.status.as_u16(),
        detail: answer.detail,
        request_id: request_id.to_owned(),
        errors: answer.errors,
        reason: answer.reason,
        found: answer.found,
        limit: answer.limit.map(|(name, _)| name),
        resets_at: answer
            .limit
            .map(|(_, resets_at)| resets_at.map(|at| at.to_rfc3339())),
        outcome: answer.outcome,
        holders: answer.holders,
    };
    let body = serde_json::to_string(&problem).unwrap_or_default();
    let mut response = build(answer.status, "application/problem+json", Body::Text(body));
    if let Some(seconds) = answer.retry_after {
        response.headers_mut().insert(RETRY_AFTER, seconds.into());
    }
    response
}
