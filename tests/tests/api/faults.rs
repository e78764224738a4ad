//! Faults, against moto through the fault-injecting proxy (`orgs_local::faults`): DynamoDB
//! throttling, failing, unreachable or hanging answers 503 with `Retry-After` and a problem
//! that names nothing internal, and leaves nothing half-written; a fault on our side is a 500;
//! a deletion stopped between any two of its steps is finished by repeating it or by the
//! schedule. (SES down: `invitations.rs`; EventBridge down: `events.rs`; EventBridge refusing
//! events: `event_refusals.rs`.)

use std::time::{Duration, Instant};

use orgs_functions::jobs::expiry::expire_invitations;
use orgs_local::faults::{FAULT_REQUEST_ID, Fault, Rule, When};
use orgs_shared::domain::Timestamp;
use orgs_shared::store::{INVITATION_TOKEN_PARTITIONS, Of, Stored};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Options, Person, Snapshot, Stack, assert_problem};
use crate::invitations::{invite_one, token_of};

/// One request, as a test sends it again and again.
#[derive(Clone, Debug)]
struct Req {
    who: Person,
    method: Method,
    path: String,
    body: Option<Value>,
}

fn req(who: &Person, method: Method, path: impl Into<String>, body: Option<Value>) -> Req {
    Req {
        who: who.clone(),
        method,
        path: path.into(),
        body,
    }
}

async fn send(stack: &Stack, r: &Req) -> (StatusCode, HeaderMap, Value) {
    stack
        .call_with_headers(&r.who, r.method.clone(), &r.path, r.body.clone())
        .await
}

/// A problem body names no table, key (nor any key prefix), AWS request id, role or DynamoDB error.
pub(crate) fn assert_nothing_internal(stack: &Stack, body: &Value) {
    let text = body.to_string();
    let key_prefixes = orgs_shared::store::PARTITION_PREFIXES.iter().copied();
    for internal in [
        stack.table.as_str(),
        FAULT_REQUEST_ID,
        "arn:aws",
        "Exception",
        "Throughput",
        "dynamodb",
    ]
    .into_iter()
    .chain(key_prefixes)
    {
        assert!(!text.contains(internal), "{internal:?} leaked: {text}");
    }
}

/// 503, `Retry-After` in whole seconds, problem+json naming nothing internal.
pub(crate) fn assert_unavailable(
    stack: &Stack,
    status: StatusCode,
    headers: &HeaderMap,
    body: &Value,
) {
    assert_problem(status, body, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    let retry_after = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok());
    assert!(retry_after.is_some_and(|s| s >= 1), "{headers:?}");
    assert!(
        headers["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("application/problem+json")),
        "{headers:?}"
    );
    assert_nothing_internal(stack, body);
}

/// The table-driven core, for a request that changes things in one atomic step. It sends `r`
/// once per DynamoDB call the request makes: the kth time, DynamoDB throttles from call k on
/// (every attempt, so the SDK's retries and the store's are spent). Each such answer must be 503
/// with `Retry-After`, and the table must be exactly as before. The first time the request
/// makes fewer than k calls, it ran without a fault: it must answer `ok`. Returns the
/// operations of its calls.
async fn throttle_each_call(stack: &Stack, r: &Req, ok: StatusCode) -> Vec<String> {
    let faults = stack.faults();
    for k in 1.. {
        let before = stack.snapshot().await;
        faults.inject(Rule::new(Fault::TransactionThrottled, When::From(k)));
        let (status, headers, body) = send(stack, r).await;
        let calls = faults.calls();
        faults.clear();
        let operations: Vec<String> = calls.iter().map(|c| c.operation.clone()).collect();
        let Some(faulted) = calls.get(k - 1) else {
            assert_eq!(
                status, ok,
                "{} {} without a fault: {body}",
                r.method, r.path
            );
            assert!(k > 1, "{} {} made no DynamoDB call", r.method, r.path);
            eprintln!("{} {}: each of {operations:?} throttled", r.method, r.path);
            return operations;
        };
        let what = format!(
            "{} {} with call {k} ({operations:?}) throttled",
            r.method, r.path
        );
        assert_unavailable(stack, status, &headers, &body);
        // The SDK retried a ThrottlingException to its limit; a transaction is cancelled for
        // throttling instead, which the store retries itself, each time as a new call.
        if faulted.operation == "TransactWriteItems" {
            assert_eq!(calls.len() - (k - 1), 4, "{what}: {calls:?}");
        } else {
            assert_eq!((faulted.attempts, faulted.faulted), (3, 3), "{what}");
            assert_eq!(calls.len(), k, "{what}: nothing after a failed call");
        }
        assert_unchanged(&before, &stack.snapshot().await, &what);
    }
    unreachable!()
}

/// Asserts two snapshots are equal, naming only the items that differ.
fn assert_unchanged(before: &Snapshot, after: &Snapshot, what: &str) {
    let gone: Vec<_> = before.iter().filter(|i| !after.contains(i)).collect();
    let new: Vec<_> = after.iter().filter(|i| !before.contains(i)).collect();
    assert!(
        gone.is_empty() && new.is_empty(),
        "{what} changed the table: before {gone:#?}\nafter {new:#?}"
    );
}

fn item_id(body: &Value, field: &str) -> String {
    body[field].as_str().expect(field).to_owned()
}

#[tokio::test]
async fn a_throttled_profile_change_changes_nothing_and_a_retry_succeeds() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let first_use = req(&alice, Method::GET, "/me", None);
    let calls = throttle_each_call(&stack, &first_use, StatusCode::OK).await;
    assert_eq!(calls, ["GetItem", "TransactWriteItems"]);
    let patch = json!({ "handle": "alice", "display_name": "Alice" });
    let calls = throttle_each_call(
        &stack,
        &req(&alice, Method::PATCH, "/me", Some(patch)),
        StatusCode::OK,
    )
    .await;
    assert!(calls.len() > 1, "{calls:?}");
}

