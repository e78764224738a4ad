//! The catalog as files: each route's `main` (`src/bin/`), `infra/functions.json`, which the
//! CDK app builds its functions, policies and routes from, and the generated region of
//! `infra/template.yaml`. `UPDATE_INFRA=1 cargo test --locked -p orgs-functions --lib spec`
//! rewrites them all; otherwise these tests fail while one is stale.

use serde_json::{Value, json};

use super::{FUNCTIONS, Function, Trigger, sam};
use crate::routes::Auth;

fn trigger(f: &Function) -> Value {
    match &f.trigger {
        Trigger::Http(route) => json!({
            "kind": "http",
            "method": route.method,
            "path": route.path,
            "auth": match route.auth { Auth::Jwt => "jwt", Auth::Public => "public" },
        }),
        Trigger::Stream => json!({ "kind": "stream" }),
        Trigger::Schedule => json!({ "kind": "schedule" }),
        Trigger::SesEvents => json!({ "kind": "sesEvents" }),
        Trigger::CognitoTrigger => json!({ "kind": "cognitoTrigger" }),
        Trigger::CognitoPostConfirmation => json!({ "kind": "cognitoPostConfirmation" }),
    }
}

fn exported() -> String {
    let functions: Vec<_> = FUNCTIONS
        .iter()
        .map(|f| {
            json!({
                "name": f.name,
                "description": f.description(),
                "trigger": trigger(f),
                "timeoutSeconds": f.timeout_seconds,
                "memoryMb": f.memory_mb,
                "grants": f.grants.iter().map(|g| json!({
                    "actions": g.actions,
                    "on": g.on.key(),
                    "keys": g.keys,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "//": "Generated from functions/src/spec: UPDATE_INFRA=1 cargo test --locked -p orgs-functions --lib spec",
        "functions": functions,
    });
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

fn infra(file: &str) -> String {
    format!("{}/../infra/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn updating() -> bool {
    std::env::var_os("UPDATE_INFRA").is_some()
}

const HOW: &str = "UPDATE_INFRA=1 cargo test --locked -p orgs-functions --lib spec rewrites it";

#[test]
fn infra_functions_json_is_the_catalog() {
    let path = infra("functions.json");
    if updating() {
        std::fs::write(&path, exported()).expect("writing infra/functions.json");
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == exported(),
        "infra/functions.json must be the catalog ({HOW})"
    );
}

#[test]
fn the_templates_generated_region_is_the_catalog() {
    let path = infra("template.yaml");
    let stored = std::fs::read_to_string(&path).expect("infra/template.yaml");
    let fresh = sam::regenerate(&stored).expect(
        "infra/template.yaml has no generated region (its BEGIN GENERATED and END GENERATED lines)",
    );
    if updating() {
        std::fs::write(&path, fresh).expect("writing infra/template.yaml");
        return;
    }
    assert!(
        stored == fresh,
        "infra/template.yaml's generated region must be the catalog ({HOW})"
    );
}

#[test]
fn logical_ids_are_pascal_case_names() {
    assert_eq!(sam::pascal("get-me"), "GetMe");
    assert_eq!(sam::pascal("list-my-invitations"), "ListMyInvitations");
}

#[test]
fn grants_with_key_prefixes_render_a_leading_keys_condition() {
    let region = sam::region();
    for f in FUNCTIONS
        .iter()
        .filter(|f| f.grants.iter().any(|g| !g.keys.is_empty()))
    {
        let start = region
            .find(&format!("  {}Function:\n", sam::pascal(f.name)))
            .unwrap();
        let block = &region[start..][..region[start..].find("LogGroup:\n    Type").unwrap()];
        assert!(block.contains("dynamodb:LeadingKeys"), "{}", f.name);
    }
}

/// The `main` of a route's function (`src/bin/{function}.rs`): its handler, and what the route
/// needs in the organization, as the catalog says.
fn route_main(route: &crate::routes::Route) -> String {
    let handler = format!(
        "orgs_functions::handlers::{}",
        route.handler_path.replace(' ', "")
    );
    let needs = route.needs.map_or(String::new(), |needs| {
        if let Some(other) = needs.or_else {
            return format!(", needs any({:?}, {other:?})", needs.permission);
        }
        let own = match needs.on_oneself {
            Some(own) => format!(" or oneself {own:?}"),
            None if needs.in_team => " or team maintainer".to_owned(),
            None => String::new(),
        };
        format!(", needs {:?}{own}", needs.permission)
    });
    format!(
        "//! `{}`: see `{handler}`.\n\
         //! Written from the catalog: {HOW}.\n\
         orgs_functions::lambda_main!({handler}{needs});\n",
        route.function
    )
}

#[test]
fn each_routes_main_is_written_from_the_catalog() {
    for route in crate::routes::ROUTES.iter() {
        let path = format!(
            "{}/src/bin/{}.rs",
            env!("CARGO_MANIFEST_DIR"),
            route.function
        );
        let fresh = route_main(route);
        if updating() {
            std::fs::write(&path, &fresh).expect("writing a function's main");
            continue;
        }
        let stored = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            stored == fresh,
            "src/bin/{}.rs must be written from the catalog ({HOW})",
            route.function
        );
    }
}
