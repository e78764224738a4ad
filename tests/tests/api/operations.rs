//! What the SAM template gives the operator: alarms that notify the alarm topic, the API's
//! access log, log retention, and a table that survives its stack and a mistaken delete.
//! (`cfn-lint` and `sam validate --lint` check the template's syntax in tests/check; these
//! check that each of these is there and wired as docs/operations.md says.)

use std::collections::BTreeSet;

use orgs_functions::routes::{COGNITO_TRIGGERS, ROUTES, SCHEDULED_FUNCTIONS, STREAM_FUNCTIONS};
use orgs_local::workspace_root;
use serde_yaml_ng::Value;
use serde_yaml_ng::value::TaggedValue;

fn template() -> Value {
    let path = workspace_root().join("infra/template.yaml");
    let text = std::fs::read_to_string(&path).expect("infra/template.yaml");
    serde_yaml_ng::from_str(&text).expect("valid YAML")
}

/// `!Tag value` as (tag, value).
fn tagged(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(t) => {
            let TaggedValue { tag, value } = t.as_ref();
            Some((tag.to_string().trim_start_matches('!').to_owned(), value))
        }
        _ => None,
    }
}

/// The name in `!Ref Name`, or the resource in `!GetAtt Name.Attribute`.
fn target(value: &Value, intrinsic: &str) -> Option<String> {
    let (tag, inner) = tagged(value)?;
    (tag == intrinsic).then(|| inner.as_str().unwrap_or_default().to_owned())
}

fn resources(template: &Value) -> Vec<(String, &Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(name, r)| (name.as_str().unwrap().to_owned(), r))
        .collect()
}

fn alarms(template: &Value) -> Vec<(String, &Value)> {
    resources(template)
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .collect()
}

/// The resource name of the function built from `binary`.
fn function_resource(template: &Value, binary: &str) -> String {
    resources(template)
        .into_iter()
        .find(|(_, r)| r["Metadata"]["BuildProperties"]["Binary"] == binary)
        .unwrap_or_else(|| panic!("no function builds {binary}"))
        .0
}

/// The alarms on `metric` of the function `resource` (its `FunctionName` dimension).
fn function_alarms<'a>(template: &'a Value, metric: &str, resource: &str) -> Vec<&'a Value> {
    alarms(template)
        .into_iter()
        .filter(|(_, a)| a["Properties"]["MetricName"] == metric)
        .filter(|(_, a)| {
            a["Properties"]["Dimensions"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|d| {
                    d["Name"] == "FunctionName"
                        && target(&d["Value"], "Ref").as_deref() == Some(resource)
                })
        })
        .map(|(_, a)| a)
        .collect()
}

fn every_function() -> BTreeSet<&'static str> {
    ROUTES
        .iter()
        .map(|r| r.function)
        .chain(STREAM_FUNCTIONS.iter().copied())
        .chain(SCHEDULED_FUNCTIONS.iter().copied())
        .chain(COGNITO_TRIGGERS.iter().copied())
        .collect()
}

/// `!If [NotifiesAlarms, [!If [NamesAlarmTopic, !Ref AlarmTopicArn, !Ref AlarmTopic]],
/// !Ref AWS::NoValue]`: the topic given, else the stack's own, else no action.
fn notifies_the_alarm_topic(actions: &Value) -> bool {
    let Some(("If", args)) = tagged(actions).as_ref().map(|(t, v)| (t.as_str(), *v)) else {
        return false;
    };
    let Some([condition, then, otherwise]) = args.as_sequence().map(Vec::as_slice) else {
        return false;
    };
    let Some([topic]) = then.as_sequence().map(Vec::as_slice) else {
        return false;
    };
    let Some(("If", choice)) = tagged(topic).as_ref().map(|(t, v)| (t.as_str(), *v)) else {
        return false;
    };
    let Some([names_topic, given, own]) = choice.as_sequence().map(Vec::as_slice) else {
        return false;
    };
    condition == "NotifiesAlarms"
        && target(otherwise, "Ref").as_deref() == Some("AWS::NoValue")
        && names_topic == "NamesAlarmTopic"
        && target(given, "Ref").as_deref() == Some("AlarmTopicArn")
        && target(own, "Ref").as_deref() == Some("AlarmTopic")
}