#[tokio::test]
async fn throttled_organization_changes_change_nothing_and_a_retry_succeeds() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let create = json!({ "handle": "acme", "display_name": "Acme", "region": "eu" });
    let r = req(&alice, Method::POST, "/orgs", Some(create));
    throttle_each_call(&stack, &r, StatusCode::CREATED).await;
    let (_, created) = stack.get(&alice, "/orgs").await;
    let org_id = item_id(&created["items"][0], "org_id");
    let org = format!("/orgs/{org_id}");
    let patch = json!({ "display_name": "Acme Two", "billing_email": "billing@acme.example" });
    let calls = throttle_each_call(
        &stack,
        &req(&alice, Method::PATCH, &org, Some(patch)),
        StatusCode::OK,
    )
    .await;
    assert!(calls.len() > 1, "{calls:?}");
    let rename = json!({ "handle": "acme-labs" });
    throttle_each_call(
        &stack,
        &req(&alice, Method::PUT, format!("{org}/handle"), Some(rename)),
        StatusCode::OK,
    )
    .await;
    let (_, read) = stack.get(&alice, &org).await;
    assert_eq!(
        (&read["handle"], &read["display_name"]),
        (&json!("acme-labs"), &json!("Acme Two"))
    );
}

#[tokio::test]
async fn throttled_invitation_changes_change_nothing_and_a_retry_succeeds() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let (carol, dan) = (stack.person("carol"), stack.person("dan"));
    let org_id = stack.create_org(&alice, "acme").await;
    let team = stack.first_team(&org_id).await;
    // Bob has a handle, so that he can be invited by it: that reads his profile too.
    let (status, _) = stack.patch(&bob, "/me", json!({ "handle": "bob" })).await;
    assert_eq!(status, StatusCode::OK);
    let invitations = format!("/orgs/{org_id}/invitations");

    let body = json!({ "invitations": [{ "handle": "bob", "teams": [team], "note": "Hi" }] });
    let calls = throttle_each_call(
        &stack,
        &req(&alice, Method::POST, &invitations, Some(body)),
        StatusCode::CREATED,
    )
    .await;
    // One read of org, caller, team and counter; the handle, then its profile; the transaction.
    assert_eq!(calls.len(), 4, "{calls:?}");
    let (_, page) = stack.get(&alice, &invitations).await;
    let id = item_id(&page["items"][0], "invitation_id");
    let resend = req(
        &alice,
        Method::POST,
        format!("{invitations}/{id}/resend"),
        None,
    );
    throttle_each_call(&stack, &resend, StatusCode::OK).await;
    // The link is in the answer only: resend once more, without a fault, to get it.
    let (_, resent) = stack
        .post(&alice, format!("{invitations}/{id}/resend"), None)
        .await;
    let token = token_of(resent["invite_url"].as_str().unwrap());
    let accept = req(
        &bob,
        Method::POST,
        "/invitations/accept",
        Some(json!({ "token": token })),
    );
    throttle_each_call(&stack, &accept, StatusCode::OK).await;

    let (token, _) = invite_one(&stack, &alice, &org_id, &carol.email).await;
    let decline = req(
        &carol,
        Method::POST,
        "/invitations/decline",
        Some(json!({ "token": token })),
    );
    throttle_each_call(&stack, &decline, StatusCode::NO_CONTENT).await;

    let (_, id) = invite_one(&stack, &alice, &org_id, &dan.email).await;
    let revoke = req(&alice, Method::DELETE, format!("{invitations}/{id}"), None);
    throttle_each_call(&stack, &revoke, StatusCode::NO_CONTENT).await;
}

