//! Domain events: the table's stream feeds the publisher as on Lambda, a rule on the bus sends
//! every event to an SQS queue, and the tests read them back from there.

use std::collections::{BTreeMap, BTreeSet};

use orgs_local::workspace_root;
use orgs_shared::domain::{ChangeKind, OrgId, Timestamp};
use orgs_shared::store::Of;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bus::closed_endpoint;
use crate::common::{Person, Stack};

fn schema(detail_type: &str) -> Value {
    let path = workspace_root().join(format!("infra/events/{detail_type}.schema.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{detail_type} has no schema at {}", path.display()));
    serde_json::from_str(&text).expect("a JSON schema")
}

/// Panics unless `event` (as the SQS target receives it) is a valid `orgs` event.
pub(crate) fn check_event(event: &Value) {
    assert_eq!(event["source"], "orgs", "{event}");
    let detail_type = event["detail-type"].as_str().expect("detail-type");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema(detail_type))
        .expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&event["detail"])
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{detail_type}: {errors:?}\n{event}");
}

/// No field is named like a secret, and no value holds any of the callers' tokens.
fn assert_no_secret(value: &Value, people: &[&Person]) {
    let text = value.to_string();
    for person in people {
        assert!(!text.contains(&person.token), "a token leaked: {text}");
    }
    fn walk(value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    let key = key.to_ascii_lowercase();
                    assert!(
                        !["token", "secret", "password"]
                            .iter()
                            .any(|w| key.contains(w)),
                        "a field named {key}"
                    );
                    walk(inner);
                }
            }
            Value::Array(items) => items.iter().for_each(walk),
            _ => {}
        }
    }
    walk(value);
}

fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            e["detail"]["event_id"]
                .as_str()
                .expect("event_id")
                .to_owned()
        })
        .collect()
}

#[test]
fn every_kind_of_change_has_a_schema_and_a_line_in_the_events_readme() {
    let readme = std::fs::read_to_string(workspace_root().join("infra/events/README.md"))
        .expect("infra/events/README.md");
    let mut known = BTreeSet::new();
    for kind in ChangeKind::ALL {
        let detail_type = kind.detail_type();
        let schema = schema(detail_type);
        assert!(
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&schema)
                .is_ok(),
            "{detail_type}"
        );
        assert_eq!(
            schema["$id"],
            format!("urn:orgs:event:{detail_type}"),
            "{detail_type}"
        );
        assert!(
            readme.contains(&format!("| `{detail_type}` |")),
            "infra/events/README.md has no line for {detail_type}"
        );
        known.insert(format!("{detail_type}.schema.json"));
    }
    let files: BTreeSet<String> = std::fs::read_dir(workspace_root().join("infra/events"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_owned))
        .filter(|name| name.ends_with(".schema.json"))
        .collect();
    assert_eq!(files, known, "a schema without its kind of change");
}

#[tokio::test]
async fn every_change_publishes_one_event_that_matches_its_schema_and_carries_no_token() {
    let stack = Stack::start_with_events(None).await;
    let alice = stack.person("alice");
    let me = |body| stack.patch(&alice, "/me", body);
    assert_eq!(stack.get(&alice, "/me").await.0, StatusCode::OK);
    let (status, _) = me(json!({ "handle": "alice", "display_name": "Alice" })).await;
    assert_eq!(status, StatusCode::OK);
    let org_id = stack.create_org(&alice, "acme").await;
    let org = format!("/orgs/{org_id}");
    let steps = [
        (
            Method::PATCH,
            org.clone(),
            Some(json!({ "url": "https://acme.example" })),
        ),
        (
            Method::PUT,
            format!("{org}/handle"),
            Some(json!({ "handle": "acme-labs" })),
        ),
        (Method::DELETE, format!("{org}?confirm=acme-labs"), None),
    ];
    for (method, path, body) in steps {
        let (status, answer) = stack.call(&alice, method, &path, body).await;
        assert!(status.is_success(), "{path}: {answer}");
    }

    let events = stack.events().exactly(&stack.events().published, 7).await;
    for event in &events {
        check_event(event);
        assert_no_secret(event, &[&alice]);
        assert_eq!(event["detail"]["actor_user_id"], "alice");
    }
    let by_subject = |kind: &str| -> Vec<&str> {
        events
            .iter()
            .filter(|e| e["detail"]["subject"]["type"] == kind)
            .map(|e| e["detail-type"].as_str().unwrap())
            .collect()
    };
    // One transaction may change a handle and a name: two events, in the order recorded.
    let mut user = by_subject("user");
    user.sort_unstable();
    assert_eq!(user, ["HandleChanged", "UserCreated", "UserUpdated"]);
    assert_eq!(
        by_subject("organization"),
        [
            "OrganizationCreated",
            "OrganizationUpdated",
            "HandleChanged",
            "OrganizationDeleted"
        ]
    );
    let renamed = events
        .iter()
        .find(|e| {
            e["detail-type"] == "HandleChanged" && e["detail"]["subject"]["type"] == "organization"
        })
        .unwrap();
    assert_eq!(renamed["detail"]["data"]["old_handle"], "acme");
    assert_eq!(renamed["detail"]["data"]["new_handle"], "acme-labs");
    assert_eq!(renamed["detail"]["subject"]["id"], org_id.as_str());

    // Exactly the table's event records, in commit order per organization.
    let stored = stack.stored_event_ids(Some(&Of::Org(org_id.clone()))).await;
    let sent: Vec<String> = ids(&events)
        .into_iter()
        .filter(|id| stored.contains(id))
        .collect();
    assert_eq!(sent, stored);
    let all_stored = stack.stored_event_ids(None).await;
    assert_eq!(
        ids(&events).into_iter().collect::<BTreeSet<_>>(),
        all_stored.into_iter().collect()
    );
}

