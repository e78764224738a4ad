//! DynamoDB's global secondary indexes lag behind the table; moto's do not. With
//! `Options::index_lag` (or `ORGS_TEST_INDEX_LAG_MS` for every stack), moto answers a Query on
//! an index from the table as it was that long ago (`lagging_indexes` in `tests/moto_server.py`),
//! while the table itself shows every write at once. The first test shows the model; the others,
//! what the service does under it.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Options, Stack};
use crate::token_claims::claims;

const LAG: Duration = Duration::from_millis(1500);

async fn lagging() -> Stack {
    Stack::start_with(Options {
        index_lag: Some(LAG),
        ..Options::default()
    })
    .await
}

/// The organizations `GET /orgs` lists for `who`: a Query on the memberships' index.
async fn listed(stack: &Stack, who: &crate::common::Person) -> Vec<String> {
    let (status, list) = stack.get(who, "/orgs").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["org_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_organizations_list_follows_the_lagging_index_but_never_shows_one_left() {
    let stack = lagging().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    // The table has the membership at once (the organization reads it consistently) ...
    let (status, org) = stack.get(&alice, format!("/orgs/{org_id}")).await;
    assert_eq!((status, &org["role"]), (StatusCode::OK, &json!("owner")));
    // ... the index behind `GET /orgs` not yet, and then it does.
    assert_eq!(listed(&stack, &alice).await, Vec::<String>::new());
    tokio::time::sleep(LAG + Duration::from_millis(300)).await;
    assert_eq!(listed(&stack, &alice).await, std::slice::from_ref(&org_id));

    // A removal: the index still finds the membership, but `GET /orgs` reads each one it finds
    // again from the table, so a person removed never sees the organization listed.
    let bob = stack.person("bob");
    stack.join(&org_id, &alice, &bob, "member").await;
    tokio::time::sleep(LAG + Duration::from_millis(300)).await;
    assert_eq!(listed(&stack, &bob).await, std::slice::from_ref(&org_id));
    let (status, _) = stack
        .delete(&alice, format!("/orgs/{org_id}/members/bob"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(listed(&stack, &bob).await, Vec::<String>::new());
    // A role change likewise shows at once.
    let carol = stack.person("carol");
    stack.join(&org_id, &alice, &carol, "member").await;
    tokio::time::sleep(LAG + Duration::from_millis(300)).await;
    let path = format!("/orgs/{org_id}/members/carol");
    let (status, body) = stack.patch(&alice, &path, json!({ "role": "admin" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, list) = stack.get(&carol, "/orgs").await;
    assert_eq!(list["items"][0]["role"], "admin", "{list}");
}

#[tokio::test]
async fn token_claims_follow_the_lagging_index_but_never_name_an_organization_left() {
    let stack = lagging().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    stack.join(&org_id, &alice, &bob, "member").await;
    let orgs_claim = |claims: (serde_json::Value, serde_json::Value)| claims.0["orgs"].clone();
    // Just joined: the index does not have him yet, and neither does his token.
    assert_eq!(orgs_claim(claims(&stack, &bob, 20).await), json!(null));
    tokio::time::sleep(LAG + Duration::from_millis(300)).await;
    assert_eq!(
        orgs_claim(claims(&stack, &bob, 20).await),
        json!({ &org_id: { "handle": "acme", "role": "member" } })
    );

    // Promoted, then removed: the index still lists him as a member, the token says what the
    // table says.
    let path = format!("/orgs/{org_id}/members/bob");
    let (status, body) = stack.patch(&alice, &path, json!({ "role": "admin" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        orgs_claim(claims(&stack, &bob, 20).await),
        json!({ &org_id: { "handle": "acme", "role": "admin" } })
    );
    let (status, _) = stack.delete(&alice, &path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(orgs_claim(claims(&stack, &bob, 20).await), json!(null));
}
