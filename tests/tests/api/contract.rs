//! The route table in the code, the SAM template, the OpenAPI document and the function
//! binaries must describe the same API: any drift fails here.

use std::collections::BTreeSet;

use orgs_functions::routes::{
    Auth, COGNITO_TRIGGERS, ROUTES, SCHEDULED_FUNCTIONS, SES_EVENT_FUNCTIONS, STREAM_FUNCTIONS,
};
use orgs_local::workspace_root;
use orgs_shared::domain::ChangeKind;
use serde_yaml_ng::Value;

type RouteSet = BTreeSet<(String, String, String)>;

fn read_yaml(relative: &str) -> Value {
    let text = std::fs::read_to_string(workspace_root().join(relative)).expect(relative);
    serde_yaml_ng::from_str(&text).expect("valid YAML")
}

fn code_routes() -> RouteSet {
    ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_owned(),
                r.path.to_owned(),
                r.function.to_owned(),
            )
        })
        .collect()
}

/// (method, path, binary) of every function in the template with an HttpApi event.
fn template_routes(template: &Value) -> RouteSet {
    let mut routes = RouteSet::new();
    for (_, resource) in template["Resources"].as_mapping().expect("Resources") {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        for (_, event) in resource["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
        {
            if event["Type"].as_str() == Some("HttpApi") {
                let props = &event["Properties"];
                routes.insert((
                    props["Method"].as_str().unwrap_or("?").to_uppercase(),
                    props["Path"].as_str().unwrap_or("?").to_owned(),
                    binary.clone(),
                ));
            }
        }
    }
    routes
}

/// The binary of every function in the template with an event of `event_type`.
fn functions_with_event(template: &Value, event_type: &str) -> BTreeSet<String> {
    let mut functions = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().expect("Resources") {
        let events = resource["Properties"]["Events"].as_mapping().into_iter();
        if events
            .flatten()
            .any(|(_, event)| event["Type"].as_str() == Some(event_type))
        {
            let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str();
            functions.insert(binary.unwrap_or("?").to_owned());
        }
    }
    functions
}

#[test]
fn the_template_declares_exactly_the_routes_of_the_code() {
    let template = read_yaml("infra/template.yaml");
    assert_eq!(template_routes(&template), code_routes());
}

/// The stream functions, and only they, are fed by the table's stream, with the settings that
/// keep delivery ordered and lossless.
#[test]
fn the_template_feeds_exactly_the_stream_functions_from_the_table_stream() {
    let template = read_yaml("infra/template.yaml");
    let expected: BTreeSet<String> = STREAM_FUNCTIONS.iter().map(|f| f.to_string()).collect();
    assert_eq!(functions_with_event(&template, "DynamoDB"), expected);
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        for (_, event) in resource["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter(|(_, e)| e["Type"].as_str() == Some("DynamoDB"))
        {
            let props = &event["Properties"];
            // `!GetAtt Table.StreamArn`, a tagged value to the YAML parser.
            let stream = format!("{:?}", props["Stream"]);
            assert!(stream.contains("Table.StreamArn"), "{name:?}: {stream}");
            assert_eq!(props["StartingPosition"], "TRIM_HORIZON", "{name:?}");
            assert_eq!(props["BisectBatchOnFunctionError"], true, "{name:?}");
            assert_eq!(props["FunctionResponseTypes"][0], "ReportBatchItemFailures");
            assert!(props["BatchSize"].as_u64().is_some(), "{name:?}");
            assert!(props["MaximumRetryAttempts"].as_i64().is_some(), "{name:?}");
            assert_eq!(props["DestinationConfig"]["OnFailure"]["Type"], "SQS");
        }
    }
}

/// The SES event functions, and only they, are fed by a rule on the default bus matching SES's
/// events of the template's configuration set; that set suppresses bounces and complaints and
/// publishes every recorded kind of event to the default bus, and every email names it.
#[test]
fn the_template_feeds_exactly_the_ses_event_functions_from_the_configuration_sets_events() {
    let template = read_yaml("infra/template.yaml");
    let expected: BTreeSet<String> = SES_EVENT_FUNCTIONS.iter().map(|f| f.to_string()).collect();
    assert_eq!(functions_with_event(&template, "EventBridgeRule"), expected);
    let resources = template["Resources"].as_mapping().unwrap();
    let (set_name, set) = resources
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::SES::ConfigurationSet")
        .expect("a configuration set");
    let set_name = set_name.as_str().unwrap();
    assert_eq!(
        set["Properties"]["SuppressionOptions"]["SuppressedReasons"],
        serde_yaml_ng::from_str::<Value>("[BOUNCE, COMPLAINT]").unwrap()
    );
    let destination = resources
        .values()
        .find(|r| r["Type"] == "AWS::SES::ConfigurationSetEventDestination")
        .expect("an event destination");
    let props = &destination["Properties"];
    assert_eq!(reference(&props["ConfigurationSetName"]), Some(set_name));
    let kinds: BTreeSet<&str> = props["EventDestination"]["MatchingEventTypes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let recorded = [
        "send",
        "delivery",
        "deliveryDelay",
        "bounce",
        "complaint",
        "reject",
    ];
    assert_eq!(kinds, recorded.into_iter().collect());
    let bus = format!("{:?}", props["EventDestination"]["EventBridgeDestination"]);
    assert!(bus.contains("event-bus/default"), "{bus}");
    for (name, resource) in resources {
        for (_, event) in resource["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter(|(_, e)| e["Type"].as_str() == Some("EventBridgeRule"))
        {
            let props = &event["Properties"];
            assert_eq!(props["EventBusName"], "default", "{name:?}");
            assert_eq!(props["Pattern"]["source"][0], "aws.ses", "{name:?}");
            let set = &props["Pattern"]["detail"]["mail"]["tags"]["ses:configuration-set"][0];
            assert_eq!(reference(set), Some(set_name), "{name:?}");
        }
    }
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(
        reference(&env["ORGS_SES_CONFIGURATION_SET"]),
        Some(set_name)
    );
    // Sending is allowed with this configuration set only.
    let text = std::fs::read_to_string(workspace_root().join("infra/template.yaml")).unwrap();
    assert!(!text.contains("configuration-set/*"));
    assert_eq!(
        text.matches(&format!("configuration-set/${{{set_name}}}"))
            .count(),
        text.matches("- ses:SendEmail").count()
    );
}

#[test]
fn every_function_is_arm64_built_with_cargo_lambda_from_an_existing_binary() {
    let template = read_yaml("infra/template.yaml");
    let globals = &template["Globals"]["Function"];
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let props = &resource["Properties"];
        let runtime = props["Runtime"].as_str().or(globals["Runtime"].as_str());
        assert_eq!(runtime, Some("provided.al2023"), "{name:?}");
        let arch = if props["Architectures"].is_null() {
            &globals["Architectures"]
        } else {
            &props["Architectures"]
        };
        assert_eq!(arch[0].as_str(), Some("arm64"), "{name:?}");
        assert_eq!(
            resource["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{name:?}"
        );
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("Binary");
        let source = workspace_root().join(format!("functions/src/bin/{binary}.rs"));
        assert!(
            source.exists(),
            "{name:?} builds {binary}, but {} is missing",
            source.display()
        );
        // A function the catalog grants nothing (it calls no AWS service) has no policy.
        let grants = orgs_functions::spec::FUNCTIONS
            .iter()
            .find(|f| f.name == binary)
            .map_or(0, |f| f.grants.len());
        assert_eq!(
            !props["Policies"].is_null(),
            grants > 0,
            "{name:?} needs its own least-privilege policy exactly when the catalog grants it anything"
        );
    }
}

/// `!Ref Name` (a tagged value to the YAML parser) as `Name`.
fn reference(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

/// `!GetAtt Name.Attr` as `("Name", "Attr")`.
fn get_att(value: &Value) -> Option<(&str, &str)> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => tagged.value.as_str()?.split_once('.'),
        _ => None,
    }
}

/// A delivery report that an SES event function fails to record is never dropped: after
/// Lambda's retries it goes to an on-failure destination, an encrypted queue that keeps it 14
/// days, whose depth is alarmed, as the function's errors are.
#[test]
fn failed_delivery_reports_wait_in_an_alarmed_encrypted_queue() {
    let template = read_yaml("infra/template.yaml");
    let resources = template["Resources"].as_mapping().unwrap();
    let of_type = |kind: &'static str| resources.iter().filter(move |(_, r)| r["Type"] == kind);
    for function in SES_EVENT_FUNCTIONS.iter() {
        let id = resources
            .iter()
            .find(|(_, r)| r["Metadata"]["BuildProperties"]["Binary"] == *function)
            .map(|(id, _)| id.as_str().unwrap())
            .expect("the function's resource");
        let (_, config) = of_type("AWS::Lambda::EventInvokeConfig")
            .find(|(_, r)| reference(&r["Properties"]["FunctionName"]) == Some(id))
            .unwrap_or_else(|| panic!("{function} has no EventInvokeConfig"));
        let destination = &config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"];
        let (queue, attribute) = get_att(destination).expect("a queue of the template");
        assert_eq!(attribute, "Arn");
        let queue_props = &template["Resources"][queue];
        assert_eq!(queue_props["Type"], "AWS::SQS::Queue");
        assert_eq!(
            queue_props["Properties"]["MessageRetentionPeriod"],
            1_209_600
        );
        assert_eq!(queue_props["Properties"]["SqsManagedSseEnabled"], true);
        let alarmed = |dimension: &str, on: &str, metric: &str| {
            of_type("AWS::CloudWatch::Alarm").any(|(_, a)| {
                let p = &a["Properties"];
                p["MetricName"] == metric
                    && p["Dimensions"][0]["Name"] == dimension
                    && match &p["Dimensions"][0]["Value"] {
                        v @ Value::Tagged(_) => {
                            reference(v) == Some(on) || get_att(v).is_some_and(|(n, _)| n == on)
                        }
                        _ => false,
                    }
            })
        };
        assert!(
            alarmed("QueueName", queue, "ApproximateNumberOfMessagesVisible"),
            "{queue}'s depth has no alarm"
        );
        assert!(
            alarmed("FunctionName", id, "Errors"),
            "{function}'s errors have no alarm"
        );
    }
}

/// The scheduled functions, and only they, have a schedule: an EventBridge rule or scheduler
/// whose expression is a template parameter, by default hourly for the expiry.
#[test]
fn the_template_schedules_exactly_the_scheduled_functions_at_a_parameter_rate() {
    let template = read_yaml("infra/template.yaml");
    let mut scheduled = BTreeSet::new();
    for (name, resource) in template["Resources"].as_mapping().expect("Resources") {
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str();
        for (_, event) in resource["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
        {
            let expression = match event["Type"].as_str() {
                Some("Schedule") => &event["Properties"]["Schedule"],
                Some("ScheduleV2") => &event["Properties"]["ScheduleExpression"],
                _ => continue,
            };
            let parameter = reference(expression)
                .unwrap_or_else(|| panic!("{name:?}: the schedule is not a parameter"));
            let default = template["Parameters"][parameter]["Default"].as_str();
            assert!(
                default.is_some_and(|d| d.starts_with("rate(") || d.starts_with("cron(")),
                "{name:?}: {parameter} has no schedule expression as default"
            );
            scheduled.insert(binary.unwrap_or("?").to_owned());
            let timeout = resource["Properties"]["Timeout"].as_u64().unwrap_or(0);
            assert!((60..=300).contains(&timeout), "{name:?}: Timeout {timeout}");
        }
    }
    let expected: BTreeSet<String> = SCHEDULED_FUNCTIONS.iter().map(|f| f.to_string()).collect();
    assert_eq!(scheduled, expected);
    assert_eq!(
        template["Parameters"]["ExpiryScheduleRate"]["Default"].as_str(),
        Some("rate(1 hour)")
    );
}

/// The Cognito triggers, and only they, may be invoked by Cognito: scoped to this account, and
/// to the user pool the optional parameter names; each answers within Cognito's 5 s, and an
/// output gives its ARN for the pool's configuration.
#[test]
fn the_template_lets_cognito_invoke_exactly_the_cognito_triggers() {
    let template = read_yaml("infra/template.yaml");
    let resources = template["Resources"].as_mapping().expect("Resources");
    let mut invoked = BTreeSet::new();
    for (name, resource) in resources {
        let props = &resource["Properties"];
        if resource["Type"].as_str() != Some("AWS::Lambda::Permission")
            || props["Principal"].as_str() != Some("cognito-idp.amazonaws.com")
        {
            continue;
        }
        assert_eq!(props["Action"], "lambda:InvokeFunction", "{name:?}");
        assert_eq!(reference(&props["SourceAccount"]), Some("AWS::AccountId"));
        let source = format!("{:?}", props["SourceArn"]);
        assert!(source.contains("CognitoUserPoolArn"), "{name:?}: {source}");
        let function = match &props["FunctionName"] {
            Value::Tagged(tagged) if tagged.tag == "GetAtt" => tagged.value.as_str().unwrap(),
            other => panic!("{name:?}: FunctionName {other:?}"),
        };
        let logical = function.trim_end_matches(".Arn");
        let target = &template["Resources"][logical];
        let timeout = target["Properties"]["Timeout"].as_u64().unwrap_or(0);
        assert!((1..=5).contains(&timeout), "{logical}: Timeout {timeout}");
        let outputs = template["Outputs"].as_mapping().expect("Outputs");
        assert!(
            outputs
                .values()
                .any(|o| format!("{:?}", o["Value"]).contains(function)),
            "no output gives {function}"
        );
        let binary = target["Metadata"]["BuildProperties"]["Binary"].as_str();
        invoked.insert(binary.unwrap_or("?").to_owned());
    }
    let expected: BTreeSet<String> = COGNITO_TRIGGERS.iter().map(|f| f.to_string()).collect();
    assert_eq!(invoked, expected);
}

/// Each binary serves a route, or is one of the few fed by the stream, a schedule, Cognito or SES
/// instead; never two of these.
#[test]
fn every_binary_serves_a_route() {
    let routed: BTreeSet<String> = ROUTES.iter().map(|r| r.function.to_owned()).collect();
    let streamed: BTreeSet<String> = STREAM_FUNCTIONS.iter().map(|f| f.to_string()).collect();
    let scheduled: BTreeSet<String> = SCHEDULED_FUNCTIONS.iter().map(|f| f.to_string()).collect();
    let triggers: BTreeSet<String> = COGNITO_TRIGGERS.iter().map(|f| f.to_string()).collect();
    let ses_fed: BTreeSet<String> = SES_EVENT_FUNCTIONS.iter().map(|f| f.to_string()).collect();
    let kinds = [&routed, &streamed, &scheduled, &triggers, &ses_fed];
    for (i, a) in kinds.iter().enumerate() {
        for b in &kinds[i + 1..] {
            assert!(a.is_disjoint(b), "{a:?} {b:?}");
        }
    }
    let binaries: BTreeSet<String> = std::fs::read_dir(workspace_root().join("functions/src/bin"))
        .unwrap()
        .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(str::to_owned))
        .collect();
    assert_eq!(
        binaries,
        &(&(&(&routed | &streamed) | &scheduled) | &triggers) | &ses_fed
    );
}

#[test]
fn the_openapi_document_describes_exactly_the_routes_of_the_code() {
    let doc = read_yaml("infra/openapi.yaml");
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
        Some(true)
    );
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().expect("paths") {
        for (method, operation) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap().to_uppercase();
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                continue;
            }
            let path = path.as_str().unwrap().to_owned();
            let route = ROUTES
                .iter()
                .find(|r| r.method == method && r.path == path)
                .unwrap_or_else(|| panic!("{method} {path} is documented but not routed"));
            // A public route says so with `security: []`; the rest inherit the bearer scheme.
            let public = operation["security"]
                .as_sequence()
                .is_some_and(|s| s.is_empty());
            assert_eq!(public, route.auth == Auth::Public, "{method} {path}");
            documented.insert((method, path));
        }
    }
    let routed: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, routed);
}