/// A refused change publishes nothing, and the changes after it publish as ever. moto rolls a
/// failed transaction back by putting a copy of the table in its place, and the stream feed went
/// on reading the old table's stream: it published the refused organization's event and none
/// after it (found while building tests/fuzz; tests/moto_server.py now keeps the stream).
#[tokio::test]
async fn a_refused_change_publishes_nothing_and_the_changes_after_it_publish() {
    let stack = Stack::start_with_events(None).await;
    let (alice, bob) = (stack.person("alice"), stack.person("bob"));
    stack.create_org(&alice, "acme").await;
    let taken = json!({ "handle": "acme", "display_name": "Not Acme", "region": "eu" });
    let (status, body) = stack.post(&bob, "/orgs", taken).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    stack.create_org(&bob, "bobco").await;
    stack.create_org(&alice, "alco").await;

    let stored = stack.stored_event_ids(None).await;
    let events = stack
        .events()
        .exactly(&stack.events().published, stored.len())
        .await;
    assert_eq!(
        ids(&events).into_iter().collect::<BTreeSet<_>>(),
        stored.into_iter().collect()
    );
    let created: Vec<&str> = events
        .iter()
        .filter(|e| e["detail-type"] == "OrganizationCreated")
        .map(|e| e["detail"]["actor_user_id"].as_str().unwrap())
        .collect();
    assert_eq!(created, ["alice", "bob", "alice"]);
}

