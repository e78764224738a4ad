//! CORS, declared once in the template's `CorsConfiguration` and applied the same way by the
//! local server: preflights answered by the gateway itself, the headers added for allowed
//! origins only.

use orgs_local::cors::{self, Cors, LOCAL_PAGE_PORT};
use orgs_local::workspace_root;
use reqwest::{Method, StatusCode};
use serde_yaml_ng::Value;

use crate::common::Stack;

fn allowed_origin() -> String {
    format!("http://127.0.0.1:{LOCAL_PAGE_PORT}")
}

fn list(value: &Value) -> Vec<String> {
    let mut items: Vec<String> = value
        .as_sequence()
        .unwrap_or_else(|| panic!("a list: {value:?}"))
        .iter()
        .map(|v| v.as_str().expect("text").to_owned())
        .collect();
    items.sort_unstable();
    items
}

fn sorted(values: &[&str]) -> Vec<String> {
    let mut items: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
    items.sort_unstable();
    items
}

#[test]
fn the_template_declares_the_cors_configuration_the_local_server_applies() {
    let text = std::fs::read_to_string(workspace_root().join("infra/template.yaml")).unwrap();
    let template: Value = serde_yaml_ng::from_str(&text).unwrap();
    let parameter = &template["Parameters"]["CorsAllowedOrigins"];
    assert_eq!(parameter["Type"], "String", "a comma-separated list");
    assert_eq!(
        parameter["Default"], "",
        "no browser access unless configured"
    );

    // `!If [AllowsBrowsers, {...}, !Ref AWS::NoValue]`
    let Value::Tagged(branch) =
        &template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    else {
        panic!("CorsConfiguration is an !If on the allowed origins");
    };
    assert_eq!(branch.tag, "If");
    let [condition, config, otherwise] = branch.value.as_sequence().unwrap().as_slice() else {
        panic!("!If takes three values");
    };
    assert_eq!(condition, "AllowsBrowsers");
    let allows = format!("{:?}", template["Conditions"]["AllowsBrowsers"]);
    assert!(allows.contains("CorsAllowedOrigins"), "{allows}");
    let no_value =
        |v: &Value| matches!(v, Value::Tagged(t) if t.tag == "Ref" && t.value == "AWS::NoValue");
    assert!(no_value(otherwise), "{otherwise:?}");
    // `!Split [",", !Ref CorsAllowedOrigins]`, as `Cors::parse` splits it.
    let origins = format!("{:?}", config["AllowOrigins"]);
    assert!(
        origins.contains("Split") && origins.contains("CorsAllowedOrigins"),
        "{origins}"
    );
    assert_eq!(list(&config["AllowHeaders"]), sorted(cors::ALLOW_HEADERS));
    assert_eq!(
        list(&config["AllowMethods"]),
        sorted(&cors::allow_methods())
    );
    assert_eq!(list(&config["ExposeHeaders"]), sorted(cors::EXPOSE_HEADERS));
    assert_eq!(
        config["MaxAge"].as_u64(),
        Some(u64::from(cors::MAX_AGE_SECONDS))
    );
}

#[test]
fn the_local_setting_reads_like_the_template_parameter() {
    assert_eq!(
        Cors::parse("https://a.example,https://b.example").allow_origins,
        ["https://a.example", "https://b.example"]
    );
    assert!(!Cors::parse("").enabled());
}

async fn preflight(stack: &Stack, origin: &str, path: &str) -> reqwest::Response {
    stack
        .http
        .request(Method::OPTIONS, format!("{}{path}", stack.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_allowed_origin_gets_its_preflight_and_its_answers_readable() {
    let stack = Stack::start().await;
    let origin = allowed_origin();
    for path in ["/invitations/accept", "/orgs/org_x/members/auth0%7Cabc"] {
        let answer = preflight(&stack, &origin, path).await;
        assert_eq!(answer.status(), StatusCode::NO_CONTENT, "{path}");
        let headers = answer.headers();
        assert_eq!(headers["access-control-allow-origin"], origin.as_str());
        let methods = headers["access-control-allow-methods"].to_str().unwrap();
        assert!(
            methods.contains("POST") && methods.contains("DELETE"),
            "{methods}"
        );
        let allowed = headers["access-control-allow-headers"].to_str().unwrap();
        assert!(allowed.contains("authorization") && allowed.contains("content-type"));
        assert_eq!(headers["access-control-max-age"], "3600");
    }

    let answer = stack
        .http
        .post(format!("{}/invitations/lookup", stack.base))
        .header("origin", &origin)
        .header("content-type", "application/json")
        .body(r#"{"token": "nope"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let headers = answer.headers();
    assert_eq!(headers["access-control-allow-origin"], origin.as_str());
    let exposed = headers["access-control-expose-headers"].to_str().unwrap();
    for header in ["location", "retry-after", "apigw-requestid"] {
        assert!(exposed.contains(header), "{exposed}");
    }
    assert!(headers.contains_key("apigw-requestid"));

    // The gateway's own answers carry them too: a browser can read a 401.
    let answer = stack
        .http
        .get(format!("{}/me", stack.base))
        .header("origin", &origin)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        origin.as_str()
    );
}

#[tokio::test]
async fn another_origin_gets_no_cors_headers() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let evil = "https://evil.example";
    let answer = preflight(&stack, evil, "/invitations/accept").await;
    assert!(
        !answer.headers().contains_key("access-control-allow-origin"),
        "{:?}",
        answer.headers()
    );
    let answer = stack
        .http
        .get(format!("{}/me", stack.base))
        .header("origin", evil)
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(!answer.headers().contains_key("access-control-allow-origin"));
}
