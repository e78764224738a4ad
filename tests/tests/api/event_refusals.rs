//! EventBridge refusing events, through the fault proxy in front of moto's EventBridge: an
//! entry refused for good (access denied, a malformed or too large entry) goes to the
//! dead-letter queue at once and the stream moves on; one refused for a reason that may pass
//! (throttling, a failure inside EventBridge) is retried and published.

use orgs_local::faults::{Fault, FaultProxy, Rule, When};
use orgs_shared::domain::{OrgId, Timestamp};
use orgs_shared::store::Of;
use serde_json::{Value, json};

use crate::common::{Stack, endpoint};

/// A stack whose publisher reaches moto's EventBridge through a fault proxy.
async fn stack_behind_proxy() -> (Stack, FaultProxy) {
    let proxy = FaultProxy::start(&endpoint()).await.expect("fault proxy");
    let stack = Stack::start_with_events(Some(proxy.endpoint())).await;
    (stack, proxy)
}

fn put_events_calls(proxy: &FaultProxy) -> usize {
    proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "PutEvents")
        .count()
}

fn event_id_of(dead_letter: &Value) -> &str {
    dead_letter["record"]["dynamodb"]["NewImage"]["event_id"]["S"]
        .as_str()
        .unwrap_or_else(|| panic!("a dead-lettered event record: {dead_letter}"))
}

#[tokio::test]
async fn an_event_refused_for_good_goes_to_the_dead_letter_queue_once_and_the_stream_moves_on() {
    let (stack, proxy) = stack_behind_proxy().await;
    let alice = stack.person("alice");
    for (n, (fault, code)) in [
        (Fault::RefuseEntries("MalformedDetail"), "MalformedDetail"),
        (
            Fault::RefuseEntries("NotAuthorizedForDetailTypeException"),
            "NotAuthorizedForDetailTypeException",
        ),
        // The whole call: the role may not put events on the bus.
        (Fault::AccessDenied, "AccessDeniedException"),
    ]
    .into_iter()
    .enumerate()
    {
        proxy.inject(Rule::new(fault, When::Nth(1)).on("PutEvents"));
        let refused = stack.create_org(&alice, &format!("refused-{n}")).await;
        let events = stack.events();
        let dead = events.exactly(&events.dead_letters, 1).await;
        let stored = stack
            .stored_event_ids(Some(&Of::Org(refused.clone())))
            .await;
        assert_eq!(event_id_of(&dead[0]), stored[0], "{code}");
        let reason = dead[0]["reason"].as_str().unwrap();
        assert!(reason.contains(code), "{code}: {reason}");

        // The next change publishes, and the refused event was never sent again.
        let next = stack.create_org(&alice, &format!("next-{n}")).await;
        let published = events.exactly(&events.published, 1).await;
        assert_eq!(
            published[0]["detail"]["subject"]["id"],
            next.as_str(),
            "{code}"
        );
        assert_eq!(put_events_calls(&proxy), 2, "{code}: {:?}", proxy.calls());
    }
}

#[tokio::test]
async fn an_event_refused_for_a_passing_reason_is_retried_and_published() {
    let (stack, proxy) = stack_behind_proxy().await;
    let alice = stack.person("alice");
    for (n, fault) in [
        Fault::RefuseEntries("ThrottlingException"),
        Fault::RefuseEntries("InternalFailure"),
        // The whole call.
        Fault::Throttling,
        Fault::ServiceUnavailable,
    ]
    .into_iter()
    .enumerate()
    {
        proxy.inject(Rule::new(fault, When::Nth(1)).on("PutEvents"));
        let org_id = stack.create_org(&alice, &format!("acme-{n}")).await;
        let events = stack.events();
        let published = events.exactly(&events.published, 1).await;
        assert_eq!(
            published[0]["detail"]["subject"]["id"],
            org_id.as_str(),
            "{fault:?}"
        );
        let calls = proxy.calls();
        assert_eq!(put_events_calls(&proxy), 2, "{fault:?}: {calls:?}");
        assert_eq!(calls[0].fault, Some(fault));
        assert_eq!(calls[1].forwarded, 1, "{fault:?}: {calls:?}");
        let dead = events
            .receive(
                &events.dead_letters,
                1,
                std::time::Duration::from_millis(300),
            )
            .await;
        assert!(dead.is_empty(), "{fault:?}: {dead:?}");
    }
}

/// EventBridge takes at most 256 KB in one call: a larger event can never be published, so its
/// record goes to the dead-letter queue without being sent, and the rest flows on.
#[tokio::test]
async fn an_event_too_large_for_eventbridge_goes_to_the_dead_letter_queue() {
    let stack = Stack::start_with_events(None).await;
    let alice = stack.person("alice");
    let nobody = OrgId::parse("org_00000000000000000000000000000000").unwrap();
    let at = Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap();
    let detail = json!({
        "event_id": "evt_00000000000000000000000000000000",
        "padding": "x".repeat(300 * 1024),
    });
    stack
        .fixtures
        .plant_event_record(
            &nobody,
            at,
            "evt_00000000000000000000000000000000",
            "OrganizationUpdated",
            &detail.to_string(),
        )
        .await
        .unwrap();
    let org_id = stack.create_org(&alice, "acme").await;

    let events = stack.events();
    let published = events.exactly(&events.published, 1).await;
    assert_eq!(published[0]["detail"]["subject"]["id"], org_id.as_str());
    let dead = events.exactly(&events.dead_letters, 1).await;
    let reason = dead[0]["reason"].as_str().unwrap();
    assert!(reason.contains("EntryTooLarge"), "{reason}");
    // Too large for a message with its image: the keys name the item.
    let change = &dead[0]["record"]["dynamodb"];
    assert!(change.get("NewImage").is_none(), "{change}");
    assert!(
        change["Keys"]
            .as_object()
            .is_some_and(|keys| keys.len() == 2),
        "{change}"
    );
}
