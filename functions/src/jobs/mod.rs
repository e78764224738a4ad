//! The functions no HTTP route reaches, each invoked by something other than API Gateway: the
//! table's stream (`publish_events`), the schedule (`expiry`, with the domains' re-check in
//! `domain_check`), SES's delivery events (`delivery`), and Cognito's triggers (`token_claims`, with
//! `sso_sign_in`, and `first_org`). The catalog (`crate::spec`) says which invokes which.

pub mod delivery;
pub mod domain_check;
pub mod expiry;
pub mod first_org;
pub mod publish_events;
pub mod sso_sign_in;
pub mod token_claims;

/// The job name in the actor of every change the schedule makes (the expiry and the domains'
/// re-check): `system:expiry`.
pub const SCHEDULE_ACTOR: &str = "expiry";

/// How a scheduled run ended, for its summary line.
pub(crate) fn run_end(finished: bool) -> &'static str {
    if finished {
        "finished"
    } else {
        "stopped early (the next run carries on)"
    }
}
