//! Metadata on organizations and memberships: who reads and writes each kind, merge patches,
//! the refusals that change nothing, and concurrent patches that all land.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Person, Stack, assert_problem, error_fields};

struct World {
    org: String,
    owner: Person,
    admin: Person,
    member: Person,
}

async fn world(stack: &Stack) -> World {
    let owner = stack.person("olivia");
    let (admin, member) = (stack.person("ada"), stack.person("bo"));
    let org = stack.create_org(&owner, "acme").await;
    stack.join(&org, &owner, &admin, "admin").await;
    stack.join(&org, &owner, &member, "member").await;
    World {
        org,
        owner,
        admin,
        member,
    }
}

/// The organization's metadata as `who` is shown it.
async fn org_metadata(stack: &Stack, who: &Person, org: &str) -> Value {
    let (status, body) = stack.get(who, format!("/orgs/{org}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["metadata"].clone()
}

#[tokio::test]
async fn members_read_public_metadata_and_only_admins_and_owners_write_and_read_private() {
    let stack = Stack::start().await;
    let w = world(&stack).await;
    let path = format!("/orgs/{}", w.org);
    let body = json!({ "metadata": {
        "public": { "plan": "pro", "limits": { "seats": 5 } },
        "private": { "stripe_customer": "cus_123" },
    }});
    let (status, answer) = stack.patch(&w.admin, &path, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["metadata"]["private"]["stripe_customer"], "cus_123");

    // A nested merge keeps what it does not name; null removes a key.
    let body = json!({ "metadata": { "public": { "limits": { "sso": true }, "plan": null } } });
    let (status, answer) = stack.patch(&w.owner, &path, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let public = json!({ "limits": { "seats": 5, "sso": true } });
    assert_eq!(answer["metadata"]["public"], public);

    let seen_by_member = org_metadata(&stack, &w.member, &w.org).await;
    assert_eq!(seen_by_member, json!({ "public": public }));
    let (_, listed) = stack.get(&w.member, "/orgs").await;
    assert_eq!(listed["items"][0]["metadata"], json!({ "public": public }));
    let seen_by_admin = org_metadata(&stack, &w.admin, &w.org).await;
    assert_eq!(
        seen_by_admin["private"],
        json!({ "stripe_customer": "cus_123" })
    );

    let body = json!({ "metadata": { "public": { "plan": "free" } } });
    let (status, answer) = stack.patch(&w.member, &path, body).await;
    assert_problem(status, &answer, StatusCode::FORBIDDEN, "forbidden");

    // On a membership: the admin writes both kinds, the member reads the public kind only,
    // and may not write even their own.
    let member_path = format!("/orgs/{}/members/{}", w.org, w.member.sub);
    let body = json!({ "metadata": {
        "public": { "cost_centre": "R&D" },
        "private": { "salary_band": "B2" },
    }});
    let (status, answer) = stack.patch(&w.admin, &member_path, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["role"], "member");
    assert_eq!(answer["metadata"]["private"]["salary_band"], "B2");
    let (_, mine) = stack.get(&w.member, &member_path).await;
    assert_eq!(
        mine["metadata"],
        json!({ "public": { "cost_centre": "R&D" } })
    );
    let (_, listed) = stack
        .get(&w.member, format!("/orgs/{}/members", w.org))
        .await;
    for item in listed["items"].as_array().unwrap() {
        assert!(item["metadata"].get("private").is_none(), "{item}");
    }
    let (_, listed) = stack
        .get(&w.owner, format!("/orgs/{}/members", w.org))
        .await;
    let bo = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == w.member.sub.as_str())
        .unwrap();
    assert_eq!(bo["metadata"]["private"], json!({ "salary_band": "B2" }));
    let body = json!({ "metadata": { "public": { "cost_centre": "Sales" } } });
    let (status, answer) = stack.patch(&w.member, &member_path, body).await;
    assert_problem(status, &answer, StatusCode::FORBIDDEN, "forbidden");

    // The audit trail names the keys that changed, never a value.
    let (_, log) = stack
        .get(
            &w.owner,
            format!("/orgs/{}/audit-log?action=member.updated", w.org),
        )
        .await;
    let entry = &log["items"][0];
    assert_eq!(
        entry["data"]["metadata_keys"],
        json!({ "public": ["cost_centre"], "private": ["salary_band"] })
    );
    assert!(!entry.to_string().contains("B2"), "{entry}");
    let (_, log) = stack
        .get(
            &w.owner,
            format!("/orgs/{}/audit-log?action=organization.updated", w.org),
        )
        .await;
    assert_eq!(
        log["items"][0]["data"]["metadata_keys"],
        json!({ "public": ["limits", "plan"], "private": [] })
    );
    assert!(!log.to_string().contains("cus_123"), "{log}");
}

#[tokio::test]
async fn oversized_non_object_and_too_deep_metadata_is_refused_and_changes_nothing() {
    let stack = Stack::start().await;
    let w = world(&stack).await;
    let org_path = format!("/orgs/{}", w.org);
    let member_path = format!("/orgs/{}/members/{}", w.org, w.member.sub);
    let fill = json!({ "metadata": { "private": { "notes": "x".repeat(5000) } } });
    let (status, answer) = stack.patch(&w.owner, &org_path, fill.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let before = stack.snapshot().await;

    let refused = [
        // Alone within 8 KiB, but not beside what is stored: the limit is on the merged whole.
        (
            json!({ "metadata": { "private": { "more": "y".repeat(4000) } } }),
            "metadata.private",
            "too_large",
        ),
        (
            json!({ "metadata": { "public": { "big": "z".repeat(9000) } } }),
            "metadata.public",
            "too_large",
        ),
        (
            json!({ "display_name": "Renamed", "metadata": { "public": [1, 2] } }),
            "metadata.public",
            "not_an_object",
        ),
        (
            json!({ "metadata": { "private": null } }),
            "metadata.private",
            "not_an_object",
        ),
        (
            json!({ "metadata": { "public": { "a": { "b": { "c": { "d": [[1]] } } } } } }),
            "metadata.public",
            "too_deep",
        ),
        (
            json!({ "metadata": { "secret": {} } }),
            "metadata.secret",
            "unknown_field",
        ),
    ];
    for path in [&org_path, &member_path] {
        for (body, field, code) in &refused {
            // The membership holds no metadata to add to, and has no display name.
            let org_only = (*code == "too_large" && *field == "metadata.private")
                || body.get("display_name").is_some();
            if path == &member_path && org_only {
                continue;
            }
            let (status, answer) = stack.patch(&w.owner, path, body.clone()).await;
            assert_problem(status, &answer, StatusCode::BAD_REQUEST, "validation");
            assert_eq!(error_fields(&answer), [*field], "{path} {body}: {answer}");
            assert_eq!(answer["errors"][0]["code"], *code, "{answer}");
        }
    }
    let (status, answer) = stack
        .patch(&w.owner, &member_path, json!({ "metadata": null }))
        .await;
    assert_problem(status, &answer, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(
        stack.snapshot().await,
        before,
        "a refusal changed the table"
    );
}

#[tokio::test]
async fn concurrent_patches_of_different_keys_all_land() {
    let stack = Stack::start().await;
    let w = world(&stack).await;
    let org_path = format!("/orgs/{}", w.org);
    let member_path = format!("/orgs/{}/members/{}", w.org, w.member.sub);
    const WRITERS: usize = 8;
    for path in [&org_path, &member_path] {
        // Each request reads, merges and writes: against the one-at-a-time moto their reads and
        // writes interleave, and a write on a stale read must be merged again, not lost.
        let patches = (0..WRITERS).map(|i| {
            let who = if i % 2 == 0 { &w.owner } else { &w.admin };
            let body = json!({ "metadata": {
                "public": { format!("k{i}"): i, "shared": { format!("n{i}"): true } },
            }});
            stack.patch(who, path, body)
        });
        let answers = join_all(patches).await;
        for (status, answer) in &answers {
            assert_eq!(*status, StatusCode::OK, "{answer}");
        }
        let (_, now) = stack.get(&w.owner, path).await;
        let public = now["metadata"]["public"].as_object().unwrap();
        let shared = public["shared"].as_object().unwrap();
        for i in 0..WRITERS {
            assert_eq!(public[&format!("k{i}")], i, "{path}: {public:?}");
            assert_eq!(shared[&format!("n{i}")], true, "{path}: {shared:?}");
        }
        assert_eq!(public.len(), WRITERS + 1);
    }
}
