//! The limits that keep one person from spending the operator's SES reputation: organizations
//! one person owns, invitation emails one person causes per UTC day across their
//! organizations, and a new organization's lower budget for its first 24 hours. Each is tested
//! at and over its limit: 429 with the limit's name, when it resets and `Retry-After`, and
//! nothing stored or sent.

use aws_sdk_dynamodb::types::AttributeValue;
use orgs_shared::app::Limits;
use orgs_shared::domain::{OrgId, Timestamp};
use orgs_shared::store::Organization;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Options, Person, Stack, assert_problem};

/// Limits high enough to stay out of the way, but for those a test sets.
fn roomy() -> Limits {
    Limits {
        orgs_per_owner: 1_000,
        invitation_emails_per_person_per_day: 1_000,
        invitation_emails_per_new_org: 1_000,
        ..Limits::default()
    }
}

async fn stack_with(limits: Limits) -> Stack {
    Stack::start_with(Options {
        limits: Some(limits),
        ..Options::default()
    })
    .await
}

/// The 429 of the limit `name`: its problem, `resets_at` and a `Retry-After` that counts the
/// seconds to it (an hour when waiting frees nothing). Returns `resets_at`.
fn assert_limit(
    (status, headers, body): &(StatusCode, HeaderMap, Value),
    name: &str,
) -> Option<Timestamp> {
    assert_problem(
        *status,
        body,
        StatusCode::TOO_MANY_REQUESTS,
        "limit-reached",
    );
    assert_eq!(body["limit"], name, "{body}");
    let retry_after: i64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {headers:?}"));
    assert!(body.get("resets_at").is_some(), "{body}");
    match body["resets_at"].as_str() {
        None => {
            assert_eq!(retry_after, 3600);
            None
        }
        Some(at) => {
            let at = Timestamp::parse(at).expect("an RFC 3339 time");
            let left = at.unix_seconds() - Timestamp::now().unix_seconds();
            assert!(
                retry_after >= 1 && (retry_after - left).abs() <= 5,
                "Retry-After {retry_after} for {left} s to {at:?}"
            );
            Some(at)
        }
    }
}

async fn create_org(stack: &Stack, who: &Person, handle: &str) -> (StatusCode, HeaderMap, Value) {
    let body = json!({ "handle": handle, "display_name": "Acme", "region": "us" });
    stack
        .call_with_headers(who, Method::POST, "/orgs", Some(body))
        .await
}

async fn invite(
    stack: &Stack,
    who: &Person,
    org_id: &str,
    emails: &[&str],
) -> (StatusCode, HeaderMap, Value) {
    let invitations: Vec<Value> = emails.iter().map(|e| json!({ "email": e })).collect();
    stack
        .call_with_headers(
            who,
            Method::POST,
            format!("/orgs/{org_id}/invitations"),
            Some(json!({ "invitations": invitations })),
        )
        .await
}

async fn resend(
    stack: &Stack,
    who: &Person,
    org_id: &str,
    id: &str,
) -> (StatusCode, HeaderMap, Value) {
    stack
        .call_with_headers(
            who,
            Method::POST,
            format!("/orgs/{org_id}/invitations/{id}/resend"),
            None,
        )
        .await
}

fn addresses(stack: &Stack, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| stack.unique_person("invitee").email)
        .collect()
}

