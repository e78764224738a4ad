//! Custom roles: an organization's own sets of permissions, given to members by invitation,
//! approval or a role change, never beyond what the giver holds, and read on every request.

use orgs_shared::domain::Limits;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Options, Person, Stack, assert_problem};

fn keys(answer: &Value) -> Vec<String> {
    answer["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

async fn create_role(stack: &Stack, who: &Person, org: &str, body: Value) -> (StatusCode, Value) {
    stack.post(who, format!("/orgs/{org}/roles"), body).await
}

fn billing_manager() -> Value {
    json!({
        "key": "billing-manager",
        "name": "Billing manager",
        "description": "Keeps the invoices flowing.",
        "permissions": ["org:billing:update", "members:read"],
    })
}

#[tokio::test]
async fn a_billing_manager_sets_the_billing_email_and_nothing_an_admin_alone_may_do() {
    let stack = Stack::start().await;
    let (olivia, bill, bo) = (
        stack.person("olivia"),
        stack.person("bill"),
        stack.person("bo"),
    );
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &bo, "member").await;
    let (status, role) = create_role(&stack, &olivia, &org, billing_manager()).await;
    assert_eq!(status, StatusCode::CREATED, "{role}");
    assert_eq!(
        keys(&role),
        ["org:read", "org:billing:update", "members:read"]
    );
    assert_eq!(
        (&role["system"], &role["holders"]),
        (&json!(false), &json!(0))
    );
    // Invited with that role into a team as its maintainer, beside a plain member.
    let (status, team) = stack
        .post(
            &olivia,
            format!("/orgs/{org}/teams"),
            json!({ "name": "Finance" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    let team_id = team["team_id"].as_str().unwrap().to_owned();
    let body = json!({ "invitations": [{ "email": bill.email, "role": "billing-manager",
        "teams": [{ "team_id": team_id, "role": "maintainer" }] }] });
    let (status, created) = stack
        .post(&olivia, format!("/orgs/{org}/invitations"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let link = created["results"][0]["invite_url"].as_str().unwrap();
    let token = link.split("token=").nth(1).unwrap();
    let (status, joined) = stack
        .post(&bill, "/invitations/accept", json!({ "token": token }))
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    let (_, read) = stack
        .get(&olivia, format!("/orgs/{org}/roles/billing-manager"))
        .await;
    assert_eq!(read["holders"], 1);
    // As the team's maintainer, they manage its members, and only its members.
    let finance = format!("/orgs/{org}/teams/{team_id}/members");
    let (status, body) = stack
        .put(&bill, format!("{finance}/{}", bo.sub), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = stack
        .patch(
            &bill,
            format!("{finance}/{}", bo.sub),
            json!({ "role": "maintainer" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = stack.delete(&bill, format!("{finance}/{}", bo.sub)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, teams) = stack.get(&olivia, format!("/orgs/{org}/teams")).await;
    let my_team = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "My Team")
        .map(|t| t["team_id"].as_str().unwrap().to_owned())
        .unwrap();
    let (status, body) = stack
        .put(
            &bill,
            format!("/orgs/{org}/teams/{my_team}/members/{}", bo.sub),
            None,
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack
        .patch(
            &bill,
            format!("/orgs/{org}/teams/{team_id}"),
            json!({ "name": "Money" }),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");

    // What the role grants, and the token's answer for the apps.
    let (status, mine) = stack.get(&bill, format!("/orgs/{org}/permissions")).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["role"], "billing-manager");
    assert_eq!(
        keys(&mine),
        ["org:read", "org:billing:update", "members:read"]
    );
    let (_, members) = stack.get(&bill, format!("/orgs/{org}/members")).await;
    let roles: Vec<&str> = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert!(roles.contains(&"billing-manager"), "{members}");

    // The billing address: theirs to set; the rest of the profile is not.
    let org_path = format!("/orgs/{org}");
    let (status, changed) = stack
        .patch(
            &bill,
            &org_path,
            json!({ "billing_email": "pay@acme.example" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["role"], "billing-manager");
    let before = stack.snapshot().await;
    let (status, body) = stack
        .patch(&bill, &org_path, json!({ "display_name": "Bill's Acme" }))
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack
        .patch(
            &bill,
            &org_path,
            json!({ "display_name": "Bill's Acme", "billing_email": "x@acme.example" }),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // Inviting, and every escalation tried: a role above theirs, a wider role, their own role.
    let invite =
        |role: &str| json!({ "invitations": [{ "email": "eve@example.com", "role": role }] });
    let invitations = format!("/orgs/{org}/invitations");
    for role in ["member", "billing-manager", "admin"] {
        let (status, body) = stack.post(&bill, &invitations, invite(role)).await;
        assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
    let (status, body) = create_role(
        &stack,
        &bill,
        &org,
        json!({ "key": "wider", "name": "Wider", "permissions": ["org:billing:update"] }),
    )
    .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let bills = format!("/orgs/{org}/members/{}", bill.sub);
    let (status, body) = stack.patch(&bill, &bills, json!({ "role": "admin" })).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let bos = format!("/orgs/{org}/members/{}", bo.sub);
    let (status, body) = stack
        .patch(&bill, &bos, json!({ "role": "billing-manager" }))
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack
        .patch(
            &bill,
            format!("/orgs/{org}/roles/billing-manager"),
            json!({ "permissions": ["org:billing:update", "members:read", "members:invite"] }),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(stack.snapshot().await, before, "refusals change nothing");

    // A change of the role's permissions holds from the next request, with nobody rewritten.
    let (status, narrowed) = stack
        .patch(
            &olivia,
            format!("/orgs/{org}/roles/billing-manager"),
            json!({ "permissions": ["members:read"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{narrowed}");
    assert_eq!(narrowed["holders"], 1);
    let (status, body) = stack
        .patch(
            &bill,
            &org_path,
            json!({ "billing_email": "late@acme.example" }),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn roles_are_listed_read_changed_and_deleted_only_once_nobody_holds_them() {
    let stack = Stack::start().await;
    let (olivia, ada, bill) = (
        stack.person("olivia"),
        stack.person("ada"),
        stack.person("bill"),
    );
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &ada, "admin").await;
    let roles = format!("/orgs/{org}/roles");
    let (status, created) = create_role(&stack, &ada, &org, billing_manager()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, again) = create_role(&stack, &olivia, &org, billing_manager()).await;
    assert_problem(status, &again, StatusCode::CONFLICT, "role-exists");
    for (body, field) in [
        (json!({ "key": "owner", "name": "Boss" }), "key"),
        (json!({ "key": "Billing", "name": "B" }), "key"),
        (json!({ "key": "ok-key", "name": "" }), "name"),
        (
            json!({ "key": "ok-key", "name": "B", "permissions": ["ships:sail"] }),
            "permissions[0]",
        ),
    ] {
        let (status, refused) = create_role(&stack, &olivia, &org, body).await;
        assert_problem(status, &refused, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(refused["errors"][0]["field"], field, "{refused}");
    }
    // An admin creates no role with what only owners hold.
    let (status, refused) = create_role(
        &stack,
        &ada,
        &org,
        json!({ "key": "deleter", "name": "Deleter", "permissions": ["org:delete"] }),
    )
    .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");

    let (status, list) = stack.get(&ada, &roles).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let listed: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["owner", "admin", "member", "billing-manager"]);
    let (status, admin) = stack.get(&ada, format!("{roles}/admin")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(admin["system"], true);
    assert!(keys(&admin).contains(&"roles:manage".to_owned()));

    stack.join(&org, &olivia, &bill, "billing-manager").await;
    let listed = |page: &Value| -> Vec<String> {
        let items = page["items"].as_array().unwrap();
        items
            .iter()
            .map(|m| m["user_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, holders) = stack
        .get(&ada, format!("/orgs/{org}/members?role=billing-manager"))
        .await;
    assert_eq!(listed(&holders), ["bill"]);
    let (_, members) = stack
        .get(&ada, format!("/orgs/{org}/members?role=member"))
        .await;
    assert!(listed(&members).is_empty(), "{members}");
    let one = format!("{roles}/billing-manager");
    let (status, held) = stack.delete(&olivia, &one).await;
    assert_problem(status, &held, StatusCode::CONFLICT, "role-in-use");
    assert_eq!(held["holders"], 1);
    let bills = format!("/orgs/{org}/members/{}", bill.sub);
    let (status, moved) = stack.patch(&ada, &bills, json!({ "role": "member" })).await;
    assert_eq!((status, &moved["role"]), (StatusCode::OK, &json!("member")));
    let (_, read) = stack.get(&ada, &one).await;
    assert_eq!(read["holders"], 0);
    let (status, _) = stack.delete(&olivia, &one).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = stack.get(&ada, &one).await;
    assert_problem(status, &gone, StatusCode::NOT_FOUND, "not-found");
    // A role that is not there is given to nobody.
    let (status, refused) = stack
        .patch(&ada, &bills, json!({ "role": "billing-manager" }))
        .await;
    assert_problem(status, &refused, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(refused["errors"][0]["code"], "unknown_role");
}

#[tokio::test]
async fn leaving_and_ownership_free_the_role_and_the_limit_holds() {
    let stack = Stack::start_with(Options {
        limits: Some(Limits {
            roles_per_org: 1,
            ..Limits::default()
        }),
        ..Options::default()
    })
    .await;
    let (olivia, bill) = (stack.person("olivia"), stack.person("bill"));
    let org = stack.create_org(&olivia, "acme").await;
    let (status, _) = create_role(&stack, &olivia, &org, billing_manager()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = create_role(
        &stack,
        &olivia,
        &org,
        json!({ "key": "second", "name": "Second" }),
    )
    .await;
    assert_problem(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "limit-reached",
    );
    assert_eq!(body["limit"], "roles_per_org");

    stack.join(&org, &olivia, &bill, "billing-manager").await;
    let one = format!("/orgs/{org}/roles/billing-manager");
    let (_, read) = stack.get(&olivia, &one).await;
    assert_eq!(read["holders"], 1);
    // Made owner, a holder holds the system role instead.
    let (status, body) = stack
        .post(
            &olivia,
            format!("/orgs/{org}/transfer-ownership"),
            json!({ "user_id": bill.sub }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, read) = stack.get(&olivia, &one).await;
    assert_eq!(read["holders"], 0);
    let olivias = format!("/orgs/{org}/members/{}", olivia.sub);
    let (status, body) = stack
        .patch(&bill, &olivias, json!({ "role": "billing-manager" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Leaving gives the role up.
    let (status, _) = stack.delete(&olivia, &olivias).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, read) = stack.get(&bill, &one).await;
    assert_eq!(read["holders"], 0);
    let (status, _) = stack.delete(&bill, &one).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_invitation_whose_role_was_deleted_joins_as_member() {
    let stack = Stack::start().await;
    let (olivia, eve) = (stack.person("olivia"), stack.person("eve"));
    let org = stack.create_org(&olivia, "acme").await;
    let (status, _) = create_role(&stack, &olivia, &org, billing_manager()).await;
    assert_eq!(status, StatusCode::CREATED);
    let body = json!({ "invitations": [{ "email": eve.email, "role": "billing-manager" }] });
    let (status, created) = stack
        .post(&olivia, format!("/orgs/{org}/invitations"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["results"][0]["invitation"]["role"],
        "billing-manager"
    );
    let link = created["results"][0]["invite_url"].as_str().unwrap();
    let token = link.split("token=").nth(1).unwrap();
    let (status, _) = stack
        .delete(&olivia, format!("/orgs/{org}/roles/billing-manager"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, joined) = stack
        .post(&eve, "/invitations/accept", json!({ "token": token }))
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["role"], "member");
    // An unknown role is refused when inviting, and nothing is sent.
    let body =
        json!({ "invitations": [{ "email": "zed@example.com", "role": "billing-manager" }] });
    let (status, refused) = stack
        .post(&olivia, format!("/orgs/{org}/invitations"), body)
        .await;
    assert_problem(status, &refused, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(refused["errors"][0]["field"], "invitations[0].role");
    assert!(stack.mail_to("zed@example.com").await.is_empty());
}

#[tokio::test]
async fn only_those_who_hold_a_roles_permissions_resend_or_revoke_an_invitation_to_it() {
    let stack = Stack::start().await;
    let (olivia, ada) = (stack.person("olivia"), stack.person("ada"));
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &ada, "admin").await;
    let body = json!({ "key": "closer", "name": "Closer", "permissions": ["org:delete"] });
    let (status, _) = create_role(&stack, &olivia, &org, body).await;
    assert_eq!(status, StatusCode::CREATED);
    let invite = json!({ "invitations": [{ "email": "eve@example.com", "role": "closer" }] });
    let (status, body) = stack
        .post(&ada, format!("/orgs/{org}/invitations"), invite.clone())
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, created) = stack
        .post(&olivia, format!("/orgs/{org}/invitations"), invite)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["results"][0]["invitation"]["invitation_id"]
        .as_str()
        .unwrap();
    let one = format!("/orgs/{org}/invitations/{id}");
    let (status, body) = stack.post(&ada, format!("{one}/resend"), None).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack.delete(&ada, &one).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, _) = stack.delete(&olivia, &one).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}
