//! A write DynamoDB applied whose answer never came back (a timeout, a dropped connection): the
//! SDK sends it again with the same `ClientRequestToken`, and the request succeeds once, as if
//! the answer had come, instead of tripping over its own write: a handle "taken" by the very
//! organization just created, an invitation "already accepted" by its own acceptance.

use std::time::Duration;

use orgs_local::faults::{Fault, Rule, When};
use orgs_shared::store::Of;
use reqwest::StatusCode;

use crate::common::{Options, Stack};
use crate::invitations::{answer, invite_one};

/// The next transaction's first attempt reaches moto, but its answer is lost.
fn lose_next_transaction_answer(stack: &Stack) {
    stack.faults().inject(
        Rule::new(Fault::LoseAnswer, When::Nth(1))
            .on("TransactWriteItems")
            .first_attempt_only(),
    );
}

/// The transaction calls of the last request: each was tried twice and applied by the first.
fn assert_answer_was_lost_once(stack: &Stack) {
    let calls = stack.faults().calls();
    let lost: Vec<_> = calls
        .iter()
        .filter(|c| c.fault == Some(Fault::LoseAnswer))
        .collect();
    assert_eq!(lost.len(), 1, "{calls:?}");
    assert_eq!((lost[0].attempts, lost[0].forwarded), (2, 2), "{calls:?}");
    stack.faults().clear();
}

#[tokio::test]
async fn an_organization_whose_creation_answer_was_lost_is_created_once() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    lose_next_transaction_answer(&stack);
    let org_id = stack.create_org(&alice, "acme").await;
    assert_answer_was_lost_once(&stack);

    let (_, list) = stack.get(&alice, "/orgs").await;
    let ids: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["org_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, std::slice::from_ref(&org_id));
    assert_eq!(stack.handles().await, ["acme"]);
    assert_eq!(stack.audit_entries(&Of::Org(org_id)).await.len(), 1);
}

#[tokio::test]
async fn an_acceptance_whose_answer_was_lost_joins_once() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    let (token, _) = invite_one(&stack, &alice, &org_id, &bob.email).await;
    stack.faults().clear();

    lose_next_transaction_answer(&stack);
    let (status, joined) = answer(&stack, Some(&bob), "accept", &token).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_answer_was_lost_once(&stack);

    let (_, org) = stack.get(&alice, format!("/orgs/{org_id}")).await;
    assert_eq!(org["member_count"], 2, "{org}");
    let (_, members) = stack.get(&alice, format!("/orgs/{org_id}/members")).await;
    assert_eq!(members["items"].as_array().unwrap().len(), 2, "{members}");
    let (_, invitations) = stack
        .get(
            &alice,
            format!("/orgs/{org_id}/invitations?status=accepted"),
        )
        .await;
    assert_eq!(invitations["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_creation_that_outlasts_its_attempt_timeout_is_created_once() {
    // DynamoDB takes 4 s to apply each transaction; the functions' attempts time out after 3 s.
    let stack = Stack::start_with(Options {
        faulty_dynamodb: true,
        function_timeouts: true,
        conflict_window: Some(Duration::from_secs(4)),
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    // The SDK's retry came while the first attempt was still being applied, and was told so.
    assert!(stack.conflicts().counts().in_progress >= 1);
    assert_eq!(stack.conflicts().counts().transactions, 1);
    assert_eq!(stack.handles().await, ["acme"]);
    assert_eq!(stack.audit_entries(&Of::Org(org_id)).await.len(), 1);
}