/// The audit log's `?action=` takes exactly the actions the code records (any other is a 400),
/// so the document lists them.
#[test]
fn the_audit_action_filter_lists_exactly_the_recorded_actions() {
    let doc = read_yaml("infra/openapi.yaml");
    let parameters = doc["paths"]["/orgs/{org_id}/audit-log"]["get"]["parameters"]
        .as_sequence()
        .expect("parameters");
    let action = parameters
        .iter()
        .find(|p| p["name"].as_str() == Some("action"))
        .expect("the action parameter");
    let documented: Vec<&str> = action["schema"]["enum"]
        .as_sequence()
        .expect("an enum")
        .iter()
        .map(|a| a.as_str().expect("a string"))
        .collect();
    let recorded: Vec<&str> = ChangeKind::ALL.iter().map(|k| k.action()).collect();
    assert_eq!(documented, recorded);
}

/// Every route behind the JWT authorizer refuses a missing, forged or expired token with 401,
/// and such a request changes nothing.
#[tokio::test]
async fn every_guarded_route_refuses_requests_without_a_valid_token() {
    use crate::common::Stack;
    use reqwest::{Method, StatusCode};

    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let before = stack.snapshot().await;
    let mut forged = alice.clone();
    forged.token = orgs_local::token::mint("not-the-secret", "alice", None, true, 3600);
    let mut expired = alice.clone();
    expired.token = orgs_local::token::mint("test-secret", "alice", None, true, -600);
    for route in ROUTES.iter().filter(|r| r.auth == Auth::Jwt) {
        let path = route.path.replace("{org_id}", &org_id);
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        for who in [None, Some(&forged), Some(&expired)] {
            let body = Some(serde_json::json!({}));
            let (status, _) = stack
                .call(who, method.clone(), format!("{path}?confirm=acme"), body)
                .await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{} {}",
                route.method,
                route.path
            );
        }
    }
    assert_eq!(stack.snapshot().await, before);
}
