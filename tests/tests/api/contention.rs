//! Contention, under DynamoDB's conflicts (the conflict proxy in front of moto): a change whose
//! transaction meets another one in flight is tried again, with jittered backoff, and succeeds
//! once the item is free; one that keeps meeting conflicts past its budget answers 503 with
//! `Retry-After`, never 409, and changes nothing. Many changes at once in one organization all
//! succeed, and its counts are exact afterwards.

use std::time::Duration;

use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};
use futures::future::join_all;
use orgs_local::aws;
use orgs_shared::domain::OrgId;
use orgs_shared::store::{Item, Organization, Stored};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Options, Stack, assert_problem};

async fn contended() -> Stack {
    Stack::start_with(Options {
        conflict_window: Some(Duration::from_millis(20)),
        ..Options::default()
    })
    .await
}

/// Holds the organization's item through the proxy with a transaction of its own (a condition
/// check), for as long as the proxy's window, until `release_all`.
async fn hold_org_item(stack: &Stack, org_id: &str) -> tokio::task::JoinHandle<()> {
    hold_item(
        stack,
        Organization::key_of(&OrgId::parse(org_id).expect("org id")),
    )
    .await
}

/// Holds `key`'s item through the proxy with a transaction of its own (a condition check), for
/// the proxy's window, which it sets to two minutes, until `release_all`.
pub(crate) async fn hold_item(stack: &Stack, key: Item) -> tokio::task::JoinHandle<()> {
    hold_items(stack, vec![key]).await
}

/// As `hold_item`, for several items in one transaction.
async fn hold_items(stack: &Stack, keys: Vec<Item>) -> tokio::task::JoinHandle<()> {
    stack.conflicts().set_window(Duration::from_secs(120));
    let sdk = aws::sdk_config(stack.conflicts().endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let checks: Vec<TransactWriteItem> = keys
        .into_iter()
        .map(|key| {
            let check = ConditionCheck::builder()
                .table_name(&stack.table)
                .set_key(Some(key))
                .condition_expression("attribute_exists(pk)")
                .build()
                .expect("check");
            TransactWriteItem::builder().condition_check(check).build()
        })
        .collect();
    let holder = tokio::spawn(async move {
        client
            .transact_write_items()
            .set_transact_items(Some(checks))
            .send()
            .await
            .expect("the holder commits");
    });
    stack.conflicts().until_holding(1).await;
    holder
}

/// Waits until the proxy has cancelled `n` transactions in all.
async fn until_cancelled(stack: &Stack, n: u64) {
    while stack.conflicts().counts().cancelled < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_change_that_met_a_conflict_is_tried_again_and_succeeds() {
    let stack = contended().await;
    let owner = stack.person("owner");
    let org_id = stack.create_org(&owner, "retried").await;
    let holder = hold_org_item(&stack, &org_id).await;
    let path = format!("/orgs/{org_id}");
    let body = json!({ "display_name": "Retried Inc" });
    let edit = stack.call(Some(&owner), Method::PATCH, &path, Some(body));
    let release = async {
        until_cancelled(&stack, 2).await;
        stack.conflicts().set_window(Duration::ZERO);
        stack.conflicts().release_all();
    };
    let ((status, org), ()) = tokio::join!(edit, release);
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["display_name"], "Retried Inc");
    holder.await.expect("holder");
}

#[tokio::test]
async fn a_change_that_keeps_meeting_conflicts_answers_503_and_changes_nothing() {
    // Conflicts are retried while the request has time: give it a function's short deadline.
    let stack = Stack::start_with(Options {
        conflict_window: Some(Duration::from_millis(20)),
        function_timeout: Some(Duration::from_secs(5)),
        ..Options::default()
    })
    .await;
    let owner = stack.person("owner");
    let org_id = stack.create_org(&owner, "contended").await;
    let holder = hold_org_item(&stack, &org_id).await;
    let before = stack.snapshot().await;
    let path = format!("/orgs/{org_id}");
    let body = json!({ "display_name": "Never Inc" });
    let (status, headers, problem) = stack
        .call_with_headers(Some(&owner), Method::PATCH, &path, Some(body))
        .await;
    assert_problem(
        status,
        &problem,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    );
    let retry_after = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok());
    assert!(retry_after.is_some_and(|s| s >= 1), "{headers:?}");
    assert!(stack.conflicts().counts().cancelled >= 2);
    assert_eq!(stack.snapshot().await, before);
    stack.conflicts().set_window(Duration::ZERO);
    stack.conflicts().release_all();
    holder.await.expect("holder");
}

