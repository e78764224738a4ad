//! The authorization matrix: for every route and each kind of caller, the status the running
//! stack answers. Each row follows from who the route is for (`Who`, declared with the route in
//! functions/src/spec/catalog.rs) and its success status (the lowest 2xx infra/openapi.yaml gives the
//! operation). The same table, rendered, is `tests/AUTHORIZATION.md`; a test keeps the two
//! equal, and `UPDATE_AUTHZ_DOC=1 cargo test -p orgs-local --test api authz` rewrites the
//! document's table from this one.

use orgs_functions::routes::{ROUTES, Route, Who};
use orgs_local::workspace_root;
use orgs_shared::domain::Grants;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Person, Stack};

const CALLERS: [&str; 10] = [
    "anonymous",
    "signed in, not a member",
    "deactivated member",
    "member",
    "admin",
    "owner",
    "the invitee",
    "the requester",
    "team maintainer",
    "billing manager (custom role)",
];

/// The permissions of the custom role `billing-manager` (it grants `org:read` too).
const BILLING_MANAGER: [&str; 2] = ["org:billing:update", "members:read"];

/// What each kind of caller, in the order of `CALLERS`, gets from `route`, which answers `ok`
/// on success: the system roles and the team maintainer by the route's `Who`; the holder of a
/// custom role by whether it grants the permission the route needs (elsewhere, as any member).
fn statuses(route: &Route, ok: u16) -> [u16; 10] {
    let [a, b, c, member, e, f, g, h, i] = by_system_role(route.who, ok);
    let custom = match route.needs {
        Some(needs) if Grants::of_keys(BILLING_MANAGER).holds(needs.permission) => ok,
        Some(_) => 403,
        None => member,
    };
    [a, b, c, member, e, f, g, h, i, custom]
}

/// What each kind of caller but the holder of a custom role gets from a route for `who`.
/// The team maintainer is a plain member of the organization who maintains the world's team:
/// a member everywhere but on the routes a team role opens.
fn by_system_role(who: Who, ok: u16) -> [u16; 9] {
    match who {
        Who::Anyone => [ok; 9],
        Who::SignedIn => [401, ok, ok, ok, ok, ok, ok, ok, ok],
        Who::Invitee => [401, 403, 403, 403, 403, 403, ok, 403, 403],
        Who::Colleagues => [401, ok, 409, 409, 409, 409, 403, ok, 409],
        Who::Requester => [401, 404, 409, 409, 409, 409, 404, ok, 409],
        Who::Members => [401, 404, 404, ok, ok, ok, 404, 404, ok],
        Who::Admins => [401, 404, 404, 403, ok, ok, 404, 404, 403],
        Who::Owners => [401, 404, 404, 403, 403, ok, 404, 404, 403],
        Who::TeamManagers => [401, 404, 404, 403, ok, ok, 404, 404, ok],
    }
}

/// The status of success the OpenAPI document gives a route: its lowest 2xx (`201` for
/// create-invitations, whose `207` is a partial success).
fn success(doc: &serde_yaml_ng::Value, route: &Route) -> u16 {
    let operation = &doc["paths"][route.path][route.method.to_lowercase()];
    let codes = operation["responses"].as_mapping().into_iter().flatten();
    codes
        .filter_map(|(code, _)| code.as_str()?.parse::<u16>().ok())
        .filter(|code| (200..300).contains(code))
        .min()
        .unwrap_or_else(|| panic!("{} {} documents no 2xx", route.method, route.path))
}

/// Every route with the status each kind of caller gets, in the order of `ROUTES`.
fn matrix() -> Vec<(&'static Route, [u16; 10])> {
    let text = std::fs::read_to_string(workspace_root().join("infra/openapi.yaml"))
        .expect("infra/openapi.yaml");
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("valid YAML");
    ROUTES
        .iter()
        .map(|route| (route, statuses(route, success(&doc, route))))
        .collect()
}

