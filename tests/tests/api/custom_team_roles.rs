//! Custom team roles: a custom role of scope `team` given to a team member grants, within that
//! team, the `teams:manage` and application permissions it lists; each team row holding it
//! counts among its holders.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Options, Person, Stack, assert_problem};

async fn stack() -> Stack {
    Stack::start_with(Options {
        app_permissions: Some("docs:review=Review documents"),
        ..Options::default()
    })
    .await
}

/// olivia's organization with three plain members, a team Ops, and a team role `reviewer`
/// (`teams:manage` and the application's `docs:review`).
async fn org_with_a_team_role(stack: &Stack) -> (String, String, [Person; 4]) {
    let (org, ops, [olivia, bo, cy, dee]) = crate::team_roles::org_with_ops(stack).await;
    let role = json!({ "key": "reviewer", "name": "Reviewer", "scope": "team",
        "permissions": ["teams:manage", "docs:review"] });
    let (status, body) = stack
        .post(&olivia, format!("/orgs/{org}/roles"), role)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (org, ops, [olivia, bo, cy, dee])
}

async fn holders(stack: &Stack, who: &Person, org: &str, key: &str) -> Value {
    let (status, role) = stack.get(who, format!("/orgs/{org}/roles/{key}")).await;
    assert_eq!(status, StatusCode::OK, "{role}");
    role["holders"].clone()
}

/// The path of the organization's "My Team".
async fn my_team(stack: &Stack, who: &Person, org: &str) -> String {
    let id = crate::team_roles::my_team(stack, who, org).await;
    format!("/orgs/{org}/teams/{id}")
}

