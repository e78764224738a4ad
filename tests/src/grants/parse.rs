//! What IAM authorizes a request as: its action(s), the resource, and the partition key each
//! touched item has (`dynamodb:LeadingKeys`), read from the request the SDK puts on the wire.
//! Resources are named by kind (`table`, `table/index/gsi1`, `table/stream`, `event-bus`,
//! `queue`, `ses-identity`, `ses-configuration-set`, `user-pool`, or `*` for an account-wide
//! action), since the local names differ from the deployed ones.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One authorization IAM makes for a request; a request may need several.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Authorization {
    pub action: String,
    pub resource: String,
    /// The prefix of the partition key value, cut after its first `#` (`ORG#`), or the whole
    /// value when it has none (`DELETING`).
    pub leading_key: Option<String>,
    /// SES's `ses:FromAddress`.
    pub from_address: Option<String>,
}

/// The hash key attribute of the table and of each index (the template's key schemas).
#[derive(Clone, Debug, Default)]
pub struct HashKeys {
    pub table: String,
    pub indexes: BTreeMap<String, String>,
}

/// The request's parts that say what it is.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path, without the query string.
    pub path: &'a str,
    pub target: Option<&'a str>,
    pub body: &'a [u8],
}

pub fn authorizations(request: &Request<'_>, keys: &HashKeys) -> Vec<Authorization> {
    let body: Value = serde_json::from_slice(request.body).unwrap_or(Value::Null);
    if let Some(target) = request.target {
        if let Some(op) = target.strip_prefix("DynamoDB_20120810.") {
            return dynamodb(op, &body, keys);
        }
        if let Some(op) = target.strip_prefix("DynamoDBStreams_20120810.") {
            // ListStreams names no stream: IAM authorizes it on `*`.
            let resource = if op == "ListStreams" {
                "*"
            } else {
                "table/stream"
            };
            return vec![plain(format!("dynamodb:{op}"), resource)];
        }
        if let Some(op) = target.strip_prefix("AWSEvents.") {
            return vec![plain(format!("events:{op}"), "event-bus")];
        }
        if let Some(op) = target.strip_prefix("AmazonSQS.") {
            return vec![plain(format!("sqs:{op}"), "queue")];
        }
        // Cognito's user pool API (JSON protocol): every operation single sign-on calls (the
        // identity providers, the app client) is authorized on the user pool it names.
        if let Some(op) = target.strip_prefix("AWSCognitoIdentityProviderService.") {
            return vec![plain(format!("cognito-idp:{op}"), "user-pool")];
        }
        return vec![plain(format!("unknown:{target}"), "*")];
    }
    // SQS's query protocol, should the SDK speak it: the action is a form field.
    if let Some(op) = form_action(request.body) {
        return vec![plain(format!("sqs:{op}"), "queue")];
    }
    ses(request, &body)
}

fn plain(action: String, resource: &str) -> Authorization {
    Authorization {
        action,
        resource: resource.to_owned(),
        leading_key: None,
        from_address: None,
    }
}

fn ses(request: &Request<'_>, body: &Value) -> Vec<Authorization> {
    match (request.method, request.path) {
        ("POST", "/v2/email/outbound-emails") => {
            // Authorized against the sending identity and the configuration set the mail names.
            let from = body["FromEmailAddress"].as_str().map(address);
            let mut out = vec![Authorization {
                from_address: from.clone(),
                ..plain("ses:SendEmail".into(), "ses-identity")
            }];
            if body["ConfigurationSetName"].is_string() {
                out.push(Authorization {
                    from_address: from,
                    ..plain("ses:SendEmail".into(), "ses-configuration-set")
                });
            }
            out
        }
        ("GET", path) if path.starts_with("/v2/email/suppression/addresses/") => {
            vec![plain("ses:GetSuppressedDestination".into(), "*")]
        }
        (method, path) => vec![plain(format!("unknown:{method} {path}"), "*")],
    }
}

/// `Name <a@b>` or `a@b`: the address.
fn address(from: &str) -> String {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(start), Some(end)) if start < end => from[start + 1..end].to_owned(),
        _ => from.to_owned(),
    }
}

fn form_action(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "Action")
        .map(|(_, value)| value.into_owned())
}

