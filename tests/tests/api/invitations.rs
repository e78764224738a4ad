//! Invitations end to end: invite, the email through SES (read back from moto), lookup, accept,
//! decline, resend, revoke, and every refusal, each proving that nothing changed.

use orgs_shared::store::{Of, Stored};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Anonymous, Options, Person, Stack, assert_problem};

/// Invites `body`'s invitees into `org_id` as `who`; returns the status and the answer.
pub async fn invite(
    stack: &Stack,
    who: &Person,
    org_id: &str,
    invitations: Value,
) -> (StatusCode, Value) {
    let path = format!("/orgs/{org_id}/invitations");
    stack
        .post(who, &path, json!({ "invitations": invitations }))
        .await
}

/// Invites one address and returns its token (from the answer's link).
pub async fn invite_one(
    stack: &Stack,
    who: &Person,
    org_id: &str,
    email: &str,
) -> (String, String) {
    let (status, answer) = invite(stack, who, org_id, json!([{ "email": email }])).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let result = &answer["results"][0];
    let link = result["invite_url"].as_str().unwrap();
    (
        token_of(link),
        result["invitation"]["invitation_id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

pub fn token_of(link: &str) -> String {
    link.split("token=")
        .nth(1)
        .expect("a token in the link")
        .to_owned()
}

pub async fn answer(
    stack: &Stack,
    who: Option<&Person>,
    action: &str,
    token: &str,
) -> (StatusCode, Value) {
    let path = format!("/invitations/{action}");
    stack.post(who, &path, json!({ "token": token })).await
}

pub fn assert_gone(status: StatusCode, body: &Value, reason: &str) {
    assert_problem(status, body, StatusCode::GONE, "invitation-unusable");
    assert_eq!(body["reason"], reason, "{body}");
}

#[tokio::test]
async fn an_emailed_invitation_is_looked_up_and_accepted_through_its_link() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.unique_person("bob");
    stack
        .patch(&alice, "/me", json!({ "display_name": "Alice A" }))
        .await;
    let org_id = stack.create_org(&alice, "acme").await;

    let invitee =
        json!([{ "email": bob.email.to_uppercase(), "name": "Bob", "note": "Welcome aboard" }]);
    let (status, created) = invite(&stack, &alice, &org_id, invitee).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let result = &created["results"][0];
    assert_eq!(result["email_sent"], true);
    assert_eq!(
        result["invitation"]["email"], bob.email,
        "compared and stored in lowercase"
    );
    assert_eq!(result["invitation"]["status"], "pending");

    // The email carries the same link as the answer.
    let mail = stack.mail_to(&bob.email).await;
    assert_eq!(mail.len(), 1);
    let link = result["invite_url"].as_str().unwrap();
    assert!(mail[0].contains(link), "{}", mail[0]);
    assert!(
        mail[0].contains("Alice A")
            && mail[0].contains("acme Inc")
            && mail[0].contains("Welcome aboard")
    );
    let token = token_of(link);

    let (status, preview) = answer(&stack, None, "lookup", &token).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["organization"]["handle"], "acme");
    assert_eq!(preview["inviter"]["display_name"], "Alice A");
    assert_eq!(preview["role"], "member");

    let (status, joined) = answer(&stack, Some(&bob), "accept", &token).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["role"], "member");
    assert_eq!(joined["member_count"], 2);
    let (status, org) = stack.get(&bob, format!("/orgs/{org_id}")).await;
    assert_eq!((status, &org["role"]), (StatusCode::OK, &json!("member")));
    let (_, list) = stack.get(&bob, "/orgs").await;
    assert_eq!(list["items"][0]["org_id"], org_id.as_str());

    let (_, invitations) = stack
        .get(
            &alice,
            format!("/orgs/{org_id}/invitations?status=accepted"),
        )
        .await;
    assert_eq!(invitations["items"].as_array().unwrap().len(), 1);
    // The token is used: looking it up, or anyone else accepting it, says so.
    let (status, body) = answer(&stack, None, "lookup", &token).await;
    assert_gone(status, &body, "already_accepted");
    let carol = stack.person("carol");
    let (status, body) = answer(&stack, Some(&carol), "accept", &token).await;
    assert_gone(status, &body, "already_accepted");
    // Bob accepting again (his first answer lost, or a second click) gets the same answer, and
    // nothing changes.
    let before = stack.snapshot().await;
    let (status, again) = answer(&stack, Some(&bob), "accept", &token).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (&again["org_id"], &again["role"], &again["member_count"]),
        (&joined["org_id"], &joined["role"], &joined["member_count"])
    );
    assert_eq!(stack.snapshot().await, before);
    // Removed since, he is told it was accepted.
    let (status, _) = stack
        .delete(&alice, format!("/orgs/{org_id}/members/{}", bob.sub))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = answer(&stack, Some(&bob), "accept", &token).await;
    assert_gone(status, &body, "already_accepted");
    // Audit: created, invitation sent, accepted, member joined, member removed.
    assert_eq!(stack.audit_entries(&Of::Org(org_id.clone())).await.len(), 5);
    // Neither the token nor its hash is in any audit entry or event record.
    let hash = orgs_shared::domain::InvitationToken::parse(&token)
        .unwrap()
        .hash();
    for (what, item) in stack.stored().await {
        if matches!(what, Stored::Audit { .. } | Stored::Event { .. }) {
            let text = format!("{item:?}");
            assert!(
                !text.contains(&token) && !text.contains(hash.as_str()),
                "{text}"
            );
        }
    }
}