/// The conditions, as `(tag, arguments)` trees turned to text: `Not(Equals(Ref(AlarmEmail), ))`.
fn condition_text(value: &Value) -> String {
    match tagged(value) {
        Some((tag, inner)) => format!("{tag}({})", condition_text(inner)),
        None => match value {
            Value::Sequence(items) => items
                .iter()
                .map(condition_text)
                .collect::<Vec<_>>()
                .join(", "),
            Value::String(s) => s.clone(),
            other => format!("{other:?}"),
        },
    }
}

#[test]
fn the_alarm_topic_is_the_one_given_or_one_of_the_stacks_own_for_an_email_address() {
    let template = template();
    for name in ["AlarmTopicArn", "AlarmEmail"] {
        let parameter = &template["Parameters"][name];
        assert_eq!(parameter["Type"], "String", "{name}");
        assert_eq!(parameter["Default"], "", "{name}: optional");
    }
    let conditions = &template["Conditions"];
    let given = "Not(Equals(Ref(AlarmTopicArn), ))";
    let email = "Not(Equals(Ref(AlarmEmail), ))";
    assert_eq!(condition_text(&conditions["NamesAlarmTopic"]), given);
    assert_eq!(
        condition_text(&conditions["CreatesAlarmTopic"]),
        format!("And(Equals(Ref(AlarmTopicArn), ), {email})")
    );
    assert_eq!(condition_text(&conditions["SubscribesAlarmEmail"]), email);
    assert_eq!(
        condition_text(&conditions["NotifiesAlarms"]),
        format!("Or({given}, {email})")
    );

    let topic = &template["Resources"]["AlarmTopic"];
    assert_eq!(topic["Type"], "AWS::SNS::Topic");
    assert_eq!(topic["Condition"], "CreatesAlarmTopic");
    let subscription = &template["Resources"]["AlarmEmailSubscription"];
    assert_eq!(subscription["Type"], "AWS::SNS::Subscription");
    assert_eq!(subscription["Condition"], "SubscribesAlarmEmail");
    let props = &subscription["Properties"];
    assert_eq!(props["Protocol"], "email");
    assert_eq!(
        target(&props["Endpoint"], "Ref").as_deref(),
        Some("AlarmEmail")
    );
    let topic_arn = condition_text(&props["TopicArn"]);
    assert_eq!(
        topic_arn,
        "If(NamesAlarmTopic, Ref(AlarmTopicArn), Ref(AlarmTopic))"
    );
}

#[test]
fn every_alarm_notifies_the_alarm_topic_when_it_fires_and_when_it_clears() {
    let template = template();
    let alarms = alarms(&template);
    assert!(alarms.len() > every_function().len(), "{}", alarms.len());
    for (name, alarm) in alarms {
        let props = &alarm["Properties"];
        assert!(
            notifies_the_alarm_topic(&props["AlarmActions"]),
            "{name}: AlarmActions {:?}",
            props["AlarmActions"]
        );
        assert!(
            notifies_the_alarm_topic(&props["OKActions"]),
            "{name}: OKActions {:?}",
            props["OKActions"]
        );
        assert_eq!(props["TreatMissingData"], "notBreaching", "{name}");
        assert!(props["AlarmDescription"].as_str().is_some(), "{name}");
    }
}