#[tokio::test]
async fn a_count_change_whose_tally_is_held_moves_to_another_tally() {
    let stack = contended().await;
    let owner = stack.person("owner");
    let org_id = stack.create_org(&owner, "tallied").await;
    let joiner = stack.person("joiner");
    let path = format!("/orgs/{org_id}/invitations");
    let body = json!({ "invitations": [{ "email": joiner.email }] });
    let (status, created) = stack
        .call(Some(&owner), Method::POST, &path, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let link = created["results"][0]["invite_url"].as_str().expect("link");
    let token = link.split("token=").nth(1).expect("token").to_owned();
    // Every tally but one is held by a transaction in flight: wherever the accept's count
    // change lands first, it ends on the free one instead of waiting for the others.
    let mut tallies = Organization::tally_keys_of(&OrgId::parse(&org_id).expect("org id"));
    let free = tallies.remove(3);
    let holder = hold_items(&stack, tallies).await;
    stack.conflicts().set_window(Duration::ZERO);
    let (status, answer) = stack
        .call(
            Some(&joiner),
            Method::POST,
            "/invitations/accept",
            Some(json!({ "token": token })),
        )
        .await;
    stack.conflicts().release_all();
    holder.await.expect("holder");
    assert_eq!(status, StatusCode::OK, "{answer}");
    let stored = stack.stored().await;
    let delta = |key: &Item| {
        stored
            .iter()
            .find(|(_, item)| item.get("pk") == key.get("pk") && item.get("sk") == key.get("sk"))
            .and_then(|(_, item)| item.get("member_delta")?.as_n().ok()?.parse::<i64>().ok())
    };
    assert_eq!(delta(&free), Some(1));
    let (_, org) = stack
        .call(Some(&owner), Method::GET, &format!("/orgs/{org_id}"), None)
        .await;
    assert_eq!(org["member_count"], 2, "{org}");
}

#[tokio::test]
async fn many_people_accepting_while_admins_work_all_succeed_with_exact_counts() {
    let stack = contended().await;
    let owner = stack.person("owner");
    let org_id = stack.create_org(&owner, "busy").await;
    let admin = stack.person("admin");
    stack.join(&org_id, &owner, &admin, "admin").await;
    let members: Vec<_> = (0..4).map(|i| stack.person(&format!("m-{i}"))).collect();
    for m in &members {
        stack.join(&org_id, &owner, m, "member").await;
    }
    let joiners: Vec<_> = (0..12).map(|i| stack.person(&format!("j-{i}"))).collect();
    let path = format!("/orgs/{org_id}/invitations");
    let mut tokens = Vec::new();
    for chunk in joiners.chunks(6) {
        let invitations: Vec<_> = chunk.iter().map(|p| json!({ "email": p.email })).collect();
        let body = json!({ "invitations": invitations });
        let (status, created) = stack
            .call(Some(&admin), Method::POST, &path, Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        for result in created["results"].as_array().expect("results") {
            let link = result["invite_url"].as_str().expect("link");
            tokens.push(link.split("token=").nth(1).expect("token").to_owned());
        }
    }
    let accepts = joiners.iter().zip(&tokens).map(|(p, token)| {
        stack.call(
            Some(p),
            Method::POST,
            "/invitations/accept",
            Some(json!({ "token": token })),
        )
    });
    let member_paths: Vec<String> = members
        .iter()
        .map(|m| format!("/orgs/{org_id}/members/{}", m.sub))
        .collect();
    let roles = member_paths.iter().map(|path| {
        stack.call(
            Some(&owner),
            Method::PATCH,
            path,
            Some(json!({ "role": "admin" })),
        )
    });
    let more: Vec<_> = (0..5)
        .map(|i| json!({ "email": format!("more-{i}@example.com") }))
        .collect();
    let invite = stack.call(
        Some(&admin),
        Method::POST,
        &path,
        Some(json!({ "invitations": more })),
    );
    let org_path = format!("/orgs/{org_id}");
    let edit = stack.call(
        Some(&owner),
        Method::PATCH,
        &org_path,
        Some(json!({ "display_name": "Busy Inc" })),
    );
    let (accepted, changed, invited, edited) =
        tokio::join!(join_all(accepts), join_all(roles), invite, edit);
    for (status, body) in accepted.iter().chain(&changed) {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    assert_eq!(invited.0, StatusCode::CREATED, "{}", invited.1);
    assert_eq!(edited.0, StatusCode::OK, "{}", edited.1);

    let (_, org) = stack.call(Some(&owner), Method::GET, &org_path, None).await;
    let stored = stack.stored().await;
    let text = |item: &Item, name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let members = stored
        .iter()
        .filter(|(what, _)| matches!(what, Stored::Member { org, .. } if *org == org_id))
        .count();
    let pending = stored
        .iter()
        .filter(|(what, item)| {
            matches!(what, Stored::Invitation { org, .. } if *org == org_id)
                && text(item, "status").as_deref() == Some("pending")
        })
        .count();
    assert_eq!(members, 1 + 1 + 4 + 12);
    assert_eq!(org["member_count"], members, "{org}");
    assert_eq!(pending, 5);
    // The pending count is the org item's plus its tallies' deltas (docs/data-model.md).
    let number = |item: &Item, name: &str| -> i64 {
        item.get(name)
            .and_then(|n| n.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let pending_count: i64 = stored
        .iter()
        .map(|(what, item)| match what {
            Stored::Organization { org } if *org == org_id => number(item, "pending_count"),
            Stored::Tally { org, .. } if *org == org_id => number(item, "pending_delta"),
            _ => 0,
        })
        .sum();
    assert_eq!(pending_count, 5);
    assert!(stack.conflicts().counts().transactions > 0);
}
