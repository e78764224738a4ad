//! `DELETE /orgs/{org_id}?confirm={handle}`: owners only, everything goes, however much.

use aws_sdk_dynamodb::types::AttributeValue;
use orgs_shared::domain::{OrgId, Timestamp, UserId};
use orgs_shared::store::Op;
use reqwest::{Method, StatusCode};

use crate::common::{Stack, assert_problem};

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

/// Fills the organization's partition with `count` extra items of the kinds later features
/// write (members, invitations with their token items, teams), directly through the SDK.
async fn fill(stack: &Stack, org_id: &str, count: usize) {
    let pk = format!("ORG#{org_id}");
    for i in 0..count {
        match i % 3 {
            0 => {
                let member = stack.person(&format!("member-{i}"));
                stack.add_member(org_id, &member, "member", "active").await;
            }
            1 => {
                let hash = format!("{i:064x}");
                stack
                    .put_item(vec![
                        ("pk", s(&pk)),
                        ("sk", s(&format!("INV#inv_{i:032x}"))),
                        ("entity", s("invitation")),
                        ("token_hash", s(&hash)),
                    ])
                    .await;
                stack
                    .put_item(vec![
                        ("pk", s(&format!("INVTOKEN#{hash}"))),
                        ("sk", s("INVTOKEN")),
                        ("org_id", s(org_id)),
                    ])
                    .await;
            }
            _ => {
                stack
                    .put_item(vec![
                        ("pk", s(&pk)),
                        ("sk", s(&format!("TEAM#team_{i:032x}"))),
                        ("entity", s("team")),
                    ])
                    .await;
            }
        }
    }
}

#[tokio::test]
async fn deleting_needs_the_current_handle_and_an_owner() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let before = stack.snapshot().await;
    for (query, field_code) in [
        ("", "required"),
        ("?confirm=acme-inc", "confirmation_mismatch"),
    ] {
        let (status, problem) = stack
            .call(
                Some(&alice),
                Method::DELETE,
                &format!("/orgs/{org_id}{query}"),
                None,
            )
            .await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(problem["errors"][0]["field"], "confirm");
        assert_eq!(problem["errors"][0]["code"], field_code);
    }
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn deleting_a_large_organization_leaves_nothing_of_it_behind() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let other = stack.create_org(&alice, "other").await;
    fill(&stack, &org_id, 360).await;
    assert!(stack.keys_with_prefix(&format!("ORG#{org_id}")).await.len() > 300);

    let (status, body) = stack
        .call(
            Some(&alice),
            Method::DELETE,
            &format!("/orgs/{org_id}?confirm=ACME"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(
        stack
            .keys_with_prefix(&format!("ORG#{org_id}"))
            .await
            .is_empty()
    );
    assert!(stack.keys_with_prefix("INVTOKEN#").await.is_empty());
    assert!(stack.keys_with_prefix("HANDLE#acme").await.is_empty());
    // The audit trail and the event record of the deletion remain (until their TTL).
    let audit = stack.keys_with_prefix(&format!("AUDIT#ORG#{org_id}")).await;
    assert_eq!(audit.len(), 2);
    // The other organization is untouched, and the handle is free again.
    assert_eq!(
        stack.keys_with_prefix(&format!("ORG#{other}")).await.len(),
        6
    );
    let (status, _) = stack
        .call(Some(&alice), Method::GET, &format!("/orgs/{org_id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = stack.call(Some(&alice), Method::GET, "/orgs", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    stack.create_org(&stack.person("bob"), "acme").await;
}

#[tokio::test]
async fn a_deletion_stopped_after_its_first_step_is_finished_by_repeating_the_request() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let member = stack.person("mia");
    let org_id = stack.create_org(&alice, "acme").await;
    fill(&stack, &org_id, 60).await;
    stack.add_member(&org_id, &member, "member", "active").await;

    // The function dies right after step 1: the organization is marked, nothing else removed.
    let id = OrgId::parse(&org_id).unwrap();
    let (org, _) = stack
        .app
        .store
        .org_with_membership(&id, &UserId::parse("alice").unwrap())
        .await
        .unwrap()
        .unwrap();
    let op = Op {
        actor: UserId::parse("alice").unwrap(),
        request_id: "killed".into(),
        at: Timestamp::now(),
    };
    stack.app.store.begin_org_deletion(&org, &op).await.unwrap();

    // Hidden from everyone meanwhile, and no write gets in.
    let path = format!("/orgs/{org_id}");
    let (status, _) = stack.call(Some(&member), Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stack.call(Some(&alice), Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stack
        .call(
            Some(&member),
            Method::DELETE,
            &format!("{path}?confirm=acme"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(stack.keys_with_prefix(&format!("ORG#{org_id}")).await.len() > 60);

    // The owner repeats the request; the retry finishes the work.
    let (status, body) = stack
        .call(
            Some(&alice),
            Method::DELETE,
            &format!("{path}?confirm=acme"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(
        stack
            .keys_with_prefix(&format!("ORG#{org_id}"))
            .await
            .is_empty()
    );
    assert!(stack.keys_with_prefix("INVTOKEN#").await.is_empty());
    // Exactly one OrganizationDeleted record: the retry did not record the deletion twice.
    let events = stack.keys_with_prefix(&format!("EVENT#ORG#{org_id}")).await;
    assert_eq!(events.len(), 2, "created + deleted: {events:?}");
}
