//! Replies to an invitation reach the person who sent it: the email's `Reply-To` is the
//! inviter's verified address, unless `ORGS_INVITATION_REPLY_TO_INVITER` is `false`. moto keeps
//! no `Reply-To` of a simple message, so the tests read the SES request the app sent, in the
//! proxy between it and moto, and the message moto then holds.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Options, Stack};
use crate::invitations::invite;

async fn ses_stack(reply_to_inviter: Option<bool>) -> Stack {
    Stack::start_with(Options {
        faulty_ses: true,
        reply_to_inviter,
        ..Options::default()
    })
    .await
}

/// The `ReplyToAddresses` of every SES request that sent mail to `to`, in order.
fn reply_to_of_mail_to(stack: &Stack, to: &str) -> Vec<Option<Value>> {
    stack
        .ses_faults()
        .calls()
        .iter()
        .filter(|call| call.operation == "SendEmail")
        .filter_map(|call| serde_json::from_str::<Value>(&call.body).ok())
        .filter(|request| request["Destination"]["ToAddresses"][0] == to)
        .map(|request| request.get("ReplyToAddresses").cloned())
        .collect()
}

#[tokio::test]
async fn invitations_and_resends_carry_the_inviters_verified_address_as_reply_to() {
    let stack = ses_stack(None).await;
    let alice = stack.unique_person("alice");
    let org_id = stack.create_org(&alice, "reply-to").await;
    let bob = stack.unique_person("bob");
    let (status, made) = invite(&stack, &alice, &org_id, json!([{ "email": bob.email }])).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["results"][0]["invitation"]["invitation_id"]
        .as_str()
        .unwrap();
    let (status, body) = stack
        .post(
            &alice,
            format!("/orgs/{org_id}/invitations/{id}/resend"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        reply_to_of_mail_to(&stack, &bob.email),
        [Some(json!([alice.email])), Some(json!([alice.email]))]
    );
    assert_eq!(stack.mail_to(&bob.email).await.len(), 2);

    // With an access token, which carries no email, the address an ID token verified before.
    let (status, me) = stack.get(&alice, "/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let carol = stack.unique_person("carol");
    let alice_access = stack.with_access_token(&alice);
    let (status, made) = invite(
        &stack,
        &alice_access,
        &org_id,
        json!([{ "email": carol.email }]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(
        reply_to_of_mail_to(&stack, &carol.email),
        [Some(json!([alice.email]))]
    );
}

#[tokio::test]
async fn an_unverified_inviter_gets_no_reply_to() {
    let stack = ses_stack(None).await;
    let sub = format!("dave-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let dave = stack.person_with_email(&sub, &format!("{sub}@example.com"), false);
    let org_id = stack.create_org(&dave, &sub).await;
    let erin = stack.unique_person("erin");
    let (status, made) = invite(&stack, &dave, &org_id, json!([{ "email": erin.email }])).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(reply_to_of_mail_to(&stack, &erin.email), [None]);
}

#[tokio::test]
async fn configured_off_no_invitation_carries_a_reply_to() {
    let stack = ses_stack(Some(false)).await;
    let alice = stack.unique_person("alice");
    let org_id = stack.create_org(&alice, "no-reply-to").await;
    let bob = stack.unique_person("bob");
    let (status, made) = invite(&stack, &alice, &org_id, json!([{ "email": bob.email }])).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(reply_to_of_mail_to(&stack, &bob.email), [None]);
    assert_eq!(stack.mail_to(&bob.email).await.len(), 1);
}
