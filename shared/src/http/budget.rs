//! Every handler runs within its request's time budget (`crate::budget`), and is stopped when the
//! budget runs out: the answer is then 503 problem+json with `Retry-After`, given before Lambda or
//! API Gateway would cut the request off with a bare 5xx of their own.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use super::problem::ApiError;
use super::response::{request_id, respond};
use crate::budget::{Budget, OutOfTime, within};

/// The budget of a request: from the Lambda context's deadline (when there is one) and the time
/// API Gateway received the request (its `timeEpoch`), which waits `gateway_limit` for it.
pub fn budget_of(req: &Request, gateway_limit: Duration) -> Budget {
    let lambda_deadline = req
        .lambda_context_ref()
        .filter(|context| context.deadline > 0)
        .map(|context| context.deadline());
    let received = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) if context.time_epoch > 0 => {
            u64::try_from(context.time_epoch)
                .ok()
                .map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
        }
        _ => None,
    };
    Budget::new(
        Instant::now(),
        SystemTime::now(),
        lambda_deadline,
        received,
        gateway_limit,
    )
}

/// Runs a handler as a function serves a request: within the request's budget (see
/// `budget_of`), stopped when it runs out, its result turned into the answer (`respond`).
pub async fn answer_in_time<F>(
    gateway_limit: Duration,
    req: Request,
    handler: impl FnOnce(Request) -> F,
) -> Response<Body>
where
    F: Future<Output = Result<Response<Body>, ApiError>>,
{
    let request_id = request_id(&req);
    let budget = budget_of(&req, gateway_limit);
    let work = within(budget, handler(req));
    let result = tokio::time::timeout_at(budget.answer_by().into(), work)
        .await
        .unwrap_or(Err(ApiError::OutOfTime(OutOfTime::Cut)))
        .map_err(ApiError::of_unknown_outcome);
    respond(&request_id, result)
}
