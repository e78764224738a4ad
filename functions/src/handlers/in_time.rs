//! How a batch of invitations spends the request's time budget (`orgs_shared::budget`): an
//! invitees are looked up side by side, only for as long as leaves time for the one transaction
//! that writes them all; the emails go out side by side with what is left, since an invitation without its
//! email stands (the link is in the answer, and a resend delivers it) and one not created does
//! not. What the budget kept out is reported per invitee, never lost with the answer.

use std::time::Duration;

use serde_json::{Value, json};

use orgs_shared::budget::{Budget, CALL_MARGIN, MIN_CALL, OutOfTime, current};
use orgs_shared::http::ApiError;

/// Kept for each invitee still to invite: its reads and its transaction, with room to spare.
pub const INVITEE_STEP: Duration = Duration::from_millis(500);

/// The budget of the request being served; outside one (a test calling a handler), API
/// Gateway's limit from now.
pub fn request_budget() -> Budget {
    current().unwrap_or_else(|| Budget::from_now(orgs_shared::domain::budget::GATEWAY_LIMIT))
}

/// The part of the budget for looking invitees up (a handle's user): all but the time kept for
/// the transaction that then writes them.
pub fn lookup_budget(budget: &Budget) -> Budget {
    budget.leaving(INVITEE_STEP)
}

/// Whether there is still time to invite one more invitee.
pub fn may_start_invitee(budget: &Budget) -> bool {
    budget.has(INVITEE_STEP)
}

/// The budget of an email: what is left, ending `CALL_MARGIN` early as any AWS call does, to
/// leave time for the answer.
pub fn email_budget(budget: &Budget) -> Budget {
    budget.leaving(CALL_MARGIN)
}

/// Whether an email may still be sent within `budget`.
pub fn may_send(budget: &Budget) -> bool {
    budget.has(MIN_CALL)
}

/// The result of an invitee the request had no time left for: nothing was saved for them, and
/// inviting them again is safe.
pub fn not_attempted() -> ApiError {
    ApiError::OutOfTime(OutOfTime::NotAttempted)
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
    use orgs_shared::http::embedded_problem;

    #[test]
    fn lookups_leave_a_step_for_the_transaction_and_emails_the_answer_margin() {
        let budget = Budget::from_now(Duration::from_secs(4));
        assert_eq!(
            email_budget(&budget).answer_by(),
            budget.answer_by() - CALL_MARGIN
        );
        let lookups = lookup_budget(&budget);
        assert_eq!(lookups.answer_by(), budget.answer_by() - INVITEE_STEP);
        assert!(may_start_invitee(&budget));
        assert!(!may_start_invitee(&Budget::from_now(INVITEE_STEP / 2)));
        assert!(!may_send(&email_budget(&Budget::from_now(CALL_MARGIN))));
    }

    #[test]
    fn an_invitee_not_attempted_is_a_503_that_says_so() {
        let err = not_attempted();
        assert_eq!(err.answer().status.as_u16(), 503);
        let problem = embedded_problem(&err);
        assert_eq!(problem["type"], "urn:orgs:problem:unavailable");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("Not attempted"))
        );
    }
}