#[test]
fn the_dead_letter_queue_the_publisher_and_the_expiry_each_have_their_alarms() {
    let template = template();
    let dlq = alarms(&template)
        .into_iter()
        .filter(|(_, a)| {
            let p = &a["Properties"];
            p["Namespace"] == "AWS/SQS"
                && p["MetricName"] == "ApproximateNumberOfMessagesVisible"
                && format!("{:?}", p["Dimensions"][0]["Value"]).contains("EventsDeadLetterQueue")
        })
        .count();
    assert_eq!(dlq, 1, "one alarm on the dead-letter queue's messages");

    for binary in STREAM_FUNCTIONS.iter() {
        let resource = function_resource(&template, binary);
        let [age] = function_alarms(&template, "IteratorAge", &resource)[..] else {
            panic!("{binary}: one IteratorAge alarm");
        };
        assert_eq!(age["Properties"]["Statistic"], "Maximum");
        let threshold = age["Properties"]["Threshold"].as_f64().unwrap();
        assert!(
            threshold > 0.0 && threshold <= 15.0 * 60_000.0,
            "{threshold}"
        );
        assert_eq!(
            function_alarms(&template, "Errors", &resource).len(),
            1,
            "{binary}: one Errors alarm"
        );
    }
    for binary in SCHEDULED_FUNCTIONS.iter() {
        let resource = function_resource(&template, binary);
        let [errors] = function_alarms(&template, "Errors", &resource)[..] else {
            panic!("{binary}: one Errors alarm");
        };
        assert_eq!(errors["Properties"]["Threshold"].as_f64(), Some(1.0));
        assert_eq!(
            errors["Properties"]["ComparisonOperator"],
            "GreaterThanOrEqualToThreshold"
        );
    }
}

#[test]
fn every_function_has_a_throttles_alarm() {
    let template = template();
    for binary in every_function() {
        let resource = function_resource(&template, binary);
        let [throttles] = function_alarms(&template, "Throttles", &resource)[..] else {
            panic!("{binary}: one Throttles alarm");
        };
        let props = &throttles["Properties"];
        assert_eq!(props["Namespace"], "AWS/Lambda", "{binary}");
        assert_eq!(props["Statistic"], "Sum", "{binary}");
        assert_eq!(props["Threshold"].as_f64(), Some(1.0), "{binary}");
        assert_eq!(
            props["ComparisonOperator"], "GreaterThanOrEqualToThreshold",
            "{binary}"
        );
    }
}

#[test]
fn the_apis_5xx_rate_is_watched() {
    let template = template();
    let [(name, alarm)] = &alarms(&template)
        .into_iter()
        .filter(|(_, a)| format!("{:?}", a["Properties"]["Metrics"]).contains("5xx"))
        .collect::<Vec<_>>()[..]
    else {
        panic!("one alarm on the API's 5xx answers");
    };
    let metrics = alarm["Properties"]["Metrics"].as_sequence().unwrap();
    let stat = |id: &str| {
        let metric = metrics.iter().find(|m| m["Id"] == id).unwrap();
        let stat = &metric["MetricStat"];
        assert_eq!(stat["Metric"]["Namespace"], "AWS/ApiGateway", "{name}");
        assert_eq!(stat["Stat"], "Sum", "{name}");
        assert_eq!(
            target(&stat["Metric"]["Dimensions"][0]["Value"], "Ref").as_deref(),
            Some("HttpApi")
        );
        stat["Metric"]["MetricName"].as_str().unwrap().to_owned()
    };
    assert_eq!(stat("errors"), "5xx");
    assert_eq!(stat("requests"), "Count");
    let rate = metrics.iter().find(|m| m["ReturnData"] == true).unwrap();
    let expression = rate["Expression"].as_str().unwrap();
    assert!(
        expression.contains("100 * errors / requests"),
        "{expression}"
    );
    // A rate in percent.
    let threshold = alarm["Properties"]["Threshold"].as_f64().unwrap();
    assert!(threshold > 0.0 && threshold <= 10.0, "{threshold}");
}

