//! Organizations: create, list, read, edit, rename.

use orgs_shared::store::{Of, Stored};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Stack, assert_problem, error_fields};

#[tokio::test]
async fn creating_an_organization_makes_its_owner_team_audit_entry_and_event_at_once() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let body = json!({
        "handle": "Acme", "display_name": "Acme Inc", "region": "eu",
        "avatar_url": "https://acme.example/logo.png", "url": "https://acme.example"
    });
    let response = stack
        .raw(&alice, Method::POST, "/orgs", body.to_string())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let org: Value = response.json().await.unwrap();
    let org_id = org["org_id"].as_str().unwrap();
    assert_eq!(location, format!("/orgs/{org_id}"));
    assert!(org_id.starts_with("org_"));
    assert_eq!(org["handle"], "acme");
    assert_eq!(org["region"], "eu");
    assert_eq!(org["role"], "owner");
    assert_eq!(org["member_count"], 1);
    assert_eq!(org["avatar_url"], "https://acme.example/logo.png");

    let (status, fetched) = stack.get(&alice, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, org);

    let partition = stack.org_items(org_id).await;
    let kinds: Vec<&str> = partition.iter().map(Stored::kind).collect();
    assert_eq!(
        kinds,
        [
            "membership",
            "member email marker",
            "organization",
            "count shard",
            "count shard",
            "count shard",
            "count shard",
            "count shard",
            "count shard",
            "count shard",
            "count shard",
            "team",
            "team member",
            "team name marker"
        ],
        "{partition:?}"
    );
    assert_eq!(stack.handles().await, ["acme"]);
    let of = Of::Org(org_id.to_owned());
    assert_eq!(stack.audit_entries(&of).await.len(), 1);
    assert_eq!(stack.event_records(&of).await.len(), 1);
}

#[tokio::test]
async fn invalid_organizations_are_refused_with_every_bad_field_and_change_nothing() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let before = stack.snapshot().await;
    let cases = [
        (
            json!({ "handle": "a", "display_name": "", "region": "mars" }),
            vec!["handle", "display_name", "region"],
        ),
        (
            json!({ "handle": "www", "display_name": "W", "region": "us" }),
            vec!["handle"],
        ),
        (
            json!({ "handle": "-acme", "display_name": "A", "region": "us" }),
            vec!["handle"],
        ),
        (
            json!({ "handle": "acme", "display_name": "A", "region": "us", "url": "http://acme.example" }),
            vec!["url"],
        ),
        (
            json!({ "handle": "acme", "display_name": "A", "region": "us", "avatar_url": "javascript:alert(1)" }),
            vec!["avatar_url"],
        ),
        (
            json!({ "handle": "acme", "display_name": "A", "region": "US" }),
            vec!["region"],
        ),
        (
            json!({ "handle": "acme", "display_name": "A" }),
            vec!["region"],
        ),
        (
            json!({ "handle": "acme", "display_name": "A", "region": "us", "owner": "bob" }),
            vec!["owner"],
        ),
        (
            json!({ "handle": ["acme"], "display_name": "A", "region": "us" }),
            vec!["handle"],
        ),
        // The document says a URL, if sent, is a string (found by tests/fuzz).
        (
            json!({ "handle": "acme", "display_name": "A", "region": "us", "url": null }),
            vec!["url"],
        ),
    ];
    for (body, fields) in cases {
        let (status, problem) = stack.post(&alice, "/orgs", body.clone()).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(error_fields(&problem), fields, "{body}");
    }
    for (body, code) in [
        ("{", "malformed-json"),
        ("", "body-required"),
        ("[1]", "validation"),
        // The fields in order, as an array: serde's structs took these (found by tests/fuzz).
        (r#"["acme", "Acme Inc", "us"]"#, "validation"),
        (
            r#"{"handle": "acme", "display_name": "A", "region": "us", "region": "eu"}"#,
            "validation",
        ),
    ] {
        let response = stack
            .raw(&alice, Method::POST, "/orgs", body.to_owned())
            .await;
        let status = response.status();
        let problem: Value = response.json().await.unwrap();
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, code);
    }
    let huge = json!({ "handle": "acme", "display_name": "x".repeat(17 * 1024), "region": "us" });
    let (status, problem) = stack.post(&alice, "/orgs", huge).await;
    assert_problem(
        status,
        &problem,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
    );
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn strangers_get_404_for_organizations_they_cannot_see() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let mallory = stack.person("mallory");
    let org_id = stack.create_org(&alice, "acme").await;
    let path = format!("/orgs/{org_id}");
    let before = stack.snapshot().await;
    for (method, path, body) in [
        (Method::GET, path.clone(), None),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({ "display_name": "Pwned" })),
        ),
        (
            Method::PUT,
            format!("{path}/handle"),
            Some(json!({ "handle": "pwned" })),
        ),
        (Method::DELETE, format!("{path}?confirm=acme"), None),
        (
            Method::GET,
            "/orgs/org_00000000000000000000000000000000".into(),
            None,
        ),
        (Method::GET, "/orgs/not-an-id".into(), None),
    ] {
        let (status, problem) = stack.call(&mallory, method.clone(), &path, body).await;
        assert_problem(status, &problem, StatusCode::NOT_FOUND, "not-found");
    }
    let (_, list) = stack.get(&mallory, "/orgs").await;
    assert_eq!(list, json!({ "items": [], "next_cursor": null }));
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn members_and_admins_get_403_above_their_role_and_deactivated_members_see_nothing() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let (member, admin, gone) = (
        stack.person("mia"),
        stack.person("adam"),
        stack.person("dora"),
    );
    let org_id = stack.create_org(&alice, "acme").await;
    stack.add_member(&org_id, &member, "member", "active").await;
    stack.add_member(&org_id, &admin, "admin", "active").await;
    stack
        .add_member(&org_id, &gone, "admin", "deactivated")
        .await;
    let path = format!("/orgs/{org_id}");
    let before = stack.snapshot().await;

    let (status, org) = stack.get(&member, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(org["role"], "member");
    let edit = json!({ "display_name": "Renamed" });
    let (status, problem) = stack.patch(&member, &path, edit.clone()).await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    let rename = json!({ "handle": "acme-2" });
    let (status, problem) = stack.put(&admin, format!("{path}/handle"), rename).await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    let (status, problem) = stack.delete(&admin, format!("{path}?confirm=acme")).await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    for (method, body) in [(Method::GET, None), (Method::PATCH, Some(edit.clone()))] {
        let (status, problem) = stack.call(&gone, method, &path, body).await;
        assert_problem(status, &problem, StatusCode::NOT_FOUND, "not-found");
    }
    let (_, list) = stack.get(&gone, "/orgs").await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(stack.snapshot().await, before);

    // An admin edits the profile.
    let (status, org) = stack.patch(&admin, &path, edit).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["display_name"], "Renamed");
}

