//! Holds every answer the tests receive to `infra/openapi.yaml`: the status must be documented
//! for the route, and the body must match the documented schema for its content type.

use std::sync::OnceLock;

use orgs_functions::routes;
use orgs_local::workspace_root;
use serde_json::{Value, json};

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let text = std::fs::read_to_string(workspace_root().join("infra/openapi.yaml"))
            .expect("openapi.yaml");
        serde_yaml_ng::from_str(&text).expect("valid YAML")
    })
}

/// Follows a local `$ref` such as `#/components/responses/NotFound`.
fn resolve(value: &Value) -> &Value {
    match value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => document().pointer(pointer).unwrap_or(&Value::Null),
        None => value,
    }
}

/// Panics unless `body` is a documented answer of `method path` with this status.
pub fn check(method: &str, path: &str, status: u16, content_type: &str, body: &Value) {
    let path = path.split('?').next().unwrap_or_default();
    let Some((route, _)) = routes::find(method, path) else {
        return; // Unrouted paths are API Gateway's own 404, outside the document.
    };
    let operation = &document()["paths"][route.path][method.to_lowercase()];
    let response = resolve(&operation["responses"][status.to_string()]);
    assert!(
        !response.is_null(),
        "{method} {} answered {status}, which the OpenAPI document does not list: {body}",
        route.path
    );
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let Some(content) = response.get("content") else {
        assert!(
            body.is_null(),
            "{method} {} {status} is documented without a body: {body}",
            route.path
        );
        return;
    };
    let schema = &content[media]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {} {status}: content type {media:?} is not documented",
        route.path
    );
    // The response schema, with the document's components beside it so `#/components/...` resolves.
    let mut root = json!({ "components": document()["components"] });
    for (key, value) in schema.as_object().expect("schema object") {
        root[key] = value.clone();
    }
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .expect("valid schema");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {} {status} does not match the document: {errors:?}\n{body}",
        route.path
    );
}
