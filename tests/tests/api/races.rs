//! Races, against a moto that serves one request at a time (so each transaction is atomic, as
//! in DynamoDB): the outcome must hold whatever order the requests land in.

use futures::future::join_all;
use orgs_shared::store::Stored;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::Stack;

#[tokio::test]
async fn twenty_concurrent_creations_of_one_handle_give_one_organization() {
    let stack = Stack::start().await;
    let people: Vec<_> = (0..20)
        .map(|i| stack.person(&format!("racer-{i}")))
        .collect();
    let body = json!({ "handle": "contested", "display_name": "Contested", "region": "us" });
    let answers = join_all(people.iter().map(|p| stack.post(p, "/orgs", body.clone()))).await;
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let conflicts = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["type"] == "urn:orgs:problem:handle-taken")
        .count();
    assert_eq!((created, conflicts), (1, 19), "{answers:?}");
    let orgs: Vec<_> = stack
        .kinds()
        .await
        .into_iter()
        .filter(|what| matches!(what, Stored::Organization { .. }))
        .collect();
    assert_eq!(orgs.len(), 1);
    assert_eq!(stack.handles().await, ["contested"]);
}

#[tokio::test]
async fn users_and_organizations_racing_for_one_handle_never_share_it() {
    let stack = Stack::start().await;
    let people: Vec<_> = (0..12).map(|i| stack.person(&format!("p-{i}"))).collect();
    for p in &people {
        stack.get(p, "/me").await;
    }
    let requests = people.iter().enumerate().map(|(i, p)| {
        let (method, path, body) = if i % 2 == 0 {
            (Method::PATCH, "/me", json!({ "handle": "one-name" }))
        } else {
            let body = json!({ "handle": "one-name", "display_name": "One", "region": "eu" });
            (Method::POST, "/orgs", body)
        };
        stack.call(p, method, path, Some(body))
    });
    let answers = join_all(requests).await;
    let won = answers.iter().filter(|(s, _)| s.is_success()).count();
    assert_eq!(won, 1, "{answers:?}");
    let holders: usize = stack
        .stored()
        .await
        .iter()
        .filter(|(_, item)| {
            item.get("handle").and_then(|h| h.as_s().ok()) == Some(&"one-name".into())
        })
        .filter(|(what, _)| !matches!(what, Stored::Handle { .. }))
        .count();
    assert_eq!(
        holders, 1,
        "exactly one user or organization holds the handle"
    );
}
