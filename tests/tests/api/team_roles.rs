//! Team roles: a team's maintainer manages that team's members (adds, removes, sets their team
//! roles) and nothing else; invitations name teams with roles; the permissions answer shows them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Person, Stack, assert_problem};

/// Each member of a team page with their team role, by user id.
fn roles(page: &Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let field = |name: &str| m[name].as_str().unwrap_or_default().to_owned();
            (field("user_id"), field("role"))
        })
        .collect()
}

fn pair(user: &str, role: &str) -> (String, String) {
    (user.to_owned(), role.to_owned())
}

/// The organization's first team, "My Team", by its name: the store orders teams by id.
pub(crate) async fn my_team(stack: &Stack, who: &Person, org: &str) -> String {
    let (_, teams) = stack.get(who, format!("/orgs/{org}/teams")).await;
    let items = teams["items"].as_array().unwrap();
    let mine = items
        .iter()
        .find(|t| t["name"] == "My Team")
        .expect("My Team");
    mine["team_id"].as_str().unwrap().to_owned()
}

/// An organization of olivia's with three plain members (bo, cy, dee) and a team, Ops: the
/// organization's id and the team's path.
pub(crate) async fn org_with_ops(stack: &Stack) -> (String, String, [Person; 4]) {
    let (olivia, bo, cy, dee) = (
        stack.person("olivia"),
        stack.person("bo"),
        stack.person("cy"),
        stack.person("dee"),
    );
    let org = stack.create_org(&olivia, "acme").await;
    for who in [&bo, &cy, &dee] {
        stack.join(&org, &olivia, who, "member").await;
    }
    let (status, ops) = stack
        .post(
            &olivia,
            format!("/orgs/{org}/teams"),
            json!({ "name": "Ops" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ops}");
    let ops = format!("/orgs/{org}/teams/{}", ops["team_id"].as_str().unwrap());
    (org, ops, [olivia, bo, cy, dee])
}

/// `org_with_ops`, where bo maintains Ops.
async fn org_with_a_maintainer(stack: &Stack) -> (String, String, [Person; 4]) {
    let (org, ops, people) = org_with_ops(stack).await;
    let (status, body) = stack
        .put(
            &people[0],
            format!("{ops}/members/bo"),
            json!({ "role": "maintainer" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    (org, ops, people)
}

#[tokio::test]
async fn a_maintainer_manages_the_members_of_their_team_and_nothing_else() {
    let stack = Stack::start().await;
    let (org, ops, [olivia, bo, _cy, dee]) = org_with_a_maintainer(&stack).await;
    let (status, page) = stack.get(&dee, format!("{ops}/members")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(roles(&page), [pair("bo", "maintainer")]);

    // bo fills the team, sets a team role, and takes someone out again.
    let (status, body) = stack.put(&bo, format!("{ops}/members/cy"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = stack
        .put(
            &bo,
            format!("{ops}/members/dee"),
            json!({ "role": "member" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, cy) = stack
        .patch(
            &bo,
            format!("{ops}/members/cy"),
            json!({ "role": "maintainer" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cy}");
    assert_eq!(
        (&cy["user_id"], &cy["role"]),
        (&json!("cy"), &json!("maintainer"))
    );
    // The same role again changes nothing, and answers the same.
    let (status, again) = stack
        .patch(
            &bo,
            format!("{ops}/members/cy"),
            json!({ "role": "maintainer" }),
        )
        .await;
    assert_eq!(
        (status, &again["role"]),
        (StatusCode::OK, &json!("maintainer"))
    );
    let (status, body) = stack.delete(&bo, format!("{ops}/members/dee")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, page) = stack.get(&bo, format!("{ops}/members")).await;
    assert_eq!(
        roles(&page),
        [pair("bo", "maintainer"), pair("cy", "maintainer")]
    );

    // Not in the team: 404; a role that does not exist: 400.
    let (status, body) = stack
        .patch(
            &bo,
            format!("{ops}/members/dee"),
            json!({ "role": "member" }),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    let (status, body) = stack
        .patch(&bo, format!("{ops}/members/cy"), json!({ "role": "owner" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Another team, and the team itself, stay out of bo's reach; nothing changes.
    let (_, teams) = stack.get(&bo, format!("/orgs/{org}/teams")).await;
    let my_team = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "My Team")
        .unwrap()["team_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let my_team = format!("/orgs/{org}/teams/{my_team}");
    let before = stack.snapshot().await;
    let (status, body) = stack.put(&bo, format!("{my_team}/members/dee"), None).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack
        .patch(
            &bo,
            format!("{my_team}/members/olivia"),
            json!({ "role": "member" }),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack.delete(&bo, format!("{my_team}/members/olivia")).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack
        .post(&bo, format!("/orgs/{org}/teams"), json!({ "name": "Mine" }))
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack.patch(&bo, &ops, json!({ "name": "Bo's" })).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack.delete(&bo, &ops).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // A plain team member manages nothing either.
    let (status, body) = stack
        .put(
            &dee,
            format!("{ops}/members/dee"),
            json!({ "role": "maintainer" }),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(stack.snapshot().await, before);

    // The change of a team role is in the audit log, with both roles.
    let (status, log) = stack
        .get(
            &olivia,
            format!("/orgs/{org}/audit-log?action=team.role_changed"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let data = &log["items"][0]["data"];
    assert_eq!(
        (&data["user_id"], &data["role"], &data["previous_role"]),
        (&json!("cy"), &json!("maintainer"), &json!("member")),
        "{log}"
    );
    assert_eq!(log["items"][0]["actor_user_id"], "bo", "{log}");
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
}

#[tokio::test]
async fn a_maintainer_demoted_or_deactivated_manages_no_more() {
    let stack = Stack::start().await;
    let (org, ops, [olivia, bo, cy, _dee]) = org_with_a_maintainer(&stack).await;
    // bo steps down as maintainer: from then on, 403.
    let (status, body) = stack
        .patch(
            &bo,
            format!("{ops}/members/bo"),
            json!({ "role": "member" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = stack.put(&bo, format!("{ops}/members/cy"), None).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // PUT with a role on someone already in the team sets it (an admin here).
    let (status, body) = stack
        .put(
            &olivia,
            format!("{ops}/members/bo"),
            json!({ "role": "maintainer" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = stack.put(&bo, format!("{ops}/members/cy"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Deactivated, a maintainer is a stranger to the organization: 404.
    let (status, body) = stack
        .patch(
            &olivia,
            format!("/orgs/{org}/members/bo"),
            json!({ "status": "deactivated" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = stack.delete(&bo, format!("{ops}/members/cy")).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    let _ = cy;
}

#[tokio::test]
async fn the_permissions_answer_shows_each_team_with_its_role() {
    let stack = Stack::start().await;
    let (org, ops, [olivia, bo, _cy, dee]) = org_with_a_maintainer(&stack).await;
    let ops_id = ops.rsplit('/').next().unwrap().to_owned();
    let (status, mine) = stack.get(&bo, format!("/orgs/{org}/permissions")).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(
        mine["teams"],
        json!([{ "team_id": ops_id, "role": "maintainer", "permissions": ["teams:manage"] }])
    );
    // What the organization role grants is unchanged: a plain member's.
    assert!(
        !mine["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("teams:manage"))
    );
    // In a team as a plain member: the team, no permission from it.
    let (status, body) = stack.put(&olivia, format!("{ops}/members/dee"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, dees) = stack.get(&dee, format!("/orgs/{org}/permissions")).await;
    assert_eq!(
        dees["teams"],
        json!([{ "team_id": ops_id, "role": "member", "permissions": [] }])
    );
    // The owner, in My Team since creating the organization, asks about bo.
    let (status, bos) = stack
        .get(&olivia, format!("/orgs/{org}/permissions?user_id=bo"))
        .await;
    assert_eq!(status, StatusCode::OK, "{bos}");
    assert_eq!(bos["teams"], mine["teams"]);
    let (_, own) = stack.get(&olivia, format!("/orgs/{org}/permissions")).await;
    assert_eq!(own["teams"][0]["role"], "member", "{own}");
}

#[tokio::test]
async fn an_invitation_names_teams_with_roles_and_accepting_gives_them() {
    let stack = Stack::start().await;
    let (org, ops, [olivia, bo, _cy, _dee]) = org_with_a_maintainer(&stack).await;
    let ops_id = ops.rsplit('/').next().unwrap().to_owned();
    let my_team = my_team(&stack, &olivia, &org).await;
    let eve = stack.person("eve");
    let invitations = format!("/orgs/{org}/invitations");
    // A role that cannot be one, or that does not exist: 400, nothing sent.
    let bad = json!({ "invitations": [{ "email": eve.email,
        "teams": [{ "team_id": ops_id, "role": "Boss!" }] }] });
    let (status, body) = stack.post(&olivia, &invitations, bad).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(body["errors"][0]["code"], "invalid_team_role", "{body}");
    let unknown = json!({ "invitations": [{ "email": eve.email,
        "teams": [{ "team_id": ops_id, "role": "boss" }] }] });
    let (status, body) = stack.post(&olivia, &invitations, unknown).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(body["errors"][0]["code"], "unknown_role", "{body}");
    // Team ids and teams with roles mix in one list.
    let body = json!({ "invitations": [{ "email": eve.email,
        "teams": [{ "team_id": ops_id, "role": "maintainer" }, my_team] }] });
    let (status, created) = stack.post(&olivia, &invitations, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // The invitation says which role each team gives.
    assert_eq!(
        created["results"][0]["invitation"]["teams"],
        json!([{ "team_id": ops_id, "role": "maintainer" }, { "team_id": my_team, "role": "member" }])
    );
    let link = created["results"][0]["invite_url"].as_str().unwrap();
    let token = crate::invitations::token_of(link);
    let (status, joined) = crate::invitations::answer(&stack, Some(&eve), "accept", &token).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    let (_, page) = stack.get(&bo, format!("{ops}/members")).await;
    assert!(roles(&page).contains(&pair("eve", "maintainer")), "{page}");
    let (_, page) = stack
        .get(&bo, format!("/orgs/{org}/teams/{my_team}/members"))
        .await;
    assert!(roles(&page).contains(&pair("eve", "member")), "{page}");
    // And eve manages Ops at once.
    let (status, body) = stack.delete(&eve, format!("{ops}/members/bo")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test]
async fn an_approval_names_teams_with_roles_and_never_both_lists() {
    let stack = Stack::start().await;
    let (olivia, adam) = (stack.person("olivia"), stack.person("adam"));
    let org = crate::join_requests::suggesting_org(&stack, &olivia, &adam).await;
    let ada = crate::join_requests::colleague(&stack, "ada");
    let (status, filed) = stack
        .post(&ada, format!("/orgs/{org}/join"), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{filed}");
    let team = stack.first_team(&org).await;
    let approve = format!("/orgs/{org}/join-requests/ada/approve");
    let before = stack.snapshot().await;
    let both = json!({ "team_ids": [team], "teams": [{ "team_id": team }] });
    let (status, body) = stack.post(&adam, &approve, both).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(body["errors"][0]["code"], "ambiguous_teams", "{body}");
    assert_eq!(stack.snapshot().await, before);
    let body = json!({ "teams": [{ "team_id": team, "role": "maintainer" }] });
    let (status, member) = stack.post(&adam, &approve, body).await;
    assert_eq!(status, StatusCode::OK, "{member}");
    let (_, page) = stack
        .get(&ada, format!("/orgs/{org}/teams/{team}/members"))
        .await;
    assert!(roles(&page).contains(&pair("ada", "maintainer")), "{page}");
}
