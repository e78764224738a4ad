//! The schedule checks verified domains again (`orgs_functions::jobs::domain_check`), run as the
//! function runs it, days ahead through the time it is given: a record gone for longer than
//! the grace period unverifies its domain (audit, event, suggestions stop, the domain is free
//! for anyone), while a record that comes back, or a resolver that does not answer, leaves it
//! verified.

use std::time::{Duration, Instant};

use orgs_functions::jobs::domain_check::recheck_domains;
use orgs_functions::jobs::expiry::{ScheduleReport, run_schedule};
use orgs_local::counting::RequestCounter;
use orgs_local::dns::Answer;
use orgs_local::grants::as_function;
use orgs_shared::domain::{EmailDomain, RecheckPolicy, Timestamp, UserId};
use orgs_shared::store::{Item, Of, Op, Refusal, Retention, Store, StoreError, Stored};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Person, Stack};
use crate::events::check_event;

const DOMAIN: &str = "acme.example";
const RECORD: &str = "_orgs-verification.acme.example";
const HOUR: i64 = 3600;

/// An organization of `olivia`'s with `DOMAIN` verified, `suggest`ing itself to colleagues.
/// Returns its id and the record's value.
async fn verified(stack: &Stack, olivia: &Person, handle: &str) -> (String, String) {
    let org = stack.create_org(olivia, handle).await;
    let (status, added) = stack
        .post(
            olivia,
            format!("/orgs/{org}/domains"),
            json!({ "domain": DOMAIN }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let value = added["record"]["value"].as_str().unwrap().to_owned();
    stack.dns.publish(RECORD, &[&value]);
    let path = format!("/orgs/{org}/domains/{DOMAIN}");
    let (status, body) = stack
        .post(olivia, format!("{path}/verify"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = stack
        .patch(olivia, &path, json!({ "enrollment": "suggest" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (org, value)
}

/// One scheduled run, as if at `hours` after `start`.
async fn run_after(stack: &Stack, start: Timestamp, hours: i64) -> ScheduleReport {
    let stop_at = Instant::now() + Duration::from_secs(120);
    let at = start.plus_seconds(hours * HOUR);
    let run_id = format!("run-{hours}h");
    let run = run_schedule(&stack.app, at, stop_at, &run_id);
    as_function("expire-invitations", run).await
}

/// (found, seen, missing, unverified, unanswered, skipped, errors) of the domains' part.
fn counts(report: &ScheduleReport) -> [u64; 7] {
    let d = &report.domains;
    [
        d.found,
        d.seen,
        d.missing,
        d.unverified,
        d.unanswered,
        d.skipped,
        d.errors,
    ]
}

async fn claim(stack: &Stack) -> Option<Item> {
    let claim = Stored::DomainClaim {
        domain: DOMAIN.into(),
    };
    stack.stored_item(&claim).await
}

fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name).and_then(|v| v.as_s().ok()).map_or("", |s| s)
}

async fn suggestions(stack: &Stack, who: &Person) -> Value {
    let (status, body) = stack.get(who, "/me/suggestions").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].clone()
}

/// Every event the bus delivers within a while, until one of `detail_type` is among them.
async fn published_until(stack: &Stack, detail_type: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut events = Vec::new();
    while Instant::now() < deadline
        && !events
            .iter()
            .any(|e: &Value| e["detail-type"] == detail_type)
    {
        let queue = &stack.events().published;
        events.extend(
            stack
                .events()
                .receive(queue, 10, Duration::from_millis(500))
                .await,
        );
    }
    events
}

#[tokio::test]
async fn a_record_gone_past_the_grace_period_unverifies_the_domain_and_suggestions_stop() {
    let stack = Stack::start_with_events(None).await;
    assert_eq!(stack.app.config.domain_recheck, RecheckPolicy::default());
    let olivia = stack.person("olivia");
    let (org, _) = verified(&stack, &olivia, "acme").await;
    let ada = stack.person_with_email("ada", "ada@acme.example", true);
    assert_eq!(
        suggestions(&stack, &ada).await[0]["organization"]["org_id"],
        json!(org)
    );
    let start = Timestamp::now();

    // Within a day, nothing is due; a day on, the record is found and seen again.
    assert_eq!(counts(&run_after(&stack, start, 1).await), [0; 7]);
    let report = run_after(&stack, start, 25).await;
    assert_eq!(counts(&report), [1, 1, 0, 0, 0, 0, 0], "{}", report.domains);
    assert!(report.domains.finished);
    let seen = claim(&stack).await.unwrap();
    let seen_at = Timestamp::parse(text(&seen, "seen_at")).unwrap();
    assert_eq!(seen_at, start.plus_seconds(25 * HOUR));
    assert_eq!(text(&seen, "checked_at"), text(&seen, "seen_at"));

    // The record goes. Missing for 24 and 48 hours: still verified, checked each day.
    stack.dns.remove(RECORD);
    for hours in [49, 73] {
        let report = run_after(&stack, start, hours).await;
        assert_eq!(counts(&report), [1, 0, 1, 0, 0, 0, 0], "{}", report.domains);
        let marker = claim(&stack).await.unwrap();
        assert_eq!(text(&marker, "seen_at"), seen_at.to_rfc3339());
        assert_eq!(
            text(&marker, "checked_at"),
            start.plus_seconds(hours * HOUR).to_rfc3339()
        );
        // Not due again within the day.
        let again = run_after(&stack, start, hours + 1).await;
        assert_eq!(again.domains.found, 0, "{}", again.domains);
    }
    let (_, domain) = stack
        .get(&olivia, format!("/orgs/{org}/domains/{DOMAIN}"))
        .await;
    assert_eq!(domain["status"], "verified");
    assert_eq!(suggestions(&stack, &ada).await.as_array().unwrap().len(), 1);

    // Missing for 72 hours and more: unverified.
    let report = run_after(&stack, start, 98).await;
    assert_eq!(counts(&report), [1, 0, 0, 1, 0, 0, 0], "{}", report.domains);
    assert!(claim(&stack).await.is_none(), "the claim is freed");
    let (status, domain) = stack
        .get(&olivia, format!("/orgs/{org}/domains/{DOMAIN}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(domain["status"], "pending");
    assert_eq!(domain["verified_at"], json!(null));
    assert_eq!(
        domain["enrollment"], "suggest",
        "the policy stays for when it is verified again"
    );
    assert_eq!(suggestions(&stack, &ada).await, json!([]));
    let (status, _) = stack
        .post(&ada, format!("/orgs/{org}/join"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let of = Of::Org(org.clone());
    let entry = stack
        .audit_entries(&of)
        .await
        .into_iter()
        .find(|e| text(e, "action") == "domain.unverified")
        .expect("an audit entry");
    assert_eq!(text(&entry, "actor_user_id"), "system:expiry");
    assert_eq!(text(&entry, "request_id"), "run-98h");
    assert_eq!(text(&entry, "target_id"), DOMAIN);
    let events = published_until(&stack, "DomainUnverified").await;
    let unverified: Vec<&Value> = events
        .iter()
        .filter(|e| e["detail-type"] == "DomainUnverified")
        .collect();
    assert_eq!(unverified.len(), 1, "{events:#?}");
    check_event(unverified[0]);
    assert_eq!(unverified[0]["detail"]["data"]["status"], "pending");
    assert_eq!(unverified[0]["detail"]["data"]["org_id"], json!(org));

    // Nothing is due any more, and another organization may verify the domain now.
    assert_eq!(run_after(&stack, start, 200).await.domains.found, 0);
    let ursula = stack.person("ursula");
    let (other, _) = verified(&stack, &ursula, "umbrella").await;
    let suggested = suggestions(&stack, &ada).await;
    assert_eq!(suggested.as_array().unwrap().len(), 1);
    assert_eq!(suggested[0]["organization"]["org_id"], json!(other));
}

#[tokio::test]
async fn no_answer_never_unverifies_and_a_record_back_within_grace_is_seen_again() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let (org, value) = verified(&stack, &olivia, "acme").await;
    let start = Timestamp::now();

    // The resolver times out, long past the grace period: nothing is written.
    stack.dns.set(RECORD, Answer::Silence);
    let before = stack.snapshot().await;
    let report = run_after(&stack, start, 200).await;
    assert_eq!(counts(&report), [1, 0, 0, 0, 1, 0, 0], "{}", report.domains);
    assert_eq!(stack.snapshot().await, before);

    // The record has the wrong value for a while, then comes back within the grace period.
    stack
        .dns
        .publish(RECORD, &["orgs-verification=someone-else"]);
    let report = run_after(&stack, start, 48).await;
    assert_eq!(counts(&report), [1, 0, 1, 0, 0, 0, 0], "{}", report.domains);
    stack.dns.publish(RECORD, &["v=spf1 -all", &value]);
    let report = run_after(&stack, start, 72).await;
    assert_eq!(counts(&report), [1, 1, 0, 0, 0, 0, 0], "{}", report.domains);
    let marker = claim(&stack).await.unwrap();
    assert_eq!(
        text(&marker, "seen_at"),
        start.plus_seconds(72 * HOUR).to_rfc3339()
    );

    // Gone again: the grace period counts from when it was last seen.
    stack.dns.remove(RECORD);
    let report = run_after(&stack, start, 140).await;
    assert_eq!(counts(&report), [1, 0, 1, 0, 0, 0, 0], "{}", report.domains);
    let (_, domain) = stack
        .get(&olivia, format!("/orgs/{org}/domains/{DOMAIN}"))
        .await;
    assert_eq!(domain["status"], "verified");
    let report = run_after(&stack, start, 170).await;
    assert_eq!(counts(&report), [1, 0, 0, 1, 0, 0, 0], "{}", report.domains);
}

#[tokio::test]
async fn a_check_read_before_a_verification_or_a_removal_changes_nothing() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let (org, _) = verified(&stack, &olivia, "acme").await;
    let store = &stack.app.store;
    let later = Timestamp::now().plus_seconds(200 * HOUR);
    let read = store.due_domain_checks(later, 10, None).await.unwrap();
    let stale = read.checks.into_iter().next().unwrap().unwrap();
    assert_eq!(stale.domain, EmailDomain::parse("d", DOMAIN).unwrap());
    let domain = store
        .checked_domains(std::slice::from_ref(&stale))
        .await
        .unwrap()
        .pop()
        .unwrap();
    let op = Op {
        actor: UserId::system("expiry"),
        request_id: "stale".into(),
        at: later,
        acting_as: None,
    };

    // The owner verifies again (the record is seen now) before the run writes.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let path = format!("/orgs/{org}/domains/{DOMAIN}");
    let (status, _) = stack
        .post(&olivia, format!("{path}/verify"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = stack.snapshot().await;
    let refused = store.unverify_domain(&stale, &domain, &op).await;
    assert!(
        matches!(refused, Err(StoreError::Refused(Refusal::Changed))),
        "{refused:?}"
    );
    let refused = store.record_domain_check(&stale, false, later).await;
    assert!(matches!(
        refused,
        Err(StoreError::Refused(Refusal::Changed))
    ));
    assert_eq!(stack.snapshot().await, before, "nothing was written");

    // The owner removes it: a late check does not bring the claim back.
    let (status, _) = stack.delete(&olivia, &path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let refused = store.record_domain_check(&stale, true, later).await;
    assert!(matches!(
        refused,
        Err(StoreError::Refused(Refusal::Changed))
    ));
    assert!(claim(&stack).await.is_none());
}

#[tokio::test]
async fn a_run_reads_only_what_is_due_one_query_and_one_batch_a_page() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    verified(&stack, &olivia, "acme").await;
    let start = Timestamp::now();
    let counter = RequestCounter::default();
    let sdk = orgs_local::aws::sdk_config(&crate::common::endpoint()).await;
    let store = Store::new(counter.client(&sdk), &stack.table, Retention::default());
    let config = &stack.app.config;
    let run = |hours: i64| {
        let stop_at = Instant::now() + Duration::from_secs(60);
        let at = start.plus_seconds(hours * HOUR);
        let run = recheck_domains(
            &store,
            config.dns,
            config.domain_recheck,
            at,
            stop_at,
            "counted",
        );
        as_function("expire-invitations", run)
    };

    // Nothing due: one Query, nothing written.
    let before = stack.snapshot().await;
    let report = run(1).await;
    assert_eq!((report.found, report.finished), (0, true), "{report}");
    let one_query = [("Query".to_owned(), 1)].into_iter().collect();
    assert_eq!(counter.take(), one_query);
    assert_eq!(stack.snapshot().await, before);

    // One due: the Query, its domain item, and one write.
    let report = run(25).await;
    assert_eq!((report.found, report.seen), (1, 1), "{report}");
    let expected = [
        ("Query".to_owned(), 1),
        ("BatchGetItem".to_owned(), 1),
        ("TransactWriteItems".to_owned(), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(counter.take(), expected);
}
