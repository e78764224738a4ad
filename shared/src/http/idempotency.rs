//! `Idempotency-Key` at the edge, around every handler (`answer_once`): a signed-in caller's
//! write with a key claims it (`store::Claim`), and a repeat gets the first outcome, 422 for
//! another request under the same key, or 409 with `Retry-After` while the first still runs.
//! The rules are `domain::idempotency`'s; the record is the store's.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};

use super::budget::{answer_in_time, budget_of};
use super::claims::caller;
use super::problem::ApiError;
use super::response::{request_id, respond};
use crate::budget::Budget;
use crate::domain::idempotency::{
    Decision, IdempotencyKey, KEY_LIFETIME_SECONDS, decide, fingerprint, keeps_answer,
    without_secrets,
};
use crate::idempotency::{self, Held, Scope, StoredAnswer};
use crate::store::{Claim, Store};

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// On an answer given again: `true`.
pub const REPLAYED: &str = "idempotent-replayed";

/// A lease lasts the request's budget and this much more: by then the first request has
/// answered or been cut off.
const LEASE_MARGIN: Duration = Duration::from_secs(2);
/// The time for keeping an answer, once the handler has given it.
const KEEP_TIME: Duration = Duration::from_secs(1);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// An answer as a key's record keeps it: one-time secrets taken out (`without_secrets`).
pub fn stored_answer(response: &Response<Body>) -> StoredAnswer {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    StoredAnswer {
        status: response.status().as_u16(),
        content_type: header(CONTENT_TYPE),
        location: header(LOCATION),
        body: without_secrets(&body).unwrap_or(body),
    }
}

/// How the handler answers what the store commits (`T`, see `Tx::made`): rendered at the
/// commit, so that a request with a key stores its answer in the write's own transaction.
pub fn answer_at_commit<T: 'static>(render: impl Fn(&T) -> Response<Body> + Send + Sync + 'static) {
    idempotency::answer_at_commit(move |made: &T| stored_answer(&render(made)));
}

fn replay(answer: StoredAnswer) -> Response<Body> {
    let body = match answer.body.is_empty() {
        true => Body::Empty,
        false => Body::Text(answer.body),
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    let mut set = |name, value: Option<String>| {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, value);
        }
    };
    set(CONTENT_TYPE, answer.content_type);
    set(LOCATION, answer.location);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// The answer to a repeat, from the decision on its key's record.
fn repeat_answer(
    decision: Decision,
    answer: Option<StoredAnswer>,
) -> Result<Response<Body>, ApiError> {
    match (decision, answer) {
        (Decision::Replay, Some(answer)) => Ok(replay(answer)),
        (Decision::Replay | Decision::AnswerLost, _) => Err(ApiError::AnswerLost),
        (Decision::Mismatch, _) => Err(ApiError::KeyReused),
        (
            Decision::InProgress {
                retry_after_seconds,
            },
            _,
        ) => Err(ApiError::KeyInUse {
            retry_after: retry_after_seconds,
        }),
        // The claim found a record that the decision takes as lapsed: they met at its edge.
        (Decision::Proceed, _) => Err(ApiError::KeyInUse { retry_after: 1 }),
    }
}

