//! `Idempotency-Key`: a write repeated with its key gets the first outcome again and changes
//! nothing, even when the first answer was lost after the commit (the fault proxy loses every
//! attempt's answer, so the request ends in a 503 of unknown outcome) or the commit outlasted
//! the request's budget; another request under the same key gets 422, and a repeat while the
//! first runs 409 with `Retry-After`. Invitation links are never stored, so a repeat answers
//! without them, and a resend gives new ones.

use std::time::Duration;

use orgs_local::faults::{Fault, Rule, When};
use orgs_shared::store::Of;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Options, Person, Stack, assert_problem};
use crate::invitations::{invite_one, token_of};

/// Every attempt of the next transaction reaches moto and is applied once, but no answer
/// comes back: the request cannot tell whether it was saved.
fn lose_every_answer_of_next_transaction(stack: &Stack) {
    stack
        .faults()
        .inject(Rule::new(Fault::LoseAnswer, When::Nth(1)).on("TransactWriteItems"));
}

fn acme() -> Value {
    json!({ "handle": "acme", "display_name": "Acme Inc", "region": "eu" })
}

async fn send(
    stack: &Stack,
    who: &Person,
    method: Method,
    path: &str,
    body: Option<Value>,
    key: &str,
) -> (StatusCode, HeaderMap, Value) {
    stack
        .call_with_key(who, method, path, body, Some(key))
        .await
}