fn first_invitation_id(answer: &Value) -> String {
    answer["results"][0]["invitation"]["invitation_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_owned()
}

#[tokio::test]
async fn a_person_owns_at_most_the_configured_organizations_at_once() {
    let stack = stack_with(Limits {
        orgs_per_owner: 2,
        ..roomy()
    })
    .await;
    let alice = stack.unique_person("alice");
    let bob = stack.unique_person("bob");
    let first = stack.create_org(&alice, "owned-one").await;
    let second = stack.create_org(&alice, "owned-two").await;
    let before = stack.snapshot().await;
    let refused = create_org(&stack, &alice, "owned-three").await;
    assert_eq!(assert_limit(&refused, "orgs_per_owner"), None);
    assert_eq!(
        stack.snapshot().await,
        before,
        "a refused creation stored something"
    );

    // Deleting one frees its place.
    let (status, body) = stack
        .delete(&alice, format!("/orgs/{first}?confirm=owned-one"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let third = stack.create_org(&alice, "owned-three").await;

    // Transferring one moves its place to the new owner: Alice may create again, and Bob,
    // who owns one of his own and now Alice's second, may not.
    stack.create_org(&bob, "owned-bobs").await;
    stack.join(&second, &alice, &bob, "member").await;
    let (status, body) = stack
        .post(
            &alice,
            format!("/orgs/{second}/transfer-ownership"),
            json!({ "user_id": bob.sub }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    stack.create_org(&alice, "owned-four").await;
    let refused = create_org(&stack, &bob, "owned-bobs-two").await;
    assert_limit(&refused, "orgs_per_owner");
    let refused = create_org(&stack, &alice, "owned-five").await;
    assert_limit(&refused, "orgs_per_owner");
    assert_ne!(third, second);
}

#[tokio::test]
async fn a_person_causes_at_most_their_daily_invitation_emails_across_organizations() {
    let stack = stack_with(Limits {
        invitation_emails_per_person_per_day: 5,
        ..roomy()
    })
    .await;
    let alice = stack.unique_person("alice");
    let bob = stack.unique_person("bob");
    let one = stack.create_org(&alice, "person-one").await;
    let two = stack.create_org(&alice, "person-two").await;
    stack.join(&two, &alice, &bob, "admin").await;
    let to = addresses(&stack, 6);
    // Bob's invitation (by `join`), two in one organization, a resend, and one in the other:
    // five, the limit exactly.
    let (status, _, made) = invite(&stack, &alice, &one, &[&to[0], &to[1]]).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (status, _, body) = resend(&stack, &alice, &one, &first_invitation_id(&made)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = invite(&stack, &alice, &two, &[&to[2]]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let before = stack.snapshot().await;
    let refused = invite(&stack, &alice, &two, &[&to[3]]).await;
    let resets_at = assert_limit(&refused, "invitation_emails_per_person_per_day");
    let midnight = orgs_shared::domain::next_utc_midnight(Timestamp::now());
    assert!(
        resets_at.is_some_and(|at| at.unix_seconds().abs_diff(midnight.unix_seconds()) <= 5),
        "{resets_at:?}"
    );
    let refused = resend(&stack, &alice, &one, &first_invitation_id(&made)).await;
    assert_limit(&refused, "invitation_emails_per_person_per_day");
    assert_eq!(
        stack.snapshot().await,
        before,
        "a refused invitation stored something"
    );
    assert!(
        stack.mail_to(&to[3]).await.is_empty(),
        "a refused invitation sent mail"
    );
    // The limit is Alice's, not the organization's: Bob, an admin of it, still invites.
    let (status, _, body) = invite(&stack, &bob, &two, &[&to[4]]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_request_over_a_persons_daily_emails_sends_none_of_them() {
    let stack = stack_with(Limits {
        invitation_emails_per_person_per_day: 3,
        ..roomy()
    })
    .await;
    let alice = stack.unique_person("alice");
    let org = stack.create_org(&alice, "person-batch").await;
    let to = addresses(&stack, 4);
    let (status, _, body) = invite(&stack, &alice, &org, &[&to[0], &to[1]]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let before = stack.snapshot().await;
    let refused = invite(&stack, &alice, &org, &[&to[2], &to[3]]).await;
    assert_limit(&refused, "invitation_emails_per_person_per_day");
    assert_eq!(stack.snapshot().await, before);
    for address in &to[2..] {
        assert!(stack.mail_to(address).await.is_empty());
    }
    let (status, _, body) = invite(&stack, &alice, &org, &[&to[2]]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_new_organization_sends_fewer_invitation_emails_in_its_first_day() {
    let stack = stack_with(Limits {
        invitation_emails_per_new_org: 3,
        ..roomy()
    })
    .await;
    let alice = stack.unique_person("alice");
    let org = stack.create_org(&alice, "new-org").await;
    let (_, created) = stack.get(&alice, format!("/orgs/{org}")).await;
    let created_at = Timestamp::parse(created["created_at"].as_str().unwrap()).unwrap();
    let to = addresses(&stack, 6);
    let (status, _, made) = invite(&stack, &alice, &org, &[&to[0], &to[1]]).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (status, _, body) = resend(&stack, &alice, &org, &first_invitation_id(&made)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = stack.snapshot().await;
    let refused = invite(&stack, &alice, &org, &[&to[2]]).await;
    let resets_at = assert_limit(&refused, "invitation_emails_per_new_org");
    assert_eq!(resets_at, Some(created_at.plus_seconds(24 * 3600)));
    let refused = resend(&stack, &alice, &org, &first_invitation_id(&made)).await;
    assert_limit(&refused, "invitation_emails_per_new_org");
    assert_eq!(stack.snapshot().await, before);
    assert!(stack.mail_to(&to[2]).await.is_empty());

    // A day older, the organization is held to the daily limits alone.
    let a_day_ago = Timestamp::now().plus_seconds(-25 * 3600);
    stack
        .dynamo
        .update_item()
        .table_name(&stack.table)
        .set_key(Some(Organization::key_of(&OrgId::parse(&org).unwrap())))
        .update_expression("SET created_at = :at")
        .expression_attribute_values(":at", AttributeValue::S(a_day_ago.to_rfc3339()))
        .send()
        .await
        .expect("age the organization");
    let (status, _, body) = invite(&stack, &alice, &org, &[&to[2], &to[3], &to[4]]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
