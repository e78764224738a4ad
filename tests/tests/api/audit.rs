//! `GET /orgs/{org_id}/audit-log`: admins and owners read it newest first, a page at a time,
//! narrowed by action or actor.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Person, Stack, assert_problem, error_fields};

async fn log(stack: &Stack, who: &Person, org_id: &str, query: &str) -> Value {
    let path = format!("/orgs/{org_id}/audit-log{query}");
    let (status, page) = stack.get(who, &path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

fn actions(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

/// Every entry, following the cursors.
async fn all_pages(stack: &Stack, who: &Person, org_id: &str, query: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let mut q = format!("?limit=3{query}");
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let page = log(stack, who, org_id, &q).await;
        assert!(page["items"].as_array().unwrap().len() <= 3);
        entries.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return entries,
        }
    }
    panic!("the cursors never ended")
}

#[tokio::test]
async fn admins_and_owners_read_who_did_what_newest_first_and_it_survives_a_rename() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let org = format!("/orgs/{org_id}");
    let (status, _) = stack
        .patch(&alice, &org, json!({ "display_name": "Acme Two" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let rename = stack
        .raw(
            &alice,
            Method::PUT,
            &format!("{org}/handle"),
            json!({ "handle": "acme-labs" }).to_string(),
        )
        .await;
    assert_eq!(rename.status(), StatusCode::OK);

    let page = log(&stack, &alice, &org_id, "").await;
    assert_eq!(
        actions(&page),
        [
            "handle.changed",
            "organization.updated",
            "organization.created"
        ]
    );
    assert_eq!(page["next_cursor"], Value::Null);
    let entries = page["items"].as_array().unwrap();
    let times: Vec<&str> = entries.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    for entry in entries {
        assert_eq!(entry["actor_user_id"], "alice");
        assert_eq!(
            entry["target"],
            json!({ "type": "organization", "id": org_id })
        );
        assert!(entry["audit_id"].as_str().unwrap().starts_with("aud_"));
        assert!(!entry["request_id"].as_str().unwrap().is_empty());
    }
    assert_eq!(entries[0]["data"]["old_handle"], "acme");
    assert_eq!(entries[0]["data"]["new_handle"], "acme-labs");
    // Written under the old handle, read under the new one, unchanged.
    assert_eq!(entries[2]["data"]["handle"], "acme");
    assert_eq!(entries[1]["data"]["fields"], json!(["display_name"]));

    let bob = stack.person("bob");
    stack.add_member(&org_id, &bob, "admin", "active").await;
    assert_eq!(log(&stack, &bob, &org_id, "").await, page);
}

#[tokio::test]
async fn members_get_403_and_strangers_and_deactivated_members_404() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let (carol, dave, mallory) = (
        stack.person("carol"),
        stack.person("dave"),
        stack.person("mallory"),
    );
    stack.add_member(&org_id, &carol, "member", "active").await;
    stack
        .add_member(&org_id, &dave, "admin", "deactivated")
        .await;
    let path = format!("/orgs/{org_id}/audit-log");
    let (status, problem) = stack.get(&carol, &path).await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    for who in [&dave, &mallory] {
        let (status, problem) = stack.get(who, &path).await;
        assert_problem(status, &problem, StatusCode::NOT_FOUND, "not-found");
    }
    let (status, problem) = stack.get(&alice, "/orgs/org_nope/audit-log").await;
    assert_problem(status, &problem, StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn pages_follow_cursors_and_filters_narrow_by_action_and_actor() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    stack.add_member(&org_id, &bob, "admin", "active").await;
    let org = format!("/orgs/{org_id}");
    for (who, n) in [(&alice, 1), (&alice, 2), (&bob, 3), (&alice, 4), (&bob, 5)] {
        let body = json!({ "display_name": format!("Acme {n}") });
        let (status, _) = stack.patch(who, &org, body).await;
        assert_eq!(status, StatusCode::OK);
    }

    let everything = all_pages(&stack, &alice, &org_id, "").await;
    assert_eq!(everything.len(), 6);
    let ids: BTreeSet<&str> = everything
        .iter()
        .map(|e| e["audit_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 6, "no entry twice");
    assert_eq!(everything[5]["action"], "organization.created");

    let updates = all_pages(&stack, &alice, &org_id, "&action=organization.updated").await;
    assert_eq!(updates.len(), 5);
    let by_bob = all_pages(&stack, &alice, &org_id, "&actor=bob").await;
    let names: Vec<&Value> = by_bob.iter().map(|e| &e["actor_user_id"]).collect();
    assert_eq!(names, [&json!("bob"), &json!("bob")]);
    let none = log(
        &stack,
        &alice,
        &org_id,
        "?action=organization.created&actor=bob",
    )
    .await;
    assert_eq!(none, json!({ "items": [], "next_cursor": null }));
}

#[tokio::test]
async fn bad_parameters_are_400_and_a_cursor_cannot_leave_its_organization() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let acme = stack.create_org(&alice, "acme").await;
    let globex = stack.create_org(&alice, "globex").await;
    for (query, field) in [
        ("?action=org.hacked", "action"),
        ("?actor=%0A", "actor"),
        ("?limit=0", "limit"),
        ("?cursor=not-a-cursor", "cursor"),
        ("?cursor=djE6T1JHI3g", "cursor"), // well wrapped, but a position in another partition
    ] {
        let path = format!("/orgs/{acme}/audit-log{query}");
        let (status, problem) = stack.get(&alice, &path).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(error_fields(&problem), [field], "{query}");
    }

    // A cursor taken from one organization's log only moves within another's.
    for n in 0..2 {
        let body = json!({ "display_name": format!("Acme {n}") });
        let path = format!("/orgs/{acme}");
        stack.patch(&alice, &path, body).await;
    }
    let page = log(&stack, &alice, &acme, "?limit=1").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let page = log(&stack, &alice, &globex, &format!("?cursor={cursor}")).await;
    for entry in page["items"].as_array().unwrap() {
        assert_eq!(entry["target"]["id"], globex.as_str(), "{entry}");
    }
}