fn replayed(headers: &HeaderMap) -> bool {
    headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

/// A 503 that says its outcome is unknown and to repeat with the same key.
fn assert_outcome_unknown(status: StatusCode, headers: &HeaderMap, body: &Value) {
    assert_problem(status, body, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_eq!(body["outcome"], "unknown", "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("same Idempotency-Key"), "{body}");
    assert!(headers.contains_key("retry-after"), "{headers:?}");
}

/// Sends a request whose transaction's every answer is lost (a 503 of unknown outcome), then
/// repeats it with the same key; what the repeat got.
async fn lost_then_repeated(
    stack: &Stack,
    who: &Person,
    method: Method,
    path: &str,
    body: Option<Value>,
    key: &str,
) -> (StatusCode, HeaderMap, Value) {
    lose_every_answer_of_next_transaction(stack);
    let (status, headers, lost) = send(stack, who, method.clone(), path, body.clone(), key).await;
    assert_outcome_unknown(status, &headers, &lost);
    stack.faults().clear();
    send(stack, who, method, path, body, key).await
}

async fn org_ids(stack: &Stack, who: &Person) -> Vec<String> {
    let (_, list) = stack.get(who, "/orgs").await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["org_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_organization_whose_answer_was_lost_is_answered_again_and_created_once() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let key = "create-acme-1";
    let (status, headers, org) =
        lost_then_repeated(&stack, &alice, Method::POST, "/orgs", Some(acme()), key).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    assert!(replayed(&headers), "{headers:?}");
    let org_id = org["org_id"].as_str().unwrap().to_owned();
    assert_eq!(headers["location"], format!("/orgs/{org_id}"));
    assert_eq!(org["role"], "owner", "{org}");

    assert_eq!(org_ids(&stack, &alice).await, std::slice::from_ref(&org_id));
    assert_eq!(stack.handles().await, ["acme"]);
    assert_eq!(stack.audit_entries(&Of::Org(org_id.clone())).await.len(), 1);
    assert_eq!(stack.event_records(&Of::Org(org_id)).await.len(), 1);
}

#[tokio::test]
async fn invitations_whose_answer_was_lost_are_answered_again_without_links_and_resend_works() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let path = format!("/orgs/{org_id}/invitations");
    // Addresses of this test alone: every test's mail goes to one moto.
    let bob = stack.unique_person("bob");
    let carol = stack.unique_person("carol");
    let body = json!({ "invitations": [{ "email": bob.email }, { "email": carol.email }] });
    let key = "invite-bob-and-carol";
    let (status, headers, again) =
        lost_then_repeated(&stack, &alice, Method::POST, &path, Some(body), key).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert!(replayed(&headers));
    let results = again["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for result in results {
        assert_eq!(result["status"], 201, "{again}");
        assert!(result.get("invite_url").is_none(), "{again}");
        let note = result["link_withheld"].as_str().unwrap_or_default();
        assert!(note.contains("resend"), "{again}");
    }
    assert!(!again.to_string().contains("token="), "{again}");
    // The first request ended before its emails: none went out, and none is sent again.
    assert!(stack.mail_to(&bob.email).await.is_empty());
    assert!(stack.mail_to(&carol.email).await.is_empty());

    let (_, pending) = stack.get(&alice, format!("{path}?status=pending")).await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 2, "{pending}");
    let audit = stack.audit_entries(&Of::Org(org_id.clone())).await;
    assert_eq!(audit.len(), 3, "the organization and two invitations");

    // A resend gives a new link, and mails it.
    let bob_invitation = results[0]["invitation"]["invitation_id"].as_str().unwrap();
    let resend = format!("{path}/{bob_invitation}/resend");
    let (status, _, resent) = send(
        &stack,
        &alice,
        Method::POST,
        &resend,
        Some(json!({})),
        "resend-bob",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    let link = resent["invite_url"].as_str().unwrap();
    assert_eq!(stack.mail_to(&bob.email).await.len(), 1);
    // Repeated, the resend is answered without its link, and mails nothing more.
    let (status, headers, again) = send(
        &stack,
        &alice,
        Method::POST,
        &resend,
        Some(json!({})),
        "resend-bob",
    )
    .await;
    assert_eq!(
        (status, replayed(&headers)),
        (StatusCode::OK, true),
        "{again}"
    );
    assert!(again.get("invite_url").is_none(), "{again}");
    assert!(again["link_withheld"].is_string(), "{again}");
    assert_eq!(again["invitation"], resent["invitation"]);
    assert_eq!(stack.mail_to(&bob.email).await.len(), 1);
    let (status, joined) = stack
        .post(
            &bob,
            "/invitations/accept",
            json!({ "token": token_of(link) }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
}

#[tokio::test]
async fn an_acceptance_whose_answer_was_lost_is_answered_again_and_joins_once() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    let (token, _) = invite_one(&stack, &alice, &org_id, &bob.email).await;
    stack.faults().clear();
    let body = json!({ "token": token });
    let key = "accept-acme";

    let (status, headers, joined) = lost_then_repeated(
        &stack,
        &bob,
        Method::POST,
        "/invitations/accept",
        Some(body),
        key,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert!(replayed(&headers));
    assert_eq!(
        (joined["org_id"].as_str(), joined["role"].as_str()),
        (Some(org_id.as_str()), Some("member"))
    );
    assert_eq!(joined["member_count"], 2, "{joined}");

    let (_, members) = stack.get(&alice, format!("/orgs/{org_id}/members")).await;
    assert_eq!(members["items"].as_array().unwrap().len(), 2, "{members}");
    let audit = stack.audit_entries(&Of::Org(org_id)).await;
    assert_eq!(
        audit.len(),
        4,
        "created, invited, then accepted and joined once"
    );
}

#[tokio::test]
async fn a_team_whose_answer_was_lost_is_answered_again_and_created_once() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let path = format!("/orgs/{org_id}/teams");
    let body = json!({ "name": "Platform" });
    let (status, headers, team) =
        lost_then_repeated(&stack, &alice, Method::POST, &path, Some(body), "team").await;
    assert_eq!(
        (status, replayed(&headers)),
        (StatusCode::CREATED, true),
        "{team}"
    );
    let team_id = team["team_id"].as_str().unwrap();
    assert_eq!(headers["location"], format!("{path}/{team_id}"));
    let (_, teams) = stack.get(&alice, &path).await;
    let names: Vec<_> = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(
        names.iter().filter(|n| *n == "Platform").count(),
        1,
        "{teams}"
    );
}

#[tokio::test]
async fn an_edit_whose_answer_was_lost_is_answered_again_and_applied_once() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let path = format!("/orgs/{org_id}");
    let body = json!({ "display_name": "Acme Renamed" });
    // The answer went in with the write: the repeat gets it, and changes nothing more.
    let (status, headers, repeat) =
        lost_then_repeated(&stack, &alice, Method::PATCH, &path, Some(body), "rename").await;
    assert_eq!(
        (status, replayed(&headers)),
        (StatusCode::OK, true),
        "{repeat}"
    );
    assert_eq!(repeat["display_name"], "Acme Renamed");
    let (_, org) = stack.get(&alice, &path).await;
    assert_eq!(org["display_name"], "Acme Renamed");
    assert_eq!(stack.audit_entries(&Of::Org(org_id)).await.len(), 2);
}

#[tokio::test]
async fn a_write_whose_answer_is_kept_after_its_commit_says_when_that_answer_was_lost() {
    let stack = Stack::faulty().await;
    let (alice, bob) = (stack.person("alice"), stack.person("bob"));
    let org_id = stack.create_org(&alice, "acme").await;
    stack.join(&org_id, &alice, &bob, "member").await;
    let path = format!("/orgs/{org_id}/transfer-ownership");
    let body = json!({ "user_id": "bob" });
    // Applied once; its answer is kept only after the commit, which never answered, and the
    // repeat says so rather than apply it again.
    let (status, _, repeat) =
        lost_then_repeated(&stack, &alice, Method::POST, &path, Some(body), "hand-over").await;
    assert_problem(
        status,
        &repeat,
        StatusCode::CONFLICT,
        "idempotent-answer-lost",
    );
    let (_, bob_now) = stack
        .get(&alice, format!("/orgs/{org_id}/members/bob"))
        .await;
    assert_eq!(bob_now["role"], "owner", "{bob_now}");
}

#[tokio::test]
async fn the_same_key_for_another_request_is_refused_and_keys_are_each_callers_own() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let key = "one-key";
    let (status, _, first) = send(&stack, &alice, Method::POST, "/orgs", Some(acme()), key).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let before = stack.snapshot().await;

    let other = json!({ "handle": "other", "display_name": "Other", "region": "eu" });
    let (status, headers, refused) = send(
        &stack,
        &alice,
        Method::POST,
        "/orgs",
        Some(other.clone()),
        key,
    )
    .await;
    assert_problem(
        status,
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
    );
    assert!(!replayed(&headers));
    assert_eq!(
        stack.snapshot().await,
        before,
        "a refused repeat changes nothing"
    );

    // The same request again: the first answer, word for word.
    let (status, headers, again) =
        send(&stack, &alice, Method::POST, "/orgs", Some(acme()), key).await;
    assert_eq!((status, replayed(&headers)), (StatusCode::CREATED, true));
    assert_eq!(again, first);
    assert_eq!(stack.snapshot().await, before);

    // Another person's key is theirs, however it is spelt.
    let (status, _, theirs) = send(&stack, &bob, Method::POST, "/orgs", Some(other), key).await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");

    // A key that is not 1 to 255 visible ASCII characters is refused before anything runs.
    let before = stack.snapshot().await;
    let long = "k".repeat(256);
    for bad in ["two words", long.as_str()] {
        let (status, _, body) =
            send(&stack, &alice, Method::POST, "/orgs", Some(acme()), bad).await;
        assert_problem(
            status,
            &body,
            StatusCode::BAD_REQUEST,
            "invalid-idempotency-key",
        );
    }
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn a_refusal_that_may_pass_later_is_not_kept_and_a_deletion_is_answered_again() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    stack.create_org(&bob, "acme").await;
    // Taken: 409, not kept; once the handle is free, the same key's repeat runs and creates.
    let key = "create-when-free";
    let (status, _, taken) = send(&stack, &alice, Method::POST, "/orgs", Some(acme()), key).await;
    assert_problem(status, &taken, StatusCode::CONFLICT, "handle-taken");
    let bobs = org_ids(&stack, &bob).await;
    let path = format!("/orgs/{}?confirm=acme", bobs[0]);
    let (status, headers, deleted) = send(&stack, &bob, Method::DELETE, &path, None, "del").await;
    assert_eq!(
        (status, replayed(&headers)),
        (StatusCode::NO_CONTENT, false),
        "{deleted}"
    );
    let (status, headers, _) = send(&stack, &bob, Method::DELETE, &path, None, "del").await;
    assert_eq!((status, replayed(&headers)), (StatusCode::NO_CONTENT, true));

    let (status, _, created) = send(&stack, &alice, Method::POST, "/orgs", Some(acme()), key).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

#[tokio::test]
async fn a_repeat_while_the_first_runs_is_409_with_retry_after() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let slow = Duration::from_secs(3);
    stack
        .faults()
        .inject(Rule::new(Fault::Delay(slow), When::Nth(1)).on("TransactWriteItems"));
    let key = "slow-create";
    let first = send(&stack, &alice, Method::POST, "/orgs", Some(acme()), key);
    let repeat = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        send(&stack, &alice, Method::POST, "/orgs", Some(acme()), key).await
    };
    let ((status, _, created), (busy, headers, problem)) = tokio::join!(first, repeat);
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_problem(
        busy,
        &problem,
        StatusCode::CONFLICT,
        "idempotency-key-in-use",
    );
    let retry_after: u32 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1, "{headers:?}");

    let (status, headers, again) =
        send(&stack, &alice, Method::POST, "/orgs", Some(acme()), key).await;
    assert_eq!((status, replayed(&headers)), (StatusCode::CREATED, true));
    assert_eq!(again["org_id"], created["org_id"]);
    assert_eq!(stack.handles().await, ["acme"]);
}

