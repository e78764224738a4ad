//! The permission catalog and what a member may do, as the applications behind the service ask.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{Anonymous, Options, Stack, assert_problem};

fn keys(answer: &Value, field: &str) -> Vec<String> {
    answer[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_catalog_lists_the_services_permissions_then_the_applications() {
    let stack = Stack::start_with(Options {
        app_permissions: Some("projects:create=Create projects,reports:read"),
        ..Options::default()
    })
    .await;
    let ada = stack.person("ada");
    // API Gateway's JWT authorizer answers a request without a token.
    let (status, _) = stack.get(Anonymous, "/permissions").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, catalog) = stack.get(&ada, "/permissions").await;
    assert_eq!(status, StatusCode::OK, "{catalog}");
    let items = catalog["items"].as_array().unwrap();
    let entry = |key: &str| items.iter().find(|p| p["key"] == key).cloned();
    let billing = entry("org:billing:update").expect("org:billing:update is in the catalog");
    assert_eq!(billing["source"], "service");
    assert_eq!(billing["roles"], serde_json::json!(["owner", "admin"]));
    assert_eq!(
        entry("org:read").unwrap()["roles"],
        serde_json::json!(["owner", "admin", "member"])
    );
    assert_eq!(
        entry("org:delete").unwrap()["roles"],
        serde_json::json!(["owner"])
    );
    let projects = entry("projects:create").expect("the application's permission");
    assert_eq!(
        (&projects["source"], &projects["description"]),
        (
            &serde_json::json!("application"),
            &serde_json::json!("Create projects")
        )
    );
    assert_eq!(items.last().unwrap()["key"], "reports:read");
}

#[tokio::test]
async fn each_member_learns_what_they_and_others_may_do() {
    let stack = Stack::start_with(Options {
        app_permissions: Some("projects:create"),
        ..Options::default()
    })
    .await;
    let (olivia, ada, bo, eve) = (
        stack.person("olivia"),
        stack.person("ada"),
        stack.person("bo"),
        stack.person("eve"),
    );
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &ada, "admin").await;
    stack.join(&org, &olivia, &bo, "member").await;
    let path = format!("/orgs/{org}/permissions");

    let (status, owner) = stack.get(&olivia, &path).await;
    assert_eq!(status, StatusCode::OK, "{owner}");
    assert_eq!(
        (&owner["role"], &owner["user_id"]),
        (&"owner".into(), &"olivia".into())
    );
    assert!(keys(&owner, "permissions").contains(&"org:delete".to_owned()));
    assert!(keys(&owner, "permissions").contains(&"projects:create".to_owned()));

    let (_, admin) = stack.get(&ada, &path).await;
    let admin = keys(&admin, "permissions");
    assert!(
        admin.contains(&"org:billing:update".to_owned())
            && admin.contains(&"members:invite".to_owned())
    );
    assert!(!admin.contains(&"org:delete".to_owned()));

    let (_, member) = stack.get(&bo, &path).await;
    assert_eq!(
        keys(&member, "permissions"),
        ["org:read", "members:read", "teams:read"]
    );

    // Another member's, for a member (every system role holds members:read).
    let (status, of_admin) = stack.get(&bo, format!("{path}?user_id=ada")).await;
    assert_eq!(
        (status, &of_admin["role"]),
        (StatusCode::OK, &"admin".into())
    );

    let (status, body) = stack.get(&bo, format!("{path}?user_id=nobody")).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    let (status, body) = stack.get(&bo, format!("{path}?user_id=")).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    // A stranger learns nothing, not even that the organization exists.
    let (status, body) = stack.get(&eve, &path).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");

    // A deactivated member holds nothing, as others see.
    let (status, _) = stack
        .patch(
            &olivia,
            format!("/orgs/{org}/members/bo"),
            serde_json::json!({ "status": "deactivated" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, deactivated) = stack.get(&ada, format!("{path}?user_id=bo")).await;
    assert_eq!(deactivated["status"], "deactivated");
    assert!(keys(&deactivated, "permissions").is_empty());
    let (status, body) = stack.get(&bo, &path).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
}
