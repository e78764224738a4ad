//! Delivery you can see: every invitation email goes out with the stack's SES configuration set
//! and the tags that lead back to its invitation; moto's stand-in for SES publishes the events
//! SES would for its mailbox simulator's addresses to the default bus, a rule there feeds
//! `record-delivery`, and the invitations show what became of their email. A bounce or a
//! complaint is an event and an audit entry, and puts the address on the suppression list, so
//! the next invitation to it is refused without a send.

use std::time::{Duration, Instant};

use orgs_functions::jobs::delivery::{Outcome, record_delivery};
use orgs_shared::domain::Timestamp;
use orgs_shared::store::{Of, Stored};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Person, Stack, assert_problem};
use crate::events::check_event;
use crate::invitations::invite;

/// A simulator address of its own for this test run (SES ignores a `+label`).
fn simulator(kind: &str) -> String {
    let label = &uuid::Uuid::new_v4().simple().to_string()[..12];
    format!("{kind}+{label}@simulator.amazonses.com")
}

/// Waits until the invitation shows a delivery whose status is `status`, and returns it.
async fn delivery_becomes(
    stack: &Stack,
    who: &Person,
    org_id: &str,
    invitation_id: &str,
    status: &str,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let path = format!("/orgs/{org_id}/invitations/{invitation_id}");
        let (code, invitation) = stack.get(who, &path).await;
        assert_eq!(code, StatusCode::OK, "{invitation}");
        if invitation["delivery"]["status"] == status {
            return invitation["delivery"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "{invitation_id} never showed {status}: {invitation}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads published events until one of each of `kinds` came; returns those.
async fn published(stack: &Stack, kinds: &[&str]) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut found: Vec<Value> = Vec::new();
    while kinds
        .iter()
        .any(|k| !found.iter().any(|e| e["detail-type"] == *k))
    {
        assert!(Instant::now() < deadline, "only {found:#?}");
        let events = stack.events();
        for event in events
            .receive(&events.published, 10, Duration::from_millis(500))
            .await
        {
            if kinds.iter().any(|k| event["detail-type"] == *k) {
                found.push(event);
            }
        }
    }
    found
}

#[tokio::test]
async fn the_simulators_outcomes_show_on_the_invitations_and_a_suppressed_address_is_refused() {
    let stack = Stack::start_with_delivery().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let addresses: Vec<String> = ["success", "bounce", "complaint", "suppressionlist"]
        .iter()
        .map(|kind| simulator(kind))
        .collect();
    let batch: Vec<Value> = addresses.iter().map(|a| json!({ "email": a })).collect();
    let (status, answer) = invite(&stack, &alice, &org_id, json!(batch)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let ids: Vec<String> = (0..4)
        .map(|i| {
            let result = &answer["results"][i];
            assert_eq!(result["email_sent"], true, "{answer}");
            // Nothing is known yet of an email just sent.
            assert_eq!(result["invitation"]["delivery"], Value::Null, "{answer}");
            result["invitation"]["invitation_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();

    let delivered = delivery_becomes(&stack, &alice, &org_id, &ids[0], "delivered").await;
    assert!(delivered["reported_at"].is_string(), "{delivered}");
    assert!(delivered.get("bounce_type").is_none(), "{delivered}");
    let bounced = delivery_becomes(&stack, &alice, &org_id, &ids[1], "bounced").await;
    assert_eq!(bounced["bounce_type"], "Permanent", "{bounced}");
    assert_eq!(bounced["bounce_sub_type"], "General", "{bounced}");
    delivery_becomes(&stack, &alice, &org_id, &ids[2], "complained").await;
    let listed = delivery_becomes(&stack, &alice, &org_id, &ids[3], "bounced").await;
    assert_eq!(listed["bounce_sub_type"], "OnSuppressionList", "{listed}");

    // The list shows the same, to admins and owners.
    let (status, page) = stack
        .get(&alice, format!("/orgs/{org_id}/invitations"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let shown = |id: &str| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["invitation_id"] == id)
            .map(|i| i["delivery"]["status"].clone())
    };
    assert_eq!(shown(&ids[0]), Some(json!("delivered")));
    assert_eq!(shown(&ids[1]), Some(json!("bounced")));
    assert_eq!(shown(&ids[2]), Some(json!("complained")));

    // A bounce and a complaint are each an event (valid against its schema) and an audit entry;
    // the suppression-list bounce too.
    let events = published(&stack, &["InvitationBounced", "InvitationComplained"]).await;
    for event in &events {
        check_event(event);
        assert_eq!(event["detail"]["actor_user_id"], "system:ses", "{event}");
    }
    let bounce = events
        .iter()
        .find(|e| e["detail-type"] == "InvitationBounced" && e["detail"]["target"]["id"] == ids[1])
        .expect("the bounce's event");
    assert_eq!(bounce["detail"]["data"]["email"], addresses[1]);
    assert_eq!(bounce["detail"]["data"]["bounce_type"], "Permanent");
    let complaint = events
        .iter()
        .find(|e| e["detail-type"] == "InvitationComplained")
        .expect("the complaint's event");
    assert_eq!(complaint["detail"]["target"]["id"], ids[2]);
    let audit = stack.audit_entries(&Of::Org(org_id.clone())).await;
    for (action, id) in [
        ("invitation.bounced", &ids[1]),
        ("invitation.complained", &ids[2]),
        ("invitation.bounced", &ids[3]),
    ] {
        let entries: Vec<_> = audit
            .iter()
            .filter(|e| e["target_id"].as_s().ok() == Some(id))
            .filter(|e| e["action"].as_s().ok().map(String::as_str) == Some(action))
            .collect();
        assert_eq!(entries.len(), 1, "{action}: {entries:#?}");
        assert_eq!(entries[0]["actor_user_id"].as_s().unwrap(), "system:ses");
    }

    // The bounced and complained addresses are suppressed now: inviting them again (once the
    // first invitations are revoked) is refused for each, nothing is stored and nothing sent.
    for id in &ids[1..3] {
        let path = format!("/orgs/{org_id}/invitations/{id}");
        let (status, body) = stack.delete(&alice, &path).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let invitations_before = invitation_count(&stack, &org_id).await;
    let again = json!([{ "email": addresses[1] }, { "email": addresses[2] }]);
    let (status, answer) = invite(&stack, &alice, &org_id, again).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{answer}");
    for result in answer["results"].as_array().unwrap() {
        assert_eq!(result["status"], 409, "{answer}");
        assert_eq!(
            result["problem"]["type"], "urn:orgs:problem:address-suppressed",
            "{answer}"
        );
    }
    assert_eq!(invitation_count(&stack, &org_id).await, invitations_before);
    for address in &addresses[1..3] {
        assert_eq!(stack.mail_to(address).await.len(), 1, "{address}");
    }

    // A resend of a still pending invitation to a suppressed address is refused alike.
    let suppressed = simulator("complaint");
    let (status, answer) = invite(&stack, &alice, &org_id, json!([{ "email": suppressed }])).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let id = answer["results"][0]["invitation"]["invitation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    delivery_becomes(&stack, &alice, &org_id, &id, "complained").await;
    let path = format!("/orgs/{org_id}/invitations/{id}/resend");
    let (status, body) = stack.post(&alice, &path, None).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "address-suppressed");
    assert_eq!(stack.mail_to(&suppressed).await.len(), 1);
}

async fn invitation_count(stack: &Stack, org_id: &str) -> usize {
    stack
        .org_items(org_id)
        .await
        .iter()
        .filter(|what| matches!(what, Stored::Invitation { .. }))
        .count()
}

/// An SES event as the rule's target receives it, about the email of `invitation` sent at
/// `sent_at_millis`.
fn ses_event(
    event_type: &str,
    own: (&str, Value),
    org_id: &str,
    invitation_id: &str,
    sent_at_millis: i64,
) -> Value {
    let mut detail = json!({
        "eventType": event_type,
        "mail": {
            "timestamp": "2026-11-29T10:00:00.000Z",
            "messageId": format!("msg-{event_type}"),
            "destination": ["bob@example.com"],
            "tags": {
                "ses:configuration-set": ["orgs"],
                "org_id": [org_id],
                "invitation_id": [invitation_id],
                "sent_at": [sent_at_millis.to_string()],
            },
        },
    });
    detail[own.0] = own.1;
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Email Delivered",
        "source": "aws.ses",
        "detail": detail,
    })
}

/// Events arrive in any order and more than once: a report only replaces an earlier status,
/// of the email of the invitation's latest sending, and a repeated complaint is recorded once.
#[tokio::test]
async fn late_repeated_and_replaced_reports_change_nothing() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.unique_person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    let (status, answer) = invite(&stack, &alice, &org_id, json!([{ "email": bob.email }])).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let invitation = &answer["results"][0]["invitation"];
    let id = invitation["invitation_id"].as_str().unwrap().to_owned();
    let millis = Timestamp::parse(invitation["sent_at"].as_str().unwrap())
        .unwrap()
        .unix_millis();
    let store = &stack.app.store;
    let event =
        |kind: &str, own: (&str, Value), millis: i64| ses_event(kind, own, &org_id, &id, millis);
    let complaint = event("Complaint", ("complaint", json!({})), millis);
    let delivery = event(
        "Delivery",
        (
            "delivery",
            json!({ "timestamp": "2026-11-29T10:00:01.000Z" }),
        ),
        millis,
    );
    let send = event("Send", ("send", json!({})), millis);
    let open = event("Open", ("open", json!({})), millis);

    assert_eq!(
        record_delivery(store, &complaint).await.unwrap(),
        Outcome::Recorded
    );
    assert_eq!(
        record_delivery(store, &delivery).await.unwrap(),
        Outcome::Skipped
    );
    assert_eq!(
        record_delivery(store, &send).await.unwrap(),
        Outcome::Skipped
    );
    assert_eq!(
        record_delivery(store, &complaint).await.unwrap(),
        Outcome::Skipped
    );
    assert_eq!(
        record_delivery(store, &open).await.unwrap(),
        Outcome::Ignored
    );
    let untagged = json!({ "source": "aws.ses", "detail": { "eventType": "Send", "mail": {} } });
    assert_eq!(
        record_delivery(store, &untagged).await.unwrap(),
        Outcome::Ignored
    );
    let path = format!("/orgs/{org_id}/invitations/{id}");
    let (_, shown) = stack.get(&alice, &path).await;
    assert_eq!(shown["delivery"]["status"], "complained", "{shown}");
    let complaints = stack
        .audit_entries(&Of::Org(org_id.clone()))
        .await
        .into_iter()
        .filter(|e| e["action"].as_s().ok().map(String::as_str) == Some("invitation.complained"))
        .count();
    assert_eq!(complaints, 1);

    // The invitee never sees how their mailbox answered.
    let (status, mine) = stack.get(&bob, "/me/invitations").await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["items"][0]["invitation_id"], id.as_str(), "{mine}");
    assert!(mine["items"][0].get("delivery").is_none(), "{mine}");

    // A resend is a new email: nothing is known of it yet, and reports on the old one are
    // about an email that no longer counts.
    let (status, resent) = stack.post(&alice, format!("{path}/resend"), None).await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    assert_eq!(resent["invitation"]["delivery"], Value::Null, "{resent}");
    let (_, shown) = stack.get(&alice, &path).await;
    assert_eq!(shown["delivery"], Value::Null, "{shown}");
    assert_eq!(
        record_delivery(store, &delivery).await.unwrap(),
        Outcome::Skipped
    );
    let (_, shown) = stack.get(&alice, &path).await;
    assert_eq!(shown["delivery"], Value::Null, "{shown}");
}
