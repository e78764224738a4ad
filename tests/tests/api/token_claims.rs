//! The `token-claims` trigger against moto: the version 2 event Cognito sends for a sign-in,
//! answered by the code the function runs, against the stack's table, as the person's
//! memberships change through the API.

use std::time::Duration;

use orgs_functions::jobs::token_claims::{ClaimsError, token_claims, token_claims_within};
use orgs_local::counting::RequestCounter;
use orgs_local::faults::{Fault, Rule, When};
use orgs_local::token;
use orgs_shared::budget::TOKEN_CLAIMS_DEADLINE;
use orgs_shared::domain::MaxTokenOrgs;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Options, Person, Stack};

/// A deadline for tests of what the claims hold, which one moto serving every test on a loaded
/// machine cannot reach (the deadline's own tests below use the real one).
const UNHURRIED: Duration = Duration::from_secs(300);

/// What the trigger adds to `person`'s ID token and access token.
pub(crate) async fn claims(stack: &Stack, person: &Person, max: usize) -> (Value, Value) {
    let mut config = stack.app.config.clone();
    config.token_max_orgs = MaxTokenOrgs::new(max).expect("a cap");
    let event = token::pre_token_generation_event(&person.sub, Some(&person.email), true);
    let answered = token_claims_within(&stack.app.store, &config, event, UNHURRIED);
    let answered = orgs_local::grants::as_function("token-claims", answered)
        .await
        .expect("the trigger answers");
    let details = &answered["response"]["claimsAndScopeOverrideDetails"];
    (
        details["idTokenGeneration"]["claimsToAddOrOverride"].clone(),
        details["accessTokenGeneration"]["claimsToAddOrOverride"].clone(),
    )
}

/// `{org_id: {handle, role}}` with `email` claims, as the access token should have them.
fn expected(person: &Person, orgs: Option<Value>) -> (Value, Value) {
    let mut id = json!({});
    let mut access = json!({ "email": person.email, "email_verified": true });
    if let Some(orgs) = orgs {
        id["orgs"] = orgs.clone();
        access["orgs"] = orgs;
    }
    (id, access)
}

#[tokio::test]
async fn a_members_claims_follow_joining_promotion_deactivation_and_leaving() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");

    // Someone `orgs` has never seen: no organization claims at all.
    assert_eq!(claims(&stack, &bob, 20).await, expected(&bob, None));

    let org = stack.create_org(&alice, "acme").await;
    stack.join(&org, &alice, &bob, "member").await;
    let bob_in = |role: &str| {
        let orgs = json!({ &org: { "handle": "acme", "role": role } });
        expected(&bob, Some(orgs))
    };
    assert_eq!(claims(&stack, &bob, 20).await, bob_in("member"));

    let member_path = format!("/orgs/{org}/members/{}", bob.sub);
    let (status, body) = stack
        .patch(&alice, &member_path, json!({ "role": "admin" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(&stack, &bob, 20).await, bob_in("admin"));

    let (status, body) = stack
        .patch(&alice, &member_path, json!({ "status": "deactivated" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(&stack, &bob, 20).await, expected(&bob, None));

    let (status, body) = stack
        .patch(&alice, &member_path, json!({ "status": "active" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(&stack, &bob, 20).await, bob_in("admin"));

    let (status, body) = stack.delete(&bob, &member_path).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(claims(&stack, &bob, 20).await, expected(&bob, None));
    // Alice, untouched by all of it, is still the owner.
    let (alice_id, _) = claims(&stack, &alice, 20).await;
    assert_eq!(
        alice_id["orgs"][&org],
        json!({ "handle": "acme", "role": "owner" })
    );
}

#[tokio::test]
async fn the_most_recently_joined_fill_the_cap_in_two_requests() {
    let counter = RequestCounter::default();
    let stack = Stack::start_with(Options {
        dynamodb_counter: Some(counter.clone()),
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let mut joined = Vec::new();
    for handle in ["first", "second", "third"] {
        let org = stack.create_org(&alice, handle).await;
        stack.join(&org, &alice, &bob, "member").await;
        joined.push(org);
    }
    // A handle change shows at the next token.
    let (status, body) = stack
        .put(
            &alice,
            format!("/orgs/{}/handle", joined[2]),
            json!({ "handle": "third-renamed" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    counter.take();
    let (id, access) = claims(&stack, &bob, 2).await;
    let reads: Vec<_> = counter.take().into_iter().collect();
    assert_eq!(
        reads,
        [("BatchGetItem".to_owned(), 1), ("Query".to_owned(), 1)],
        "one Query of the listing, one BatchGetItem of the picked organizations"
    );
    assert_eq!(
        id["orgs"],
        json!({
            &joined[2]: { "handle": "third-renamed", "role": "member" },
            &joined[1]: { "handle": "second", "role": "member" },
        })
    );
    assert_eq!(id["orgs_truncated"], json!(true));
    assert_eq!(access["orgs"], id["orgs"]);
    assert_eq!(access["orgs_truncated"], json!(true));

    let (id, _) = claims(&stack, &bob, 3).await;
    assert_eq!(id["orgs"].as_object().map(|o| o.len()), Some(3));
    assert!(id.get("orgs_truncated").is_none(), "{id}");
}

/// The trigger for `person` on a stack whose DynamoDB is slowed: it must fail with the deadline's
/// error, not answer late (Cognito would have refused the sign-in by then) or with partial claims.
async fn claims_out_of_time(stack: &Stack, person: &Person) {
    let event = token::pre_token_generation_event(&person.sub, Some(&person.email), true);
    let answered = token_claims(&stack.app.store, &stack.app.config, event);
    let answered = orgs_local::grants::as_function("token-claims", answered).await;
    match answered {
        Err(ClaimsError::OutOfTime(deadline)) => assert_eq!(deadline, TOKEN_CLAIMS_DEADLINE),
        other => panic!("the deadline's error, not {other:?}"),
    }
}

#[tokio::test]
async fn a_dynamodb_slower_than_the_deadline_fails_the_invocation_with_the_deadline_error() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    stack.create_org(&alice, "acme").await;
    // Each Query would be answered, late: a slow DynamoDB, not a broken one.
    let late = TOKEN_CLAIMS_DEADLINE + Duration::from_secs(2);
    stack
        .faults()
        .inject(Rule::new(Fault::Delay(late), When::Always).on("Query"));
    claims_out_of_time(&stack, &alice).await;
}

#[tokio::test]
async fn unprocessed_keys_retried_past_the_deadline_fail_the_invocation_with_the_deadline_error() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    stack.create_org(&alice, "acme").await;
    // The organization's partition stays throttled: the batch's backoff on its unprocessed keys
    // (6 s over eight tries) is no SDK call's timeout, and only the deadline ends it.
    stack
        .faults()
        .inject(Rule::new(Fault::PartlyUnprocessed("ORG#"), When::Always).on("BatchGetItem"));
    claims_out_of_time(&stack, &alice).await;
}
