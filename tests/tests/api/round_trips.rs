//! The DynamoDB requests each route makes, counted on the wire against moto. A route inside an
//! organization reads every item whose key it knows (its invitation, team, target membership,
//! profile, today's email counter) in the one consistent BatchGetItem that authorizes the
//! caller; then a change is one transaction. These are the minimums the benchmark
//! (`tests/src/bin/orgs-bench/cases.rs`) holds the functions to, and docs/data-model.md's
//! access patterns.

use std::collections::BTreeMap;

use orgs_local::counting::RequestCounter;
use orgs_shared::store::Stored;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Options, Person, Stack};

const BATCH_GET: &str = "BatchGetItem";
const QUERY: &str = "Query";
const TRANSACTION: &str = "TransactWriteItems";

struct Counted {
    stack: Stack,
    counter: RequestCounter,
}

/// DynamoDB requests by operation, e.g. `[(BATCH_GET, 1), (TRANSACTION, 1)]`.
fn requests(expected: &[(&str, u64)]) -> BTreeMap<String, u64> {
    expected
        .iter()
        .map(|(operation, count)| ((*operation).to_owned(), *count))
        .collect()
}

impl Counted {
    async fn start() -> Self {
        let counter = RequestCounter::default();
        let stack = Stack::start_with(Options {
            dynamodb_counter: Some(counter.clone()),
            ..Options::default()
        })
        .await;
        Self { stack, counter }
    }

    /// Sends one request, checks its status, and checks the DynamoDB requests it made.
    async fn expect(
        &self,
        who: &Person,
        (method, path, body): (Method, &str, Option<Value>),
        status: StatusCode,
        expected: &[(&str, u64)],
    ) -> Value {
        self.counter.take();
        let (got, answer) = self.stack.call(who, method.clone(), path, body).await;
        assert_eq!(got, status, "{method} {path}: {answer}");
        assert_eq!(
            self.counter.take(),
            requests(expected),
            "DynamoDB requests of {method} {path}"
        );
        answer
    }

    /// Creates a team as `who` and returns its path.
    async fn team(&self, who: &Person, org: &str, name: &str) -> String {
        let teams = format!("/orgs/{org}/teams");
        let (status, team) = self.stack.post(who, &teams, json!({ "name": name })).await;
        assert_eq!(status, StatusCode::CREATED, "{team}");
        format!("{teams}/{}", team["team_id"].as_str().unwrap())
    }
}

