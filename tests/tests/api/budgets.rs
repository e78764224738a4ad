//! Time budgets: a handler knows when its Lambda deadline comes (the local API gives it the
//! deadline a function of that timeout would have) and answers in time, with problem+json and
//! `Retry-After` where repeating helps, even when DynamoDB or SES is slow (the fault proxy's
//! `Delay`: forwarded late, not hung). A batch of invitations cut short names, per invitee, what
//! was done. The only timing asserted is the contract: answered before the deadline.

use std::time::{Duration, Instant};

use orgs_local::faults::{Fault, Rule, When};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Options, Stack};
use crate::faults::{assert_nothing_internal, assert_unavailable};
use crate::invitations::invite;

/// Each function's Lambda timeout in these tests: short, yet long enough for a moto busy with
/// the whole suite to answer the calls that are not slowed on purpose.
const DEADLINE: Duration = Duration::from_secs(6);

async fn short_deadline(options: Options) -> Stack {
    Stack::start_with(Options {
        function_timeout: Some(DEADLINE),
        ..options
    })
    .await
}

fn pending_emails(listing: &Value) -> Vec<String> {
    let mut emails: Vec<String> = listing["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["email"].as_str().map(str::to_owned))
        .collect();
    emails.sort();
    emails
}

#[tokio::test]
async fn slow_dynamodb_is_answered_503_before_the_deadline_and_nothing_is_written() {
    let stack = short_deadline(Options {
        faulty_dynamodb: true,
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let before = stack.snapshot().await;
    // Reads answer at once; the write would take longer than the function has.
    let slow = Duration::from_secs(8);
    stack
        .faults()
        .inject(Rule::new(Fault::Delay(slow), When::Always).on("TransactWriteItems"));
    let started = Instant::now();
    let (status, headers, body) = stack
        .call_with_headers(
            &alice,
            Method::PATCH,
            format!("/orgs/{org_id}"),
            Some(json!({ "display_name": "Acme Renamed" })),
        )
        .await;
    assert!(started.elapsed() < DEADLINE, "{:?}", started.elapsed());
    assert_unavailable(&stack, status, &headers, &body);
    // Past the moment the slow write would have reached moto: it never did.
    tokio::time::sleep(slow.saturating_sub(started.elapsed()) + Duration::from_millis(500)).await;
    let writes: Vec<_> = stack.faults().calls();
    assert!(
        writes
            .iter()
            .filter(|c| c.operation == "TransactWriteItems")
            .all(|c| c.forwarded == 0),
        "{writes:?}"
    );
    assert_eq!(stack.snapshot().await, before);

    // DynamoDB is fast again: the same request passes.
    stack.faults().clear();
    let (status, org) = stack
        .patch(
            &alice,
            format!("/orgs/{org_id}"),
            json!({ "display_name": "Acme Renamed" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
}

#[tokio::test]
async fn a_batch_cut_short_by_slow_lookups_reports_each_invitee_and_a_retry_invites_the_rest() {
    let stack = short_deadline(Options {
        faulty_dynamodb: true,
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    // Three people invited by handle: each is looked up (two GetItems), side by side, before
    // the one transaction that writes the whole batch.
    let mut invitees = vec![json!({ "email": "first@example.com" })];
    for n in 1..=3 {
        let person = stack.person(&format!("handle{n}"));
        let (status, me) = stack
            .patch(&person, "/me", json!({ "handle": format!("handle{n}") }))
            .await;
        assert_eq!(status, StatusCode::OK, "{me}");
        invitees.push(json!({ "handle": format!("handle{n}") }));
    }
    invitees.push(json!({ "email": "last@example.com" }));
    // Each lookup takes six seconds: none fits in six, beside the transaction.
    stack
        .faults()
        .inject(Rule::new(Fault::Delay(Duration::from_secs(3)), When::Always).on("GetItem"));
    let started = Instant::now();
    let (status, answer) = invite(&stack, &alice, &org_id, json!(invitees)).await;
    assert!(started.elapsed() < DEADLINE, "{:?}", started.elapsed());
    stack.faults().clear();
    assert_eq!(status, StatusCode::MULTI_STATUS, "{answer}");
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), invitees.len());
    // The first and the last need no lookup and are written; the lookups were cut, and each
    // says so.
    assert_eq!(results[0]["status"], 201, "{answer}");
    assert_eq!(results[invitees.len() - 1]["status"], 201, "{answer}");
    for cut in &results[1..invitees.len() - 1] {
        assert_eq!(cut["status"], 503, "{answer}");
        assert_eq!(cut["problem"]["type"], "urn:orgs:problem:unavailable");
    }
    let mut invited = 0;
    for result in results {
        match result["status"].as_u64() {
            Some(201) => {
                assert!(result["invite_url"].is_string(), "{result}");
                invited += 1;
            }
            Some(503) => assert_nothing_internal(&stack, result),
            _ => panic!("neither invited nor cut short: {result}"),
        }
    }
    let (_, listing) = stack
        .get(&alice, format!("/orgs/{org_id}/invitations?status=pending"))
        .await;
    assert_eq!(pending_emails(&listing).len(), invited, "{answer}");

    // The same request again, in time: those invited are pending already, the rest are invited.
    let (status, again) = invite(&stack, &alice, &org_id, json!(invitees)).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{again}");
    for (first, second) in results.iter().zip(again["results"].as_array().unwrap()) {
        let expected = if first["status"] == 201 { 409 } else { 201 };
        assert_eq!(second["status"], expected, "{first} then {second}");
    }
}

#[tokio::test]
async fn slow_ses_leaves_the_invitations_made_with_their_links_and_a_resend_delivers() {
    let stack = short_deadline(Options {
        faulty_ses: true,
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let people: Vec<_> = (0..3).map(|_| stack.unique_person("invitee")).collect();
    let batch = |people: &[crate::common::Person]| {
        json!(
            people
                .iter()
                .map(|p| json!({ "email": p.email }))
                .collect::<Vec<_>>()
        )
    };

    // A normal request is unaffected by the budget.
    let first = stack.unique_person("first");
    let (status, answer) =
        invite(&stack, &alice, &org_id, batch(std::slice::from_ref(&first))).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["results"][0]["email_sent"], true, "{answer}");

    // SES now takes longer than the function has.
    let slow = Duration::from_secs(8);
    stack
        .ses_faults()
        .inject(Rule::new(Fault::Delay(slow), When::Always).on("SendEmail"));
    let started = Instant::now();
    let (status, answer) = invite(&stack, &alice, &org_id, batch(&people)).await;
    assert!(started.elapsed() < DEADLINE, "{:?}", started.elapsed());
    // Every invitee is invited, with the link to pass on: the emails are what waits.
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let results = answer["results"].as_array().unwrap();
    for result in results {
        assert_eq!(result["status"], 201, "{answer}");
        assert!(result["invite_url"].is_string(), "{answer}");
        assert_eq!(result["email_sent"], false, "{answer}");
        assert!(result["email_error"].is_string(), "{answer}");
    }
    // Past the moment the slow sends would have reached SES: they never did.
    tokio::time::sleep(slow.saturating_sub(started.elapsed()) + Duration::from_millis(500)).await;
    for person in &people {
        assert!(stack.mail_to(&person.email).await.is_empty());
    }

    // SES is fast again: a resend delivers the invitation with a fresh link.
    stack.ses_faults().clear();
    let id = results[1]["invitation"]["invitation_id"].as_str().unwrap();
    let (status, resent) = stack
        .post(
            &alice,
            format!("/orgs/{org_id}/invitations/{id}/resend"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    assert_eq!(resent["email_sent"], true, "{resent}");
    let mail = stack.mail_to(&people[1].email).await;
    assert_eq!(mail.len(), 1);
    let link = resent["invite_url"].as_str().unwrap();
    assert!(mail[0].contains(link.split("token=").nth(1).unwrap()));
}