#[tokio::test]
async fn listing_pages_through_the_callers_organizations_only() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let mut mine = Vec::new();
    for i in 0..5 {
        mine.push(stack.create_org(&alice, &format!("alice-org-{i}")).await);
    }
    stack.create_org(&bob, "bobs-org").await;

    let mut seen = Vec::new();
    let mut path = "/orgs?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = stack.get(&alice, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        for org in items {
            assert_eq!(org["role"], "owner");
            seen.push(org["org_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/orgs?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert!(pages >= 3);
    seen.sort();
    mine.sort();
    assert_eq!(seen, mine);

    let (_, all) = stack.get(&alice, "/orgs").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
    for bad in [
        "/orgs?limit=0",
        "/orgs?limit=101",
        "/orgs?limit=x",
        "/orgs?cursor=bogus",
    ] {
        let (status, problem) = stack.get(&alice, bad).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
    }
}

#[tokio::test]
async fn owners_edit_the_profile_and_null_clears_a_field() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let path = format!("/orgs/{org_id}");
    let body = json!({ "url": "https://acme.example", "billing_email": "Billing@Acme.example" });
    let (status, org) = stack.patch(&alice, &path, body).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["url"], "https://acme.example/");
    assert_eq!(org["billing_email"], "billing@acme.example");
    assert_eq!(org["display_name"], "acme Inc");

    let (_, org) = stack.patch(&alice, &path, json!({ "url": null })).await;
    assert!(org["url"].is_null());
    let (_, fetched) = stack.get(&alice, &path).await;
    assert_eq!(fetched, org);

    let before = stack.snapshot().await;
    for body in [
        json!({ "display_name": null }),
        json!({ "billing_email": "not-an-email" }),
        json!({ "url": "ftp://acme.example" }),
        json!({ "region": "eu" }),
    ] {
        let (status, problem) = stack.patch(&alice, &path, body).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
    }
    assert_eq!(
        stack.snapshot().await,
        before,
        "region is fixed for life, and refusals change nothing"
    );
    assert_eq!(stack.audit_entries(&Of::Org(org_id)).await.len(), 3);
}

#[tokio::test]
async fn renaming_takes_the_new_handle_and_frees_the_old_one_at_once() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    stack.create_org(&bob, "taken").await;
    let path = format!("/orgs/{org_id}/handle");

    let before = stack.snapshot().await;
    let (status, problem) = stack.put(&alice, &path, json!({ "handle": "Taken" })).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "handle-taken");
    let (status, problem) = stack.put(&alice, &path, json!({ "handle": "a b" })).await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(stack.snapshot().await, before);

    let (status, org) = stack
        .put(&alice, &path, json!({ "handle": "acme-labs" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["handle"], "acme-labs");
    assert_eq!(stack.handles().await, ["acme-labs", "taken"]);
    // The old handle is free for anyone.
    stack.create_org(&bob, "acme").await;
    // Renaming to the current handle changes nothing.
    let before = stack.snapshot().await;
    let (status, _) = stack
        .put(&alice, &path, json!({ "handle": "ACME-LABS" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stack.snapshot().await, before);
}
