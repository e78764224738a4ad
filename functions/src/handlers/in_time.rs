//! How a batch of invitations spends the request's time budget (`orgs_shared::budget`): an
//! invitee is started only while there is time for its reads and transaction; an email is sent
//! only with the time that the invitees after it do not need, since an invitation without its
//! email stands (the link is in the answer, and a resend delivers it) and one not created does
//! not. What the budget kept out is reported per invitee, never lost with the answer.

use std::time::Duration;

use serde_json::{Value, json};

use orgs_shared::budget::{Budget, CALL_MARGIN, MIN_CALL, OutOfTime, current};
use orgs_shared::domain::invitation::MAX_INVITEES;
use orgs_shared::http::{ApiError, embedded_problem};

/// Kept for each invitee still to invite: its reads and its transaction, with room to spare.
pub const INVITEE_STEP: Duration = Duration::from_millis(500);

/// The budget of the request being served; outside one (a test calling a handler), API
/// Gateway's limit from now.
pub fn request_budget() -> Budget {
    current().unwrap_or_else(|| Budget::from_now(orgs_shared::domain::budget::GATEWAY_LIMIT))
}

/// Whether there is still time to invite one more invitee.
pub fn may_start_invitee(budget: &Budget) -> bool {
    budget.has(INVITEE_STEP)
}

/// The budget of an invitee's email, with `invitees_after` invitees still to invite after it;
/// it ends `CALL_MARGIN` early, as any AWS call, to leave time for the answer.
pub fn email_budget(budget: &Budget, invitees_after: usize) -> Budget {
    let after = u32::try_from(invitees_after.min(MAX_INVITEES)).unwrap_or(u32::MAX);
    budget.leaving(INVITEE_STEP.saturating_mul(after) + CALL_MARGIN)
}

/// Whether an email may still be sent within `budget`.
pub fn may_send(budget: &Budget) -> bool {
    budget.has(MIN_CALL)
}

/// The result of an invitee the request had no time left for: nothing was saved for them, and
/// inviting them again is safe.
pub fn not_attempted() -> Value {
    let err = ApiError::OutOfTime(OutOfTime::NotAttempted);
    json!({ "status": err.answer().status.as_u16(), "problem": embedded_problem(&err) })
}

/// The delivery of an invitation whose email did not fit in the request's time.
pub fn email_out_of_time() -> Value {
    json!({
        "email_sent": false,
        "email_error": "There was no time left in this request to send the email; the \
                        invitation is saved. Copy the link, or resend the invitation.",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_leaves_a_step_for_each_invitee_after_it() {
        let budget = Budget::from_now(Duration::from_secs(4));
        let last = email_budget(&budget, 0);
        assert_eq!(last.answer_by(), budget.answer_by() - CALL_MARGIN);
        let first = email_budget(&budget, 3);
        assert_eq!(
            first.answer_by(),
            budget.answer_by() - INVITEE_STEP * 3 - CALL_MARGIN
        );
        // More invitees than fit: no time for the email, and the invitees come first.
        assert!(!may_send(&email_budget(&budget, 9)));
        assert!(may_start_invitee(&budget));
        assert!(!may_start_invitee(&Budget::from_now(INVITEE_STEP / 2)));
    }

    #[test]
    fn an_invitee_not_attempted_is_a_503_that_says_so() {
        let result = not_attempted();
        assert_eq!(result["status"], 503);
        assert_eq!(result["problem"]["type"], "urn:orgs:problem:unavailable");
        assert!(
            result["problem"]["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("Not attempted"))
        );
    }
}
