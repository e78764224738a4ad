//! Join requests, and the whole journey of a verified domain: people at a verified `suggest`
//! domain ask, admins approve (one transaction makes the member) or deny, authors withdraw; with
//! `auto_join` people join at once; the limits hold, and a person at another domain is refused
//! with nothing changed.

use orgs_shared::domain::Limits;
use orgs_shared::store::Of;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Options, Person, Stack, assert_problem, ok_within_limit};
use crate::events::check_event;
use crate::joining::{set_policy, verified_org};

/// `olivia`'s organization with `acme.example` verified and suggesting it; `adam` its admin.
pub(crate) async fn suggesting_org(stack: &Stack, olivia: &Person, adam: &Person) -> String {
    let org = verified_org(stack, olivia, "acme", "acme.example").await;
    set_policy(
        stack,
        olivia,
        &org,
        "acme.example",
        json!({ "enrollment": "suggest" }),
    )
    .await;
    stack.join(&org, olivia, adam, "admin").await;
    org
}

pub(crate) fn colleague(stack: &Stack, name: &str) -> Person {
    stack.person_with_email(name, &format!("{name}@acme.example"), true)
}

/// The org's event records of `detail_type`, each checked against its schema.
async fn events_of(stack: &Stack, org: &str, detail_type: &str) -> Vec<Value> {
    stack
        .event_records(&Of::Org(org.to_owned()))
        .await
        .iter()
        .filter(|e| e["detail_type"].as_s().unwrap() == detail_type)
        .map(|e| {
            let detail: Value = serde_json::from_str(e["detail"].as_s().unwrap()).unwrap();
            check_event(&json!({ "source": "orgs", "detail-type": detail_type, "detail": detail }));
            detail
        })
        .collect()
}