fn dynamodb(op: &str, body: &Value, keys: &HashKeys) -> Vec<Authorization> {
    let mut out = BTreeSet::new();
    let mut add = |action: &str, resource: String, key: Option<String>| {
        out.insert(Authorization {
            action: format!("dynamodb:{action}"),
            resource,
            leading_key: key,
            from_address: None,
        });
    };
    match op {
        "GetItem" | "UpdateItem" | "DeleteItem" => {
            add(op, "table".into(), leading(&body["Key"], &keys.table));
        }
        "PutItem" => add(op, "table".into(), leading(&body["Item"], &keys.table)),
        "Query" | "Scan" => {
            let (resource, hash) = match body["IndexName"].as_str() {
                Some(index) => (
                    format!("table/index/{index}"),
                    keys.indexes.get(index).cloned().unwrap_or_default(),
                ),
                None => ("table".to_owned(), keys.table.clone()),
            };
            let key = (op == "Query").then(|| query_key(body, &hash)).flatten();
            add(op, resource, key);
        }
        "BatchGetItem" => {
            for table in objects(&body["RequestItems"]) {
                for key in table["Keys"].as_array().into_iter().flatten() {
                    add(op, "table".into(), leading(key, &keys.table));
                }
            }
        }
        "BatchWriteItem" => {
            for writes in objects(&body["RequestItems"]) {
                for write in writes.as_array().into_iter().flatten() {
                    let item = match &write["PutRequest"]["Item"] {
                        Value::Null => &write["DeleteRequest"]["Key"],
                        item => item,
                    };
                    add(op, "table".into(), leading(item, &keys.table));
                }
            }
        }
        // No IAM action of their own: each item is authorized as its single-item action.
        "TransactWriteItems" | "TransactGetItems" => {
            for item in body["TransactItems"].as_array().into_iter().flatten() {
                let Some((kind, request)) = item.as_object().and_then(|o| o.iter().next()) else {
                    continue;
                };
                let action = match kind.as_str() {
                    "Put" => "PutItem",
                    "Update" => "UpdateItem",
                    "Delete" => "DeleteItem",
                    "ConditionCheck" => "ConditionCheckItem",
                    "Get" => "GetItem",
                    other => other,
                };
                let item = match &request["Item"] {
                    Value::Null => &request["Key"],
                    item => item,
                };
                add(action, "table".into(), leading(item, &keys.table));
            }
        }
        _ => add(op, "table".into(), None),
    }
    out.into_iter().collect()
}

fn objects(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_object().into_iter().flat_map(|o| o.values())
}

/// The prefix of the string value of `attribute` in a DynamoDB JSON item or key.
fn leading(item: &Value, attribute: &str) -> Option<String> {
    item[attribute]["S"].as_str().map(prefix)
}

/// Up to and with the first `#`, or all of it.
pub fn prefix(value: &str) -> String {
    match value.find('#') {
        Some(at) => value[..=at].to_owned(),
        None => value.to_owned(),
    }
}

