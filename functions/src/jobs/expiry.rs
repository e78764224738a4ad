//! The scheduled expiry (`expire-invitations`): every pending invitation whose deadline has
//! passed becomes `expired`, with its audit entry and its `InvitationExpired` event. An
//! EventBridge schedule runs it on Lambda; `cargo local` runs this same code on a timer and
//! `cargo expire` runs it once.
//!
//! - Its work follows what lapses: each shard of the index of pending invitations is read
//!   from its oldest deadline up to now, page by page, and nothing else is read. A run with
//!   nothing due makes one Query per shard, however many invitations are pending.
//! - It is safe to run twice at once and to stop anywhere: each invitation ends in its own
//!   conditional transaction and then leaves the index, so a later run finds only the rest,
//!   and a transaction that loses a race is counted as skipped, never as a failure.
//! - It takes no new work after `stop_at`; the next run carries on where it stopped.
//! - With time to spare, it also finishes organization deletions that were begun and then
//!   abandoned: their pending invitations could not be expired (nothing is written into an
//!   organization being deleted) and would otherwise be read again by every run.
//! - Side by side with it, the same run checks verified domains again
//!   (`crate::jobs::domain_check`): `run_schedule`.

use std::time::{Duration, Instant, SystemTime};

use futures::future::join_all;
use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;

use orgs_shared::app::App;
use orgs_shared::domain::{Timestamp, UserId};
use orgs_shared::logs::error_chain;
use orgs_shared::store::{Expiry, Op, Refusal, Store, StoreError, expiry_shards};

use super::domain_check::{DomainCheckFailed, DomainCheckReport, recheck_domains};
use super::run_end;

/// Due invitations read per Query (one page); each is about 1 KB, far below a page's 1 MB.
pub const PAGE_SIZE: i32 = 100;

/// How long before the Lambda deadline a run stops taking new work: one transaction, with
/// the SDK's retries, finishes well within it.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// The job name in the actor of every change the schedule makes: `system:expiry`.
pub use super::SCHEDULE_ACTOR as ACTOR_JOB;

/// A deletion still unfinished this long after it began was abandoned: `delete-org` gives up
/// after 30 s. Finishing one that its owner is still repeating is harmless anyway.
pub const ABANDONED_AFTER_SECONDS: i64 = 15 * 60;

/// Finishing a deletion is started only with this much time left: the budget `delete-org`
/// itself has (its timeout) for a whole organization.
pub const DELETION_TIME: Duration = Duration::from_secs(30);

/// Abandoned deletions looked at per run; more wait for the next run.
const DELETIONS_PER_RUN: i32 = 10;

/// What one run did. `found` = `expired` + `skipped` + `deferred` + what failed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExpiryReport {
    pub run_id: String,
    /// Due invitations the run took up.
    pub found: u64,
    pub expired: u64,
    /// Accepted, declined, revoked or resent meanwhile, or their organization is being deleted.
    pub skipped: u64,
    /// Left for the next run: a conflict with a concurrent transaction outlasted the retries.
    pub deferred: u64,
    /// Abandoned organization deletions finished.
    pub deletions_finished: u64,
    /// DynamoDB failures and unreadable items, each logged; a shard stops at a failure.
    pub errors: u64,
    /// Every shard was read to the end of its due range, and no abandoned deletion that the
    /// run found was left for lack of time.
    pub finished: bool,
    pub duration_ms: u64,
}

impl std::fmt::Display for ExpiryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invitation expiry {}: found {}, expired {}, skipped {} (changed meanwhile), \
             deferred {}, abandoned deletions finished {}, errors {}, {} in {} ms",
            self.run_id,
            self.found,
            self.expired,
            self.skipped,
            self.deferred,
            self.deletions_finished,
            self.errors,
            run_end(self.finished),
            self.duration_ms
        )
    }
}

/// A run that met errors: the Lambda invocation fails, so that it shows in the metrics.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ExpiryFailed(pub ExpiryReport);

/// Expires every invitation due at `now`, taking no new work after `stop_at`. `run_id` goes
/// into every audit entry and event as the request id. Logs one summary line and returns it.
pub async fn expire_invitations(
    store: &Store,
    now: Timestamp,
    stop_at: Instant,
    run_id: &str,
) -> ExpiryReport {
    let started = Instant::now();
    let op = Op {
        actor: UserId::system(ACTOR_JOB),
        request_id: run_id.to_owned(),
        at: now,
        acting_as: None,
    };
    // The shards are independent partitions: one reader each, side by side.
    let shards = join_all(expiry_shards().map(|shard| expire_shard(store, shard, &op, stop_at)));
    let mut report = ExpiryReport {
        run_id: run_id.to_owned(),
        finished: true,
        ..ExpiryReport::default()
    };
    for tally in shards.await {
        report.found += tally.found;
        report.expired += tally.expired;
        report.skipped += tally.skipped;
        report.deferred += tally.deferred;
        report.errors += tally.errors;
        report.finished &= tally.finished;
    }
    finish_abandoned_deletions(store, now, stop_at, &mut report).await;
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!("{report}");
    report
}

#[derive(Default)]
struct Tally {
    found: u64,
    expired: u64,
    skipped: u64,
    deferred: u64,
    errors: u64,
    finished: bool,
}