#[tokio::test]
async fn a_commit_slower_than_the_budget_says_its_outcome_is_unknown_and_the_repeat_settles_it() {
    let stack = Stack::start_with(Options {
        faulty_dynamodb: true,
        function_timeout: Some(Duration::from_secs(6)),
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    stack.faults().inject(
        Rule::new(Fault::Delay(Duration::from_secs(8)), When::Nth(1)).on("TransactWriteItems"),
    );
    let key = "slow-commit";
    let (status, headers, cut) =
        send(&stack, &alice, Method::POST, "/orgs", Some(acme()), key).await;
    assert_outcome_unknown(status, &headers, &cut);

    // The first request's lease still stands: the repeat is told when to come back.
    let (status, headers, busy) =
        send(&stack, &alice, Method::POST, "/orgs", Some(acme()), key).await;
    assert_problem(
        status,
        &busy,
        StatusCode::CONFLICT,
        "idempotency-key-in-use",
    );
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    tokio::time::sleep(Duration::from_secs(retry_after) + Duration::from_millis(200)).await;

    // The slow write never reached the table, so the repeat makes the organization, once.
    let (status, headers, created) =
        send(&stack, &alice, Method::POST, "/orgs", Some(acme()), key).await;
    assert_eq!(
        (status, replayed(&headers)),
        (StatusCode::CREATED, false),
        "{created}"
    );
    let (status, headers, again) =
        send(&stack, &alice, Method::POST, "/orgs", Some(acme()), key).await;
    assert_eq!((status, replayed(&headers)), (StatusCode::CREATED, true));
    assert_eq!(again, created);
    let org_id = created["org_id"].as_str().unwrap().to_owned();
    assert_eq!(org_ids(&stack, &alice).await, std::slice::from_ref(&org_id));
    assert_eq!(stack.handles().await, ["acme"]);
    assert_eq!(stack.audit_entries(&Of::Org(org_id.clone())).await.len(), 1);
    assert_eq!(stack.event_records(&Of::Org(org_id)).await.len(), 1);
}
