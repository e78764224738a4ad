//! When to try again after DynamoDB refused a write for a reason that passes with time (a
//! conflict with another transaction in flight, throttling): jittered exponential backoff,
//! within a time budget, so that many requests contending for one item spread out instead of
//! colliding again in step, and a request still answers in time when the contention lasts.

use std::time::{Duration, Instant};

/// The first delay's ceiling; each retry doubles it, up to `MAX_DELAY`.
const FIRST_DELAY: Duration = Duration::from_millis(10);
const MAX_DELAY: Duration = Duration::from_millis(400);

/// How long a write keeps retrying conflicts before it answers 503 with `Retry-After`, when it
/// runs outside a request (the expiry job, tests): enough to outlast a burst on one organization.
/// Within a request, its time budget decides instead (`Backoff::for_request`).
pub const CONFLICT_BUDGET: Duration = Duration::from_secs(5);

/// Kept back from the request's budget for the last try itself and the answer after it.
const LAST_TRY: Duration = Duration::from_millis(250);

pub struct Backoff {
    started: Instant,
    budget: Duration,
    retries: u32,
}

impl Backoff {
    pub fn new(budget: Duration) -> Self {
        Self {
            started: Instant::now(),
            budget,
            retries: 0,
        }
    }

    /// Retries within the current request's time budget, less the time the last try needs;
    /// outside a request, within `CONFLICT_BUDGET`.
    pub fn for_request() -> Self {
        let budget = crate::budget::current()
            .map_or(CONFLICT_BUDGET, |budget| budget.leaving(LAST_TRY).left());
        Self::new(budget)
    }

    /// The delay before the next try, or `None` when it would end past the budget.
    pub fn next_delay(&mut self) -> Option<Duration> {
        let delay = delay(self.retries, fastrand::f64());
        self.retries += 1;
        (self.started.elapsed() + delay <= self.budget).then_some(delay)
    }

    /// Sleeps before the next try; `false` (at once) when the budget is spent.
    pub async fn wait(&mut self) -> bool {
        match self.next_delay() {
            Some(delay) => {
                tokio::time::sleep(delay).await;
                true
            }
            None => false,
        }
    }
}

/// "Full jitter": a uniformly random delay (`random` in 0..1) below a ceiling that doubles with
/// each retry, from `FIRST_DELAY` up to `MAX_DELAY`.
fn delay(retries: u32, random: f64) -> Duration {
    let ceiling = FIRST_DELAY
        .saturating_mul(1u32.checked_shl(retries.min(16)).unwrap_or(u32::MAX))
        .min(MAX_DELAY);
    ceiling.mul_f64(random.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_from_the_first_delay_up_to_the_cap() {
        assert_eq!(delay(0, 1.0), Duration::from_millis(10));
        assert_eq!(delay(1, 1.0), Duration::from_millis(20));
        assert_eq!(delay(3, 1.0), Duration::from_millis(80));
        assert_eq!(delay(6, 1.0), MAX_DELAY);
        assert_eq!(delay(40, 1.0), MAX_DELAY);
    }

    #[test]
    fn the_delay_is_a_random_share_of_the_ceiling() {
        assert_eq!(delay(2, 0.0), Duration::ZERO);
        assert_eq!(delay(2, 0.5), Duration::from_millis(20));
        assert_eq!(delay(2, 7.0), Duration::from_millis(40));
    }

    #[tokio::test]
    async fn within_a_request_conflicts_are_retried_only_in_the_time_it_has_left() {
        use crate::budget::{Budget, within};
        let budget_within = |left| {
            within(Budget::from_now(left), async {
                Backoff::for_request().budget
            })
        };
        let short = budget_within(Duration::from_secs(1)).await;
        assert!(short <= Duration::from_secs(1) - LAST_TRY, "{short:?}");
        // A long request may retry longer than a job would.
        let long = budget_within(Duration::from_secs(25)).await;
        assert!(long > CONFLICT_BUDGET, "{long:?}");
        assert_eq!(Backoff::for_request().budget, CONFLICT_BUDGET);
    }

    #[test]
    fn no_delay_is_offered_that_would_end_past_the_budget() {
        let mut none = Backoff::new(Duration::ZERO);
        // Only a zero delay fits a zero budget; any later one does not.
        let offered: Vec<_> = (0..20).filter_map(|_| none.next_delay()).collect();
        assert!(offered.iter().all(|d| d.is_zero()), "{offered:?}");
        let mut roomy = Backoff::new(Duration::from_secs(3600));
        assert!((0..20).all(|_| roomy.next_delay().is_some()));
    }
}