/// One shard's due range, page by page, one transaction per invitation.
async fn expire_shard(store: &Store, shard: u32, op: &Op, stop_at: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut after = None;
    loop {
        if Instant::now() >= stop_at {
            return tally;
        }
        let page = match store.due_invitations(shard, op.at, PAGE_SIZE, after).await {
            Ok(page) => page,
            Err(e) => {
                tally.errors += 1;
                tracing::error!(shard, error = %error_chain(&e), "reading due invitations failed");
                return tally;
            }
        };
        for read in page.invitations {
            if Instant::now() >= stop_at {
                return tally;
            }
            let invitation = match read {
                Ok(invitation) => invitation,
                Err(e) => {
                    // One bad item must not stop the shard for good: log it and go on.
                    tally.errors += 1;
                    tracing::error!(shard, error = %error_chain(&e), "unreadable due invitation");
                    continue;
                }
            };
            tally.found += 1;
            match store.expire_invitation(&invitation, op).await {
                Ok(Expiry::Expired) => tally.expired += 1,
                Ok(Expiry::Changed) => tally.skipped += 1,
                Err(StoreError::Refused(Refusal::Changed) | StoreError::Contended { .. }) => {
                    tally.deferred += 1
                }
                Err(e) => {
                    // DynamoDB is failing or throttling: stop this shard rather than press on.
                    tally.errors += 1;
                    tracing::error!(
                        shard,
                        invitation_id = invitation.invitation_id.as_str(),
                        error = %error_chain(&e),
                        "expiring an invitation failed"
                    );
                    return tally;
                }
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => {
                tally.finished = true;
                return tally;
            }
        }
    }
}

/// Finishes deletions begun more than `ABANDONED_AFTER_SECONDS` before `now`, while at least
/// `DELETION_TIME` is left before `stop_at`.
async fn finish_abandoned_deletions(
    store: &Store,
    now: Timestamp,
    stop_at: Instant,
    report: &mut ExpiryReport,
) {
    let enough_time = || stop_at.saturating_duration_since(Instant::now()) >= DELETION_TIME;
    if !enough_time() {
        return;
    }
    let before = now.plus_seconds(-ABANDONED_AFTER_SECONDS);
    let orgs = match store.unfinished_deletions(before, DELETIONS_PER_RUN).await {
        Ok(orgs) => orgs,
        Err(e) => {
            report.errors += 1;
            tracing::error!(error = %error_chain(&e), "reading unfinished deletions failed");
            return;
        }
    };
    for org_id in orgs {
        if !enough_time() {
            report.finished = false;
            return;
        }
        match store.purge_org(&org_id, None).await {
            Ok(deleted) => {
                report.deletions_finished += 1;
                tracing::info!(org_id = %org_id, deleted, "abandoned deletion finished");
            }
            Err(e) => {
                report.errors += 1;
                tracing::error!(org_id = %org_id, error = %error_chain(&e), "finishing a deletion failed");
                return;
            }
        }
    }
}

/// When to stop taking work, given the Lambda deadline: `DEADLINE_MARGIN` before it.
pub fn stop_before(deadline: SystemTime) -> Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    Instant::now() + left.saturating_sub(DEADLINE_MARGIN)
}

/// What one scheduled run did: the invitation expiry and, side by side with it, the domains'
/// re-check (`crate::jobs::domain_check`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScheduleReport {
    pub invitations: ExpiryReport,
    pub domains: DomainCheckReport,
    /// Whether the app client's list of identity providers is in step (`crate::sso_client`).
    pub sso_client: &'static str,
}

/// One scheduled run at `now`: both jobs side by side, each stopping at `stop_at`.
pub async fn run_schedule(
    app: &App,
    now: Timestamp,
    stop_at: Instant,
    run_id: &str,
) -> ScheduleReport {
    let (invitations, domains) = tokio::join!(
        expire_invitations(&app.store, now, stop_at, run_id),
        recheck_domains(
            &app.store,
            app.config.dns,
            app.config.domain_recheck,
            now,
            stop_at,
            run_id
        ),
    );
    for org in &domains.unverified_orgs {
        crate::sso_client::refresh_identifiers(app, org).await;
    }
    ScheduleReport {
        invitations,
        domains,
        sso_client: crate::sso_client::catch_up(app).await,
    }
}

/// The whole `main` of `expire-invitations`: the event is EventBridge's scheduled event, of
/// which only the invocation's context matters (its request id and deadline).
pub async fn serve() -> Result<(), lambda_runtime::Error> {
    let app = crate::runtime::init().await?;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let stop_at = stop_before(event.context.deadline());
            let run_id = &event.context.request_id;
            let report = run_schedule(app, Timestamp::now(), stop_at, run_id).await;
            if report.invitations.errors > 0 {
                return Err(lambda_runtime::Error::from(ExpiryFailed(
                    report.invitations,
                )));
            }
            if report.domains.errors > 0 {
                return Err(lambda_runtime::Error::from(DomainCheckFailed(
                    report.domains,
                )));
            }
            Ok(report)
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_the_margin_before_the_deadline_and_never_after_it() {
        let in_a_minute = SystemTime::now() + Duration::from_secs(60);
        let stop = stop_before(in_a_minute);
        let left = stop.saturating_duration_since(Instant::now());
        assert!(left <= Duration::from_secs(58) && left > Duration::from_secs(57));
        let past = SystemTime::now() - Duration::from_secs(1);
        assert!(stop_before(past) <= Instant::now());
    }

    #[test]
    fn the_summary_is_one_line_with_every_count() {
        let report = ExpiryReport {
            run_id: "r1".into(),
            found: 5,
            expired: 3,
            skipped: 1,
            deferred: 1,
            deletions_finished: 0,
            errors: 0,
            finished: true,
            duration_ms: 42,
        };
        let line = report.to_string();
        assert!(!line.contains('\n'));
        assert_eq!(
            line,
            "invitation expiry r1: found 5, expired 3, skipped 1 (changed meanwhile), \
             deferred 1, abandoned deletions finished 0, errors 0, finished in 42 ms"
        );
    }
}
