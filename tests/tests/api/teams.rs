//! Teams: "My Team" from the start; admins and owners create, rename and delete teams and move
//! members in and out; members read them.

use orgs_shared::domain::{OrgId, TeamId, Timestamp, UserId};
use orgs_shared::store::{ItemKey, Op};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Stack, assert_problem};

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["user_id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn teams_are_created_renamed_filled_emptied_and_deleted() {
    let stack = Stack::start().await;
    let (olivia, ada, bo) = (
        stack.person("olivia"),
        stack.person("ada"),
        stack.person("bo"),
    );
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &ada, "admin").await;
    stack.join(&org, &olivia, &bo, "member").await;
    let teams = format!("/orgs/{org}/teams");

    let (status, page) = stack.get(&bo, &teams).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"][0]["name"], "My Team");
    assert_eq!(page["items"][0]["member_count"], 1, "the creator is in it");

    let before = stack.snapshot().await;
    let (status, body) = stack.post(&bo, &teams, json!({ "name": "Ops" })).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack.post(&ada, &teams, json!({ "name": "my team" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "name-taken");
    let (status, body) = stack.post(&ada, &teams, json!({ "name": " " })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(stack.snapshot().await, before);

    let (status, ops) = stack.post(&ada, &teams, json!({ "name": "Ops" })).await;
    assert_eq!(status, StatusCode::CREATED, "{ops}");
    let ops_path = format!("{teams}/{}", ops["team_id"].as_str().unwrap());
    let (status, renamed) = stack.patch(&ada, &ops_path, json!({ "name": "SRE" })).await;
    assert_eq!((status, &renamed["name"]), (StatusCode::OK, &json!("SRE")));
    // The old name is free again; the new one is taken.
    let (status, _) = stack.post(&ada, &teams, json!({ "name": "ops" })).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = stack.post(&ada, &teams, json!({ "name": "sre" })).await;
    assert_eq!(status, StatusCode::CONFLICT);

    for user in ["bo", "ada", "bo"] {
        let (status, body) = stack
            .put(&ada, format!("{ops_path}/members/{user}"), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let (status, _) = stack
        .put(&ada, format!("{ops_path}/members/stranger"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, members) = stack.get(&bo, format!("{ops_path}/members")).await;
    assert_eq!(ids(&members), ["ada", "bo"]);
    let (_, team) = stack.get(&bo, &ops_path).await;
    assert_eq!(team["member_count"], 2);
    let (_, bo_view) = stack.get(&bo, format!("/orgs/{org}/members/bo")).await;
    assert_eq!(bo_view["team_ids"], json!([ops["team_id"]]));

    let (status, _) = stack.delete(&ada, format!("{ops_path}/members/bo")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack.delete(&ada, format!("{ops_path}/members/bo")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = stack.delete(&ada, &ops_path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack.get(&bo, &ops_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, ada_view) = stack.get(&ada, format!("/orgs/{org}/members/ada")).await;
    assert_eq!(
        ada_view["team_ids"],
        json!([]),
        "deleting a team takes its members out of it"
    );
    let team_id = ops["team_id"].as_str().unwrap();
    assert!(
        !stack
            .org_items(&org)
            .await
            .iter()
            .any(|what| what.names(team_id))
    );
    let (_, page) = stack.get(&bo, &teams).await;
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"My Team") && names.contains(&"ops"));
}

#[tokio::test]
async fn removing_a_member_takes_them_out_of_every_team() {
    let stack = Stack::start().await;
    let (olivia, bo) = (stack.person("olivia"), stack.person("bo"));
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &bo, "member").await;
    let teams = format!("/orgs/{org}/teams");
    let mut paths = Vec::new();
    for name in ["One", "Two", "Three"] {
        let (_, team) = stack.post(&olivia, &teams, json!({ "name": name })).await;
        let path = format!("{teams}/{}", team["team_id"].as_str().unwrap());
        stack.put(&olivia, format!("{path}/members/bo"), None).await;
        paths.push(path);
    }
    let (status, _) = stack
        .delete(&olivia, format!("/orgs/{org}/members/bo"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for path in paths {
        let (_, team) = stack.get(&olivia, &path).await;
        assert_eq!(team["member_count"], 0, "{team}");
        let (_, members) = stack.get(&olivia, format!("{path}/members")).await;
        assert_eq!(members["items"], json!([]));
    }
}

#[tokio::test]
async fn a_team_read_empty_but_joined_since_is_still_deleted_with_its_member() {
    let stack = Stack::start().await;
    let (olivia, bo) = (stack.person("olivia"), stack.person("bo"));
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &bo, "member").await;
    let (_, team) = stack
        .post(
            &olivia,
            format!("/orgs/{org}/teams"),
            json!({ "name": "Ops" }),
        )
        .await;
    let team_id = TeamId::parse(team["team_id"].as_str().unwrap()).unwrap();
    let path = format!("/orgs/{org}/teams/{team_id}");
    // The deletion read the team while it was empty; bo joins before its transaction.
    let read = stack
        .app
        .store
        .read_org(
            &OrgId::parse(&org).unwrap(),
            &UserId::parse("olivia").unwrap(),
            &[ItemKey::Team(&team_id)],
        )
        .await
        .unwrap()
        .unwrap();
    let stale = read.items.team(&team_id).unwrap().unwrap();
    assert_eq!(stale.member_count, 0);
    let (status, _) = stack.put(&olivia, format!("{path}/members/bo"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let op = Op {
        actor: UserId::parse("olivia").unwrap(),
        request_id: "stale-delete".into(),
        at: Timestamp::now(),
    };
    stack.app.store.delete_team(&stale, &op).await.unwrap();
    let (status, _) = stack.get(&olivia, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        !stack
            .org_items(&org)
            .await
            .iter()
            .any(|what| what.names(team_id.as_str())),
        "no team item or member row is left"
    );
    let (_, bo_view) = stack.get(&olivia, format!("/orgs/{org}/members/bo")).await;
    assert_eq!(bo_view["team_ids"], json!([]), "bo is out of it too");
}
