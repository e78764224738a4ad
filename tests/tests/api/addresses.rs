//! Email addresses are bare mailboxes (`local@domain`), lowercased: every other form an address
//! header could carry is refused with a 400 problem wherever the API takes an address, and
//! nothing is stored or sent.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Stack, assert_problem};
use crate::invitations::invite;

/// Each form of `bob@…` that is not a bare mailbox, with what is wrong with it.
fn not_bare(mailbox: &str) -> Vec<(&'static str, String)> {
    let (local, domain) = mailbox.split_once('@').unwrap();
    vec![
        ("a display name", format!("Eve <{mailbox}>")),
        ("a quoted display name", format!("\"Bob\" <{mailbox}>")),
        ("angle brackets", format!("<{mailbox}>")),
        ("a quoted local part", format!("\"{local}\"@{domain}")),
        ("a comment", format!("{mailbox} (comment)")),
        ("a header injection", format!("{mailbox}\r\nBcc: x@y.z")),
        ("a line feed", format!("{mailbox}\n")),
        ("a space inside", format!("{local} x@{domain}")),
        ("a leading space", format!(" {mailbox}")),
        ("a trailing space", format!("{mailbox} ")),
        ("a tab", format!("{local}\t@{domain}")),
        ("a control character", format!("{local}\u{7}@{domain}")),
        ("non-ASCII", format!("{local}ø@{domain}")),
        ("no dot in the domain", format!("{local}@localhost")),
        ("a domain literal", format!("{local}@[127.0.0.1]")),
        ("two addresses", format!("{mailbox},x@y.z")),
        ("255 characters", of_length(255)),
    ]
}

/// A bare mailbox of `length` characters, but for its length: a local part of 64 and a domain
/// of labels within 63 characters.
fn of_length(length: usize) -> String {
    let domain_length = length - 65;
    let mut domain = String::new();
    while domain.len() + 4 < domain_length {
        let label = (domain_length - 4 - domain.len()).min(60);
        domain.push_str(&"d".repeat(label));
        domain.push('.');
    }
    domain.push_str(&"c".repeat(domain_length - domain.len()));
    let address = format!("{}@{domain}", "a".repeat(64));
    assert_eq!(address.len(), length);
    address
}

#[tokio::test]
async fn an_invitation_to_anything_but_a_bare_mailbox_is_refused_and_nothing_is_sent() {
    let stack = Stack::start().await;
    let alice = stack.unique_person("alice");
    let org_id = stack.create_org(&alice, "addr-invites").await;
    let bob = format!(
        "bob-{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let before = stack.snapshot().await;
    for (what, address) in not_bare(&bob) {
        let (status, problem) =
            invite(&stack, &alice, &org_id, json!([{ "email": address }])).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(
            problem["errors"][0]["field"], "invitations[0].email",
            "{what}: {problem}"
        );
        assert_eq!(
            problem["errors"][0]["code"], "invalid_email",
            "{what}: {problem}"
        );
    }
    // 255 characters is one too many; 254 is fine.
    let longest = of_length(254);
    assert_eq!(
        stack.snapshot().await,
        before,
        "a refused invitation stored something"
    );
    assert!(
        stack.mail_to(&bob).await.is_empty(),
        "a refused invitation sent mail"
    );
    let (status, body) = invite(&stack, &alice, &org_id, json!([{ "email": longest }])).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_address_in_any_case_is_one_pending_invitation_to_one_lowercase_mailbox() {
    let stack = Stack::start().await;
    let alice = stack.unique_person("alice");
    let org_id = stack.create_org(&alice, "addr-case").await;
    let id = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let (status, body) = invite(
        &stack,
        &alice,
        &org_id,
        json!([{ "email": format!("BOB-{id}@Example.com") }]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let bob = format!("bob-{id}@example.com");
    assert_eq!(body["results"][0]["invitation"]["email"], bob.as_str());
    let (status, body) = invite(&stack, &alice, &org_id, json!([{ "email": bob }])).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    assert_eq!(
        body["results"][0]["problem"]["type"], "urn:orgs:problem:already-pending",
        "{body}"
    );
    let (_, pending) = stack
        .get(&alice, format!("/orgs/{org_id}/invitations?status=pending"))
        .await;
    let emails: Vec<_> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [bob.as_str()]);
    // One email, to the bare lowercase mailbox.
    assert_eq!(stack.mail_to(&bob).await.len(), 1);
}

#[tokio::test]
async fn a_billing_email_is_a_bare_mailbox_too() {
    let stack = Stack::start().await;
    let alice = stack.unique_person("alice");
    let org_id = stack.create_org(&alice, "addr-billing").await;
    let before = stack.snapshot().await;
    for (what, address) in not_bare("billing@acme.example") {
        let (status, problem) = stack
            .patch(
                &alice,
                format!("/orgs/{org_id}"),
                json!({ "billing_email": address }),
            )
            .await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(
            problem["errors"][0]["field"], "billing_email",
            "{what}: {problem}"
        );
    }
    assert_eq!(stack.snapshot().await, before);
    let (status, org) = stack
        .patch(
            &alice,
            format!("/orgs/{org_id}"),
            json!({ "billing_email": "Billing@ACME.example" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["billing_email"], "billing@acme.example");
}
