//! The brief's limits and input rules, on every route they apply to: bodies over 16 KiB get 413
//! before they are parsed; malformed JSON, wrong types, unknown or repeated fields and arrays in
//! place of objects get a 400 problem; so do values over a field's limit, oversized lists, and
//! look-alike or invisible characters in handles and names. None of these changes anything.

use std::collections::BTreeSet;

use orgs_local::workspace_root;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Options, Person, Stack, assert_problem, error_fields};
use crate::invitations::{answer, invite, invite_one};

/// An organization of Alice's with Bob as a member, its "My Team", and Carol invited.
struct World {
    alice: Person,
    bob: Person,
    org_id: String,
    team_id: String,
    /// Carol's invitation.
    token: String,
}

async fn world(stack: &Stack) -> World {
    let alice = stack.person("alice");
    let bob = stack.person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    stack.join(&org_id, &alice, &bob, "member").await;
    let (_, teams) = stack.get(&alice, format!("/orgs/{org_id}/teams")).await;
    let team_id = teams["items"][0]["team_id"].as_str().unwrap().to_owned();
    let (token, _) = invite_one(stack, &alice, &org_id, "carol@example.com").await;
    World {
        alice,
        bob,
        org_id,
        team_id,
        token,
    }
}

/// Every route that takes a JSON body: (method, route path, path with the world's ids).
fn body_routes(w: &World) -> Vec<(Method, &'static str, String)> {
    let org = format!("/orgs/{}", w.org_id);
    vec![
        (Method::PATCH, "/me", "/me".into()),
        (Method::POST, "/orgs", "/orgs".into()),
        (Method::PATCH, "/orgs/{org_id}", org.clone()),
        (
            Method::PUT,
            "/orgs/{org_id}/handle",
            format!("{org}/handle"),
        ),
        (
            Method::POST,
            "/orgs/{org_id}/invitations",
            format!("{org}/invitations"),
        ),
        (
            Method::POST,
            "/invitations/lookup",
            "/invitations/lookup".into(),
        ),
        (
            Method::POST,
            "/invitations/accept",
            "/invitations/accept".into(),
        ),
        (
            Method::POST,
            "/invitations/decline",
            "/invitations/decline".into(),
        ),
        (
            Method::PATCH,
            "/orgs/{org_id}/members/{user_id}",
            format!("{org}/members/{}", w.bob.sub),
        ),
        (
            Method::POST,
            "/orgs/{org_id}/transfer-ownership",
            format!("{org}/transfer-ownership"),
        ),
        (Method::POST, "/orgs/{org_id}/roles", format!("{org}/roles")),
        (
            Method::PATCH,
            "/orgs/{org_id}/roles/{role}",
            format!("{org}/roles/billing-manager"),
        ),
        (Method::POST, "/orgs/{org_id}/teams", format!("{org}/teams")),
        (
            Method::PATCH,
            "/orgs/{org_id}/teams/{team_id}",
            format!("{org}/teams/{}", w.team_id),
        ),
        (
            Method::POST,
            "/orgs/{org_id}/domains",
            format!("{org}/domains"),
        ),
        (
            Method::PATCH,
            "/orgs/{org_id}/domains/{domain}",
            format!("{org}/domains/acme.example"),
        ),
        (
            Method::POST,
            "/orgs/{org_id}/join-requests/{user_id}/approve",
            format!("{org}/join-requests/{}/approve", w.bob.sub),
        ),
        (
            Method::PATCH,
            "/orgs/{org_id}/teams/{team_id}/members/{user_id}",
            format!("{org}/teams/{}/members/{}", w.team_id, w.bob.sub),
        ),
        (
            Method::PUT,
            "/orgs/{org_id}/teams/{team_id}/members/{user_id}",
            format!("{org}/teams/{}/members/{}", w.team_id, w.bob.sub),
        ),
        (Method::PUT, "/orgs/{org_id}/sso", format!("{org}/sso")),
    ]
}

/// Routes with a larger body limit of their own: a SAML metadata document (up to 128 KiB).
const LARGE_BODY: &[&str] = &["/orgs/{org_id}/sso"];

/// Routes whose body may be left out: no body is no refusal there.
const OPTIONAL_BODY: &[(Method, &str)] = &[(
    Method::PUT,
    "/orgs/{org_id}/teams/{team_id}/members/{user_id}",
)];