/// The value a Query's key condition gives the hash key: the `name = :value` clause whose
/// name (directly, or through `ExpressionAttributeNames`) is `hash`.
fn query_key(body: &Value, hash: &str) -> Option<String> {
    let expression = body["KeyConditionExpression"].as_str()?;
    expression
        .split(" AND ")
        .flat_map(|clause| clause.split(" and "))
        .find_map(|clause| {
            let clause = clause.trim().trim_start_matches('(').trim_end_matches(')');
            let (name, value) = clause.split_once('=')?;
            let (name, value) = (name.trim(), value.trim());
            let name = match name.strip_prefix('#') {
                Some(_) => body["ExpressionAttributeNames"][name].as_str()?,
                None => name,
            };
            (name == hash)
                .then(|| body["ExpressionAttributeValues"][value]["S"].as_str())
                .flatten()
                .map(prefix)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys() -> HashKeys {
        HashKeys {
            table: "pk".into(),
            indexes: [("gsi2".to_owned(), "gsi2pk".to_owned())].into(),
        }
    }

    fn dynamo(op: &str, body: Value) -> Vec<(String, String, Option<String>)> {
        let body = body.to_string();
        let target = format!("DynamoDB_20120810.{op}");
        let request = Request {
            method: "POST",
            path: "/",
            target: Some(&target),
            body: body.as_bytes(),
        };
        authorizations(&request, &keys())
            .into_iter()
            .map(|a| (a.action, a.resource, a.leading_key))
            .collect()
    }

    fn one(action: &str, resource: &str, key: &str) -> (String, String, Option<String>) {
        (action.into(), resource.into(), Some(key.into()))
    }

    #[test]
    fn a_transaction_is_authorized_item_by_item_with_each_partition_prefix() {
        let body = json!({ "TransactItems": [
            { "Put": { "TableName": "t", "Item": { "pk": { "S": "ORG#1" }, "sk": { "S": "ORG" } } } },
            { "Update": { "TableName": "t", "Key": { "pk": { "S": "USER#a" } } } },
            { "ConditionCheck": { "TableName": "t", "Key": { "pk": { "S": "HANDLE#x" } } } },
        ]});
        assert_eq!(
            dynamo("TransactWriteItems", body),
            [
                one("dynamodb:ConditionCheckItem", "table", "HANDLE#"),
                one("dynamodb:PutItem", "table", "ORG#"),
                one("dynamodb:UpdateItem", "table", "USER#"),
            ]
        );
    }

    #[test]
    fn an_index_query_is_on_the_index_with_the_index_hash_key_value() {
        let body = json!({
            "TableName": "t", "IndexName": "gsi2",
            "KeyConditionExpression": "#pk = :d AND #sk < :before",
            "ExpressionAttributeNames": { "#pk": "gsi2pk", "#sk": "gsi2sk" },
            "ExpressionAttributeValues": { ":d": { "S": "DELETING" }, ":before": { "S": "2" } },
        });
        assert_eq!(
            dynamo("Query", body),
            [one("dynamodb:Query", "table/index/gsi2", "DELETING")]
        );
        let body = json!({
            "TableName": "t", "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": { ":pk": { "S": "AUDIT#ORG#1" } },
        });
        assert_eq!(
            dynamo("Query", body),
            [one("dynamodb:Query", "table", "AUDIT#")]
        );
    }

    #[test]
    fn batches_name_each_partition_once() {
        let body = json!({ "RequestItems": { "t": { "Keys": [
            { "pk": { "S": "ORG#1" } }, { "pk": { "S": "ORG#2" } }, { "pk": { "S": "USER#a" } },
        ]}}});
        assert_eq!(
            dynamo("BatchGetItem", body),
            [
                one("dynamodb:BatchGetItem", "table", "ORG#"),
                one("dynamodb:BatchGetItem", "table", "USER#"),
            ]
        );
    }

    #[test]
    fn a_cognito_call_is_its_action_on_the_user_pool() {
        let body = json!({ "UserPoolId": "us-east-1_abc", "ProviderName": "o-0123", "ProviderType": "SAML" })
            .to_string();
        for op in [
            "CreateIdentityProvider",
            "UpdateIdentityProvider",
            "DescribeIdentityProvider",
            "DeleteIdentityProvider",
            "DescribeUserPoolClient",
            "UpdateUserPoolClient",
        ] {
            let target = format!("AWSCognitoIdentityProviderService.{op}");
            let request = Request {
                method: "POST",
                path: "/",
                target: Some(&target),
                body: body.as_bytes(),
            };
            assert_eq!(
                authorizations(&request, &keys()),
                [Authorization {
                    action: format!("cognito-idp:{op}"),
                    resource: "user-pool".into(),
                    leading_key: None,
                    from_address: None,
                }]
            );
        }
    }

    #[test]
    fn sending_mail_needs_the_identity_and_the_configuration_set() {
        let body = json!({ "FromEmailAddress": "Orgs <no-reply@orgs.local>", "ConfigurationSetName": "c" })
            .to_string();
        let request = Request {
            method: "POST",
            path: "/v2/email/outbound-emails",
            target: None,
            body: body.as_bytes(),
        };
        let got = authorizations(&request, &keys());
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].resource, "ses-configuration-set");
        assert!(got.iter().all(|a| a.action == "ses:SendEmail"
            && a.from_address.as_deref() == Some("no-reply@orgs.local")));
    }
}
