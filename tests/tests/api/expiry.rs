//! The scheduled expiry, run as the function runs it (`orgs_functions::jobs::expiry`) against each
//! test's table: what it ends, what it leaves alone, and that races, repeats and early stops
//! end every invitation exactly once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use orgs_functions::jobs::expiry::{ExpiryReport, expire_invitations};
use orgs_local::counting::RequestCounter;
use orgs_shared::domain::{OrgId, Timestamp, UserId};
use orgs_shared::store::{Expiry, Item, Of, Op, Retention, Store, Stored};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{Options, Person, Stack};
use crate::invitations::{answer, assert_gone, invite_one};

/// A stack whose invitations lapse after one second.
async fn short_lived() -> Stack {
    Stack::start_with(Options {
        invitation_ttl_seconds: Some(1),
        ..Options::default()
    })
    .await
}

async fn lapse() {
    tokio::time::sleep(Duration::from_millis(1_100)).await;
}

/// `job` as the scheduled function runs it: its AWS calls are that function's (`grants`).
pub(crate) async fn as_job<F: Future>(job: F) -> F::Output {
    orgs_local::grants::as_function("expire-invitations", job).await
}

/// One run with time enough, as the schedule would start it at `now`.
async fn run_at(stack: &Stack, now: Timestamp, run_id: &str) -> ExpiryReport {
    let stop_at = Instant::now() + Duration::from_secs(300);
    as_job(expire_invitations(&stack.app.store, now, stop_at, run_id)).await
}

async fn run(stack: &Stack, run_id: &str) -> ExpiryReport {
    run_at(stack, Timestamp::now(), run_id).await
}

/// Eight days on: every invitation of a seven-day stack is due.
fn next_week() -> Timestamp {
    Timestamp::now().plus_seconds(8 * 86_400)
}

fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name).and_then(|v| v.as_s().ok()).map_or("", |s| s)
}

/// How many audit entries of `action` each target has in the organization.
async fn audited(stack: &Stack, org_id: &str, action: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for entry in stack.audit_entries(&Of::Org(org_id.to_owned())).await {
        if text(&entry, "action") == action {
            *counts
                .entry(text(&entry, "target_id").to_owned())
                .or_default() += 1;
        }
    }
    counts
}

async fn invitation(stack: &Stack, org_id: &str, id: &str) -> Item {
    let invitation = Stored::Invitation {
        org: org_id.to_owned(),
        invitation: id.to_owned(),
    };
    stack
        .stored_item(&invitation)
        .await
        .expect("the invitation item")
}

async fn pending_count(stack: &Stack, org_id: &str, owner: &Person) -> i64 {
    let org = OrgId::parse(org_id).expect("org id");
    let owner = UserId::parse(&owner.sub).expect("user id");
    let (org, _) = stack
        .app
        .store
        .org_with_membership(&org, &owner)
        .await
        .expect("read org")
        .expect("org");
    org.pending_invitations
}