/// An organization with one person of every kind, a member to act on (`tara`, in My Team), a
/// team (My Team, which a plain member maintains), a pending invitation for `invitee`, and a
/// pending join request of `requester`'s.
struct World {
    org_id: String,
    handle: String,
    people: [Option<Person>; 10],
    team_id: String,
    invitation_id: String,
    token: String,
    /// An email domain the organization verified, open to `auto_join`; the stranger's address
    /// is at it.
    domain: String,
    /// The member that member-targeting requests act on.
    tara: String,
    /// Who filed the pending join request, when the domain's policy was `suggest`.
    requester: String,
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
    let (owner, admin, member, deactivated, tara, maintainer, billing) = (
        person("owner"),
        person("admin"),
        person("member"),
        person("off"),
        person("tara"),
        person("maint"),
        person("billing"),
    );
    let handle = format!("w-{}", short_id());
    let org_id = stack.create_org(&owner, &handle).await;
    // The custom role a caller holds, and one nobody holds, for the role routes to act on.
    for (key, permissions) in [("billing-manager", &BILLING_MANAGER[..]), ("spare", &[])] {
        let body = json!({ "key": key, "name": key, "permissions": permissions });
        let (status, _) = stack
            .post(&owner, format!("/orgs/{org_id}/roles"), body)
            .await;
        assert_eq!(status, 201, "creating {key}");
    }
    for (who, role) in [
        (&admin, "admin"),
        (&member, "member"),
        (&deactivated, "member"),
        (&tara, "member"),
        (&maintainer, "member"),
        (&billing, "billing-manager"),
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
    let path = format!("/orgs/{org_id}/teams/{team_id}/members/{}", maintainer.sub);
    let (status, _) = stack
        .put(&owner, &path, Some(json!({ "role": "maintainer" })))
        .await;
    assert_eq!(status, 204, "making the team's maintainer");
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
    let domain = format!("{}.example", short_id());
    let (status, added) = stack
        .post(
            &owner,
            format!("/orgs/{org_id}/domains"),
            json!({ "domain": domain }),
        )
        .await;
    assert_eq!(status, 201, "adding {domain}");
    // Its record is published, so that an owner's verification succeeds.
    let record = &added["record"];
    stack.dns.publish(
        record["name"].as_str().expect("name"),
        &[record["value"].as_str().expect("value")],
    );
    // Verified, and open to people at it: the stranger's address is there.
    let (status, _) = stack
        .post(
            &owner,
            format!("/orgs/{org_id}/domains/{domain}/verify"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "verifying {domain}");
    // A colleague asks to join while the domain suggests the organization; then it is opened.
    let policy = format!("/orgs/{org_id}/domains/{domain}");
    let (status, _) = stack
        .patch(&owner, &policy, json!({ "enrollment": "suggest" }))
        .await;
    assert_eq!(status, 200, "suggesting {domain}");
    let requester = stack.person_with_email(
        &format!("requester-{}", short_id()),
        &format!("requester@{domain}"),
        true,
    );
    let (status, _) = stack
        .post(&requester, format!("/orgs/{org_id}/join"), json!({}))
        .await;
    assert_eq!(status, 202, "asking to join");
    let (status, _) = stack
        .patch(
            &owner,
            format!("/orgs/{org_id}/domains/{domain}"),
            json!({ "enrollment": "auto_join" }),
        )
        .await;
    assert_eq!(status, 200, "opening {domain}");
    let stranger = stack.person_with_email(
        &format!("stranger-{}", short_id()),
        &format!("stranger@{domain}"),
        true,
    );
    // Its single sign-on, for the routes that read, change and remove it.
    let (status, _) = stack
        .put(&owner, format!("/orgs/{org_id}/sso"), crate::sso::saml())
        .await;
    assert_eq!(status, 200, "connecting single sign-on");
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
            Some(requester.clone()),
            Some(maintainer),
            Some(billing),
        ],
        team_id,
        invitation_id,
        token,
        domain,
        tara: tara.sub,
        requester: requester.sub,
    }
}

