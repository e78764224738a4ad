//! User ids as real identity providers issue them (`auth0|…`, `google-oauth2|…`,
//! `samlp|acme|jane@acme.com`, ids with `:`), percent-encoded in the path by the client and
//! decoded by the gateway as an HTTP API does, on every route that takes a `user_id`.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Person, Stack};

/// One path segment, encoded as `encodeURIComponent` would (and more).
fn segment(id: &str) -> String {
    utf8_percent_encode(id, NON_ALPHANUMERIC).to_string()
}

fn person(stack: &Stack, sub: &str, email: &str) -> Person {
    stack.person_with_email(sub, email, true)
}

async fn expect(stack: &Stack, who: &Person, method: Method, path: &str, want: StatusCode) {
    let body = (method == Method::PATCH).then(|| json!({ "role": "admin" }));
    let (status, answer) = stack.call(Some(who), method.clone(), path, body).await;
    assert_eq!(status, want, "{method} {path}: {answer}");
}

#[tokio::test]
async fn members_with_provider_user_ids_are_read_changed_teamed_and_removed() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org = stack.create_org(&alice, "acme").await;
    let (status, team) = stack
        .call(
            Some(&alice),
            Method::POST,
            &format!("/orgs/{org}/teams"),
            Some(json!({ "name": "Ops" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    let team = format!("/orgs/{org}/teams/{}", team["team_id"].as_str().unwrap());
    let ids = [
        ("google-oauth2|104222444999888777666", "g@example.com"),
        ("samlp|acme|jane@acme.com", "jane@acme.com"),
        ("urn:okta:00u1abcd:jane", "okta@example.com"),
        ("oidc user+1@idp", "space@example.com"),
    ];
    for (sub, email) in ids {
        let member = person(&stack, sub, email);
        stack.join(&org, &alice, &member, "member").await;
        let path = format!("/orgs/{org}/members/{}", segment(sub));
        let (status, shown) = stack.call(Some(&alice), Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{sub}: {shown}");
        assert_eq!(shown["user_id"], sub);
        expect(&stack, &alice, Method::PATCH, &path, StatusCode::OK).await;
        let in_team = format!("{team}/members/{}", segment(sub));
        expect(
            &stack,
            &alice,
            Method::PUT,
            &in_team,
            StatusCode::NO_CONTENT,
        )
        .await;
        let (_, listed) = stack
            .call(Some(&alice), Method::GET, &format!("{team}/members"), None)
            .await;
        assert!(
            listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["user_id"] == sub),
            "{listed}"
        );
        expect(
            &stack,
            &alice,
            Method::DELETE,
            &in_team,
            StatusCode::NO_CONTENT,
        )
        .await;
        expect(
            &stack,
            &alice,
            Method::DELETE,
            &path,
            StatusCode::NO_CONTENT,
        )
        .await;
        expect(&stack, &alice, Method::GET, &path, StatusCode::NOT_FOUND).await;
    }
}

#[tokio::test]
async fn ownership_goes_to_and_from_an_auth0_user() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let auth0 = person(&stack, "auth0|5f7c8ec7c33c6c004bbafe82", "zoe@example.com");
    let org = stack.create_org(&alice, "acme").await;
    stack.join(&org, &alice, &auth0, "member").await;
    let transfer = format!("/orgs/{org}/transfer-ownership");
    let body = json!({ "user_id": auth0.sub });
    let (status, answer) = stack
        .call(Some(&alice), Method::POST, &transfer, Some(body))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    let path = format!("/orgs/{org}/members/{}", segment(&auth0.sub));
    let (_, shown) = stack.call(Some(&alice), Method::GET, &path, None).await;
    assert_eq!(shown["role"], "owner", "{shown}");
    // The new owner hands it back, and the former owner removes them.
    let body = json!({ "user_id": "alice" });
    let (status, answer) = stack
        .call(Some(&auth0), Method::POST, &transfer, Some(body))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    expect(
        &stack,
        &alice,
        Method::DELETE,
        &path,
        StatusCode::NO_CONTENT,
    )
    .await;
}

#[tokio::test]
async fn an_encoded_slash_separates_segments_as_on_api_gateway() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let slashed = person(&stack, "oidc/abc", "slash@example.com");
    let org = stack.create_org(&alice, "acme").await;
    stack.join(&org, &alice, &slashed, "member").await;
    // `%2F` is decoded before routing: `/members/oidc/abc` matches no route.
    let once = format!("{}/orgs/{org}/members/oidc%2Fabc", stack.base);
    let answer = stack
        .http
        .get(&once)
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "message": "Not Found" }),
        "the gateway's own 404"
    );
    // Encoded twice, it stays in its segment and the parameter is decoded again.
    let twice = format!("/orgs/{org}/members/oidc%252Fabc");
    let (status, shown) = stack.call(Some(&alice), Method::GET, &twice, None).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["user_id"], "oidc/abc");
}
