//! The scheduled re-verification of domains, run by `expire-invitations` beside the invitation
//! expiry: every verified domain not checked for an interval has its TXT record looked up
//! again (`domain::domain_check` decides what the answer means).
//!
//! - Its work follows what is due: the claim markers in `gsi2` (`DOMAINCHECK`) last checked
//!   before the interval, oldest first, page by page; nothing else is read but their domain
//!   items (one BatchGetItem a page, for the challenge).
//! - Found: the marker records it seen, and the domain is due again an interval later.
//!   Missing within the grace period: checked, still verified, due again an interval later.
//!   Missing past it: unverified (`Store::unverify_domain`), with audit entry and event.
//!   No answer (a timeout, SERVFAIL): nothing is written, and the next run asks again.
//! - Safe to repeat, to run twice at once and to stop anywhere: every write is conditional on
//!   the marker as read, and one refused counts as skipped. No new work after `stop_at`.

use std::collections::HashMap;
use std::time::Instant;

use futures::StreamExt;
use serde::Serialize;

use orgs_shared::app::DnsSettings;
use orgs_shared::dns::Dns;
use orgs_shared::domain::{EmailDomain, Lookup, OrgId, Recheck, RecheckPolicy, Timestamp, UserId};
use orgs_shared::logs::error_chain;
use orgs_shared::store::{Domain, DomainCheck, DomainStatus, Op, Refusal, Store, StoreError};

use super::{SCHEDULE_ACTOR, run_end};

/// Due domains read per Query (one page), and so looked up per BatchGetItem.
pub const PAGE_SIZE: i32 = 50;

/// Lookups in flight at once: a page takes a few round trips to the resolver, not fifty.
const LOOKUPS_AT_ONCE: usize = 10;

/// What one run did. `found` = `seen` + `missing` + `unverified` + `unanswered` + `skipped`
/// + `deferred` + what failed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DomainCheckReport {
    pub run_id: String,
    /// Due domains the run took up.
    pub found: u64,
    /// Their record was found.
    pub seen: u64,
    /// Their record was missing, within the grace period.
    pub missing: u64,
    /// Missing past the grace period: unverified.
    pub unverified: u64,
    /// The lookup got no answer; left for the next run.
    pub unanswered: u64,
    /// Verified again, removed or unverified meanwhile, or their organization is being deleted.
    pub skipped: u64,
    /// Left for the next run: a conflict outlasted the retries.
    pub deferred: u64,
    /// DynamoDB failures and unreadable items, each logged; the run stops at a failure.
    pub errors: u64,
    /// Every due domain was read.
    pub finished: bool,
    pub duration_ms: u64,
    /// The organizations that lost a domain: their identity providers' domains are refreshed.
    #[serde(skip)]
    pub unverified_orgs: Vec<OrgId>,
}

impl std::fmt::Display for DomainCheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "domain re-check {}: found {}, seen {}, missing {}, unverified {}, unanswered {}, \
             skipped {} (changed meanwhile), deferred {}, errors {}, {} in {} ms",
            self.run_id,
            self.found,
            self.seen,
            self.missing,
            self.unverified,
            self.unanswered,
            self.skipped,
            self.deferred,
            self.errors,
            run_end(self.finished),
            self.duration_ms
        )
    }
}

/// A run that met errors: the Lambda invocation fails, so that it shows in the metrics.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DomainCheckFailed(pub DomainCheckReport);

/// Checks every verified domain due at `now` (`policy`), asking the resolver of `dns`, taking
/// no new work after `stop_at`. Logs one summary line and returns it.
pub async fn recheck_domains(
    store: &Store,
    dns: DnsSettings,
    policy: RecheckPolicy,
    now: Timestamp,
    stop_at: Instant,
    run_id: &str,
) -> DomainCheckReport {
    let started = Instant::now();
    let mut report = DomainCheckReport {
        run_id: run_id.to_owned(),
        ..DomainCheckReport::default()
    };
    match Dns::new(dns.resolver, dns.timeout) {
        Ok(resolver) => {
            let op = Op {
                actor: UserId::system(SCHEDULE_ACTOR),
                request_id: run_id.to_owned(),
                at: now,
                acting_as: None,
            };
            check_due(store, &resolver, policy, &op, stop_at, &mut report).await;
        }
        Err(e) => {
            report.errors += 1;
            tracing::error!(error = %error_chain(&e), "building the DNS resolver failed");
        }
    }
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!("{report}");
    report
}

