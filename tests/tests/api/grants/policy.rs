//! Each function's IAM policy, read from the SAM template: which calls (as `orgs_local::grants`
//! records them) a statement allows. Resources are compared by kind, as the recording names
//! them; a resource or condition of a form not read here allows nothing.

use std::collections::BTreeMap;

use orgs_local::grants::GrantCall;
use serde_yaml_ng::Value;

/// The sender every test stack's mailer uses (`common.rs`), standing for `!Ref MailFrom`.
const LOCAL_MAIL_FROM: &str = "no-reply@orgs.local";

#[derive(Debug)]
pub struct Statement {
    pub actions: Vec<String>,
    /// As recording names them (`table`, `table/index/gsi1`, ...), `*`, or the template's
    /// text of a form not read here.
    pub resources: Vec<String>,
    conditions: Vec<Condition>,
}

#[derive(Debug)]
enum Condition {
    /// `ForAllValues:StringLike: {dynamodb:LeadingKeys: [patterns]}`.
    LeadingKeys(Vec<String>),
    /// `StringEquals: {ses:FromAddress: address}`.
    FromAddress(String),
    Unknown,
}

/// The statements of every function's `Policies`, by binary name.
pub fn policies(template: &Value) -> BTreeMap<String, Vec<Statement>> {
    let resources = template["Resources"].as_mapping().expect("Resources");
    let mut out = BTreeMap::new();
    for resource in resources.values() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("a function's binary");
        let mut statements = Vec::new();
        for policy in resource["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let list = policy["Statement"].as_sequence().unwrap_or_else(|| {
                panic!("{binary}: a policy the check does not read: {policy:?}")
            });
            for statement in list {
                assert_eq!(
                    statement["Effect"].as_str(),
                    Some("Allow"),
                    "{binary}: only Allow statements are read"
                );
                statements.push(Statement {
                    actions: strings(&statement["Action"]),
                    resources: one_or_many(&statement["Resource"])
                        .map(|r| resource_kind(r, template))
                        .collect(),
                    conditions: conditions(&statement["Condition"]),
                });
            }
        }
        out.insert(binary.to_owned(), statements);
    }
    out
}

impl Statement {
    /// Whether this statement allows `call`: its action, its resource, and every condition.
    pub fn allows(&self, call: &GrantCall) -> bool {
        self.actions.iter().any(|a| glob(a, &call.action))
            && self
                .resources
                .iter()
                .any(|r| r == "*" || *r == call.resource)
            && self.conditions.iter().all(|c| c.holds(call))
    }
}

impl Condition {
    fn holds(&self, call: &GrantCall) -> bool {
        match self {
            Condition::LeadingKeys(patterns) => call
                .leading_key
                .as_ref()
                .is_some_and(|key| patterns.iter().any(|p| glob(p, key))),
            Condition::FromAddress(address) => call.from_address.as_ref() == Some(address),
            Condition::Unknown => false,
        }
    }
}

fn one_or_many(value: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Value::Sequence(list) => Box::new(list.iter()),
        Value::Null => Box::new(std::iter::empty()),
        other => Box::new(std::iter::once(other)),
    }
}

fn strings(value: &Value) -> Vec<String> {
    one_or_many(value)
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

fn conditions(value: &Value) -> Vec<Condition> {
    let Some(operators) = value.as_mapping() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (operator, keys) in operators {
        for (key, values) in keys.as_mapping().into_iter().flatten() {
            out.push(match (operator.as_str(), key.as_str()) {
                (Some("ForAllValues:StringLike"), Some("dynamodb:LeadingKeys")) => {
                    Condition::LeadingKeys(strings(values))
                }
                (Some("StringEquals"), Some("ses:FromAddress")) => match reference(values) {
                    Some("MailFrom") => Condition::FromAddress(LOCAL_MAIL_FROM.to_owned()),
                    _ => Condition::Unknown,
                },
                _ => Condition::Unknown,
            });
        }
    }
    out
}

fn reference(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

/// The user pool of a grant on it, as `functions/src/spec/sam.rs` renders it: the pool
/// `CognitoUserPoolArn` names, or without one `userpool/none` (no pool of the account).
const USER_POOL: &str = r#"!If [NamesUserPool, !Ref CognitoUserPoolArn, !Sub "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/none"]"#;

/// A template resource as recording names it, or its text when of another form.
fn resource_kind(value: &Value, template: &Value) -> String {
    let Value::Tagged(tagged) = value else {
        return value.as_str().unwrap_or("?").to_owned();
    };
    if tagged.tag == "If" {
        let user_pool: Value = serde_yaml_ng::from_str(USER_POOL).expect("the user pool's form");
        return if *value == user_pool {
            "user-pool".to_owned()
        } else {
            format!("!If {:?}", tagged.value)
        };
    }
    let text = match &tagged.value {
        Value::String(text) => text.clone(),
        // `!GetAtt [Name, Attribute]`, or `!Sub [text, variables]`.
        Value::Sequence(parts) if tagged.tag == "GetAtt" => parts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("."),
        Value::Sequence(parts) => parts
            .first()
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned(),
        other => format!("{other:?}"),
    };
    if tagged.tag == "GetAtt" {
        return match text.as_str() {
            "Table.Arn" => "table".to_owned(),
            "Table.StreamArn" => "table/stream".to_owned(),
            other => match other.strip_suffix(".Arn") {
                Some(name) if template["Resources"][name]["Type"] == "AWS::SQS::Queue" => {
                    "queue".to_owned()
                }
                _ => format!("!GetAtt {other}"),
            },
        };
    }
    if let Some(rest) = text.strip_prefix("${Table.Arn}") {
        return format!("table{rest}");
    }
    let arn = "arn:${AWS::Partition}:";
    let account = ":${AWS::Region}:${AWS::AccountId}:";
    let kinds = [
        ("events", "event-bus/${EventBusName}", "event-bus"),
        ("ses", "identity/${MailFrom}", "ses-identity"),
        ("ses", "identity/${MailDomain}", "ses-identity"),
        (
            "ses",
            "configuration-set/${DeliveryConfigurationSet}",
            "ses-configuration-set",
        ),
    ];
    kinds
        .iter()
        .find(|(service, name, _)| text == format!("{arn}{service}{account}{name}"))
        .map_or_else(|| format!("!Sub {text}"), |(_, _, kind)| (*kind).to_owned())
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
pub fn glob(pattern: &str, text: &str) -> bool {
    match pattern.chars().next() {
        None => text.is_empty(),
        Some('*') => (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .any(|i| glob(&pattern[1..], &text[i..])),
        Some(first) => {
            let mut rest = text.chars();
            match rest.next() {
                Some(c) if c == first || first == '?' => {
                    glob(&pattern[first.len_utf8()..], rest.as_str())
                }
                _ => false,
            }
        }
    }
}
