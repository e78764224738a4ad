//! The authorization matrix: for every route and each kind of caller, the status the running
//! stack answers. The same table, rendered, is `tests/AUTHORIZATION.md`; a test keeps the two
//! equal, so the document a reader checks against the brief is the one that is tested.

use orgs_functions::routes::ROUTES;
use orgs_local::workspace_root;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Person, Stack};

const CALLERS: [&str; 7] = [
    "anonymous",
    "signed in, not a member",
    "deactivated member",
    "member",
    "admin",
    "owner",
    "the invitee",
];

/// Expected status per caller, in the order of `CALLERS`.
const MATRIX: &[(&str, [u16; 7])] = &[
    ("get-me", [401, 200, 200, 200, 200, 200, 200]),
    ("update-me", [401, 200, 200, 200, 200, 200, 200]),
    ("create-org", [401, 201, 201, 201, 201, 201, 201]),
    ("list-orgs", [401, 200, 200, 200, 200, 200, 200]),
    ("get-org", [401, 404, 404, 200, 200, 200, 404]),
    ("update-org", [401, 404, 404, 403, 200, 200, 404]),
    ("change-org-handle", [401, 404, 404, 403, 403, 200, 404]),
    ("delete-org", [401, 404, 404, 403, 403, 204, 404]),
    ("create-invitations", [401, 404, 404, 403, 201, 201, 404]),
    ("list-invitations", [401, 404, 404, 403, 200, 200, 404]),
    ("get-invitation", [401, 404, 404, 403, 200, 200, 404]),
    ("resend-invitation", [401, 404, 404, 403, 200, 200, 404]),
    ("revoke-invitation", [401, 404, 404, 403, 204, 204, 404]),
    ("lookup-invitation", [200, 200, 200, 200, 200, 200, 200]),
    ("accept-invitation", [401, 403, 403, 403, 403, 403, 200]),
    ("decline-invitation", [401, 403, 403, 403, 403, 403, 204]),
    ("list-my-invitations", [401, 200, 200, 200, 200, 200, 200]),
    ("list-members", [401, 404, 404, 200, 200, 200, 404]),
    ("get-member", [401, 404, 404, 200, 200, 200, 404]),
    ("update-member", [401, 404, 404, 403, 200, 200, 404]),
    ("remove-member", [401, 404, 404, 403, 204, 204, 404]),
    ("transfer-ownership", [401, 404, 404, 403, 403, 204, 404]),
    ("list-teams", [401, 404, 404, 200, 200, 200, 404]),
    ("create-team", [401, 404, 404, 403, 201, 201, 404]),
    ("get-team", [401, 404, 404, 200, 200, 200, 404]),
    ("rename-team", [401, 404, 404, 403, 200, 200, 404]),
    ("delete-team", [401, 404, 404, 403, 204, 204, 404]),
    ("list-team-members", [401, 404, 404, 200, 200, 200, 404]),
    ("add-team-member", [401, 404, 404, 403, 204, 204, 404]),
    ("remove-team-member", [401, 404, 404, 403, 204, 204, 404]),
    ("list-audit-log", [401, 404, 404, 403, 200, 200, 404]),
];

/// An organization with one person of every kind, a member to act on (`tara`, in My Team), a
/// team, and a pending invitation for `invitee`.
struct World {
    org_id: String,
    handle: String,
    people: [Option<Person>; 7],
    team_id: String,
    invitation_id: String,
    token: String,
    /// The member that member-targeting requests act on.
    tara: String,
}

fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_owned()
}

/// A world in a table of its own: moto copies a whole table for each item of a transaction, so
/// small tables keep the matrix fast.
async fn world() -> (Stack, World) {
    let stack = Stack::start().await;
    let world = populate(&stack).await;
    (stack, world)
}

