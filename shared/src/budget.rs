//! The budget of the request being served, where the code that spends it can see it: a task-local
//! set around the handler (`within`), read by the store's retries and by every AWS call through
//! `WithinBudget`, an interceptor on the SDK clients. Code run outside a request (the expiry job,
//! tests calling the store) has no budget, and the configured timeouts alone bound it.

use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};

pub use crate::domain::{Budget, OutOfTime};

tokio::task_local! {
    static CURRENT: Budget;
}

/// Runs `work` with `budget` as the current request's.
pub async fn within<F: Future>(budget: Budget, work: F) -> F::Output {
    CURRENT.scope(budget, work).await
}

/// The budget of the request being served, if any.
pub fn current() -> Option<Budget> {
    CURRENT.try_with(|budget| *budget).ok()
}

/// How long the `token-claims` trigger may take, from when its invocation starts, to answer or
/// fail. Cognito waits 5 s for the trigger, cold start included, then refuses the sign-in with a
/// timeout; every read, retry and backoff of one invocation shares this one deadline, and an
/// invocation that reaches it fails with an error of its own (the sign-in fails just the same,
/// but the log says why, and a slow DynamoDB cannot add its calls' timeouts up past Cognito's).
pub const TOKEN_CLAIMS_DEADLINE: Duration = Duration::from_secs(4);

/// Below this, an AWS call is not started: it could not get an answer in time anyway.
pub const MIN_CALL: Duration = Duration::from_millis(50);

/// An AWS call ends this long before the budget does, so that the handler still has the time to
/// answer with what it learnt (a batch, the invitees it did invite) rather than being stopped.
pub const CALL_MARGIN: Duration = Duration::from_millis(100);

/// Bounds every call of an SDK client by the current request's budget: its timeout for the whole
/// call (with retries) and for each attempt is at most the time left less `CALL_MARGIN`, and no
/// attempt is sent once less than `MIN_CALL` is left. A call cut so fails as a timeout or a failed dispatch, which the
/// store answers 503 with `Retry-After`, before Lambda's deadline instead of at it.
#[derive(Clone, Copy, Debug, Default)]
pub struct WithinBudget;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Intercept for WithinBudget {
    fn name(&self) -> &'static str {
        "WithinBudget"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(budget) = current() else {
            return Ok(());
        };
        // A zero timeout would mean none; the smallest one cuts the call at once instead.
        let left = budget
            .leaving(CALL_MARGIN)
            .left()
            .max(Duration::from_millis(1));
        let configured = cfg.load::<TimeoutConfig>().cloned();
        let bounded = |configured: Option<Duration>| Some(configured.map_or(left, |d| d.min(left)));
        let mut timeouts = TimeoutConfig::builder();
        timeouts.set_operation_timeout(bounded(
            configured.as_ref().and_then(|c| c.operation_timeout()),
        ));
        timeouts.set_operation_attempt_timeout(bounded(
            configured
                .as_ref()
                .and_then(|c| c.operation_attempt_timeout()),
        ));
        // The top layer: it wins over the client's and an operation's own settings, and the
        // timeouts it leaves unset (connecting, reading) keep theirs.
        cfg.interceptor_state().store_put(timeouts.build());
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match current() {
            Some(budget) if !budget.leaving(CALL_MARGIN).has(MIN_CALL) => {
                Err(Box::new(OutOfTime::NotAttempted))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_budget_is_current_only_within_its_scope() {
        assert_eq!(current(), None);
        let budget = Budget::from_now(Duration::from_secs(5));
        let seen = within(budget, async {
            tokio::task::yield_now().await;
            current()
        })
        .await;
        assert_eq!(seen, Some(budget));
        assert_eq!(current(), None);
    }
}
