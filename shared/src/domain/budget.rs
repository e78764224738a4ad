//! A request's time budget: when it must have its answer ready. Lambda stops a function at its
//! deadline, and API Gateway's HTTP API stops waiting 30 s after it received the request; either
//! way the caller gets a bare 5xx instead of our answer, and whatever the handler learnt (the
//! links of invitations it committed) is lost. A handler that knows its budget stops starting
//! work in time to answer with problem+json instead.

use std::time::{Duration, Instant, SystemTime};

/// How long API Gateway's HTTP API waits for an integration before it answers 503 itself.
pub const GATEWAY_LIMIT: Duration = Duration::from_secs(30);

/// Kept back from the earlier deadline to write the answer and hand it to Lambda's runtime.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(300);

/// The instant by which a request must have its answer ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    answer_by: Instant,
}

impl Budget {
    /// The budget of a request that API Gateway `received` (when known) and Lambda must finish
    /// by `lambda_deadline` (when known): the earlier of that deadline and `gateway_limit`
    /// (`GATEWAY_LIMIT` deployed) after receipt, less `ANSWER_MARGIN`. `now` and `clock` are the
    /// same moment on the monotonic and the wall clock: deadlines come as wall-clock times,
    /// waits are measured monotonically.
    pub fn new(
        now: Instant,
        clock: SystemTime,
        lambda_deadline: Option<SystemTime>,
        received: Option<SystemTime>,
        gateway_limit: Duration,
    ) -> Self {
        // A receipt "in the future" is clock skew between API Gateway and Lambda: use now.
        let received = received.map_or(clock, |r| r.min(clock));
        let gateway = received + gateway_limit;
        let deadline = lambda_deadline.map_or(gateway, |d| d.min(gateway));
        let left = deadline.duration_since(clock).unwrap_or_default();
        Self {
            answer_by: now + left.saturating_sub(ANSWER_MARGIN),
        }
    }

    /// A budget of `left` from now.
    pub fn from_now(left: Duration) -> Self {
        Self {
            answer_by: Instant::now() + left,
        }
    }

    /// When the answer must be ready.
    pub fn answer_by(&self) -> Instant {
        self.answer_by
    }

    /// The time left at `now`; zero once it is spent.
    pub fn left_at(&self, now: Instant) -> Duration {
        self.answer_by.saturating_duration_since(now)
    }

    pub fn left(&self) -> Duration {
        self.left_at(Instant::now())
    }

    /// Whether work expected to take up to `work` still fits.
    pub fn has(&self, work: Duration) -> bool {
        self.left() >= work
    }

    /// The budget of a step that must leave `reserve` for what comes after it.
    pub fn leaving(&self, reserve: Duration) -> Self {
        Self {
            answer_by: self
                .answer_by
                .checked_sub(reserve)
                .unwrap_or(self.answer_by.min(Instant::now())),
        }
    }
}

/// Work that was not done because the request's time ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutOfTime {
    /// The handler was still working when the budget ran out, and was stopped.
    #[error("the request's time ran out before it finished")]
    Cut,
    /// This part was never started: too little time was left for it.
    #[error("not attempted: the request's time ran out first")]
    NotAttempted,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_lambda_deadline_bounds_a_short_function() {
        let (now, clock) = (Instant::now(), SystemTime::now());
        let budget = Budget::new(
            now,
            clock,
            Some(clock + secs(10)),
            Some(clock),
            GATEWAY_LIMIT,
        );
        assert_eq!(budget.left_at(now), secs(10) - ANSWER_MARGIN);
    }

    #[test]
    fn api_gateway_bounds_a_long_function_from_when_it_received_the_request() {
        let (now, clock) = (Instant::now(), SystemTime::now());
        let received = clock - secs(2);
        let budget = Budget::new(
            now,
            clock,
            Some(clock + secs(60)),
            Some(received),
            GATEWAY_LIMIT,
        );
        assert_eq!(budget.left_at(now), secs(28) - ANSWER_MARGIN);
        // Without a Lambda context, API Gateway's limit alone.
        let budget = Budget::new(now, clock, None, None, GATEWAY_LIMIT);
        assert_eq!(budget.left_at(now), GATEWAY_LIMIT - ANSWER_MARGIN);
        // An API that waits longer (a test's, on a slow local AWS) leaves more.
        let budget = Budget::new(now, clock, None, None, secs(300));
        assert_eq!(budget.left_at(now), secs(300) - ANSWER_MARGIN);
    }

    #[test]
    fn a_receipt_after_now_is_clock_skew_and_counts_as_now() {
        let (now, clock) = (Instant::now(), SystemTime::now());
        let budget = Budget::new(now, clock, None, Some(clock + secs(5)), GATEWAY_LIMIT);
        assert_eq!(budget.left_at(now), GATEWAY_LIMIT - ANSWER_MARGIN);
    }

    #[test]
    fn a_deadline_already_past_leaves_nothing() {
        let (now, clock) = (Instant::now(), SystemTime::now());
        let budget = Budget::new(now, clock, Some(clock - secs(1)), None, GATEWAY_LIMIT);
        assert_eq!(budget.left_at(now), Duration::ZERO);
        assert!(!budget.has(Duration::from_millis(1)));
        assert!(budget.has(Duration::ZERO));
    }

    #[test]
    fn time_left_shrinks_as_time_passes_and_a_step_can_leave_a_reserve() {
        let (now, clock) = (Instant::now(), SystemTime::now());
        let budget = Budget::new(now, clock, Some(clock + secs(5)), None, GATEWAY_LIMIT);
        let later = now + secs(3);
        assert_eq!(budget.left_at(later), secs(2) - ANSWER_MARGIN);
        assert_eq!(budget.left_at(now + secs(9)), Duration::ZERO);
        let step = budget.leaving(secs(1));
        assert_eq!(step.left_at(now), secs(4) - ANSWER_MARGIN);
        assert!(budget.leaving(secs(3600)).left() == Duration::ZERO);
        assert!(Budget::from_now(secs(60)).has(secs(59)));
    }
}