#[tokio::test]
async fn the_journey_from_a_published_record_to_members_by_request_and_at_once() {
    let stack = Stack::start().await;
    let (olivia, adam, mia) = (
        stack.person("olivia"),
        stack.person("adam"),
        stack.person("mia"),
    );
    let org = suggesting_org(&stack, &olivia, &adam).await;
    stack.join(&org, &olivia, &mia, "member").await;
    let ada = colleague(&stack, "ada");

    let (_, body) = stack.get(&ada, "/me/suggestions").await;
    assert_eq!(body["items"][0]["enrollment"], "suggest", "{body}");
    assert_eq!(body["items"][0]["join_request"], json!(null));

    let join = format!("/orgs/{org}/join");
    let (status, filed) = stack.post(&ada, &join, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{filed}");
    assert_eq!(
        (
            &filed["status"],
            &filed["user_id"],
            &filed["email"],
            &filed["domain"]
        ),
        (
            &json!("pending"),
            &json!("ada"),
            &json!("ada@acme.example"),
            &json!("acme.example")
        )
    );
    // Asking again answers with the same request and changes nothing.
    let before = stack.snapshot().await;
    let (status, again) = stack.post(&ada, &join, json!({})).await;
    assert_eq!((status, &again), (StatusCode::ACCEPTED, &filed));
    assert_eq!(stack.snapshot().await, before);
    let (_, body) = stack.get(&ada, "/me/suggestions").await;
    assert_eq!(body["items"][0]["join_request"], filed);
    // Asking is not joining.
    let (status, _) = stack.get(&ada, format!("/orgs/{org}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Admins and owners see it; members do not.
    let requests = format!("/orgs/{org}/join-requests");
    let (status, listed) = stack.get(&adam, &requests).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["items"], json!([filed]));
    let (status, body) = stack.get(&mia, &requests).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, one) = stack.get(&adam, format!("{requests}/ada")).await;
    assert_eq!((status, &one), (StatusCode::OK, &filed));
    let (status, body) = stack.get(&mia, format!("{requests}/ada")).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack.get(&adam, format!("{requests}/mia")).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");

    // An admin cannot make an owner by approving, nor name a team the organization lacks.
    let approve = format!("/orgs/{org}/join-requests/ada/approve");
    let before = stack.snapshot().await;
    let (status, body) = stack
        .post(&adam, &approve, json!({ "role": "owner" }))
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    let (status, body) = stack
        .post(
            &adam,
            &approve,
            json!({ "team_ids": ["team_0123456789abcdef0123456789abcdef"] }),
        )
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(body["errors"][0]["code"], "unknown_team", "{body}");
    assert_eq!(stack.snapshot().await, before);
    let team = stack.first_team(&org).await;
    let (status, member) = stack
        .post(&adam, &approve, json!({ "team_ids": [team] }))
        .await;
    assert_eq!(status, StatusCode::OK, "{member}");
    assert_eq!(
        (&member["user_id"], &member["role"], &member["email"]),
        (&json!("ada"), &json!("member"), &json!("ada@acme.example"))
    );
    assert_eq!(member["team_ids"], json!([team]));
    let (_, in_team) = stack
        .get(&ada, format!("/orgs/{org}/teams/{team}/members"))
        .await;
    assert!(
        in_team["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user_id"] == "ada"),
        "{in_team}"
    );
    let (status, read) = stack.get(&ada, format!("/orgs/{org}")).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["member_count"], 4, "{read}");
    let (_, listed) = stack.get(&adam, &requests).await;
    assert_eq!(listed["items"], json!([]));
    // Approved, the request is gone.
    let (status, body) = stack.get(&adam, format!("{requests}/ada")).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    let (status, body) = stack.post(&adam, &approve, json!({})).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    let (_, body) = stack.get(&ada, "/me/suggestions").await;
    assert_eq!(body["items"], json!([]));

    let requested = events_of(&stack, &org, "JoinRequested").await;
    assert_eq!(requested.len(), 1);
    let approved = events_of(&stack, &org, "JoinRequestApproved").await;
    assert_eq!(approved[0]["actor_user_id"], "adam");
    assert_eq!(approved[0]["data"]["role"], "member");
    let joined = events_of(&stack, &org, "MemberJoined").await;
    let last = joined.last().expect("MemberJoined");
    assert_eq!(
        (&last["data"]["user_id"], &last["data"]["domain"]),
        (&json!("ada"), &json!("acme.example"))
    );
    let actions: Vec<String> = stack
        .audit_entries(&Of::Org(org.clone()))
        .await
        .iter()
        .map(|e| e["action"].as_s().unwrap().clone())
        .collect();
    // The approval's two entries share its time, in no set order.
    let mut last_two = actions[actions.len() - 2..].to_vec();
    last_two.sort();
    assert_eq!(
        (actions[actions.len() - 3].as_str(), last_two),
        (
            "join_request.created",
            vec!["join_request.approved".into(), "member.joined".into()]
        ),
        "{actions:?}"
    );

    // Someone whose verified address is elsewhere may not ask, and nothing changes.
    let before = stack.snapshot().await;
    let eve = stack.person_with_email("eve", "eve@elsewhere.example", true);
    let (status, body) = stack.post(&eve, &join, json!({})).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let unverified = stack.person_with_email("una", "una@acme.example", false);
    let (status, body) = stack.post(&unverified, &join, json!({})).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(stack.snapshot().await, before);

    // With `auto_join`, the next colleague joins at once; the stranger still cannot.
    set_policy(
        &stack,
        &olivia,
        &org,
        "acme.example",
        json!({ "enrollment": "auto_join" }),
    )
    .await;
    let (status, joined) = stack
        .post(&colleague(&stack, "cal"), &join, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["member_count"], 5, "{joined}");
    let (status, body) = stack.post(&eve, &join, json!({})).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_denial_stands_and_a_withdrawn_request_may_be_filed_again() {
    let stack = Stack::start().await;
    let (olivia, adam) = (stack.person("olivia"), stack.person("adam"));
    let org = suggesting_org(&stack, &olivia, &adam).await;
    let (bob, cy) = (colleague(&stack, "bob"), colleague(&stack, "cy"));
    let join = format!("/orgs/{org}/join");

    // Withdrawn by its author only; then asked for again.
    let (status, _) = stack.post(&bob, &join, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body) = stack.delete(&cy, &join).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    let (status, body) = stack.delete(&adam, &join).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "already-member");
    let (status, _) = stack.delete(&bob, &join).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = stack.delete(&bob, &join).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    let (_, listed) = stack.get(&adam, format!("/orgs/{org}/join-requests")).await;
    assert_eq!(listed["items"], json!([]));
    let (status, _) = stack.post(&bob, &join, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // Denied: it shows so to its author, who cannot ask again nor be approved.
    let (status, denied) = stack
        .post(&adam, format!("/orgs/{org}/join-requests/bob/deny"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{denied}");
    assert_eq!(denied["status"], "denied");
    assert!(denied["decided_at"].is_string(), "{denied}");
    // Admins still read it, as it stands.
    let (status, read) = stack
        .get(&adam, format!("/orgs/{org}/join-requests/bob"))
        .await;
    assert_eq!((status, &read), (StatusCode::OK, &denied));
    let (_, body) = stack.get(&bob, "/me/suggestions").await;
    assert_eq!(body["items"][0]["join_request"]["status"], "denied");
    let before = stack.snapshot().await;
    let (status, body) = stack.post(&bob, &join, json!({})).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert!(
        body["detail"].as_str().unwrap().contains("denied"),
        "{body}"
    );
    let (status, body) = stack
        .post(
            &adam,
            format!("/orgs/{org}/join-requests/bob/approve"),
            json!({}),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    let (status, body) = stack.delete(&bob, &join).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    assert_eq!(stack.snapshot().await, before);

    assert_eq!(
        events_of(&stack, &org, "JoinRequestWithdrawn").await.len(),
        1
    );
    assert_eq!(events_of(&stack, &org, "JoinRequestDenied").await.len(), 1);
    assert_eq!(events_of(&stack, &org, "JoinRequested").await.len(), 2);
}

#[tokio::test]
async fn requests_stay_within_the_organization_and_person_limits() {
    let stack = Stack::start_with(Options {
        limits: Some(Limits {
            pending_join_requests_per_org: 2,
            pending_join_requests_per_person: 1,
            ..Limits::default()
        }),
        ..Options::default()
    })
    .await;
    let (olivia, adam) = (stack.person("olivia"), stack.person("adam"));
    let org = suggesting_org(&stack, &olivia, &adam).await;
    let join = format!("/orgs/{org}/join");
    let people: Vec<Person> = (0..4)
        .map(|i| colleague(&stack, &format!("p{i}")))
        .collect();
    let answers =
        futures::future::join_all(people.iter().map(|p| stack.post(p, &join, json!({})))).await;
    let filed = ok_within_limit(
        &answers,
        StatusCode::ACCEPTED,
        "pending_join_requests_per_org",
    );
    assert_eq!(filed, 2, "{answers:?}");

    // An ended request frees its room: a denial, here.
    let (_, listed) = stack.get(&adam, format!("/orgs/{org}/join-requests")).await;
    let first = listed["items"][0]["user_id"].as_str().unwrap().to_owned();
    let (status, _) = stack
        .post(
            &adam,
            format!("/orgs/{org}/join-requests/{first}/deny"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let waiting = people
        .iter()
        .find(|p| {
            answers
                .iter()
                .zip(&people)
                .any(|((s, _), q)| q.sub == p.sub && *s != StatusCode::ACCEPTED)
        })
        .expect("someone refused");
    let (status, body) = stack.post(waiting, &join, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // One person's requests are counted across organizations: with a new address at another
    // organization's domain, the one still pending holds their only place.
    let zoe = stack.person("zoe");
    let other = verified_org(&stack, &zoe, "globex", "globex.example").await;
    set_policy(
        &stack,
        &zoe,
        &other,
        "globex.example",
        json!({ "enrollment": "suggest" }),
    )
    .await;
    let moved = stack.person_with_email(
        &waiting.sub,
        &format!("{}@globex.example", waiting.sub),
        true,
    );
    let before = stack.snapshot().await;
    let (status, body) = stack
        .post(&moved, format!("/orgs/{other}/join"), json!({}))
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "limit-reached",
    );
    assert_eq!(body["limit"], "pending_join_requests_per_person", "{body}");
    assert_eq!(stack.snapshot().await, before);

    // Deleting the first organization releases it.
    let (status, _) = stack
        .delete(&olivia, format!("/orgs/{org}?confirm=acme"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = stack
        .post(&moved, format!("/orgs/{other}/join"), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[tokio::test]
async fn admins_deciding_one_request_at_once_end_it_exactly_once() {
    let stack = Stack::start().await;
    let (olivia, adam) = (stack.person("olivia"), stack.person("adam"));
    let org = suggesting_org(&stack, &olivia, &adam).await;
    let ada = colleague(&stack, "ada");
    let (status, _) = stack
        .post(&ada, format!("/orgs/{org}/join"), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let decide = |who: &'static str| format!("/orgs/{org}/join-requests/ada/{who}");
    let (approve, deny) = (decide("approve"), decide("deny"));
    let calls = [
        (&olivia, &approve),
        (&adam, &deny),
        (&adam, &approve),
        (&olivia, &deny),
    ];
    let answers = futures::future::join_all(
        calls
            .iter()
            .map(|(who, path)| stack.post(*who, path.as_str(), json!({}))),
    )
    .await;
    let won: Vec<_> = answers
        .iter()
        .zip(&calls)
        .filter(|((s, _), _)| *s == StatusCode::OK)
        .collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert!(
            // Gone, already a member (a concurrent approval read it pending too), or try again.
            [
                StatusCode::NOT_FOUND,
                StatusCode::CONFLICT,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(status),
            "{status} {body}"
        );
    }
    let approved = won[0].1.1.ends_with("approve");
    let (status, _) = stack.get(&ada, format!("/orgs/{org}")).await;
    let (_, read) = stack.get(&olivia, format!("/orgs/{org}")).await;
    let members = if approved { 3 } else { 2 };
    assert_eq!(read["member_count"], members, "{read}");
    assert_eq!(status == StatusCode::OK, approved);
    let (_, listed) = stack.get(&adam, format!("/orgs/{org}/join-requests")).await;
    assert_eq!(listed["items"], json!([]));
}
