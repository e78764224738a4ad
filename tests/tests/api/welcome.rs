//! The two invitation emails, read back from moto's SES: the notification for a person the
//! service knows (a profile, an organization they made or joined, holds the address; or invited by
//! handle), and the welcome, with what the product is and where to sign up, for anyone else.
//! A resend picks again.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Options, Stack};
use crate::invitations::{invite, token_of};

const SIGN_UP: &str = "https://app.example.com/signup";
const NOTE: &str = r#"<script>alert("x")</script> see <a href="https://evil.example">here</a>"#;
const NAME: &str = "<img src=x onerror=alert(1)>Bob";

fn encoded(link: &str) -> String {
    url::form_urlencoded::byte_serialize(link.as_bytes()).collect()
}

#[tokio::test]
async fn a_known_invitee_gets_the_notification_and_anyone_else_the_welcome() {
    let stack = Stack::start_with(Options {
        sign_up_url: Some(SIGN_UP.to_owned()),
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    stack
        .patch(&alice, "/me", json!({ "display_name": "Alice <A>" }))
        .await;
    let org_id = stack.create_org(&alice, "acme").await;
    // Bob has signed in before (his first request made his profile); Carol never has.
    let bob = stack.unique_person("bob");
    let carol = stack.unique_person("carol");
    let (status, _) = stack.get(&bob, "/me").await;
    assert_eq!(status, StatusCode::OK);

    let invitees = json!([
        { "email": bob.email, "name": NAME, "note": NOTE },
        { "email": carol.email, "name": NAME, "note": NOTE },
    ]);
    let (status, answer) = invite(&stack, &alice, &org_id, invitees).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let link = |i: usize| {
        answer["results"][i]["invite_url"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    let [notification] = &stack.mail_parts_to(&bob.email).await[..] else {
        panic!("one email to Bob");
    };
    assert_eq!(
        notification.subject,
        "Alice <A> invited you to join acme Inc"
    );
    assert!(
        notification.text.contains(&link(0)),
        "{}",
        notification.text
    );
    assert!(
        !notification.text.contains("account"),
        "{}",
        notification.text
    );
    assert!(
        !notification.html.contains(SIGN_UP),
        "{}",
        notification.html
    );

    let [welcome] = &stack.mail_parts_to(&carol.email).await[..] else {
        panic!("one email to Carol");
    };
    assert_eq!(
        welcome.subject,
        "Welcome to orgs: Alice <A> invited you to join acme Inc"
    );
    let sign_up = format!("{SIGN_UP}#invitation={}", encoded(&link(1)));
    for part in [&welcome.text, &welcome.html] {
        assert!(part.contains(&sign_up), "{part}");
        assert!(part.contains(&link(1)), "the accept link too: {part}");
        assert!(
            part.contains(&carol.email),
            "the address to sign up with: {part}"
        );
        assert!(part.contains("UTC"), "the expiry: {part}");
    }
    assert!(
        welcome
            .text
            .contains("You do not have an account on orgs yet")
    );
    // The text part shows what people typed as typed; the HTML only ever as text.
    for mail in [notification, welcome] {
        assert!(mail.text.contains(NOTE) && mail.text.contains(NAME));
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(!mail.html.contains("<img"), "{}", mail.html);
        assert!(!mail.html.contains(r#"href="https://evil.example""#));
        assert!(mail.html.contains("alert(") && mail.html.contains("Alice &#60;A&#62;"));
    }
    eprintln!(
        "--- notification: {}\n{}",
        notification.subject, notification.text
    );
    eprintln!("--- welcome: {}\n{}", welcome.subject, welcome.text);
}

#[tokio::test]
async fn a_resend_picks_the_email_again() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let dan = stack.unique_person("dan");
    let (status, answer) = invite(&stack, &alice, &org_id, json!([{ "email": dan.email }])).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let id = answer["results"][0]["invitation"]["invitation_id"]
        .as_str()
        .unwrap();

    // Dan signs up meanwhile: the resend is the notification.
    let (status, _) = stack.get(&dan, "/me").await;
    assert_eq!(status, StatusCode::OK);
    let resend = format!("/orgs/{org_id}/invitations/{id}/resend");
    let (status, resent) = stack.post(&alice, &resend, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    let mails = stack.mail_parts_to(&dan.email).await;
    let subjects: Vec<_> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Welcome to orgs: alice@example.com invited you to join acme Inc",
            "alice@example.com invited you to join acme Inc",
        ]
    );
    // Without a sign-up page configured, the welcome's sign-up link is the accept link.
    let first_link = answer["results"][0]["invite_url"].as_str().unwrap();
    assert!(!mails[0].html.contains("#invitation="), "{}", mails[0].html);
    assert!(mails[0].html.contains(&format!("href=\"{first_link}\"")));
}

#[tokio::test]
async fn a_person_invited_by_handle_or_who_made_an_organization_is_known() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    // Erin never asked for her profile, but made an organization with her address.
    let erin = stack.unique_person("erin");
    stack.create_org(&erin, "erins").await;
    // Frank is invited by the handle he chose.
    let frank = stack.unique_person("frank");
    let handle = format!("f{}", &frank.sub[6..]);
    let (status, body) = stack
        .patch(&frank, "/me", json!({ "handle": handle }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let invitees = json!([{ "email": erin.email }, { "handle": handle }]);
    let (status, answer) = invite(&stack, &alice, &org_id, invitees).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    for person in [&erin, &frank] {
        let mails = stack.mail_parts_to(&person.email).await;
        assert_eq!(mails.len(), 1, "{}", person.email);
        assert!(
            !mails[0].subject.starts_with("Welcome"),
            "{}",
            mails[0].subject
        );
    }
}

#[tokio::test]
async fn a_person_who_joined_by_accepting_is_known_to_the_next_organization() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let acme = stack.create_org(&alice, "acme").await;
    // Grace never asked for her profile: accepting is all she did.
    let grace = stack.unique_person("grace");
    let (status, answer) = invite(&stack, &alice, &acme, json!([{ "email": grace.email }])).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let link = answer["results"][0]["invite_url"].as_str().unwrap();
    let (status, body) = stack
        .post(
            &grace,
            "/invitations/accept",
            json!({ "token": token_of(link) }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let bob = stack.unique_person("bob");
    let beta = stack.create_org(&bob, &format!("b{}", &bob.sub[6..])).await;
    let (status, answer) = invite(&stack, &bob, &beta, json!([{ "email": grace.email }])).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let subjects: Vec<_> = stack
        .mail_parts_to(&grace.email)
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects[0].starts_with("Welcome"), "{subjects:?}");
    assert!(!subjects[1].starts_with("Welcome"), "{subjects:?}");
}