async fn check_due(
    store: &Store,
    dns: &Dns,
    policy: RecheckPolicy,
    op: &Op,
    stop_at: Instant,
    report: &mut DomainCheckReport,
) {
    let before = policy.due_before(op.at);
    let mut after = None;
    loop {
        if Instant::now() >= stop_at {
            return;
        }
        let page = match store.due_domain_checks(before, PAGE_SIZE, after).await {
            Ok(page) => page,
            Err(e) => {
                report.errors += 1;
                tracing::error!(error = %error_chain(&e), "reading due domain checks failed");
                return;
            }
        };
        let mut checks = Vec::new();
        for read in page.checks {
            match read {
                Ok(check) => checks.push(check),
                Err(e) => {
                    report.errors += 1;
                    tracing::error!(error = %error_chain(&e), "unreadable domain claim");
                }
            }
        }
        if !check_page(store, dns, policy, op, stop_at, checks, report).await {
            return;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => {
                report.finished = true;
                return;
            }
        }
    }
}

/// One page: its domain items, the lookups side by side, then one write per domain. False if
/// the run should stop (out of time, or DynamoDB failing).
async fn check_page(
    store: &Store,
    dns: &Dns,
    policy: RecheckPolicy,
    op: &Op,
    stop_at: Instant,
    checks: Vec<DomainCheck>,
    report: &mut DomainCheckReport,
) -> bool {
    if checks.is_empty() {
        return true;
    }
    let domains: HashMap<(OrgId, EmailDomain), Domain> = match store.checked_domains(&checks).await
    {
        Ok(found) => found
            .into_iter()
            .map(|d| ((d.org_id.clone(), d.domain.clone()), d))
            .collect(),
        Err(e) => {
            report.errors += 1;
            tracing::error!(error = %error_chain(&e), "reading the domains to check failed");
            return false;
        }
    };
    let looked_up: Vec<(DomainCheck, Option<Domain>, Lookup)> =
        futures::stream::iter(checks.into_iter().map(|check| {
            let domain = domains
                .get(&(check.org_id.clone(), check.domain.clone()))
                .filter(|d| d.status == DomainStatus::Verified)
                .cloned();
            async move {
                let lookup = match &domain {
                    Some(domain) => look_up(dns, domain).await,
                    None => Lookup::Unanswered,
                };
                (check, domain, lookup)
            }
        }))
        .buffered(LOOKUPS_AT_ONCE)
        .collect()
        .await;
    for (check, domain, lookup) in looked_up {
        if Instant::now() >= stop_at {
            return false;
        }
        report.found += 1;
        let Some(domain) = domain else {
            // Its claim and its domain item change together: only a removal or a verification
            // between the two reads parts them, and the next run reads both again.
            report.skipped += 1;
            continue;
        };
        let decision = policy.decide(check.seen_at, op.at, lookup);
        let written = match decision {
            Recheck::Unknown => {
                report.unanswered += 1;
                continue;
            }
            Recheck::Seen => store.record_domain_check(&check, true, op.at).await,
            Recheck::Missing => store.record_domain_check(&check, false, op.at).await,
            Recheck::Unverify => store.unverify_domain(&check, &domain, op).await.map(|_| ()),
        };
        match written {
            Ok(()) => match decision {
                Recheck::Seen => report.seen += 1,
                Recheck::Missing => report.missing += 1,
                _ => {
                    report.unverified += 1;
                    report.unverified_orgs.push(check.org_id.clone());
                }
            },
            Err(StoreError::Refused(Refusal::Changed | Refusal::Gone)) => report.skipped += 1,
            Err(StoreError::Contended { .. }) => report.deferred += 1,
            Err(e) => {
                report.errors += 1;
                tracing::error!(
                    org_id = %check.org_id,
                    domain = check.domain.as_str(),
                    error = %error_chain(&e),
                    "recording a domain check failed"
                );
                return false;
            }
        }
    }
    true
}

/// The lookup of `domain`'s record, judged against its challenge.
async fn look_up(dns: &Dns, domain: &Domain) -> Lookup {
    match dns.txt(&domain.domain.record_name()).await {
        Ok(answer) => Lookup::judge(&domain.challenge, &domain.domain, Some(&answer)),
        Err(e) => {
            tracing::warn!(
                domain = domain.domain.as_str(),
                error = %error_chain(&e),
                "a domain's re-check got no answer"
            );
            Lookup::Unanswered
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_one_line_with_every_count() {
        let report = DomainCheckReport {
            run_id: "r1".into(),
            found: 7,
            seen: 2,
            missing: 1,
            unverified: 1,
            unanswered: 1,
            skipped: 1,
            deferred: 1,
            errors: 0,
            finished: false,
            duration_ms: 9,
            unverified_orgs: Vec::new(),
        };
        assert_eq!(
            report.to_string(),
            "domain re-check r1: found 7, seen 2, missing 1, unverified 1, unanswered 1, \
             skipped 1 (changed meanwhile), deferred 1, errors 0, \
             stopped early (the next run carries on) in 9 ms"
        );
    }
}