/// The request that exercises `function` in `world`: path, query and a valid body.
fn request(function: &str, world: &World) -> (String, Option<Value>) {
    // Join requests are named by their requester; other routes act on `tara`.
    let tara = if function.ends_with("-join-request") {
        world.requester.as_str()
    } else {
        world.tara.as_str()
    };
    let route = ROUTES
        .iter()
        .find(|r| r.function == function)
        .expect("routed");
    let path = route
        .path
        .replace("{org_id}", &world.org_id)
        .replace("{invitation_id}", &world.invitation_id)
        .replace("{team_id}", &world.team_id)
        .replace("{domain}", &world.domain)
        .replace("{role}", "spare")
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
        "update-team-member" => Some(json!({ "role": "maintainer" })),
        "transfer-ownership" => Some(json!({ "user_id": tara })),
        "create-team" => Some(json!({ "name": format!("Team {}", short_id()) })),
        "rename-team" => Some(json!({ "name": format!("Renamed {}", short_id()) })),
        "add-domain" => Some(json!({ "domain": format!("{}.example", short_id()) })),
        "update-domain" => Some(json!({ "enrollment": "suggest" })),
        "approve-join-request" => Some(json!({ "role": "member" })),
        "create-role" => Some(json!({ "key": format!("r-{}", short_id()), "name": "R" })),
        "update-role" => Some(json!({ "name": "Renamed" })),
        "put-sso" => Some(crate::sso::saml()),
        _ => None,
    };
    let path = match function {
        "delete-org" => format!("{path}?confirm={}", world.handle),
        "discover-sso" => format!("{path}?email=someone%40{}", world.domain),
        _ => path,
    };
    (path, body)
}

#[tokio::test]
async fn every_route_answers_each_kind_of_caller_as_the_matrix_says() {
    let mut failures = Vec::new();
    for (route, expected) in matrix() {
        let function = route.function;
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
    for (route, statuses) in matrix() {
        let cells: Vec<String> = statuses.iter().map(u16::to_string).collect();
        table.push_str(&format!(
            "| `{} {}` | `{}` | {} |\n",
            route.method,
            route.path,
            route.function,
            cells.join(" | ")
        ));
    }
    table
}

/// `doc` with its table (from the header row to the last row after it) replaced by `table`.
fn with_table(doc: &str, table: &str) -> Option<String> {
    let start = doc.find("| Route | Function |")?;
    let rows = doc[start..]
        .split_inclusive('\n')
        .take_while(|line| line.starts_with('|'))
        .map(str::len)
        .sum::<usize>();
    Some(format!("{}{table}{}", &doc[..start], &doc[start + rows..]))
}

#[test]
fn the_document_shows_the_matrix_that_runs() {
    let path = workspace_root().join("tests/AUTHORIZATION.md");
    let doc = std::fs::read_to_string(&path).expect("tests/AUTHORIZATION.md");
    let table = render();
    if std::env::var_os("UPDATE_AUTHZ_DOC").is_some() {
        let updated = with_table(&doc, &table).expect("a table in tests/AUTHORIZATION.md");
        std::fs::write(&path, updated).expect("writing tests/AUTHORIZATION.md");
        return;
    }
    assert!(
        doc.contains(&table),
        "tests/AUTHORIZATION.md must hold this table (UPDATE_AUTHZ_DOC=1 cargo test -p \
         orgs-local --test api authz rewrites it):\n{table}"
    );
}

#[test]
fn a_document_table_is_replaced_whole() {
    let doc = "intro\n\n| Route | Function | a |\n|---|---|---|\n| old | row | 1 |\n\nafter\n";
    let table = "| Route | Function | a |\n|---|---|---|\n| new | row | 2 |\n";
    assert_eq!(
        with_table(doc, table).as_deref(),
        Some("intro\n\n| Route | Function | a |\n|---|---|---|\n| new | row | 2 |\n\nafter\n")
    );
    assert_eq!(with_table("no table\n", table), None);
}