#[tokio::test]
async fn a_batch_of_invitees_is_written_whole_or_not_at_all_and_a_retry_invites_them_all() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let body = json!({ "invitations": [
        { "email": "first@example.com" },
        { "email": "second@example.com" },
    ] });
    let invite = req(
        &alice,
        Method::POST,
        format!("/orgs/{org_id}/invitations"),
        Some(body),
    );
    // The request's invitees are one transaction: throttled, none of them is written.
    let before = stack.snapshot().await;
    stack
        .faults()
        .inject(Rule::new(Fault::TransactionThrottled, When::Always).on("TransactWriteItems"));
    let (status, headers, answer) = send(&stack, &invite).await;
    stack.faults().clear();
    assert_unavailable(&stack, status, &headers, &answer);
    assert_unchanged(&before, &stack.snapshot().await, "a throttled batch");
    // The same request again invites both.
    let (status, _, answer) = send(&stack, &invite).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["results"][0]["status"], 201, "{answer}");
    assert_eq!(answer["results"][1]["status"], 201, "{answer}");
}

#[tokio::test]
async fn throttled_member_changes_change_nothing_and_a_retry_succeeds() {
    let stack = Stack::faulty().await;
    let (alice, bob, carol) = (
        stack.person("alice"),
        stack.person("bob"),
        stack.person("carol"),
    );
    let org_id = stack.create_org(&alice, "acme").await;
    stack.join(&org_id, &alice, &bob, "member").await;
    stack.join(&org_id, &alice, &carol, "member").await;
    let members = format!("/orgs/{org_id}/members");

    let promote = json!({ "role": "admin" });
    throttle_each_call(
        &stack,
        &req(
            &alice,
            Method::PATCH,
            format!("{members}/bob"),
            Some(promote),
        ),
        StatusCode::OK,
    )
    .await;
    throttle_each_call(
        &stack,
        &req(&alice, Method::DELETE, format!("{members}/carol"), None),
        StatusCode::NO_CONTENT,
    )
    .await;
    let transfer = json!({ "user_id": "bob" });
    throttle_each_call(
        &stack,
        &req(
            &alice,
            Method::POST,
            format!("/orgs/{org_id}/transfer-ownership"),
            Some(transfer),
        ),
        StatusCode::NO_CONTENT,
    )
    .await;
    let (_, bob_now) = stack.get(&alice, format!("{members}/bob")).await;
    assert_eq!(bob_now["role"], "owner");
}

#[tokio::test]
async fn throttled_team_changes_change_nothing_and_a_retry_succeeds() {
    let stack = Stack::faulty().await;
    let (alice, bob) = (stack.person("alice"), stack.person("bob"));
    let org_id = stack.create_org(&alice, "acme").await;
    stack.join(&org_id, &alice, &bob, "member").await;
    let teams = format!("/orgs/{org_id}/teams");

    let create = req(&alice, Method::POST, &teams, Some(json!({ "name": "Ops" })));
    throttle_each_call(&stack, &create, StatusCode::CREATED).await;
    let (_, page) = stack.get(&alice, &teams).await;
    let ops = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Ops")
        .map(|t| item_id(t, "team_id"))
        .expect("Ops");
    let team = format!("{teams}/{ops}");
    let rename = json!({ "name": "Operations" });
    throttle_each_call(
        &stack,
        &req(&alice, Method::PATCH, &team, Some(rename)),
        StatusCode::OK,
    )
    .await;
    let member = format!("{team}/members/bob");
    throttle_each_call(
        &stack,
        &req(&alice, Method::PUT, &member, None),
        StatusCode::NO_CONTENT,
    )
    .await;
    throttle_each_call(
        &stack,
        &req(&alice, Method::DELETE, &member, None),
        StatusCode::NO_CONTENT,
    )
    .await;
}