fn team_id(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

#[tokio::test]
async fn invitation_routes_read_once_and_write_once() {
    let c = Counted::start().await;
    let alice = c.stack.person("alice");
    let org = c.stack.create_org(&alice, "acme").await;
    let ops = c.team(&alice, &org, "Ops").await;
    let invitations = format!("/orgs/{org}/invitations");
    let read_write = [(BATCH_GET, 1), (TRANSACTION, 1)];

    // Org, alice's membership and profile, today's email counter, whether anyone holds the
    // address: one read; one transaction.
    let body = json!({ "invitations": [{ "email": "bob@example.com" }] });
    let created = c
        .expect(
            &alice,
            (Method::POST, &invitations, Some(body)),
            StatusCode::CREATED,
            &read_write,
        )
        .await;
    let bob_invitation = format!(
        "{invitations}/{}",
        created["results"][0]["invitation"]["invitation_id"]
            .as_str()
            .unwrap()
    );

    // The teams named come with that read too; one transaction for all the invitees.
    let body = json!({ "invitations": [
        { "email": "carol@example.com", "teams": [team_id(&ops)] },
        { "email": "dan@example.com", "teams": [team_id(&ops)] },
    ] });
    c.expect(
        &alice,
        (Method::POST, &invitations, Some(body)),
        StatusCode::CREATED,
        &read_write,
    )
    .await;
    // An unknown team is refused from that same read, before any write.
    let body = json!({ "invitations": [{ "email": "eve@example.com", "teams": ["team_0123456789abcdef0123456789abcdef"] }] });
    c.expect(
        &alice,
        (Method::POST, &invitations, Some(body)),
        StatusCode::BAD_REQUEST,
        &[(BATCH_GET, 1)],
    )
    .await;

    // Org, alice's membership and the invitation: one read.
    let shown = c
        .expect(
            &alice,
            (Method::GET, &bob_invitation, None),
            StatusCode::OK,
            &[(BATCH_GET, 1)],
        )
        .await;
    assert_eq!(shown["email"], "bob@example.com");
    // ... with alice's profile and today's counter for a resend; then whether anyone holds
    // the address it names (which email goes out), beside SES's suppression list.
    let resend = format!("{bob_invitation}/resend");
    c.expect(
        &alice,
        (Method::POST, &resend, None),
        StatusCode::OK,
        &[(BATCH_GET, 1), ("GetItem", 1), (TRANSACTION, 1)],
    )
    .await;
    c.expect(
        &alice,
        (Method::DELETE, &bob_invitation, None),
        StatusCode::NO_CONTENT,
        &read_write,
    )
    .await;
    // Refusals come from the read as well: a stranger, an ended invitation.
    let stranger = c.stack.person("mallory");
    c.expect(
        &stranger,
        (Method::GET, &bob_invitation, None),
        StatusCode::NOT_FOUND,
        &[(BATCH_GET, 1)],
    )
    .await;
    c.expect(
        &alice,
        (Method::DELETE, &bob_invitation, None),
        StatusCode::CONFLICT,
        &[(BATCH_GET, 1)],
    )
    .await;
}

#[tokio::test]
async fn member_routes_read_the_target_and_its_profile_with_the_caller() {
    let c = Counted::start().await;
    let (alice, bob) = (c.stack.person("alice"), c.stack.person("bob"));
    let org = c.stack.create_org(&alice, "acme").await;
    c.stack.join(&org, &alice, &bob, "member").await;
    let body = json!({ "display_name": "Bob Builder" });
    let (status, _) = c.stack.patch(&bob, "/me", body).await;
    assert_eq!(status, StatusCode::OK);
    let members = format!("/orgs/{org}/members");
    let bob_path = format!("{members}/bob");

    // Org, alice's and bob's memberships and bob's profile: one read.
    let shown = c
        .expect(
            &alice,
            (Method::GET, &bob_path, None),
            StatusCode::OK,
            &[(BATCH_GET, 1)],
        )
        .await;
    assert_eq!(shown["display_name"], "Bob Builder");
    // Oneself: the same membership is asked for once.
    c.expect(
        &alice,
        (Method::GET, &format!("{members}/alice"), None),
        StatusCode::OK,
        &[(BATCH_GET, 1)],
    )
    .await;

    // The answer is what was read plus the change.
    let promote = json!({ "role": "admin" });
    let changed = c
        .expect(
            &alice,
            (Method::PATCH, &bob_path, Some(promote.clone())),
            StatusCode::OK,
            &[(BATCH_GET, 1), (TRANSACTION, 1)],
        )
        .await;
    assert_eq!(
        (&changed["role"], &changed["display_name"]),
        (&json!("admin"), &json!("Bob Builder"))
    );
    let (_, stored) = c.stack.get(&bob, &bob_path).await;
    assert_eq!(stored, changed, "the answer is what is stored");
    // Nothing to change: the read alone.
    c.expect(
        &alice,
        (Method::PATCH, &bob_path, Some(promote)),
        StatusCode::OK,
        &[(BATCH_GET, 1)],
    )
    .await;

    // The listing needs the page's profiles (handle, display name), which live in each
    // user's own partition: a second BatchGetItem after the Query.
    let page = c
        .expect(
            &alice,
            (Method::GET, &members, None),
            StatusCode::OK,
            &[(BATCH_GET, 2), (QUERY, 1)],
        )
        .await;
    assert_eq!(page["items"][1]["display_name"], "Bob Builder");
}

#[tokio::test]
async fn team_routes_read_the_team_with_the_caller() {
    let c = Counted::start().await;
    let (alice, bob) = (c.stack.person("alice"), c.stack.person("bob"));
    let org = c.stack.create_org(&alice, "acme").await;
    c.stack.join(&org, &alice, &bob, "member").await;
    let ops = c.team(&alice, &org, "Ops").await;
    let read_write = [(BATCH_GET, 1), (TRANSACTION, 1)];

    c.expect(
        &bob,
        (Method::GET, &ops, None),
        StatusCode::OK,
        &[(BATCH_GET, 1)],
    )
    .await;
    let rename = json!({ "name": "SRE" });
    c.expect(
        &alice,
        (Method::PATCH, &ops, Some(rename)),
        StatusCode::OK,
        &read_write,
    )
    .await;
    let team_members = format!("{ops}/members");
    c.expect(
        &bob,
        (Method::GET, &team_members, None),
        StatusCode::OK,
        &[(BATCH_GET, 1), (QUERY, 1)],
    )
    .await;

    // Org, alice's and bob's memberships and the team: one read.
    let bob_in_ops = format!("{team_members}/bob");
    c.expect(
        &alice,
        (Method::PUT, &bob_in_ops, None),
        StatusCode::NO_CONTENT,
        &read_write,
    )
    .await;
    // With members, their profiles follow the Query, as for the organization's members.
    c.expect(
        &bob,
        (Method::GET, &team_members, None),
        StatusCode::OK,
        &[(BATCH_GET, 2), (QUERY, 1)],
    )
    .await;
    // Org, alice's membership, the team and bob's row in it: one read.
    c.expect(
        &alice,
        (Method::DELETE, &bob_in_ops, None),
        StatusCode::NO_CONTENT,
        &read_write,
    )
    .await;
    c.expect(
        &alice,
        (Method::DELETE, &bob_in_ops, None),
        StatusCode::NOT_FOUND,
        &[(BATCH_GET, 1)],
    )
    .await;

    // The team's member count says it is empty: one transaction deletes it.
    c.expect(
        &alice,
        (Method::DELETE, &ops, None),
        StatusCode::NO_CONTENT,
        &read_write,
    )
    .await;
    c.expect(
        &bob,
        (Method::GET, &ops, None),
        StatusCode::NOT_FOUND,
        &[(BATCH_GET, 1)],
    )
    .await;
    assert!(
        !c.stack
            .org_items(&org)
            .await
            .iter()
            .any(|what| what.names(team_id(&ops))
                || matches!(what, Stored::TeamName { name, .. } if name == "sre")),
        "the team and its name are gone"
    );

    // A team with members goes in steps: mark it deleting, then per page of members a
    // consistent Query and a transaction, a Query that finds no more, and the team item.
    let dev = c.team(&alice, &org, "Dev").await;
    let (status, _) = c
        .stack
        .put(&alice, format!("{dev}/members/bob"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    c.expect(
        &alice,
        (Method::DELETE, &dev, None),
        StatusCode::NO_CONTENT,
        &[(BATCH_GET, 1), (TRANSACTION, 3), (QUERY, 2)],
    )
    .await;
}

#[tokio::test]
async fn join_request_routes_read_once_and_write_once() {
    let c = Counted::start().await;
    let olivia = c.stack.person("olivia");
    let org = crate::joining::verified_org(&c.stack, &olivia, "acme", "acme.example").await;
    let suggest = json!({ "enrollment": "suggest" });
    crate::joining::set_policy(&c.stack, &olivia, &org, "acme.example", suggest).await;
    let [ada, bob] = ["ada", "bob"].map(|name| {
        c.stack
            .person_with_email(name, &format!("{name}@acme.example"), true)
    });
    let once = [(BATCH_GET, 1), (TRANSACTION, 1)];
    let join = format!("/orgs/{org}/join");
    for person in [&ada, &bob] {
        let filing = (Method::POST, join.as_str(), Some(json!({})));
        c.expect(person, filing, StatusCode::ACCEPTED, &once).await;
    }
    let suggestions = (Method::GET, "/me/suggestions", None);
    c.expect(
        &ada,
        suggestions,
        StatusCode::OK,
        &[("GetItem", 1), (BATCH_GET, 1)],
    )
    .await;
    let list = format!("/orgs/{org}/join-requests");
    let listing = (Method::GET, list.as_str(), None);
    c.expect(
        &olivia,
        listing,
        StatusCode::OK,
        &[(BATCH_GET, 1), (QUERY, 1)],
    )
    .await;
    let approve = format!("{list}/ada/approve");
    let approval = (Method::POST, approve.as_str(), Some(json!({})));
    c.expect(&olivia, approval, StatusCode::OK, &once).await;
    let withdrawal = (Method::DELETE, join.as_str(), None);
    c.expect(&bob, withdrawal, StatusCode::NO_CONTENT, &once)
        .await;
    let filing = (Method::POST, join.as_str(), Some(json!({})));
    c.expect(&bob, filing, StatusCode::ACCEPTED, &once).await;
    let deny = format!("{list}/bob/deny");
    let denial = (Method::POST, deny.as_str(), None);
    c.expect(&olivia, denial, StatusCode::OK, &once).await;
}

/// A custom role's holder costs the gate one more BatchGetItem (their role, so that a change of
/// its permissions holds at once); the holders of system roles, none. Changing a member to a
/// custom role reads it in one more request, and writes once.
#[tokio::test]
async fn a_custom_role_costs_its_holders_one_read_and_nobody_else_any() {
    let c = Counted::start().await;
    let (alice, bill) = (c.stack.person("alice"), c.stack.person("bill"));
    let org = c.stack.create_org(&alice, "acme").await;
    let body = json!({ "key": "billing-manager", "name": "Billing",
        "permissions": ["org:billing:update", "members:read"] });
    c.expect(
        &alice,
        (Method::POST, &format!("/orgs/{org}/roles"), Some(body)),
        StatusCode::CREATED,
        &[(BATCH_GET, 1), (TRANSACTION, 1)],
    )
    .await;
    c.stack.join(&org, &alice, &bill, "member").await;
    let org_path = format!("/orgs/{org}");
    c.expect(
        &bill,
        (Method::GET, &org_path, None),
        StatusCode::OK,
        &[(BATCH_GET, 1)],
    )
    .await;
    let bills = format!("/orgs/{org}/members/{}", bill.sub);
    let body = json!({ "role": "billing-manager" });
    c.expect(
        &alice,
        (Method::PATCH, &bills, Some(body)),
        StatusCode::OK,
        &[(BATCH_GET, 2), (TRANSACTION, 1)],
    )
    .await;
    c.expect(
        &bill,
        (Method::GET, &org_path, None),
        StatusCode::OK,
        &[(BATCH_GET, 2)],
    )
    .await;
    c.expect(
        &alice,
        (Method::GET, &org_path, None),
        StatusCode::OK,
        &[(BATCH_GET, 1)],
    )
    .await;
}

#[tokio::test]
async fn single_sign_on_costs_a_sign_in_nothing_after_the_first_and_discovery_two_reads() {
    const GET: &str = "GetItem";
    let c = Counted::start().await;
    let (olivia, org) = crate::sso::acme(&c.stack).await;
    let path = format!("/orgs/{org}/sso");
    // The access check, the verified domains, the connection's transaction; around bringing the
    // app client in step, the providers' list read twice and its `in_step` noted.
    let connection = c
        .expect(
            &olivia,
            (Method::PUT, &path, Some(crate::sso::saml())),
            StatusCode::OK,
            &[(BATCH_GET, 1), (QUERY, 1), (TRANSACTION, 2), (GET, 2)],
        )
        .await;
    let name = connection["identity_provider"].as_str().unwrap().to_owned();
    c.expect(
        &olivia,
        (Method::GET, &path, None),
        StatusCode::OK,
        &[(BATCH_GET, 1)],
    )
    .await;
    let discover = "/sso/discover?email=bob%40acme.com";
    c.expect(
        &olivia,
        (Method::GET, discover, None),
        StatusCode::OK,
        &[(GET, 2)],
    )
    .await;

    // A first sign-in of someone in no organization yet: the listing (nothing to read after
    // it), then the domain's claim, the organization with the person's would-be membership, the
    // joining transaction, and the new membership read.
    let event = || orgs_local::token::federated_sign_in_event("sso-bob", "bob@acme.com", &name);
    c.counter.take();
    let claims = crate::sso::id_claims(&c.stack, event()).await;
    assert!(claims["orgs"][&org].is_object(), "{claims}");
    assert_eq!(
        c.counter.take(),
        requests(&[(QUERY, 1), (BATCH_GET, 2), (GET, 1), (TRANSACTION, 1)])
    );
    // Every sign-in after it: as any other sign-in (were the listing to lag behind, a sign-in
    // moments later would read as the first did, and add nothing).
    let again = crate::sso::id_claims(&c.stack, event()).await;
    assert_eq!(again["orgs"], claims["orgs"]);
    assert_eq!(c.counter.take(), requests(&[(QUERY, 1), (BATCH_GET, 1)]));
}