/// SES reviews an account at a 5% bounce rate and a 0.1% complaint rate; the alarms must fire
/// at or before those.
#[test]
fn ses_bounce_and_complaint_rates_alarm_at_the_levels_ses_reviews_accounts_at() {
    let template = template();
    for (metric, review_level) in [
        ("Reputation.BounceRate", 0.05),
        ("Reputation.ComplaintRate", 0.001),
    ] {
        let [(name, alarm)] = &alarms(&template)
            .into_iter()
            .filter(|(_, a)| a["Properties"]["MetricName"] == metric)
            .collect::<Vec<_>>()[..]
        else {
            panic!("one alarm on {metric}");
        };
        let props = &alarm["Properties"];
        assert_eq!(props["Namespace"], "AWS/SES", "{name}");
        assert_eq!(
            props["ComparisonOperator"], "GreaterThanOrEqualToThreshold",
            "{name}"
        );
        let threshold = props["Threshold"].as_f64().unwrap();
        assert!(
            threshold > 0.0 && threshold <= review_level,
            "{name}: {threshold}"
        );
    }
}

#[test]
fn the_api_writes_a_json_access_log_with_a_retention() {
    let template = template();
    let settings = &template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"];
    let group = target(&settings["DestinationArn"], "GetAtt").expect("a GetAtt of a log group");
    let (group, attribute) = group.split_once('.').unwrap();
    assert_eq!(attribute, "Arn");
    let group = &template["Resources"][group];
    assert_eq!(group["Type"], "AWS::Logs::LogGroup");
    assert_eq!(
        target(&group["Properties"]["RetentionInDays"], "Ref").as_deref(),
        Some("AccessLogRetentionDays")
    );
    let retention = &template["Parameters"]["AccessLogRetentionDays"];
    assert_eq!(retention["Default"].as_u64(), Some(30));
    // CloudWatch Logs takes only these; the parameter offers no other.
    assert!(
        retention["AllowedValues"]
            .as_sequence()
            .is_some_and(|v| v.iter().any(|d| d.as_u64() == Some(30)))
    );

    let format = settings["Format"].as_str().expect("a format");
    let line: serde_json::Value = serde_json::from_str(format).expect("a JSON line");
    for (field, variable) in [
        ("requestId", "$context.requestId"),
        ("routeKey", "$context.routeKey"),
        ("status", "$context.status"),
        ("responseLatency", "$context.responseLatency"),
        (
            "integrationErrorMessage",
            "$context.integrationErrorMessage",
        ),
        ("ip", "$context.identity.sourceIp"),
        ("httpMethod", "$context.httpMethod"),
        ("path", "$context.path"),
    ] {
        assert_eq!(line[field], variable, "{field}");
    }
    // Nothing that can carry a token: no header, query string or body.
    for secret in ["header", "querystring", "requestOverride", "body"] {
        assert!(
            !format.to_lowercase().contains(&secret.to_lowercase()),
            "{secret}"
        );
    }
}

#[test]
fn every_functions_log_group_has_a_retention() {
    let template = template();
    for (name, resource) in resources(&template) {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let group = target(&resource["Properties"]["LoggingConfig"]["LogGroup"], "Ref")
            .unwrap_or_else(|| panic!("{name}: LoggingConfig.LogGroup"));
        let group = &template["Resources"][group.as_str()];
        assert_eq!(group["Type"], "AWS::Logs::LogGroup", "{name}");
        assert!(
            group["Properties"]["RetentionInDays"].as_u64().is_some(),
            "{name}: a retention"
        );
    }
}

#[test]
fn the_table_is_protected_from_deletion_and_recoverable_to_a_point_in_time() {
    let template = template();
    let table = &template["Resources"]["Table"];
    assert_eq!(table["DeletionPolicy"], "Retain");
    assert_eq!(table["UpdateReplacePolicy"], "Retain");
    let props = &table["Properties"];
    assert_eq!(props["DeletionProtectionEnabled"], true);
    assert_eq!(
        props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
}