/// What a stopped multi-step request left, for its finisher.
struct Stopped {
    org_id: String,
    handle: String,
    owner: Person,
    member: Person,
    tokens: Vec<Stored>,
}

/// Who finishes a deletion that stopped part way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Finisher {
    /// The owner repeats the request.
    Repeat,
    /// The scheduled expiry run, once the deletion counts as abandoned.
    Schedule,
}

/// A small organization with something of every kind in it: an owner, a member, a team with
/// both in it, pending invitations (with their token items), in all a little more than one
/// batch of deletes.
async fn small_org(stack: &Stack, n: usize) -> Stopped {
    let owner = stack.person(&format!("owner-{n}"));
    let member = stack.person(&format!("member-{n}"));
    let handle = format!("acme-{n}");
    let org_id = stack.create_org(&owner, &handle).await;
    stack.join(&org_id, &owner, &member, "member").await;
    let team = stack.first_team(&org_id).await;
    let (status, body) = stack
        .put(
            &owner,
            format!("/orgs/{org_id}/teams/{team}/members/{}", member.sub),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    invite_one(stack, &owner, &org_id, &format!("guest-{n}@example.com")).await;
    // Ten more, in one request: enough items for more than one batch of deletes.
    let guests: Vec<Value> = (0..10)
        .map(|i| json!({ "email": format!("guest-{n}-{i}@example.com") }))
        .collect();
    let (status, body) = stack
        .post(
            &owner,
            format!("/orgs/{org_id}/invitations"),
            json!({ "invitations": guests }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let tokens = stack
        .stored()
        .await
        .into_iter()
        .filter(|(what, item)| {
            matches!(what, Stored::InvitationToken { .. })
                && item.get("org_id").and_then(|v| v.as_s().ok()) == Some(&org_id)
        })
        .map(|(what, _)| what)
        .collect::<Vec<_>>();
    assert_eq!(
        tokens.len(),
        12,
        "the accepted invitation and 11 pending ones"
    );
    Stopped {
        org_id,
        handle,
        owner,
        member,
        tokens,
    }
}

/// The event records of an organization with this detail-type.
async fn events_of(stack: &Stack, org_id: &str, detail_type: &str) -> usize {
    stack
        .event_records(&Of::Org(org_id.to_owned()))
        .await
        .iter()
        .filter(|item| {
            item.get("detail_type").and_then(|v| v.as_s().ok()) == Some(&detail_type.to_owned())
        })
        .count()
}

/// Nothing of the organization is left but its audit trail and event records.
async fn assert_deleted(stack: &Stack, org: &Stopped, what: &str) {
    let left: Vec<Stored> = stack
        .kinds()
        .await
        .into_iter()
        .filter(|it| {
            it.org() == Some(org.org_id.as_str())
                || *it
                    == Stored::Handle {
                        handle: org.handle.clone(),
                    }
                || org.tokens.contains(it)
        })
        .collect();
    assert!(left.is_empty(), "{what}: left {left:?}");
    assert_eq!(
        events_of(stack, &org.org_id, "OrganizationDeleted").await,
        1,
        "{what}: one deletion, recorded once"
    );
    let path = format!("/orgs/{}", org.org_id);
    let (status, _) = stack.get(&org.owner, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
}

/// Deletes a fresh small organization once per DynamoDB call its deletion makes, the kth time
/// with `fault` on every call from k on: the function dying, or DynamoDB throttling for good,
/// between two steps. The answer is 503 with `Retry-After`. What is left is either the
/// organization untouched, or one hidden from everyone (its handle already free), which
/// `finisher` then completes, leaving nothing behind. Returns the calls of a whole deletion.
async fn stop_deletion_at_each_call(stack: &Stack, fault: Fault, finisher: Finisher) -> usize {
    let faults = stack.faults();
    for k in 1.. {
        let org = small_org(stack, k).await;
        let before = stack.snapshot().await;
        let delete = req(
            &org.owner,
            Method::DELETE,
            format!("/orgs/{}?confirm={}", org.org_id, org.handle),
            None,
        );
        faults.inject(Rule::new(fault, When::From(k)));
        let (status, headers, body) = send(stack, &delete).await;
        let calls = faults.calls();
        faults.clear();
        let what = format!("{fault:?} from call {k} of {calls:?}, then {finisher:?}");
        if calls.len() < k {
            assert_eq!(status, StatusCode::NO_CONTENT, "{what}: {body}");
            assert_deleted(stack, &org, "a deletion without a fault").await;
            let operations: Vec<_> = calls.iter().map(|c| c.operation.as_str()).collect();
            eprintln!("DELETE /orgs: {fault:?} from each of {operations:?}, then {finisher:?}");
            return calls.len();
        }
        assert_unavailable(stack, status, &headers, &body);
        let path = format!("/orgs/{}", org.org_id);
        let untouched = stack.snapshot().await == before;
        if !untouched {
            // Begun: hidden from its member, no longer holding its handle, and no write gets in.
            let (status, _) = stack.get(&org.member, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
            assert!(!stack.handles().await.contains(&org.handle), "{what}");
            let (status, _) = stack
                .patch(&org.owner, &path, json!({ "display_name": "Late" }))
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
        }
        match finisher {
            Finisher::Repeat => {
                let (status, _, body) = send(stack, &delete).await;
                assert_eq!(status, StatusCode::NO_CONTENT, "{what}: {body}");
            }
            Finisher::Schedule if untouched => {
                // Never begun: nothing for the schedule to find; the owner can still delete it.
                let (status, _, body) = send(stack, &delete).await;
                assert_eq!(status, StatusCode::NO_CONTENT, "{what}: {body}");
            }
            Finisher::Schedule => {
                let later = Timestamp::now().plus_seconds(16 * 60);
                let stop_at = Instant::now() + Duration::from_secs(300);
                let run = expire_invitations(&stack.app.store, later, stop_at, "later");
                let report = crate::expiry::as_job(run).await;
                assert_eq!(
                    (report.deletions_finished, report.errors),
                    (1, 0),
                    "{what}: {report}"
                );
            }
        }
        assert_deleted(stack, &org, &what).await;
    }
    unreachable!()
}

#[tokio::test]
async fn a_deletion_throttled_at_any_step_is_finished_by_repeating_the_request() {
    let stack = Stack::faulty().await;
    let calls =
        stop_deletion_at_each_call(&stack, Fault::TransactionThrottled, Finisher::Repeat).await;
    // Load, begin, read the partition, delete the tokens, then the rest in two batches, finish.
    assert_eq!(calls, 7);
}

/// The function dies (every later call dropped) between any two steps; nobody repeats the
/// request, and the schedule finishes the deletion. (A repeat finishes the same states: above.)
#[tokio::test]
async fn a_deletion_killed_between_any_two_steps_is_finished_by_the_schedule() {
    let stack = Stack::faulty().await;
    let calls = stop_deletion_at_each_call(&stack, Fault::Drop, Finisher::Schedule).await;
    assert_eq!(calls, 7);
}

#[tokio::test]
async fn a_deletion_stopped_while_a_batch_was_part_done_leaves_no_token_behind() {
    let stack = Stack::faulty().await;
    let org = small_org(&stack, 1).await;
    let delete = req(
        &org.owner,
        Method::DELETE,
        format!("/orgs/{}?confirm={}", org.org_id, org.handle),
        None,
    );
    // The token items' partitions are throttled: DynamoDB does the rest of a batch and hands
    // their deletes back unprocessed. Then the function dies before it can try them again.
    stack.faults().set(vec![
        Rule::new(
            Fault::PartlyUnprocessed(INVITATION_TOKEN_PARTITIONS),
            When::Nth(1),
        )
        .on("BatchWriteItem"),
        Rule::new(Fault::Drop, When::From(2)).on("BatchWriteItem"),
    ]);
    let (status, headers, body) = send(&stack, &delete).await;
    let calls = stack.faults().calls();
    stack.faults().clear();
    assert_unavailable(&stack, status, &headers, &body);
    let batches: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "BatchWriteItem")
        .map(|c| c.fault)
        .collect();
    assert_eq!(
        batches,
        [
            Some(Fault::PartlyUnprocessed(INVITATION_TOKEN_PARTITIONS)),
            Some(Fault::Drop)
        ]
    );
    // Every token is still there, and so is every invitation that leads to one.
    let kinds = stack.kinds().await;
    for token in &org.tokens {
        assert!(kinds.contains(token), "{token:?}");
    }
    let invitations = kinds
        .iter()
        .filter(|it| matches!(it, Stored::Invitation { org: o, .. } if *o == org.org_id))
        .count();
    assert_eq!(invitations, org.tokens.len());
    let (status, _, body) = send(&stack, &delete).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_deleted(&stack, &org, "a repeat after a part-done batch").await;
}

#[tokio::test]
async fn a_team_deletion_stopped_at_any_call_is_finished_by_repeating_it() {
    let stack = Stack::faulty().await;
    let faults = stack.faults();
    let (alice, bob) = (stack.person("alice"), stack.person("bob"));
    let org_id = stack.create_org(&alice, "acme").await;
    stack.join(&org_id, &alice, &bob, "member").await;
    let teams = format!("/orgs/{org_id}/teams");
    for k in 1.. {
        let name = format!("Team {k}");
        let (status, team) = stack.post(&alice, &teams, json!({ "name": name })).await;
        assert_eq!(status, StatusCode::CREATED, "{team}");
        let path = format!("{teams}/{}", item_id(&team, "team_id"));
        for who in ["alice", "bob"] {
            let (status, _) = stack
                .put(&alice, format!("{path}/members/{who}"), None)
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT);
        }
        let delete = req(&alice, Method::DELETE, &path, None);
        faults.inject(Rule::new(Fault::Drop, When::From(k)));
        let (status, headers, body) = send(&stack, &delete).await;
        let calls = faults.calls();
        faults.clear();
        if calls.len() >= k {
            assert_unavailable(&stack, status, &headers, &body);
            let (status, _, body) = send(&stack, &delete).await;
            assert_eq!(
                status,
                StatusCode::NO_CONTENT,
                "call {k} of {calls:?}: {body}"
            );
        } else {
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
        let team_id = item_id(&team, "team_id");
        let left: Vec<_> = stack
            .org_items(&org_id)
            .await
            .into_iter()
            .filter(|it| it.names(&team_id) || it.names(&name.to_lowercase()))
            .collect();
        assert!(left.is_empty(), "call {k} of {calls:?}: left {left:?}");
        let (_, member) = stack
            .get(&alice, format!("/orgs/{org_id}/members/bob"))
            .await;
        assert!(!member.to_string().contains(&team_id), "{member}");
        if calls.len() < k {
            assert!(k > 3, "{calls:?}");
            break;
        }
    }
}

#[tokio::test]
async fn throttled_reads_answer_503_with_retry_after() {
    let stack = Stack::faulty().await;
    let faults = stack.faults();
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let org = format!("/orgs/{org_id}");
    for (fault, operation, path) in [
        (Fault::Throttling, "BatchGetItem", org.clone()),
        (Fault::ThroughputExceeded, "Query", "/orgs".to_owned()),
        (Fault::Throttling, "Query", format!("{org}/members")),
        (Fault::ThroughputExceeded, "GetItem", "/me".to_owned()),
    ] {
        faults.inject(Rule::new(fault, When::Always).on(operation));
        let r = req(&alice, Method::GET, &path, None);
        let (status, headers, body) = send(&stack, &r).await;
        let calls = faults.calls();
        faults.clear();
        assert_unavailable(&stack, status, &headers, &body);
        let faulted: Vec<_> = calls.iter().filter(|c| c.faulted > 0).collect();
        assert_eq!(faulted.len(), 1, "{calls:?}");
        assert_eq!(faulted[0].attempts, 3, "the SDK retried: {calls:?}");
        let (status, _, body) = send(&stack, &r).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
}

#[tokio::test]
async fn a_passing_throttle_is_absorbed_by_the_retries() {
    let stack = Stack::faulty().await;
    let faults = stack.faults();
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let patch = req(
        &alice,
        Method::PATCH,
        format!("/orgs/{org_id}"),
        Some(json!({ "display_name": "Acme Two" })),
    );
    // Every call's first attempt is throttled; the SDK's second gets through.
    faults.inject(Rule::new(Fault::Throttling, When::Always).first_attempt_only());
    let (status, _, body) = send(&stack, &patch).await;
    let calls = faults.calls();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(calls.iter().all(|c| c.attempts == 2), "{calls:?}");
    // One transaction cancelled for throttling: the store tries it again, and it commits.
    faults.inject(Rule::new(Fault::TransactionThrottled, When::Nth(1)).on("TransactWriteItems"));
    let (status, _, body) = send(&stack, &patch).await;
    let calls = faults.calls();
    faults.clear();
    assert_eq!(status, StatusCode::OK, "{body}");
    let transactions = calls
        .iter()
        .filter(|c| c.operation == "TransactWriteItems")
        .count();
    assert_eq!(transactions, 2, "{calls:?}");
    assert_eq!(events_of(&stack, &org_id, "OrganizationUpdated").await, 2);
}

#[tokio::test]
async fn unavailable_dynamodb_answers_503_and_writes_nothing() {
    let mut stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let before = stack.snapshot().await;
    let create = req(
        &alice,
        Method::POST,
        "/orgs",
        Some(json!({ "handle": "other", "display_name": "Other", "region": "us" })),
    );
    let read = req(&alice, Method::GET, format!("/orgs/{org_id}"), None);
    for fault in [
        Fault::InternalServerError,
        Fault::ServiceUnavailable,
        Fault::Drop,
    ] {
        for r in [&create, &read] {
            stack.faults().inject(Rule::new(fault, When::Always));
            let (status, headers, body) = send(&stack, r).await;
            assert_unavailable(&stack, status, &headers, &body);
            let calls = stack.faults().calls();
            assert!(calls.iter().all(|c| c.attempts == 3), "{fault:?} {calls:?}");
        }
    }
    stack.faults().clear();
    assert_unchanged(&before, &stack.snapshot().await, "failed requests");
    // Connections refused: the proxy, DynamoDB's only way in, is gone.
    drop(stack.faults.take());
    for r in [&create, &read] {
        let (status, headers, body) = send(&stack, r).await;
        assert_unavailable(&stack, status, &headers, &body);
    }
    assert_unchanged(&before, &stack.snapshot().await, "failed requests");
}

#[tokio::test]
async fn a_hanging_dynamodb_times_out_into_a_503_before_the_lambda_timeout() {
    let stack = Stack::start_with(Options {
        faulty_dynamodb: true,
        function_timeouts: true,
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    stack
        .faults()
        .inject(Rule::new(Fault::Stall, When::Always).on("BatchGetItem"));
    let started = Instant::now();
    let r = req(&alice, Method::GET, format!("/orgs/{org_id}"), None);
    let (status, headers, body) = send(&stack, &r).await;
    let took = started.elapsed();
    stack.faults().clear();
    assert_unavailable(&stack, status, &headers, &body);
    // The API functions' Lambda timeout is 10 s.
    assert!(took < Duration::from_secs(10), "{took:?}");
    // Repeating helps, as the 503 says: with the functions' 3 s attempts, a moto busy with the
    // other tests can answer one more 503 before it catches up.
    let mut answers = Vec::new();
    for _ in 0..5 {
        let (status, _, _) = send(&stack, &r).await;
        answers.push(status);
        if status != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
    }
    assert_eq!(answers.last(), Some(&StatusCode::OK), "{answers:?}");
}

#[tokio::test]
async fn a_fault_on_our_side_is_a_500_that_names_nothing_internal() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let before = stack.snapshot().await;
    for r in [
        req(&alice, Method::GET, format!("/orgs/{org_id}"), None),
        req(
            &alice,
            Method::PATCH,
            format!("/orgs/{org_id}"),
            Some(json!({ "display_name": "Nope" })),
        ),
    ] {
        stack
            .faults()
            .inject(Rule::new(Fault::AccessDenied, When::Always));
        let (status, headers, body) = send(&stack, &r).await;
        let calls = stack.faults().calls();
        stack.faults().clear();
        assert_problem(status, &body, StatusCode::INTERNAL_SERVER_ERROR, "internal");
        assert!(headers.get("retry-after").is_none(), "{headers:?}");
        assert_nothing_internal(&stack, &body);
        assert_eq!(calls[0].attempts, 1, "not retried: {calls:?}");
    }
    assert_unchanged(&before, &stack.snapshot().await, "failed requests");
}