#[tokio::test]
async fn due_invitations_expire_with_audit_event_and_ttl_and_then_refuse_acceptance() {
    let stack = short_lived().await;
    let week = Stack::start_with(Options {
        table: Some(stack.table.clone()),
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let (bob, carol, dave) = (
        stack.person("bob"),
        stack.person("carol"),
        stack.person("dave"),
    );
    let org_id = stack.create_org(&alice, "acme").await;
    let (bob_token, bob_id) = invite_one(&stack, &alice, &org_id, &bob.email).await;
    let (_, carol_id) = invite_one(&stack, &alice, &org_id, &carol.email).await;
    // Dave's invitation lasts seven days: not due.
    let (dave_token, dave_id) = invite_one(&week, &alice, &org_id, &dave.email).await;
    lapse().await;

    let report = run(&stack, "run-1").await;
    assert_eq!(
        (report.found, report.expired, report.skipped, report.errors),
        (2, 2, 0, 0),
        "{report}"
    );
    assert!(report.finished);

    let now = Timestamp::now().unix_seconds();
    for id in [&bob_id, &carol_id] {
        let item = invitation(&stack, &org_id, id).await;
        assert_eq!(text(&item, "status"), "expired");
        assert_eq!(text(&item, "ended_by"), "system:expiry");
        assert!(!item.contains_key("gsi2pk") && !item.contains_key("gsi1pk"));
        // The table sheds it after thirty days; nothing waits for that.
        let shed: i64 = item["expire_at"].as_n().unwrap().parse().unwrap();
        assert!((shed - now - Retention::default().dead_invitation_seconds).abs() < 60);
    }
    let bob_hash = orgs_shared::domain::InvitationToken::parse(&bob_token)
        .unwrap()
        .hash();
    let token = Stored::InvitationToken {
        hash: bob_hash.as_str().to_owned(),
    };
    let token = stack.stored_item(&token).await.unwrap();
    assert!(token.contains_key("expire_at"));
    let pending = Stored::PendingInvitation {
        org: org_id.clone(),
        email: bob.email.clone(),
    };
    assert!(stack.stored_item(&pending).await.is_none());
    let expired = audited(&stack, &org_id, "invitation.expired").await;
    assert_eq!(expired.len(), 2);
    assert!(expired.values().all(|n| *n == 1));
    let of = Of::Org(org_id.clone());
    let entry = stack
        .audit_entries(&of)
        .await
        .into_iter()
        .find(|e| text(e, "action") == "invitation.expired")
        .unwrap();
    assert_eq!(text(&entry, "actor_user_id"), "system:expiry");
    assert_eq!(text(&entry, "request_id"), "run-1");
    let events: Vec<Item> = stack
        .event_records(&of)
        .await
        .into_iter()
        .filter(|e| text(e, "detail_type") == "InvitationExpired")
        .collect();
    assert_eq!(events.len(), 2);
    let detail: Value = serde_json::from_str(text(&events[0], "detail")).unwrap();
    assert_eq!(detail["actor_user_id"], "system:expiry");
    assert!(!text(&events[0], "detail").contains(bob_hash.as_str()));

    // Refused with 410, and shown as expired.
    let (status, body) = answer(&stack, Some(&bob), "accept", &bob_token).await;
    assert_gone(status, &body, "expired");
    let (status, body) = answer(&stack, None, "lookup", &bob_token).await;
    assert_gone(status, &body, "expired");
    let path = format!("/orgs/{org_id}/invitations/{bob_id}");
    let (_, shown) = stack.get(&alice, &path).await;
    assert_eq!(shown["status"], "expired");

    // Dave's is untouched and still works; the count holds only it.
    let item = invitation(&stack, &org_id, &dave_id).await;
    assert_eq!(text(&item, "status"), "pending");
    assert!(item.contains_key("gsi2pk"));
    assert_eq!(pending_count(&stack, &org_id, &alice).await, 1);

    // Nothing is left for a second run; the address can be invited again.
    let again = run(&stack, "run-2").await;
    assert_eq!((again.found, again.expired), (0, 0), "{again}");
    invite_one(&week, &alice, &org_id, &bob.email).await;
    assert_eq!(pending_count(&stack, &org_id, &alice).await, 2);
    let (status, _) = answer(&stack, Some(&dave), "accept", &dave_token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_run_with_nothing_due_reads_one_page_per_shard_and_writes_nothing() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    for i in 0..20 {
        invite_one(&stack, &alice, &org_id, &format!("p{i}@example.com")).await;
    }
    let before = stack.snapshot().await;
    let counter = RequestCounter::default();
    let sdk = orgs_local::aws::sdk_config(&crate::common::endpoint()).await;
    let store = Store::new(counter.client(&sdk), &stack.table, Retention::default());
    let stop_at = Instant::now() + Duration::from_secs(60);
    let report = as_job(expire_invitations(
        &store,
        Timestamp::now(),
        stop_at,
        "idle",
    ))
    .await;
    assert_eq!((report.found, report.finished), (0, true), "{report}");
    // One Query per shard, and one for abandoned deletions.
    let expected = [("Query".to_owned(), 5)].into_iter().collect();
    assert_eq!(counter.take(), expected);
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn invitations_accepted_revoked_or_resent_meanwhile_are_left_alone() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let (bob, carol, dave) = (
        stack.person("bob"),
        stack.person("carol"),
        stack.person("dave"),
    );
    let org_id = stack.create_org(&alice, "acme").await;
    let org = OrgId::parse(&org_id).unwrap();
    let (bob_token, bob_id) = invite_one(&stack, &alice, &org_id, &bob.email).await;
    let (_, carol_id) = invite_one(&stack, &alice, &org_id, &carol.email).await;
    let (_, dave_id) = invite_one(&stack, &alice, &org_id, &dave.email).await;
    // The expiry read them (as from the index), then each changed before its transaction.
    let read = |id: &str| {
        let id = orgs_shared::domain::InvitationId::parse(id).unwrap();
        let org = org.clone();
        let store = stack.app.store.clone();
        async move { store.get_invitation(&org, &id).await.unwrap().unwrap() }
    };
    let (bob_read, carol_read, dave_read) = (
        read(&bob_id).await,
        read(&carol_id).await,
        read(&dave_id).await,
    );
    let (status, _) = answer(&stack, Some(&bob), "accept", &bob_token).await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/orgs/{org_id}/invitations/{carol_id}");
    let (status, _) = stack.delete(&alice, &path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack
        .post(
            &alice,
            format!("/orgs/{org_id}/invitations/{dave_id}/resend"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = stack.snapshot().await;

    // Even at a time when every deadline has passed, the stale copies are refused.
    let op = Op {
        actor: UserId::system("expiry"),
        request_id: "stale".into(),
        at: next_week(),
        acting_as: None,
    };
    for stale in [&bob_read, &carol_read, &dave_read] {
        let outcome = as_job(stack.app.store.expire_invitation(stale, &op))
            .await
            .unwrap();
        assert_eq!(outcome, Expiry::Changed);
    }
    assert_eq!(stack.snapshot().await, before, "nothing was written");
    assert_eq!(
        text(&invitation(&stack, &org_id, &bob_id).await, "status"),
        "accepted"
    );
    assert_eq!(
        text(&invitation(&stack, &org_id, &carol_id).await, "status"),
        "revoked"
    );
    assert_eq!(
        text(&invitation(&stack, &org_id, &dave_id).await, "status"),
        "pending"
    );

    // A real run at that time finds only the resent one, with its new deadline.
    let report = run_at(&stack, next_week(), "later").await;
    assert_eq!((report.found, report.expired), (1, 1), "{report}");
    assert_eq!(
        text(&invitation(&stack, &org_id, &dave_id).await, "status"),
        "expired"
    );
    assert_eq!(pending_count(&stack, &org_id, &alice).await, 0);
}

#[tokio::test]
async fn racing_accepts_and_revokes_end_each_invitation_exactly_once() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let people: Vec<Person> = (0..12)
        .map(|i| stack.person(&format!("racer-{i}")))
        .collect();
    let mut invitations = Vec::new();
    for person in &people {
        invitations.push(invite_one(&stack, &alice, &org_id, &person.email).await);
    }
    // The expiry runs as if a week had passed, while people accept and admins revoke.
    let expiry = run_at(&stack, next_week(), "race");
    let (stack_ref, alice_ref, org_ref) = (&stack, &alice, &org_id);
    let answers = futures::future::join_all(people.iter().zip(&invitations).enumerate().map(
        |(i, (person, (token, id)))| async move {
            let (stack, alice, org_id) = (stack_ref, alice_ref, org_ref);
            if i % 2 == 0 {
                answer(stack, Some(person), "accept", token).await.0
            } else {
                let path = format!("/orgs/{org_id}/invitations/{id}");
                stack.delete(alice, &path).await.0
            }
        },
    ));
    let (report, answers) = tokio::join!(expiry, answers);
    assert_eq!(report.errors, 0, "{report}");
    assert!(
        answers.iter().all(|s| [
            StatusCode::OK,
            StatusCode::NO_CONTENT,
            StatusCode::GONE,
            StatusCode::CONFLICT
        ]
        .contains(s)),
        "{answers:?}"
    );

    let accepted = audited(&stack, &org_id, "invitation.accepted").await;
    let revoked = audited(&stack, &org_id, "invitation.revoked").await;
    let expired = audited(&stack, &org_id, "invitation.expired").await;
    for (_, id) in &invitations {
        let ends = [&accepted, &revoked, &expired]
            .iter()
            .map(|m| m.get(id).copied().unwrap_or(0))
            .sum::<usize>();
        assert_eq!(ends, 1, "{id} ended {ends} times");
        let status = text(&invitation(&stack, &org_id, id).await, "status").to_owned();
        let audited_as = if accepted.contains_key(id) {
            "accepted"
        } else if revoked.contains_key(id) {
            "revoked"
        } else {
            "expired"
        };
        assert_eq!(status, audited_as);
    }
    assert_eq!(report.expired as usize, expired.len(), "{report}");
    assert_eq!(
        report.found,
        report.expired + report.skipped + report.deferred
    );
    assert_eq!(pending_count(&stack, &org_id, &alice).await, 0);
    let ok = answers.iter().filter(|s| s.is_success()).count();
    assert_eq!(ok, accepted.len() + revoked.len());
}

#[tokio::test]
async fn two_runs_at_once_expire_each_invitation_once() {
    let stack = short_lived().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    for i in 0..10 {
        invite_one(&stack, &alice, &org_id, &format!("p{i}@example.com")).await;
    }
    lapse().await;
    let (a, b) = tokio::join!(run(&stack, "a"), run(&stack, "b"));
    assert_eq!(a.expired + b.expired, 10, "{a}\n{b}");
    assert_eq!(a.errors + b.errors, 0);
    let expired = audited(&stack, &org_id, "invitation.expired").await;
    assert_eq!(expired.len(), 10);
    assert!(expired.values().all(|n| *n == 1), "{expired:?}");
    assert_eq!(pending_count(&stack, &org_id, &alice).await, 0);
}

#[tokio::test]
async fn a_run_stopped_early_is_finished_by_the_next() {
    let stack = short_lived().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    for i in 0..12 {
        invite_one(&stack, &alice, &org_id, &format!("p{i}@example.com")).await;
    }
    lapse().await;
    let store = &stack.app.store;
    // Out of time before it starts: it takes nothing up.
    let none = as_job(expire_invitations(
        store,
        Timestamp::now(),
        Instant::now(),
        "no-time",
    ))
    .await;
    assert_eq!((none.found, none.finished), (0, false), "{none}");
    // Out of time part way (wherever that falls), then a run with time enough.
    let short = Instant::now() + Duration::from_millis(40);
    let first = as_job(expire_invitations(store, Timestamp::now(), short, "short")).await;
    let second = run(&stack, "next").await;
    assert!(second.finished, "{second}");
    assert_eq!(first.expired + second.expired, 12, "{first}\n{second}");
    let expired = audited(&stack, &org_id, "invitation.expired").await;
    assert_eq!(expired.len(), 12);
    assert!(expired.values().all(|n| *n == 1));
    assert_eq!(pending_count(&stack, &org_id, &alice).await, 0);
}

#[tokio::test]
async fn a_deleting_organizations_invitations_are_skipped_until_the_deletion_is_finished() {
    let stack = short_lived().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let (_, id) = invite_one(&stack, &alice, &org_id, "bob@example.com").await;
    lapse().await;
    // A deletion that began and was never finished: the organization is `deleting`.
    let org = OrgId::parse(&org_id).unwrap();
    let owner = UserId::parse(&alice.sub).unwrap();
    let (organization, _) = stack
        .app
        .store
        .org_with_membership(&org, &owner)
        .await
        .unwrap()
        .unwrap();
    let op = Op {
        actor: owner,
        request_id: "delete".into(),
        at: Timestamp::now(),
        acting_as: None,
    };
    stack
        .app
        .store
        .begin_org_deletion(&organization, &op)
        .await
        .unwrap();
    let before = stack.snapshot().await;
    let report = run(&stack, "deleting").await;
    assert_eq!(
        (report.found, report.skipped, report.expired),
        (1, 1, 0),
        "{report}"
    );
    assert_eq!(report.deletions_finished, 0, "it may still be in progress");
    assert_eq!(stack.snapshot().await, before);
    assert_eq!(
        text(&invitation(&stack, &org_id, &id).await, "status"),
        "pending"
    );

    // A quarter of an hour on, the deletion counts as abandoned and the run finishes it.
    let later = Timestamp::now().plus_seconds(16 * 60);
    let report = run_at(&stack, later, "later").await;
    assert_eq!(report.deletions_finished, 1, "{report}");
    assert!(stack.org_items(&org_id).await.is_empty());
    assert!(!stack.has_invitation_tokens().await);
    let report = run_at(&stack, later, "after").await;
    assert_eq!(
        (report.found, report.deletions_finished),
        (0, 0),
        "{report}"
    );
    // The record of who deleted it stays, until its own TTL.
    let audit = audited(&stack, &org_id, "organization.deleted").await;
    assert_eq!(audit.len(), 1);
}