async fn populate(stack: &Stack) -> World {
    let person = |kind: &str| stack.unique_person(kind);
    let (owner, admin, member, deactivated, tara) = (
        person("owner"),
        person("admin"),
        person("member"),
        person("off"),
        person("tara"),
    );
    let handle = format!("w-{}", short_id());
    let org_id = stack.create_org(&owner, &handle).await;
    for (who, role) in [
        (&admin, "admin"),
        (&member, "member"),
        (&deactivated, "member"),
        (&tara, "member"),
    ] {
        stack.join(&org_id, &owner, who, role).await;
    }
    let path = format!("/orgs/{org_id}/members/{}", deactivated.sub);
    stack
        .patch(&owner, &path, json!({ "status": "deactivated" }))
        .await;
    let (_, teams) = stack.get(&owner, format!("/orgs/{org_id}/teams")).await;
    let team_id = teams["items"][0]["team_id"]
        .as_str()
        .expect("My Team")
        .to_owned();
    let path = format!("/orgs/{org_id}/teams/{team_id}/members/{}", tara.sub);
    stack.put(&owner, &path, None).await;
    let invitee = person("invitee");
    let body = json!({ "invitations": [{ "email": invitee.email }] });
    let (_, created) = stack
        .post(&owner, format!("/orgs/{org_id}/invitations"), body)
        .await;
    let result = &created["results"][0];
    let token = result["invite_url"]
        .as_str()
        .and_then(|l| l.split("token=").nth(1))
        .expect("token")
        .to_owned();
    let invitation_id = result["invitation"]["invitation_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let stranger = person("stranger");
    World {
        org_id,
        handle,
        people: [
            None,
            Some(stranger),
            Some(deactivated),
            Some(member),
            Some(admin),
            Some(owner),
            Some(invitee),
        ],
        team_id,
        invitation_id,
        token,
        tara: tara.sub,
    }
}

/// The request that exercises `function` in `world`: path, query and a valid body.
fn request(function: &str, world: &World) -> (String, Option<Value>) {
    let tara = world.tara.as_str();
    let route = ROUTES
        .iter()
        .find(|r| r.function == function)
        .expect("routed");
    let path = route
        .path
        .replace("{org_id}", &world.org_id)
        .replace("{invitation_id}", &world.invitation_id)
        .replace("{team_id}", &world.team_id)
        .replace("{user_id}", tara);
    let token = json!({ "token": world.token });
    let body = match function {
        "update-me" => Some(json!({ "display_name": "Someone" })),
        "create-org" => Some(
            json!({ "handle": format!("n-{}", short_id()), "display_name": "N", "region": "us" }),
        ),
        "update-org" => Some(json!({ "display_name": "Renamed" })),
        "change-org-handle" => Some(json!({ "handle": format!("h-{}", short_id()) })),
        "create-invitations" => {
            Some(json!({ "invitations": [{ "email": format!("{}@example.com", short_id()) }] }))
        }
        "lookup-invitation" | "accept-invitation" | "decline-invitation" => Some(token),
        "update-member" => Some(json!({ "role": "admin" })),
        "transfer-ownership" => Some(json!({ "user_id": tara })),
        "create-team" => Some(json!({ "name": format!("Team {}", short_id()) })),
        "rename-team" => Some(json!({ "name": format!("Renamed {}", short_id()) })),
        _ => None,
    };
    let path = if function == "delete-org" {
        format!("{path}?confirm={}", world.handle)
    } else {
        path
    };
    (path, body)
}

#[tokio::test]
async fn every_route_answers_each_kind_of_caller_as_the_matrix_says() {
    let mut failures = Vec::new();
    for (function, expected) in MATRIX {
        let route = ROUTES
            .iter()
            .find(|r| r.function == *function)
            .expect("routed");
        let method = Method::from_bytes(route.method.as_bytes()).expect("method");
        // Refused callers change nothing, so they share one world; each caller that may change
        // something gets a world of its own.
        let shared = world().await;
        for (caller, want) in expected.iter().enumerate() {
            let fresh;
            let (stack, world) = if method != Method::GET && (200..300).contains(want) {
                fresh = world().await;
                (&fresh.0, &fresh.1)
            } else {
                (&shared.0, &shared.1)
            };
            let (path, body) = request(function, world);
            let (status, answer) = stack
                .call(world.people[caller].as_ref(), method.clone(), &path, body)
                .await;
            if status.as_u16() != *want {
                failures.push(format!(
                    "{function} as {}: {status}, expected {want}: {answer}",
                    CALLERS[caller]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn render() -> String {
    let mut table = format!("| Route | Function | {} |\n", CALLERS.join(" | "));
    table.push_str(&format!("|---|---|{}\n", "---|".repeat(CALLERS.len())));
    for (function, statuses) in MATRIX {
        let route = ROUTES
            .iter()
            .find(|r| r.function == *function)
            .expect("routed");
        let cells: Vec<String> = statuses.iter().map(u16::to_string).collect();
        table.push_str(&format!(
            "| `{} {}` | `{function}` | {} |\n",
            route.method,
            route.path,
            cells.join(" | ")
        ));
    }
    table
}

#[test]
fn the_matrix_covers_every_route_and_matches_the_document() {
    let mut covered: Vec<&str> = MATRIX.iter().map(|(f, _)| *f).collect();
    let mut routed: Vec<&str> = ROUTES.iter().map(|r| r.function).collect();
    covered.sort_unstable();
    routed.sort_unstable();
    assert_eq!(covered, routed, "every route has a row");
    let doc = std::fs::read_to_string(workspace_root().join("tests/AUTHORIZATION.md"))
        .expect("tests/AUTHORIZATION.md");
    let table = render();
    assert!(
        doc.contains(&table),
        "tests/AUTHORIZATION.md must hold this table:\n{table}"
    );
}