#[tokio::test]
async fn with_eventbridge_down_changes_succeed_and_every_event_arrives_once_it_is_back() {
    let down = closed_endpoint();
    let mut stack = Stack::start_with_events(Some(&down)).await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let org = format!("/orgs/{org_id}");
    for (method, path, body) in [
        (
            Method::PATCH,
            org.clone(),
            json!({ "display_name": "Acme One" }),
        ),
        (
            Method::PATCH,
            org.clone(),
            json!({ "display_name": "Acme Two" }),
        ),
        (
            Method::PUT,
            format!("{org}/handle"),
            json!({ "handle": "acme-labs" }),
        ),
    ] {
        let (status, answer) = stack.call(&alice, method, &path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let stored = stack.stored_event_ids(Some(&Of::Org(org_id.clone()))).await;
    assert_eq!(stored.len(), 4);

    // The feed keeps failing and retrying meanwhile; nothing reaches the bus.
    let events = stack.events();
    let early = events
        .receive(&events.published, 1, std::time::Duration::from_secs(2))
        .await;
    assert!(early.is_empty(), "{early:?}");

    events.use_eventbridge_at(None);
    let delivered = events.exactly(&events.published, 4).await;
    assert_eq!(ids(&delivered), stored, "every event, in commit order");
    delivered.iter().for_each(check_event);

    // A second reader of the whole stream publishes everything again: duplicates, and each
    // with the same id and detail as the first delivery.
    stack.events.as_mut().unwrap().add_feed();
    let events = stack.events();
    let again = events.exactly(&events.published, 4).await;
    let first: BTreeMap<String, &Value> = ids(&delivered).into_iter().zip(&delivered).collect();
    for event in &again {
        let id = event["detail"]["event_id"].as_str().unwrap();
        assert_eq!(event["detail"], first[id]["detail"], "{id}");
        assert_eq!(event["detail-type"], first[id]["detail-type"], "{id}");
    }
}

#[tokio::test]
async fn a_malformed_event_record_goes_to_the_dead_letter_queue_and_the_rest_flows_on() {
    let stack = Stack::start_with_events(None).await;
    let alice = stack.person("alice");
    let nobody = OrgId::parse("org_00000000000000000000000000000000").unwrap();
    let at = Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap();
    stack
        .fixtures
        .plant_event_record(
            &nobody,
            at,
            "evt_00000000000000000000000000000000",
            "OrganizationUpdated",
            "not JSON",
        )
        .await
        .unwrap();
    let org_id = stack.create_org(&alice, "acme").await;

    let events = stack.events();
    let published = events.exactly(&events.published, 1).await;
    assert_eq!(published[0]["detail-type"], "OrganizationCreated");
    assert_eq!(published[0]["detail"]["subject"]["id"], org_id.as_str());
    let dead = events.exactly(&events.dead_letters, 1).await;
    assert!(
        dead[0]["reason"].as_str().unwrap().contains("detail"),
        "{}",
        dead[0]
    );
    assert_eq!(
        dead[0]["record"]["dynamodb"]["NewImage"]["event_id"]["S"],
        "evt_00000000000000000000000000000000"
    );
}

#[tokio::test]
async fn invitation_member_and_team_changes_publish_events_that_match_their_schemas() {
    let stack = Stack::start_with_events(None).await;
    let (alice, bob, carol, dave, erin) = (
        stack.person("alice"),
        stack.person("bob"),
        stack.person("carol"),
        stack.person("dave"),
        stack.person("erin"),
    );
    let org_id = stack.create_org(&alice, "acme").await;
    let org = format!("/orgs/{org_id}");
    stack.join(&org_id, &alice, &bob, "member").await;
    let invitations = format!("{org}/invitations");
    let invite = |who: &Person| {
        let body = json!({ "invitations": [{ "email": who.email }] });
        stack.post(&alice, &invitations, body)
    };
    let token_and_id = |answer: &Value| {
        let result = &answer["results"][0];
        let link = result["invite_url"].as_str().unwrap();
        let token = link.split("token=").nth(1).unwrap().to_owned();
        (
            token,
            result["invitation"]["invitation_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    };
    let (carol_token, _) = token_and_id(&invite(&carol).await.1);
    let body = json!({ "token": carol_token });
    let (status, _) = stack.post(&carol, "/invitations/decline", body).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, dave_id) = token_and_id(&invite(&dave).await.1);
    let (status, _) = stack
        .delete(&alice, format!("{org}/invitations/{dave_id}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, erin_id) = token_and_id(&invite(&erin).await.1);
    let path = format!("{org}/invitations/{erin_id}/resend");
    assert_eq!(stack.post(&alice, &path, None).await.0, StatusCode::OK);

    let bob_path = format!("{org}/members/bob");
    for body in [
        json!({ "role": "admin" }),
        json!({ "status": "deactivated" }),
        json!({ "status": "active" }),
        json!({ "metadata": { "private": { "cost_centre": "private-value-cc7" } } }),
    ] {
        let (status, answer) = stack.patch(&alice, &bob_path, body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (_, team) = stack
        .post(&alice, format!("{org}/teams"), json!({ "name": "Ops" }))
        .await;
    let team_path = format!("{org}/teams/{}", team["team_id"].as_str().unwrap());
    let team_steps = [
        (
            Method::PATCH,
            team_path.clone(),
            Some(json!({ "name": "SRE" })),
        ),
        (Method::PUT, format!("{team_path}/members/bob"), None),
        (Method::DELETE, format!("{team_path}/members/bob"), None),
        (Method::DELETE, team_path.clone(), None),
        (
            Method::POST,
            format!("{org}/transfer-ownership"),
            Some(json!({ "user_id": "bob" })),
        ),
        (Method::DELETE, format!("{org}/members/alice"), None),
    ];
    for (method, path, body) in team_steps {
        let (status, answer) = stack.call(&alice, method, &path, body).await;
        assert!(status.is_success(), "{path}: {answer}");
    }

    let events = stack.events().exactly(&stack.events().published, 21).await;
    for event in &events {
        check_event(event);
        assert_no_secret(event, &[&alice, &bob, &carol, &dave, &erin]);
        // Events name the metadata keys that changed, never a private value.
        assert!(!event.to_string().contains("private-value-cc7"), "{event}");
    }
    let mut kinds: Vec<&str> = events
        .iter()
        .map(|e| e["detail-type"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    let mut expected = vec![
        "OrganizationCreated",
        "InvitationSent",
        "InvitationAccepted",
        "MemberJoined",
        "InvitationSent",
        "InvitationDeclined",
        "InvitationSent",
        "InvitationRevoked",
        "InvitationSent",
        "InvitationSent",
        "RoleChanged",
        "MemberDeactivated",
        "MemberReactivated",
        "MemberUpdated",
        "TeamCreated",
        "TeamRenamed",
        "TeamMemberAdded",
        "TeamMemberRemoved",
        "TeamDeleted",
        "OwnershipTransferred",
        "MemberRemoved",
    ];
    expected.sort_unstable();
    assert_eq!(kinds, expected);
}
