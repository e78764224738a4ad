//! People's side of verified domains: an owner sets a domain's enrollment policy, colleagues at
//! the domain see the organization among their suggestions and, with `auto_join`, join at
//! once; everyone else is refused and nothing changes.

use orgs_shared::domain::Limits;
use orgs_shared::store::Of;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Options, Person, Stack, assert_problem, ok_within_limit};

/// An organization `olivia` owns with `domain` added, its record published and verified.
pub(crate) async fn verified_org(
    stack: &Stack,
    olivia: &Person,
    handle: &str,
    domain: &str,
) -> String {
    let org = stack.create_org(olivia, handle).await;
    let (status, added) = stack
        .post(
            olivia,
            format!("/orgs/{org}/domains"),
            json!({ "domain": domain }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let record = &added["record"];
    stack.dns.publish(
        record["name"].as_str().unwrap(),
        &[record["value"].as_str().unwrap()],
    );
    let (status, verified) = stack
        .post(
            olivia,
            format!("/orgs/{org}/domains/{domain}/verify"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    org
}

pub(crate) async fn set_policy(
    stack: &Stack,
    olivia: &Person,
    org: &str,
    domain: &str,
    policy: Value,
) {
    let (status, body) = stack
        .patch(olivia, format!("/orgs/{org}/domains/{domain}"), policy)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_colleague_sees_the_suggestion_and_joins_at_once_with_the_default_role() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let org = verified_org(&stack, &olivia, "acme", "acme.example").await;
    let ada = stack.person_with_email("ada", "Ada@Acme.example", true);

    // A verified domain with the default policy (`none`) suggests nothing.
    let (status, body) = stack.get(&ada, "/me/suggestions").await;
    assert_eq!((status, &body), (StatusCode::OK, &json!({ "items": [] })));

    let path = format!("/orgs/{org}/domains/acme.example");
    let (status, domain) = stack
        .patch(&olivia, &path, json!({ "enrollment": "suggest" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{domain}");
    assert_eq!(
        (&domain["enrollment"], &domain["default_role"]),
        (&json!("suggest"), &json!(null))
    );
    let (_, body) = stack.get(&ada, "/me/suggestions").await;
    assert_eq!(body["items"][0]["organization"]["org_id"], json!(org));
    assert_eq!(body["items"][0]["organization"]["handle"], "acme");
    assert_eq!(body["items"][0]["domain"], "acme.example");
    assert_eq!(body["items"][0]["enrollment"], "suggest");

    assert_eq!(body["items"][0]["join_request"], json!(null));

    // `suggest` lets nobody in at once: asking files a request (join_requests.rs), which the
    // opening of the domain below ends as she joins.
    let join = format!("/orgs/{org}/join");
    let (status, body) = stack.post(&ada, &join, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "pending");

    set_policy(
        &stack,
        &olivia,
        &org,
        "acme.example",
        json!({ "enrollment": "auto_join", "default_role": "admin" }),
    )
    .await;
    let (_, body) = stack.get(&ada, "/me/suggestions").await;
    assert_eq!(
        (
            &body["items"][0]["enrollment"],
            &body["items"][0]["default_role"]
        ),
        (&json!("auto_join"), &json!("admin"))
    );

    let (status, joined) = stack.post(&ada, &join, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["org_id"], json!(org));
    assert_eq!(joined["role"], "admin");
    assert_eq!(joined["member_count"], 2);
    let (status, member) = stack.get(&olivia, format!("/orgs/{org}/members/ada")).await;
    assert_eq!(status, StatusCode::OK, "{member}");
    assert_eq!(
        (&member["role"], &member["email"]),
        (&json!("admin"), &json!("ada@acme.example"))
    );
    let (_, read) = stack.get(&olivia, format!("/orgs/{org}")).await;
    assert_eq!(read["member_count"], 2, "the tallies count the new member");
    // Her request, filed while the policy was `suggest`, ended as she joined.
    let (_, requests) = stack
        .get(&olivia, format!("/orgs/{org}/join-requests"))
        .await;
    assert_eq!(requests["items"], json!([]), "{requests}");

    // A member is suggested nothing more, and cannot join twice.
    let (_, body) = stack.get(&ada, "/me/suggestions").await;
    assert_eq!(body["items"], json!([]));
    let (status, body) = stack.post(&ada, &join, json!({})).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "already-member");
    // An invitation to her address is refused as a member's.
    let (_, invited) = stack
        .post(
            &olivia,
            format!("/orgs/{org}/invitations"),
            json!({ "invitations": [{ "email": "ada@acme.example" }] }),
        )
        .await;
    assert_eq!(
        invited["results"][0]["problem"]["type"], "urn:orgs:problem:already-member",
        "{invited}"
    );

    let actions: Vec<String> = stack
        .audit_entries(&Of::Org(org.clone()))
        .await
        .iter()
        .map(|e| e["action"].as_s().unwrap().clone())
        .collect();
    assert!(
        actions.ends_with(&[
            "join_request.created".into(),
            "domain.updated".into(),
            "member.joined".into()
        ]),
        "{actions:?}"
    );
    let events = stack.event_records(&Of::Org(org.clone())).await;
    let joined_event = events
        .iter()
        .rev()
        .find(|e| e["detail_type"].as_s().unwrap() == "MemberJoined")
        .expect("a MemberJoined event");
    let detail: Value = serde_json::from_str(joined_event["detail"].as_s().unwrap()).unwrap();
    assert_eq!(detail["data"]["domain"], "acme.example");
    assert_eq!(detail["data"]["invitation_id"], json!(null));
    assert_eq!(detail["data"]["role"], "admin");

    // Back to `none`: the next colleague is told of nothing and cannot join.
    set_policy(
        &stack,
        &olivia,
        &org,
        "acme.example",
        json!({ "enrollment": "none" }),
    )
    .await;
    let bo = stack.person_with_email("bo", "bo@acme.example", true);
    let (_, body) = stack.get(&bo, "/me/suggestions").await;
    assert_eq!(body["items"], json!([]));
    let (status, body) = stack.post(&bo, &join, json!({})).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn people_not_at_a_verified_auto_join_domain_are_refused_and_nothing_changes() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let org = verified_org(&stack, &olivia, "acme", "acme.example").await;
    set_policy(
        &stack,
        &olivia,
        &org,
        "acme.example",
        json!({ "enrollment": "auto_join" }),
    )
    .await;
    // Another domain of the organization, added and set to auto_join, but never verified.
    let (status, _) = stack
        .post(
            &olivia,
            format!("/orgs/{org}/domains"),
            json!({ "domain": "pending.example" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    set_policy(
        &stack,
        &olivia,
        &org,
        "pending.example",
        json!({ "enrollment": "auto_join" }),
    )
    .await;

    let join = format!("/orgs/{org}/join");
    let before = stack.snapshot().await;
    for person in [
        stack.person_with_email("bob", "bob@other.example", true),
        stack.person_with_email("sub", "sub@eu.acme.example", true),
        stack.person_with_email("pat", "pat@pending.example", true),
    ] {
        let (status, body) = stack.post(&person, &join, json!({})).await;
        assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
        let (status, body) = stack.get(&person, "/me/suggestions").await;
        assert_eq!(
            (status, &body["items"]),
            (StatusCode::OK, &json!([])),
            "{}",
            person.email
        );
    }
    // An address at the domain that nobody verified is not enough.
    let mallory = stack.person_with_email("mallory", "mallory@acme.example", false);
    let (status, body) = stack.post(&mallory, &join, json!({})).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack.get(&mallory, "/me/suggestions").await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack.post(&mallory, "/orgs/org_0/join", json!({})).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn only_owners_set_a_policy_and_auto_join_makes_at_most_admins() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let ada = stack.person("ada");
    let org = verified_org(&stack, &olivia, "acme", "acme.example").await;
    stack.join(&org, &olivia, &ada, "admin").await;
    let path = format!("/orgs/{org}/domains/acme.example");
    let before = stack.snapshot().await;
    let (status, body) = stack
        .patch(&ada, &path, json!({ "enrollment": "suggest" }))
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    for (policy, field, code) in [
        (
            json!({ "enrollment": "auto_join", "default_role": "owner" }),
            "default_role",
            "role_too_high",
        ),
        (
            json!({ "enrollment": "suggest", "default_role": "member" }),
            "default_role",
            "not_auto_join",
        ),
        (
            json!({ "enrollment": "everyone" }),
            "enrollment",
            "invalid_enrollment",
        ),
    ] {
        let (status, body) = stack.patch(&olivia, &path, policy).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(
            (&body["errors"][0]["field"], &body["errors"][0]["code"]),
            (&json!(field), &json!(code)),
            "{body}"
        );
    }
    let (status, body) = stack
        .patch(
            &olivia,
            format!("/orgs/{org}/domains/nope.example"),
            json!({ "enrollment": "suggest" }),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn colleagues_joining_at_once_stay_within_the_member_limit() {
    let stack = Stack::start_with(Options {
        limits: Some(Limits {
            members_per_org: 3,
            ..Limits::default()
        }),
        ..Options::default()
    })
    .await;
    let olivia = stack.person("olivia");
    let org = verified_org(&stack, &olivia, "acme", "acme.example").await;
    set_policy(
        &stack,
        &olivia,
        &org,
        "acme.example",
        json!({ "enrollment": "auto_join" }),
    )
    .await;
    // A pending invitation holds one of the seats.
    let (status, _) = stack
        .post(
            &olivia,
            format!("/orgs/{org}/invitations"),
            json!({ "invitations": [{ "email": "guest@elsewhere.example" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let colleagues: Vec<Person> = (0..4)
        .map(|i| stack.person_with_email(&format!("c{i}"), &format!("c{i}@acme.example"), true))
        .collect();
    let join = format!("/orgs/{org}/join");
    let answers = futures::future::join_all(
        colleagues
            .iter()
            .map(|person| stack.post(person, &join, json!({}))),
    )
    .await;
    let joined = ok_within_limit(&answers, StatusCode::OK, "members_per_org");
    assert_eq!(joined, 1, "{answers:?}");
    let (_, read) = stack.get(&olivia, format!("/orgs/{org}")).await;
    assert_eq!(read["member_count"], 2);
}