#[tokio::test]
async fn only_the_invitee_may_accept_and_a_refusal_changes_nothing() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let (token, _) = invite_one(&stack, &alice, &org_id, "bob@example.com").await;
    let before = stack.snapshot().await;
    let carol = stack.person("carol");
    let unverified_bob = stack.person_with_email("bob-2", "bob@example.com", false);
    for who in [&carol, &unverified_bob] {
        for action in ["accept", "decline"] {
            let (status, body) = answer(&stack, Some(who), action, &token).await;
            assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
            assert!(
                !body["detail"].as_str().unwrap().contains("bob@"),
                "the address is not revealed"
            );
        }
    }
    let (status, _) = answer(&stack, None, "accept", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for bogus in ["not-a-token", &"A".repeat(43)] {
        let (status, body) = answer(&stack, None, "lookup", bogus).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    }
    assert_eq!(stack.snapshot().await, before);
    // The right person, case aside, succeeds.
    let bob = stack.person_with_email("bob", "Bob@Example.com", true);
    let (status, body) = answer(&stack, Some(&bob), "accept", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn invitations_by_handle_go_to_that_user_only() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.unique_person("bob");
    let (status, _) = stack.patch(&bob, "/me", json!({ "handle": "bobby" })).await;
    assert_eq!(status, StatusCode::OK);
    let org_id = stack.create_org(&alice, "acme").await;
    let (status, created) = invite(
        &stack,
        &alice,
        &org_id,
        json!([{ "handle": "BOBBY", "role": "admin" }]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["results"][0]["invitation"]["invitee_user_id"],
        bob.sub.as_str()
    );
    assert_eq!(stack.mail_to(&bob.email).await.len(), 1);
    let token = token_of(created["results"][0]["invite_url"].as_str().unwrap());
    // Someone else with the same address is still not the invited user.
    let twin = stack.person_with_email("twin", &bob.email, true);
    let (status, _) = answer(&stack, Some(&twin), "accept", &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, joined) = answer(&stack, Some(&bob), "accept", &token).await;
    assert_eq!((status, &joined["role"]), (StatusCode::OK, &json!("admin")));

    // Unknown handles, organization handles, members and pending addresses: one result each.
    let carol = stack.person("carol");
    stack.get(&carol, "/me").await;
    let (token_for_carol, _) = invite_one(&stack, &alice, &org_id, &carol.email).await;
    let before = stack.snapshot().await;
    let batch = json!([
        { "handle": "nobody-here" },
        { "handle": "acme" },
        { "handle": "bobby" },
        { "email": alice.email },
        { "email": carol.email },
    ]);
    let (status, results) = invite(&stack, &alice, &org_id, batch).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{results}");
    let types: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["problem"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "urn:orgs:problem:not-found",
            "urn:orgs:problem:not-found",
            "urn:orgs:problem:already-member",
            "urn:orgs:problem:already-member",
            "urn:orgs:problem:already-pending",
        ]
    );
    assert_eq!(stack.snapshot().await, before);
    let (status, _) = answer(&stack, Some(&carol), "accept", &token_for_carol).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn who_may_invite_and_what_a_request_may_hold() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let (admin, member) = (stack.person("adam"), stack.person("mia"));
    let org_id = stack.create_org(&alice, "acme").await;
    stack.add_member(&org_id, &admin, "admin", "active").await;
    stack.add_member(&org_id, &member, "member", "active").await;
    let before = stack.snapshot().await;

    let (status, body) = invite(
        &stack,
        &admin,
        &org_id,
        json!([{ "email": "x@example.com", "role": "owner" }]),
    )
    .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(body["errors"][0]["code"], "role_too_high");
    let (status, body) = invite(
        &stack,
        &member,
        &org_id,
        json!([{ "email": "x@example.com" }]),
    )
    .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = invite(
        &stack,
        &stack.person("eve"),
        &org_id,
        json!([{ "email": "x@example.com" }]),
    )
    .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    let eleven: Vec<Value> = (0..11)
        .map(|i| json!({ "email": format!("p{i}@example.com") }))
        .collect();
    for bad in [
        json!(eleven),
        json!([]),
        json!([{ "email": "not-an-address" }]),
        json!([{ "email": "a@example.com", "handle": "bob" }]),
        json!([{ "email": "a@example.com", "teams": ["team_00000000000000000000000000000000"] }]),
        json!([{ "email": "a@example.com", "note": "x".repeat(1001) }]),
        json!([{ "email": "a@example.com", "role": "superuser" }]),
        json!([{ "email": "a@example.com", "colour": "blue" }]),
        // An invitee as an array of its fields in order (found by tests/fuzz).
        json!([["a@example.com"]]),
        json!([{}]),
        json!([{ "email": "a@example.com", "name": null }]),
    ] {
        let (status, body) = invite(&stack, &alice, &org_id, bad.clone()).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    }
    assert_eq!(stack.snapshot().await, before);
    assert!(stack.mail_to("x@example.com").await.is_empty());

    // An admin invites admins and members, ten at once.
    let ten: Vec<Value> = (0..10)
        .map(|i| json!({ "email": format!("ten-{i}-{org_id}@example.com"), "role": "admin" }))
        .collect();
    let (status, body) = invite(&stack, &admin, &org_id, json!(ten)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["results"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn only_owners_resend_or_revoke_an_invitation_to_be_owner() {
    let stack = Stack::start().await;
    let (alice, adam) = (stack.person("alice"), stack.person("adam"));
    let org_id = stack.create_org(&alice, "acme").await;
    stack.add_member(&org_id, &adam, "admin", "active").await;
    let (status, answer) = invite(
        &stack,
        &alice,
        &org_id,
        json!([{ "email": "olga@example.com", "role": "owner" }, { "email": "ann@example.com", "role": "admin" }]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let id = |i: usize| {
        answer["results"][i]["invitation"]["invitation_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (owners, admins) = (id(0), id(1));
    let path = |id: &str| format!("/orgs/{org_id}/invitations/{id}");

    // A resend would hand the admin a fresh link to be owner: refused, as is revoking it.
    let before = stack.snapshot().await;
    let (status, body) = stack
        .post(&adam, format!("{}/resend", path(&owners)), None)
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert!(body.get("invite_url").is_none(), "{body}");
    let (status, body) = stack.delete(&adam, path(&owners)).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(stack.snapshot().await, before);

    // An invitation within the admin's own role is theirs to manage; the owner's, the owner's.
    let (status, resent) = stack
        .post(&adam, format!("{}/resend", path(&admins)), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    let (status, _) = stack.delete(&adam, path(&admins)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack.delete(&alice, path(&owners)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn people_typed_markup_arrives_escaped_in_the_html() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.unique_person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    let note = r#"<script>alert("x")</script> see <a href="https://evil.example">here</a>"#;
    let (status, _) = invite(
        &stack,
        &alice,
        &org_id,
        json!([{ "email": bob.email, "name": "<b>Bob</b>", "note": note }]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let html = stack.mail_to(&bob.email).await.pop().unwrap();
    assert!(
        !html.contains("<script>") && !html.contains("<b>Bob</b>"),
        "{html}"
    );
    assert!(!html.contains(r#"href="https://evil.example""#), "{html}");
    assert!(
        html.contains("alert("),
        "the note is still shown, as text: {html}"
    );
}

#[tokio::test]
async fn revoked_declined_and_replaced_links_are_gone_and_the_address_can_be_invited_again() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.unique_person("bob");
    let org_id = stack.create_org(&alice, "acme").await;

    let (token, id) = invite_one(&stack, &alice, &org_id, &bob.email).await;
    let (status, _) = stack
        .delete(&alice, format!("/orgs/{org_id}/invitations/{id}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = answer(&stack, Some(&bob), "accept", &token).await;
    assert_gone(status, &body, "revoked");
    let (status, body) = stack
        .delete(&alice, format!("/orgs/{org_id}/invitations/{id}"))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "not-pending");

    let (token, _) = invite_one(&stack, &alice, &org_id, &bob.email).await;
    let (status, _) = answer(&stack, Some(&bob), "decline", &token).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = answer(&stack, Some(&bob), "accept", &token).await;
    assert_gone(status, &body, "declined");

    let (old_token, id) = invite_one(&stack, &alice, &org_id, &bob.email).await;
    let path = format!("/orgs/{org_id}/invitations/{id}/resend");
    let (status, resent) = stack.post(&alice, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    let new_token = token_of(resent["invite_url"].as_str().unwrap());
    assert_ne!(new_token, old_token);
    let (status, body) = answer(&stack, Some(&bob), "accept", &old_token).await;
    assert_gone(status, &body, "replaced");
    assert_eq!(stack.mail_to(&bob.email).await.len(), 4);
    let (status, _) = answer(&stack, Some(&bob), "accept", &new_token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn invitations_expire_at_their_deadline_and_the_address_can_be_invited_again() {
    let stack = Stack::start_with(Options {
        invitation_ttl_seconds: Some(1),
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    let (token, id) = invite_one(&stack, &alice, &org_id, &bob.email).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let before = stack.snapshot().await;
    let (status, body) = answer(&stack, Some(&bob), "accept", &token).await;
    assert_gone(status, &body, "expired");
    let (status, body) = answer(&stack, None, "lookup", &token).await;
    assert_gone(status, &body, "expired");
    assert_eq!(stack.snapshot().await, before);
    let (_, shown) = stack
        .get(&alice, format!("/orgs/{org_id}/invitations/{id}"))
        .await;
    assert_eq!(shown["status"], "expired");
    let (_, expired) = stack
        .get(&alice, format!("/orgs/{org_id}/invitations?status=expired"))
        .await;
    assert_eq!(expired["items"].as_array().unwrap().len(), 1);
    let (_, mine) = stack.get(&bob, "/me/invitations").await;
    assert_eq!(mine["items"], json!([]));
    // The scheduled expiry has not run; revoking the lapsed one frees the address.
    let (status, _) = stack
        .delete(&alice, format!("/orgs/{org_id}/invitations/{id}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    invite_one(&stack, &alice, &org_id, &bob.email).await;
}

#[tokio::test]
async fn fifty_concurrent_accepts_make_one_member_and_each_is_answered_as_the_first() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    let (token, _) = invite_one(&stack, &alice, &org_id, &bob.email).await;
    let answers =
        futures::future::join_all((0..50).map(|_| answer(&stack, Some(&bob), "accept", &token)))
            .await;
    // Bob clicked fifty times: each click that is answered says he joined, as the first did.
    // (With DynamoDB's conflicts, a click may also be told to retry.)
    let statuses: Vec<_> = answers.iter().map(|(s, _)| s.as_u16()).collect();
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [200, 503].contains(s)),
        "{statuses:?}"
    );
    for (_, joined) in answers.iter().filter(|(s, _)| *s == StatusCode::OK) {
        assert_eq!(joined["org_id"], org_id.as_str());
        assert_eq!(
            (&joined["role"], &joined["member_count"]),
            (&json!("member"), &json!(2))
        );
    }
    let members: Vec<_> = stack
        .org_items(&org_id)
        .await
        .into_iter()
        .filter(|what| matches!(what, Stored::Member { .. }))
        .collect();
    assert_eq!(members.len(), 2, "{members:?}");
    let (_, org) = stack.get(&alice, format!("/orgs/{org_id}")).await;
    assert_eq!(org["member_count"], 2);
}

#[tokio::test]
async fn limits_answer_429_and_send_nothing() {
    let limits = orgs_shared::app::Limits {
        pending_invitations_per_org: 3,
        invitation_emails_per_org_per_day: 5,
        resends_per_invitation_per_day: 1,
        members_per_org: 10_000,
        ..orgs_shared::app::Limits::default()
    };
    let stack = Stack::start_with(Options {
        limits: Some(limits),
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let addresses: Vec<String> = (0..4).map(|_| stack.unique_person("p").email).collect();
    let (status, _) = invite(
        &stack,
        &alice,
        &org_id,
        json!([{ "email": addresses[0] }, { "email": addresses[1] }]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let before = stack.snapshot().await;
    let (status, body) = invite(
        &stack,
        &alice,
        &org_id,
        json!([{ "email": addresses[2] }, { "email": addresses[3] }]),
    )
    .await;
    assert_problem(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "limit-reached",
    );
    assert_eq!(stack.snapshot().await, before);
    assert!(stack.mail_to(&addresses[2]).await.is_empty());

    let (_, page) = stack
        .get(&alice, format!("/orgs/{org_id}/invitations"))
        .await;
    let id = page["items"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/orgs/{org_id}/invitations/{id}/resend");
    let (status, _) = stack.post(&alice, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    let before = stack.snapshot().await;
    let (status, body) = stack.post(&alice, &path, None).await;
    assert_problem(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "limit-reached",
    );
    assert_eq!(stack.snapshot().await, before);

    // Three emails so far today (two invitations, one resend); two more fit, the third not.
    let second = page["items"][1]["invitation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = stack
        .post(
            &alice,
            format!("/orgs/{org_id}/invitations/{second}/resend"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = invite(&stack, &alice, &org_id, json!([{ "email": addresses[2] }])).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = invite(&stack, &alice, &org_id, json!([{ "email": addresses[3] }])).await;
    assert_problem(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "limit-reached",
    );
}

#[tokio::test]
async fn with_ses_down_the_invitation_is_kept_and_a_resend_delivers_it() {
    let closed = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let broken = Stack::start_with(Options {
        ses_endpoint: Some(closed),
        ..Options::default()
    })
    .await;
    let alice = broken.person("alice");
    let bob = broken.unique_person("bob");
    let org_id = broken.create_org(&alice, "acme").await;
    let (status, created) = invite(&broken, &alice, &org_id, json!([{ "email": bob.email }])).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let result = &created["results"][0];
    assert_eq!(result["email_sent"], false);
    assert!(
        result["email_error"]
            .as_str()
            .is_some_and(|e| !e.contains("token"))
    );
    assert_eq!(result["invitation"]["status"], "pending");
    assert!(broken.mail_to(&bob.email).await.is_empty());
    // The link in the answer works, although no email carried it.
    let link_token = token_of(result["invite_url"].as_str().unwrap());
    let (status, preview) = broken
        .post(
            Anonymous,
            "/invitations/lookup",
            json!({ "token": link_token }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");

    // SES is back (the same table, served with a working mailer): a resend delivers it.
    let healthy = Stack::start_with(Options {
        table: Some(broken.table.clone()),
        ..Options::default()
    })
    .await;
    let id = result["invitation"]["invitation_id"].as_str().unwrap();
    let (status, resent) = healthy
        .post(
            &alice,
            format!("/orgs/{org_id}/invitations/{id}/resend"),
            None,
        )
        .await;
    assert_eq!(
        (status, &resent["email_sent"]),
        (StatusCode::OK, &json!(true)),
        "{resent}"
    );
    let html = healthy.mail_to(&bob.email).await.pop().unwrap();
    let token = token_of(resent["invite_url"].as_str().unwrap());
    assert!(html.contains(&token));
    let (status, _) = answer(&healthy, Some(&bob), "accept", &token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn people_see_their_pending_invitations_and_teams_are_joined_on_accepting() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    let team = stack.first_team(&org_id).await;
    let other = stack.create_org(&alice, "other").await;
    let (status, _) = invite(
        &stack,
        &alice,
        &org_id,
        json!([{ "email": bob.email, "teams": [team] }]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (token, _) = invite_one(&stack, &alice, &other, &bob.email).await;

    let (status, mine) = stack.get(&bob, "/me/invitations?limit=1").await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let cursor = mine["next_cursor"].as_str().expect("a second page");
    let (_, rest) = stack
        .get(&bob, format!("/me/invitations?cursor={cursor}"))
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    let (_, theirs) = stack.get(&alice, "/me/invitations").await;
    assert_eq!(theirs["items"], json!([]));

    let (_, all) = stack.get(&bob, "/me/invitations").await;
    let first = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["org_id"] == org_id.as_str())
        .unwrap();
    assert_eq!(first["organization"]["handle"], "acme");
    assert_eq!(first["team_ids"], json!([team]));
    let link_token = {
        let (_, page) = stack
            .get(&alice, format!("/orgs/{org_id}/invitations"))
            .await;
        let id = page["items"][0]["invitation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, resent) = stack
            .post(
                &alice,
                format!("/orgs/{org_id}/invitations/{id}/resend"),
                None,
            )
            .await;
        token_of(resent["invite_url"].as_str().unwrap())
    };
    let (status, _) = answer(&stack, Some(&bob), "accept", &link_token).await;
    assert_eq!(status, StatusCode::OK);
    let items = stack.org_items(&org_id).await;
    let bob_in_team = Stored::TeamMember {
        org: org_id.clone(),
        team: team.clone(),
        user: "bob".into(),
    };
    assert!(items.contains(&bob_in_team), "{items:?}");
    let (_, mine) = stack.get(&bob, "/me/invitations").await;
    assert_eq!(
        mine["items"].as_array().unwrap().len(),
        1,
        "only the other organization's remains"
    );
    let (status, _) = answer(&stack, Some(&bob), "decline", &token).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // An invitation id is found only in its own organization.
    let (_, page) = stack
        .get(&alice, format!("/orgs/{org_id}/invitations"))
        .await;
    let id = page["items"][0]["invitation_id"].as_str().unwrap();
    let (status, _) = stack
        .get(&alice, format!("/orgs/{other}/invitations/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// One address twice in one request: the first is invited, the second is already pending, as in
/// a later request. The request's one transaction may not write the pending marker twice: a 500
/// (found by tests/fuzz).
#[tokio::test]
async fn an_address_twice_in_one_request_is_invited_once() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let (status, body) = invite(
        &stack,
        &alice,
        &org_id,
        json!([{ "email": "ann@example.com" }, { "email": "ANN@example.com" }, { "email": "ben@example.com" }]),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    let statuses: Vec<_> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(201), json!(409), json!(201)], "{body}");
}

/// Two invitees of one request may name the same team. The team check read each team once per
/// invitee in one BatchGetItem, which refuses a key named twice: a 500 (found by tests/fuzz).
#[tokio::test]
async fn invitees_of_one_request_may_name_the_same_team() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let (status, team) = stack
        .post(
            &alice,
            format!("/orgs/{org_id}/teams"),
            json!({ "name": "Builders" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    let team = team["team_id"].as_str().unwrap();
    let (status, body) = invite(
        &stack,
        &alice,
        &org_id,
        json!([
            { "email": "ann@example.com", "teams": [team] },
            { "email": "ben@example.com", "teams": [team, team] },
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for result in body["results"].as_array().unwrap() {
        assert_eq!(result["invitation"]["team_ids"], json!([team]), "{result}");
    }
}
