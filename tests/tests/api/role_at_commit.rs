//! A write an admin or owner makes holds only if their role still stands when it commits: the
//! transaction checks the caller's membership. Held in the fault proxy while the owner demotes
//! its author, such a write is refused with 403 and changes nothing.

use std::time::Duration;

use orgs_local::faults::{Fault, Rule, When};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::Stack;

/// Until the fault proxy holds the first transaction it was told to delay.
async fn until_a_transaction_is_held(stack: &Stack) {
    for _ in 0..200 {
        let held = stack
            .faults()
            .calls()
            .iter()
            .any(|c| c.operation == "TransactWriteItems" && c.faulted > 0);
        if held {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no transaction reached the fault proxy");
}

#[tokio::test]
async fn an_admin_demoted_while_their_write_is_in_flight_is_refused_and_nothing_changes() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let org = stack.create_org(&alice, "acme").await;
    let bob = stack.person("bob");
    stack.join(&org, &alice, &bob, "admin").await;
    let (_, before) = stack.get(&alice, format!("/orgs/{org}")).await;

    // Bob's edit reads his role (admin), then its transaction waits in the proxy while Alice's
    // demotion commits.
    stack.faults().inject(
        Rule::new(Fault::Delay(Duration::from_secs(2)), When::Nth(1)).on("TransactWriteItems"),
    );
    let edit = stack.patch(
        &bob,
        format!("/orgs/{org}"),
        json!({ "display_name": "Bob's Inc" }),
    );
    let demotion = async {
        until_a_transaction_is_held(&stack).await;
        stack
            .patch(
                &alice,
                format!("/orgs/{org}/members/{}", bob.sub),
                json!({ "role": "member" }),
            )
            .await
    };
    let ((edited, answer), (demoted, member)) = tokio::join!(edit, demotion);
    assert_eq!(demoted, StatusCode::OK, "{member}");
    assert_eq!(edited, StatusCode::FORBIDDEN, "{answer}");
    assert!(
        answer["detail"].as_str().unwrap().contains("changed while"),
        "{answer}"
    );
    let (_, after) = stack.get(&alice, format!("/orgs/{org}")).await;
    assert_eq!(after["display_name"], before["display_name"]);
}

#[tokio::test]
async fn an_admin_whose_role_stands_commits_as_before() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let org = stack.create_org(&alice, "acme").await;
    let bob = stack.person("bob");
    stack.join(&org, &alice, &bob, "admin").await;
    let (status, answer) = stack
        .patch(
            &bob,
            format!("/orgs/{org}"),
            json!({ "display_name": "Bob's Inc" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["display_name"], "Bob's Inc");
    // The check rides in the edit's own transaction (the last one): no extra request.
    let calls = stack.faults().calls();
    let edit = calls
        .iter()
        .rev()
        .find(|c| c.operation == "TransactWriteItems")
        .expect("the edit's transaction");
    assert!(
        edit.body.contains("ConditionCheck") && edit.body.contains(&bob.sub),
        "the edit's transaction checks Bob's membership: {}",
        edit.body
    );
}

/// A team's maintainer manages its members through their team role: a write of theirs holds
/// only if that team role still stands when it commits.
#[tokio::test]
async fn a_maintainer_demoted_while_their_write_is_in_flight_is_refused_and_nothing_changes() {
    let stack = Stack::faulty().await;
    let (alice, mia, bob) = (
        stack.person("alice"),
        stack.person("mia"),
        stack.person("bob"),
    );
    let org = stack.create_org(&alice, "acme").await;
    stack.join(&org, &alice, &mia, "member").await;
    stack.join(&org, &alice, &bob, "member").await;
    let (status, team) = stack
        .post(
            &alice,
            format!("/orgs/{org}/teams"),
            json!({ "name": "Ops" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    let members = format!(
        "/orgs/{org}/teams/{}/members",
        team["team_id"].as_str().unwrap()
    );
    let (status, _) = stack
        .put(
            &alice,
            format!("{members}/{}", mia.sub),
            Some(json!({ "role": "maintainer" })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Mia's addition reads her team role (maintainer), then its transaction waits in the proxy
    // while Alice makes her a plain member of the team.
    stack.faults().inject(
        Rule::new(Fault::Delay(Duration::from_secs(2)), When::Nth(1)).on("TransactWriteItems"),
    );
    let add = stack.put(&mia, format!("{members}/{}", bob.sub), None);
    let demotion = async {
        until_a_transaction_is_held(&stack).await;
        stack
            .patch(
                &alice,
                format!("{members}/{}", mia.sub),
                json!({ "role": "member" }),
            )
            .await
    };
    let ((added, answer), (demoted, row)) = tokio::join!(add, demotion);
    assert_eq!(demoted, StatusCode::OK, "{row}");
    assert_eq!(added, StatusCode::FORBIDDEN, "{answer}");
    let (_, page) = stack.get(&alice, &members).await;
    let in_team: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(in_team, ["mia"], "{page}");
}
