//! Both kinds of Cognito token, as any OIDC provider issues them: an ID token states the email
//! (`email`, `email_verified`), an access token states none. A token without email claims never
//! changes the stored profile, and the invitee's flows then go by the last address an ID token
//! verified; when none is on file, the answer says how to get one there.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Person, Stack, assert_problem};

async fn invite(stack: &Stack, who: &Person, org_id: &str, invitee: Value) -> String {
    let path = format!("/orgs/{org_id}/invitations");
    let body = json!({ "invitations": [invitee] });
    let (status, created) = stack.call(Some(who), Method::POST, &path, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let link = created["results"][0]["invite_url"].as_str().expect("link");
    link.split("token=").nth(1).expect("token").to_owned()
}

async fn answer(stack: &Stack, who: &Person, action: &str, token: &str) -> (StatusCode, Value) {
    let path = format!("/invitations/{action}");
    let body = json!({ "token": token });
    stack.call(Some(who), Method::POST, &path, Some(body)).await
}

#[tokio::test]
async fn id_then_access_then_id_tokens_change_nothing_stored() {
    let stack = Stack::start().await;
    let bob = stack.person("bob");
    let bob_access = stack.with_access_token(&bob);
    let (status, me) = stack.call(Some(&bob), Method::GET, "/me", None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let before = stack.snapshot().await;

    let (status, with_access) = stack
        .call(Some(&bob_access), Method::GET, "/me", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{with_access}");
    assert_eq!(
        with_access, me,
        "the access token's answer shows the stored email"
    );
    let (status, again) = stack.call(Some(&bob), Method::GET, "/me", None).await;
    assert_eq!((status, &again), (StatusCode::OK, &me));
    // No write at all: no profile change, no audit entry, no event record.
    assert_eq!(stack.snapshot().await, before);
    assert_eq!(me["email"], "bob@example.com");
    assert_eq!(me["email_verified"], true);
}

#[tokio::test]
async fn an_access_token_keeps_the_email_that_invitations_by_handle_need() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    let body = json!({ "handle": "bobby" });
    let (status, _) = stack
        .call(Some(&bob), Method::PATCH, "/me", Some(body))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack
        .call(
            Some(&stack.with_access_token(&bob)),
            Method::GET,
            "/me",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = invite(&stack, &alice, &org_id, json!({ "handle": "bobby" })).await;
    let (status, joined) = answer(&stack, &stack.with_access_token(&bob), "accept", &token).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
}

#[tokio::test]
async fn an_access_token_accepts_declines_and_lists_by_the_verified_email_on_file() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let bob_access = stack.with_access_token(&bob);
    let acme = stack.create_org(&alice, "acme").await;
    let globex = stack.create_org(&alice, "globex").await;
    let to_accept = invite(&stack, &alice, &acme, json!({ "email": bob.email })).await;
    let to_decline = invite(&stack, &alice, &globex, json!({ "email": bob.email })).await;
    // An ID token once: its verified address is what the profile keeps.
    stack.call(Some(&bob), Method::GET, "/me", None).await;

    let (status, mine) = stack
        .call(Some(&bob_access), Method::GET, "/me/invitations", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["items"].as_array().unwrap().len(), 2, "{mine}");
    let (status, joined) = answer(&stack, &bob_access, "accept", &to_accept).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["role"], "member");
    let (status, _) = answer(&stack, &bob_access, "decline", &to_decline).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // A new organization's owner membership carries the address on file too, so the owner
    // cannot be invited into it by that address.
    let org = stack.create_org(&bob_access, "bobs").await;
    let path = format!("/orgs/{org}/invitations");
    let body = json!({ "invitations": [{ "email": bob.email }] });
    let (status, refused) = stack
        .call(Some(&bob_access), Method::POST, &path, Some(body))
        .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{refused}");
    assert_eq!(
        refused["results"][0]["problem"]["type"],
        "urn:orgs:problem:already-member"
    );
}

#[tokio::test]
async fn without_a_verified_email_on_file_the_answer_says_to_send_an_id_token() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let dora = stack.with_access_token(&stack.person("dora"));
    let org_id = stack.create_org(&alice, "acme").await;
    let token = invite(
        &stack,
        &alice,
        &org_id,
        json!({ "email": "dora@example.com" }),
    )
    .await;
    let before = stack.snapshot().await;
    for action in ["accept", "decline"] {
        let (status, problem) = answer(&stack, &dora, action, &token).await;
        assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("ID token") && detail.contains("GET /me"),
            "{detail}"
        );
    }
    let (status, problem) = stack
        .call(Some(&dora), Method::GET, "/me/invitations", None)
        .await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    assert!(problem["detail"].as_str().unwrap().contains("ID token"));
    assert_eq!(stack.snapshot().await, before, "a refusal changes nothing");

    // An ID token whose address is not verified is told to verify it instead.
    let unverified = stack.person_with_email("erin", "erin@example.com", false);
    let (status, problem) = stack
        .call(Some(&unverified), Method::GET, "/me/invitations", None)
        .await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Verify your email")
    );
}

/// `create-org` and `list-my-invitations` read the profile for a caller whose token states no
/// email: the IAM check (`grants.rs`) holds their policies to that read.
#[tokio::test]
async fn an_access_token_creates_an_organization_and_lists_invitations_by_the_email_on_file() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let bob_access = stack.with_access_token(&bob);
    // An ID token once puts the verified address on file.
    let (status, _) = stack.get(&bob, "/me").await;
    assert_eq!(status, StatusCode::OK);
    let acme = stack.create_org(&alice, "acme").await;
    invite(&stack, &alice, &acme, json!({ "email": bob.email })).await;

    let (status, mine) = stack.get(&bob_access, "/me/invitations").await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{mine}");
    assert_eq!(items[0]["organization"]["handle"], "acme");

    let org = stack.create_org(&bob_access, "bobs").await;
    let (status, owner) = stack
        .get(&bob_access, format!("/orgs/{org}/members/bob"))
        .await;
    assert_eq!(status, StatusCode::OK, "{owner}");
    assert_eq!(owner["role"], "owner");
    assert_eq!(
        owner["email"], "bob@example.com",
        "the owner carries the address on file"
    );
}

/// `join-org` goes by the address on file too, for a token that states none.
#[tokio::test]
async fn an_access_token_joins_through_the_domain_of_the_email_on_file() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let carol = stack.person_with_email("carol", "carol@acme.example", true);
    let carol_access = stack.with_access_token(&carol);
    let org = crate::joining::verified_org(&stack, &olivia, "acme", "acme.example").await;
    let policy = json!({ "enrollment": "auto_join", "default_role": "member" });
    crate::joining::set_policy(&stack, &olivia, &org, "acme.example", policy).await;
    let join = format!("/orgs/{org}/join");

    // No address on file yet: nothing says which domain she is at.
    let (status, problem) = stack.post(&carol_access, &join, json!({})).await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    let (status, _) = stack.get(&carol, "/me").await;
    assert_eq!(status, StatusCode::OK);
    let (status, joined) = stack.post(&carol_access, &join, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["role"], "member");
}
