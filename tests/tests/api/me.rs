//! `GET /me` and `PATCH /me`.

use orgs_shared::store::Of;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Anonymous, Stack, assert_problem, error_fields};

#[tokio::test]
async fn first_use_creates_the_profile_with_its_audit_entry_and_event() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let (status, me) = stack.get(&alice, "/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user_id"], "alice");
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["email_verified"], true);
    assert!(me["handle"].is_null() && me["display_name"].is_null());

    // A second visit reads the same profile and records nothing new.
    let (_, again) = stack.get(&alice, "/me").await;
    assert_eq!(again, me);
    let kinds = stack.kinds().await;
    assert_eq!(kinds.iter().filter(|what| what.names("alice")).count(), 1);
    let alice_of = Of::User("alice".into());
    assert_eq!(stack.audit_entries(&alice_of).await.len(), 1);
    assert_eq!(stack.event_records(&alice_of).await.len(), 1);
}

#[tokio::test]
async fn a_new_verified_address_in_an_id_token_is_kept_with_an_audit_entry() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let (status, _) = stack.get(&alice, "/me").await;
    assert_eq!(status, StatusCode::OK);
    let moved = stack.person_with_email("alice", "alice@new.example", true);
    let (status, me) = stack.get(&moved, "/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["email"], "alice@new.example");
    // An access token states no address: it shows the one kept.
    let (_, again) = stack.get(&stack.with_access_token(&alice), "/me").await;
    assert_eq!(again["email"], "alice@new.example");
    let alice_of = Of::User("alice".into());
    assert_eq!(stack.audit_entries(&alice_of).await.len(), 2);
}

#[tokio::test]
async fn patch_sets_handle_and_name_and_frees_the_old_handle() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let body = json!({ "handle": "Alice-B", "display_name": "  Alice B  " });
    let (status, me) = stack.patch(&alice, "/me", body).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["handle"], "alice-b");
    assert_eq!(me["display_name"], "Alice B");

    let (status, me) = stack
        .patch(&alice, "/me", json!({ "handle": "alice-c" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["handle"], "alice-c");
    assert_eq!(me["display_name"], "Alice B");
    // The old handle is free again: an organization can take it.
    stack.create_org(&stack.person("bob"), "alice-b").await;

    let (status, me) = stack
        .patch(&alice, "/me", json!({ "display_name": null }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(me["display_name"].is_null());
    assert_eq!(stack.handles().await.len(), 2);
}

#[tokio::test]
async fn invalid_patches_are_refused_and_change_nothing() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let before = stack.snapshot().await;
    let cases = [
        (json!({ "handle": "ab" }), vec!["handle"]),
        (json!({ "handle": "admin" }), vec!["handle"]),
        (json!({ "handle": "a\u{200b}bc" }), vec!["handle"]),
        (
            json!({ "display_name": "x".repeat(101) }),
            vec!["display_name"],
        ),
        (
            json!({ "display_name": "a\u{202e}b" }),
            vec!["display_name"],
        ),
        (json!({ "handle": 7 }), vec!["handle"]),
        (json!({ "nickname": "x" }), vec!["nickname"]),
        // serde would read an array as the fields in order: found by the fuzzer (tests/fuzz).
        (json!([null, null]), vec!["body"]),
        (json!(["alice-x"]), vec!["body"]),
        (json!("alice-x"), vec!["body"]),
        // A handle can be changed, not removed; `null` was taken for "no change".
        (json!({ "handle": null }), vec!["handle"]),
    ];
    for (body, fields) in cases {
        let (status, problem) = stack.patch(&alice, "/me", body.clone()).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(error_fields(&problem), fields, "{body}");
    }
    let response = stack
        .raw(
            &alice,
            Method::PATCH,
            "/me",
            r#"{"handle": "alice-one", "handle": "alice-two"}"#.to_owned(),
        )
        .await;
    let status = response.status();
    let problem: Value = response.json().await.unwrap();
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(problem["errors"][0]["field"], "handle", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "duplicate_field", "{problem}");
    assert_eq!(
        stack.snapshot().await,
        before,
        "a refused request must not even create the profile"
    );
}

#[tokio::test]
async fn user_and_organization_handles_share_one_namespace() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    stack
        .patch(&alice, "/me", json!({ "handle": "shared" }))
        .await;
    let body = json!({ "handle": "SHARED", "display_name": "S", "region": "us" });
    let (status, problem) = stack.post(&bob, "/orgs", body).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "handle-taken");

    stack.create_org(&bob, "bobs-org").await;
    let before = stack.snapshot().await;
    let (status, problem) = stack
        .patch(&alice, "/me", json!({ "handle": "bobs-org" }))
        .await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "handle-taken");
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn requests_without_valid_credentials_get_401() {
    let stack = Stack::start().await;
    let (status, _) = stack.get(Anonymous, "/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut forged = stack.person("alice");
    forged.token = orgs_local::token::mint("another-secret", "alice", None, true, 3600);
    let (status, _) = stack.get(&forged, "/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut expired = stack.person("alice");
    expired.token = orgs_local::token::mint("test-secret", "alice", None, true, -600);
    let (status, _) = stack.patch(&expired, "/me", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(stack.snapshot().await.is_empty());
}
