//! A first organization at sign-up (`CreateOrgOnSignUp`): the `create-first-org` trigger with
//! the Post Confirmation events Cognito sends, answered by the code the function runs against
//! the stack's table; and the first `GET /me` for other identity providers. Once per person,
//! never for a password reset, and nothing at all when the setting is off.

use orgs_functions::jobs::first_org::create_first_org;
use orgs_local::token;
use orgs_shared::store::{Of, Stored};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Options, Person, Stack};

const SIGN_UP: &str = "PostConfirmation_ConfirmSignUp";
const PASSWORD_RESET: &str = "PostConfirmation_ConfirmForgotPassword";

/// The trigger's answer to a Post Confirmation event for `person`.
pub(crate) async fn confirm(
    stack: &Stack,
    source: &str,
    person: &Person,
    preferred_username: Option<&str>,
) -> Value {
    let mut attributes = json!({
        "sub": person.sub,
        "email": person.email,
        "email_verified": "true",
        "cognito:user_status": "CONFIRMED",
    });
    if let Some(username) = preferred_username {
        attributes["preferred_username"] = json!(username);
    }
    let event = token::post_confirmation_event(source, attributes);
    let answered = create_first_org(&stack.app.store, &stack.app.config, event.clone());
    let answered = orgs_local::grants::as_function("create-first-org", answered)
        .await
        .expect("the trigger answers");
    assert_eq!(
        answered, event,
        "a Post Confirmation trigger answers the event as it came"
    );
    answered
}

fn on() -> Options {
    Options {
        create_org_on_sign_up: true,
        ..Options::default()
    }
}

/// `(handle, role)` of each organization `person` is in.
async fn orgs_of(stack: &Stack, person: &Person) -> Vec<(String, String)> {
    let (status, page) = stack.get(person, "/orgs").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|org| {
            let text = |field: &str| org[field].as_str().unwrap().to_owned();
            (text("handle"), text("role"))
        })
        .collect()
}

#[tokio::test]
async fn a_sign_up_makes_one_organization_however_often_cognito_reports_it() {
    let stack = Stack::start_with(on()).await;
    let bob = stack.person("bob");
    confirm(&stack, SIGN_UP, &bob, Some("Bob.Smith")).await;
    assert_eq!(
        orgs_of(&stack, &bob).await,
        [("bob-smith".into(), "owner".into())]
    );
    let (_, page) = stack.get(&bob, "/orgs").await;
    let org = &page["items"][0];
    assert_eq!(org["display_name"], "Bob.Smith");
    assert_eq!(org["region"], "us");
    let org_id = org["org_id"].as_str().unwrap().to_owned();

    // Cognito calls again (a timeout, a retry): nothing more is written.
    let before = stack.snapshot().await;
    confirm(&stack, SIGN_UP, &bob, Some("Bob.Smith")).await;
    assert_eq!(stack.snapshot().await, before, "nothing was written");
    // Nor by his first GET /me.
    let (status, _) = stack.get(&bob, "/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(orgs_of(&stack, &bob).await.len(), 1);

    // Audited and announced as any organization created, by Bob.
    let audit = stack.audit_entries(&Of::Org(org_id.clone())).await;
    let created: Vec<_> = audit
        .iter()
        .filter(|entry| entry["action"].as_s().unwrap() == "organization.created")
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["actor_user_id"].as_s().unwrap(), "bob");
    let events = stack.event_records(&Of::Org(org_id)).await;
    assert!(
        events
            .iter()
            .any(|e| e["detail_type"].as_s().unwrap() == "OrganizationCreated")
    );
}

#[tokio::test]
async fn a_taken_handle_gets_a_short_suffix() {
    let stack = Stack::start_with(on()).await;
    let alice = stack.person("alice");
    stack.create_org(&alice, "carol").await;
    let carol = stack.person("carol");
    confirm(&stack, SIGN_UP, &carol, None).await;
    let orgs = orgs_of(&stack, &carol).await;
    let [(handle, role)] = &orgs[..] else {
        panic!("one organization: {orgs:?}");
    };
    assert_eq!(role, "owner");
    let suffix = handle.strip_prefix("carol-").expect("carol-xxxx");
    assert_eq!(suffix.len(), 4, "{handle}");
    assert!(
        suffix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
}

#[tokio::test]
async fn a_password_reset_makes_nothing() {
    let stack = Stack::start_with(on()).await;
    let dan = stack.person("dan");
    let before = stack.snapshot().await;
    confirm(&stack, PASSWORD_RESET, &dan, None).await;
    assert_eq!(stack.snapshot().await, before, "nothing was written");
}

#[tokio::test]
async fn with_the_setting_off_nothing_is_made() {
    let stack = Stack::start().await;
    let erin = stack.person("erin");
    let before = stack.snapshot().await;
    confirm(&stack, SIGN_UP, &erin, Some("erin")).await;
    assert_eq!(stack.snapshot().await, before, "nothing was written");
    let (status, _) = stack.get(&erin, "/me").await;
    assert_eq!(status, StatusCode::OK);
    assert!(orgs_of(&stack, &erin).await.is_empty());
    let kinds = stack.kinds().await;
    assert!(!kinds.iter().any(|k| matches!(k, Stored::FirstOrg { .. })));
}

#[tokio::test]
async fn a_first_get_me_makes_it_for_other_identity_providers() {
    let stack = Stack::start_with(on()).await;
    let frank = stack.person("frank");
    let (status, me) = stack.get(&frank, "/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        orgs_of(&stack, &frank).await,
        [("frank".into(), "owner".into())]
    );
    // Later requests make nothing more.
    let before = stack.snapshot().await;
    let (status, again) = stack.get(&frank, "/me").await;
    assert_eq!((status, &again), (StatusCode::OK, &me));
    assert_eq!(stack.snapshot().await, before, "nothing was written");
}

#[tokio::test]
async fn a_person_who_accepts_an_invitation_first_gets_none() {
    let stack = Stack::start_with(on()).await;
    let alice = stack.person("alice");
    let org = stack.create_org(&alice, "acme").await;
    let gina = stack.person("gina");
    // `join` invites and accepts, before Gina's first GET /me.
    stack.join(&org, &alice, &gina, "member").await;
    let (status, _) = stack.get(&gina, "/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        orgs_of(&stack, &gina).await,
        [("acme".into(), "member".into())]
    );
}