/// Runs a handler as `answer_in_time` does, once per `Idempotency-Key`: see the module. A
/// write without a key, or from a caller not signed in (the public routes change nothing a
/// repeat could double), runs as it is, though a 503 still says when its outcome is unknown.
pub async fn answer_once<F>(
    store: &Store,
    gateway_limit: Duration,
    req: Request,
    handler: impl FnOnce(Request) -> F,
) -> Response<Body>
where
    F: Future<Output = Result<Response<Body>, ApiError>>,
{
    let method = req.method().clone();
    if !matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return answer_in_time(gateway_limit, req, handler).await;
    }
    let id = request_id(&req);
    let held = match (req.headers().get(IDEMPOTENCY_KEY), caller(&req)) {
        (Some(raw), Ok(caller)) => match IdempotencyKey::parse(raw.as_bytes()) {
            Ok(key) => Some(Held {
                user: caller.user_id,
                key,
                fingerprint: fingerprint(
                    method.as_str(),
                    req.uri().path_and_query().map_or("", |p| p.as_str()),
                    req.body().as_ref(),
                ),
                lease_id: uuid::Uuid::new_v4().to_string(),
                expire_at: now_ms() / 1000 + KEY_LIFETIME_SECONDS,
            }),
            Err(_) => return respond(&id, Err(ApiError::InvalidKey)),
        },
        _ => None,
    };
    if let Some(held) = &held {
        let budget = budget_of(&req, gateway_limit);
        let now = now_ms();
        let lease_ms = (budget.left() + LEASE_MARGIN).as_millis();
        let lease_until = now + i64::try_from(lease_ms).unwrap_or(i64::MAX / 2);
        let claimed = crate::budget::within(budget, store.claim_key(held, now, lease_until)).await;
        match claimed {
            Ok(Claim::Held) => {}
            Ok(Claim::Found(record, answer)) => {
                return respond(
                    &id,
                    repeat_answer(decide(Some(&record), &held.fingerprint, now), answer),
                );
            }
            Err(err) => return respond(&id, Err(err.into())),
        }
    }
    let scope = Scope::new(held.clone(), method == Method::DELETE);
    let response =
        idempotency::within(scope.clone(), answer_in_time(gateway_limit, req, handler)).await;
    if let Some(held) = &held {
        settle(store, held, &scope, &response).await;
    }
    response
}

/// After the answer: keeps it for repeats, or frees the key when the request wrote nothing and
/// a repeat may do better; a commit of unknown outcome keeps the lease until it lapses.
async fn settle(store: &Store, held: &Held, scope: &Scope, response: &Response<Body>) {
    let status = response.status().as_u16();
    let settled = async {
        if keeps_answer(status) {
            store.keep_answer(held, &stored_answer(response)).await
        } else if !scope.recorded() && !scope.outcome_unknown() {
            store.release_key(held).await
        } else {
            Ok(())
        }
    };
    if let Err(err) = crate::budget::within(Budget::from_now(KEEP_TIME), settled).await {
        let chain = crate::logs::error_chain(&err);
        tracing::warn!(error = %chain, "an idempotency key's record was not settled");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_answer_keeps_status_headers_and_body_but_no_link() {
        let mut response = super::super::created(
            "/orgs/o1",
            &serde_json::json!({ "invite_url": "https://x/?token=secret", "a": 1 }),
        );
        response
            .headers_mut()
            .insert("x-other", HeaderValue::from_static("1"));
        let stored = stored_answer(&response);
        assert_eq!(stored.status, 201);
        assert_eq!(stored.location.as_deref(), Some("/orgs/o1"));
        assert_eq!(stored.content_type.as_deref(), Some("application/json"));
        assert!(!stored.body.contains("secret"));
        let replayed = replay(stored);
        assert_eq!(replayed.status(), StatusCode::CREATED);
        assert_eq!(replayed.headers()[REPLAYED], "true");
        assert_eq!(replayed.headers()[LOCATION], "/orgs/o1");
        assert!(replayed.headers().get("x-other").is_none());
    }

    #[test]
    fn repeats_answer_by_the_decision() {
        let status = |r: Result<Response<Body>, ApiError>| match r {
            Ok(r) => r.status().as_u16(),
            Err(e) => e.answer().status.as_u16(),
        };
        assert_eq!(status(repeat_answer(Decision::Mismatch, None)), 422);
        let busy = repeat_answer(
            Decision::InProgress {
                retry_after_seconds: 4,
            },
            None,
        );
        let Err(err) = busy else { panic!() };
        assert_eq!(
            (err.answer().status.as_u16(), err.answer().retry_after),
            (409, Some(4))
        );
        assert_eq!(status(repeat_answer(Decision::AnswerLost, None)), 409);
    }
}