/// (method, route path) of every operation the OpenAPI document gives a request body.
fn documented_body_routes() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(workspace_root().join("infra/openapi.yaml")).unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        for (method, operation) in item.as_mapping().unwrap() {
            if !operation["requestBody"].is_null() {
                routes.insert((
                    method.as_str().unwrap().to_uppercase(),
                    path.as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_body_route_refuses_bad_bodies_with_a_problem_and_oversized_ones_before_parsing() {
    let stack = Stack::start().await;
    let w = world(&stack).await;
    let before = stack.snapshot().await;
    let tested: BTreeSet<_> = body_routes(&w)
        .into_iter()
        .map(|(method, route, _)| (method.to_string(), route.to_owned()))
        .collect();
    assert_eq!(tested, documented_body_routes());
    let oversized = format!("{{\"name\": \"{}", "x".repeat(17 * 1024));
    let cases: [(&str, StatusCode, &str); 9] = [
        ("{", StatusCode::BAD_REQUEST, "malformed-json"),
        ("{\"a\": 1} {}", StatusCode::BAD_REQUEST, "malformed-json"),
        ("", StatusCode::BAD_REQUEST, "body-required"),
        ("[]", StatusCode::BAD_REQUEST, "validation"),
        ("[null, null]", StatusCode::BAD_REQUEST, "validation"),
        ("\"text\"", StatusCode::BAD_REQUEST, "validation"),
        ("{\"zzz\": 1}", StatusCode::BAD_REQUEST, "validation"),
        (
            "{\"zzz\": 1, \"zzz\": 2}",
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        // Unfinished JSON, so only a check before parsing answers 413.
        (
            &oversized,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
        ),
    ];
    let over_a_large_limit = format!("{{\"name\": \"{}", "x".repeat(150 * 1024));
    for (method, route, path) in body_routes(&w) {
        let optional = OPTIONAL_BODY.contains(&(method.clone(), route));
        for (body, status, code) in &cases {
            if optional && body.is_empty() {
                continue;
            }
            let body = match *code == "payload-too-large" && LARGE_BODY.contains(&route) {
                true => over_a_large_limit.as_str(),
                false => body,
            };
            let response = stack
                .raw(&w.alice, method.clone(), &path, (*body).to_owned())
                .await;
            let got = response.status();
            let problem: Value = response.json().await.unwrap();
            assert_problem(got, &problem, *status, code);
            assert!(
                problem["detail"].as_str().is_some_and(|d| d.len() > 10),
                "{method} {path}: {problem}"
            );
        }
    }
    // A wrong type names its field.
    for (method, path, body, field) in [
        (
            Method::PATCH,
            "/me".to_owned(),
            json!({ "display_name": 7 }),
            "display_name",
        ),
        (
            Method::POST,
            format!("/orgs/{}/teams", w.org_id),
            json!({ "name": ["x"] }),
            "name",
        ),
        (
            Method::POST,
            format!("/orgs/{}/invitations", w.org_id),
            json!({ "invitations": [{ "email": "d@example.com", "teams": "all" }] }),
            "invitations[0].teams",
        ),
        (
            Method::POST,
            "/invitations/lookup".to_owned(),
            json!({ "token": true }),
            "token",
        ),
    ] {
        let (status, problem) = stack.call(&w.alice, method, &path, Some(body)).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(error_fields(&problem), [field], "{path}: {problem}");
    }
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn field_limits_and_list_sizes_answer_400_and_values_at_the_limit_pass() {
    let stack = Stack::start().await;
    let w = world(&stack).await;
    let org = format!("/orgs/{}", w.org_id);
    let before = stack.snapshot().await;
    let long_name = "é".repeat(101);
    let eleven_teams: Vec<String> = (0..11).map(|_| w.team_id.clone()).collect();
    for (method, path, body, field) in [
        (
            Method::POST,
            "/orgs".to_owned(),
            json!({ "handle": "beta", "display_name": long_name, "region": "eu" }),
            "display_name",
        ),
        (
            Method::PATCH,
            org.clone(),
            json!({ "display_name": long_name }),
            "display_name",
        ),
        (
            Method::POST,
            format!("{org}/teams"),
            json!({ "name": long_name }),
            "name",
        ),
        (
            Method::PATCH,
            format!("{org}/teams/{}", w.team_id),
            json!({ "name": long_name }),
            "name",
        ),
        (
            Method::POST,
            format!("{org}/invitations"),
            json!({ "invitations": [{ "email": "d@example.com", "name": long_name }] }),
            "invitations[0].name",
        ),
        (
            Method::POST,
            format!("{org}/invitations"),
            json!({ "invitations": [{ "email": "d@example.com", "note": "n".repeat(1001) }] }),
            "invitations[0].note",
        ),
        (
            Method::POST,
            format!("{org}/invitations"),
            json!({ "invitations": [{ "email": "d@example.com", "teams": eleven_teams }] }),
            "invitations[0].teams",
        ),
        (
            Method::PUT,
            format!("{org}/handle"),
            json!({ "handle": "x".repeat(40) }),
            "handle",
        ),
        (
            Method::PATCH,
            org.clone(),
            json!({ "url": format!("https://acme.example/{}", "p".repeat(2100)) }),
            "url",
        ),
    ] {
        let (status, problem) = stack.call(&w.alice, method, &path, Some(body)).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(error_fields(&problem), [field], "{path}: {problem}");
    }
    let eleven: Vec<Value> = (0..11)
        .map(|i| json!({ "email": format!("p{i}@example.com") }))
        .collect();
    let (status, problem) = invite(&stack, &w.alice, &w.org_id, json!(eleven)).await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(stack.snapshot().await, before);

    // At the limit, in characters (not bytes): accepted.
    let (status, body) = stack
        .patch(&w.alice, &org, json!({ "display_name": "é".repeat(100) }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = invite(
        &stack,
        &w.alice,
        &w.org_id,
        json!([{ "email": "d@example.com", "name": "ñ".repeat(100), "note": "n".repeat(1000) }]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn look_alike_and_invisible_characters_are_refused_in_handles_and_names() {
    let stack = Stack::start().await;
    let w = world(&stack).await;
    let org = format!("/orgs/{}", w.org_id);
    let before = stack.snapshot().await;
    // Cyrillic а, Kelvin sign, fullwidth letters, Turkish dotless ı (which lowercases from I
    // elsewhere), a zero-width space, a right-to-left mark, a byte-order mark.
    let handles = [
        "\u{0430}cme-x",
        "\u{212A}ilo-x",
        "\u{FF41}cme-x",
        "l\u{0131}nk-x",
        "ac\u{200B}me-x",
        "\u{200F}acme-x",
        "\u{FEFF}acme-x",
    ];
    // A right-to-left override, a zero-width joiner, a bidi isolate, an Arabic letter mark, a
    // soft hyphen, a control character, nothing but spaces.
    let names = [
        "ev\u{202E}lian",
        "a\u{200D}b",
        "\u{2066}x\u{2069}",
        "x\u{061C}y",
        "soft\u{00AD}ware",
        "bell\u{0007}",
        "   ",
    ];
    for handle in handles {
        for (method, path, body, field) in [
            (
                Method::POST,
                "/orgs".to_owned(),
                json!({ "handle": handle, "display_name": "X", "region": "eu" }),
                "handle",
            ),
            (
                Method::PUT,
                format!("{org}/handle"),
                json!({ "handle": handle }),
                "handle",
            ),
            (
                Method::PATCH,
                "/me".to_owned(),
                json!({ "handle": handle }),
                "handle",
            ),
            (
                Method::POST,
                format!("{org}/invitations"),
                json!({ "invitations": [{ "handle": handle }] }),
                "invitations[0].handle",
            ),
        ] {
            let (status, problem) = stack.call(&w.alice, method, &path, Some(body)).await;
            assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
            assert_eq!(
                error_fields(&problem),
                [field],
                "{handle:?} {path}: {problem}"
            );
        }
    }
    for name in names {
        for (method, path, body, field) in [
            (
                Method::POST,
                "/orgs".to_owned(),
                json!({ "handle": "fresh", "display_name": name, "region": "eu" }),
                "display_name",
            ),
            (
                Method::PATCH,
                org.clone(),
                json!({ "display_name": name }),
                "display_name",
            ),
            (
                Method::PATCH,
                "/me".to_owned(),
                json!({ "display_name": name }),
                "display_name",
            ),
            (
                Method::POST,
                format!("{org}/teams"),
                json!({ "name": name }),
                "name",
            ),
            (
                Method::POST,
                format!("{org}/invitations"),
                json!({ "invitations": [{ "email": "d@example.com", "name": name }] }),
                "invitations[0].name",
            ),
        ] {
            let (status, problem) = stack.call(&w.alice, method, &path, Some(body)).await;
            assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
            assert_eq!(
                error_fields(&problem),
                [field],
                "{name:?} {path}: {problem}"
            );
        }
    }
    // Notes keep line breaks and tabs, and refuse the rest alike.
    let (status, problem) = invite(
        &stack,
        &w.alice,
        &w.org_id,
        json!([{ "email": "d@example.com", "note": "hi\u{202E}there" }]),
    )
    .await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(stack.snapshot().await, before);
    let (status, body) = invite(
        &stack,
        &w.alice,
        &w.org_id,
        json!([{ "email": "d@example.com", "note": "line one\n\tline two" }]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Carol's invitation is still there to answer.
    let (status, preview) = answer(&stack, None, "lookup", &w.token).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
}

/// `ORGS_MAX_MEMBERS`: members and pending invitations share its seats. An invitation that
/// would pass it answers 429 and changes nothing; one already made keeps its seat, so accepting
/// it always fits.
#[tokio::test]
async fn the_member_limit_counts_pending_invitations_so_accepting_always_fits() {
    let stack = Stack::start_with(Options {
        limits: Some(orgs_shared::app::Limits {
            members_per_org: 3,
            ..orgs_shared::app::Limits::default()
        }),
        ..Options::default()
    })
    .await;
    // Alice and Bob are members and Carol is invited: three seats taken.
    let w = world(&stack).await;
    let dan = json!([{ "email": "dan@example.com" }]);
    let before = stack.snapshot().await;
    let (status, problem) = invite(&stack, &w.alice, &w.org_id, dan.clone()).await;
    assert_problem(
        status,
        &problem,
        StatusCode::TOO_MANY_REQUESTS,
        "limit-reached",
    );
    assert_eq!(stack.snapshot().await, before);

    let carol = stack.person("carol");
    let (status, joined) = answer(&stack, Some(&carol), "accept", &w.token).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["member_count"], 3);
    let (status, problem) = invite(&stack, &w.alice, &w.org_id, dan).await;
    assert_problem(
        status,
        &problem,
        StatusCode::TOO_MANY_REQUESTS,
        "limit-reached",
    );
}