#[tokio::test]
async fn a_custom_team_role_manages_its_team_only_and_counts_its_holders() {
    let stack = stack().await;
    let (org, ops, [olivia, bo, cy, _dee]) = org_with_a_team_role(&stack).await;
    let (status, body) = stack
        .put(
            &olivia,
            format!("{ops}/members/bo"),
            json!({ "role": "reviewer" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 1);

    // bo manages Ops through the role, and may give it on (bo holds all it grants there).
    let (status, body) = stack.put(&bo, format!("{ops}/members/cy"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, cys) = stack
        .patch(
            &bo,
            format!("{ops}/members/cy"),
            json!({ "role": "reviewer" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cys}");
    assert_eq!(cys["role"], "reviewer", "{cys}");
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 2);

    // Another team stays out of bo's reach.
    let my_team = my_team(&stack, &olivia, &org).await;
    let (status, body) = stack.put(&bo, format!("{my_team}/members/cy"), None).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");

    // The permissions answer names the role and what it grants in Ops, no org:read.
    let ops_id = ops.rsplit('/').next().unwrap();
    let (status, mine) = stack.get(&bo, format!("/orgs/{org}/permissions")).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(
        mine["teams"],
        json!([{ "team_id": ops_id, "role": "reviewer",
            "permissions": ["teams:manage", "docs:review"] }])
    );

    // Held, the role is not deleted.
    let reviewer = format!("/orgs/{org}/roles/reviewer");
    let (status, body) = stack.delete(&olivia, &reviewer).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "role-in-use");
    assert_eq!(body["holders"], 2, "{body}");

    // Out of the team, or of the organization, the holders go back down.
    let (status, body) = stack.delete(&bo, format!("{ops}/members/cy")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 1);
    let (status, body) = stack
        .delete(&olivia, format!("/orgs/{org}/members/bo"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 0);
    let (status, body) = stack.delete(&olivia, &reviewer).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let _ = cy;
}

#[tokio::test]
async fn changing_a_team_role_or_deleting_the_team_moves_the_holders() {
    let stack = stack().await;
    let (org, ops, [olivia, bo, cy, _dee]) = org_with_a_team_role(&stack).await;
    for who in ["bo", "cy"] {
        let (status, body) = stack
            .put(
                &olivia,
                format!("{ops}/members/{who}"),
                json!({ "role": "reviewer" }),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 2);
    let (status, body) = stack
        .patch(
            &olivia,
            format!("{ops}/members/cy"),
            json!({ "role": "maintainer" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 1);
    // The change is an event and an audit entry naming both roles.
    let (_, log) = stack
        .get(
            &olivia,
            format!("/orgs/{org}/audit-log?action=team.role_changed"),
        )
        .await;
    let data = &log["items"][0]["data"];
    assert_eq!(
        (&data["role"], &data["previous_role"]),
        (&json!("maintainer"), &json!("reviewer")),
        "{log}"
    );
    let (status, body) = stack.delete(&olivia, &ops).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 0);
    let _ = (bo, cy);
}

#[tokio::test]
async fn a_role_is_given_only_where_its_scope_allows_and_within_the_givers_grants() {
    let stack = stack().await;
    let (org, ops, [olivia, bo, cy, _dee]) = org_with_a_team_role(&stack).await;
    let billing = json!({ "key": "billing", "name": "Billing", "permissions": [] });
    let (status, body) = stack
        .post(&olivia, format!("/orgs/{org}/roles"), billing)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let before = stack.snapshot().await;
    // An organization role for a team member, a team role for a member, no role at all: 400.
    let (status, body) = stack
        .put(
            &olivia,
            format!("{ops}/members/cy"),
            json!({ "role": "billing" }),
        )
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(
        (&body["errors"][0]["code"], &body["errors"][0]["field"]),
        (&json!("wrong_role_scope"), &json!("role")),
        "{body}"
    );
    let (status, body) = stack
        .patch(
            &olivia,
            format!("/orgs/{org}/members/cy"),
            json!({ "role": "reviewer" }),
        )
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(body["errors"][0]["code"], "wrong_role_scope", "{body}");
    let (status, body) = stack
        .put(
            &olivia,
            format!("{ops}/members/cy"),
            json!({ "role": "nobody" }),
        )
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(body["errors"][0]["code"], "unknown_role", "{body}");
    // An invitation's team role too, with the field naming where.
    let eve = stack.person("eve");
    let ops_id = ops.rsplit('/').next().unwrap();
    let invite = json!({ "invitations": [{ "email": eve.email,
        "teams": [{ "team_id": ops_id, "role": "billing" }] }] });
    let (status, body) = stack
        .post(&olivia, format!("/orgs/{org}/invitations"), invite)
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(
        (&body["errors"][0]["code"], &body["errors"][0]["field"]),
        (
            &json!("wrong_role_scope"),
            &json!("invitations[0].teams[0].role")
        ),
        "{body}"
    );
    assert_eq!(stack.snapshot().await, before);

    // A maintainer lacks the application permission reviewer grants: 403.
    let (status, body) = stack
        .put(
            &olivia,
            format!("{ops}/members/bo"),
            json!({ "role": "maintainer" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = stack
        .put(
            &bo,
            format!("{ops}/members/cy"),
            json!({ "role": "reviewer" }),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 0);
    // Given by the owner, the same role again changes nothing, and needs no grants; taking it
    // away to `member` needs none either.
    let (status, body) = stack
        .put(
            &olivia,
            format!("{ops}/members/cy"),
            json!({ "role": "reviewer" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = stack
        .put(
            &bo,
            format!("{ops}/members/cy"),
            json!({ "role": "reviewer" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 1);
    let (status, body) = stack
        .patch(
            &bo,
            format!("{ops}/members/cy"),
            json!({ "role": "member" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 0);
    let _ = cy;
}

#[tokio::test]
async fn an_invitation_gives_a_custom_team_role_on_acceptance() {
    let stack = stack().await;
    let (org, ops, [olivia, _bo, _cy, _dee]) = org_with_a_team_role(&stack).await;
    let eve = stack.person("eve");
    let ops_id = ops.rsplit('/').next().unwrap();
    let invite = json!({ "invitations": [{ "email": eve.email,
        "teams": [{ "team_id": ops_id, "role": "reviewer" }] }] });
    let (status, created) = stack
        .post(&olivia, format!("/orgs/{org}/invitations"), invite)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let link = created["results"][0]["invite_url"].as_str().unwrap();
    let token = crate::invitations::token_of(link);
    let (status, joined) = crate::invitations::answer(&stack, Some(&eve), "accept", &token).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 1);
    // eve manages Ops at once.
    let (status, body) = stack.put(&eve, format!("{ops}/members/olivia"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test]
async fn an_invitation_whose_team_role_was_deleted_joins_the_team_as_member() {
    let stack = stack().await;
    let (org, ops, [olivia, _bo, _cy, _dee]) = org_with_a_team_role(&stack).await;
    let eve = stack.person("eve");
    let ops_id = ops.rsplit('/').next().unwrap();
    let invite = json!({ "invitations": [{ "email": eve.email,
        "teams": [{ "team_id": ops_id, "role": "reviewer" }] }] });
    let (status, created) = stack
        .post(&olivia, format!("/orgs/{org}/invitations"), invite)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // A pending invitation holds no role: the role goes.
    let (status, body) = stack
        .delete(&olivia, format!("/orgs/{org}/roles/reviewer"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let link = created["results"][0]["invite_url"].as_str().unwrap();
    let token = crate::invitations::token_of(link);
    let (status, joined) = crate::invitations::answer(&stack, Some(&eve), "accept", &token).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    let (_, page) = stack.get(&olivia, format!("{ops}/members")).await;
    let eves: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["user_id"] == "eve")
        .map(|m| m["role"].clone())
        .collect();
    assert_eq!(eves, [json!("member")], "{page}");
}

#[tokio::test]
async fn an_approval_gives_a_custom_team_role_of_the_right_scope() {
    let stack = Stack::start().await;
    let (olivia, adam) = (stack.person("olivia"), stack.person("adam"));
    let org = crate::join_requests::suggesting_org(&stack, &olivia, &adam).await;
    for (key, scope) in [("reviewer", "team"), ("billing", "organization")] {
        let role = json!({ "key": key, "name": key, "scope": scope,
            "permissions": ["teams:manage"] });
        let (status, body) = stack
            .post(&olivia, format!("/orgs/{org}/roles"), role)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let ada = crate::join_requests::colleague(&stack, "ada");
    let (status, filed) = stack
        .post(&ada, format!("/orgs/{org}/join"), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{filed}");
    let team = stack.first_team(&org).await;
    let approve = format!("/orgs/{org}/join-requests/ada/approve");
    let wrong = json!({ "teams": [{ "team_id": team, "role": "billing" }] });
    let (status, body) = stack.post(&adam, &approve, wrong).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(
        (&body["errors"][0]["code"], &body["errors"][0]["field"]),
        (&json!("wrong_role_scope"), &json!("teams[0].role")),
        "{body}"
    );
    let right = json!({ "teams": [{ "team_id": team, "role": "reviewer" }] });
    let (status, member) = stack.post(&adam, &approve, right).await;
    assert_eq!(status, StatusCode::OK, "{member}");
    assert_eq!(holders(&stack, &olivia, &org, "reviewer").await, 1);
    let (status, mine) = stack.get(&ada, format!("/orgs/{org}/permissions")).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(
        mine["teams"],
        json!([{ "team_id": team, "role": "reviewer", "permissions": ["teams:manage"] }])
    );
}
