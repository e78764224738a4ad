//! The functions' IAM policies in `infra/template.yaml` against the AWS calls their code makes.
//! moto enforces no IAM, so the integration tests record every function's calls
//! (`orgs_local::grants`, in `target/grant-calls/`) and `tests/check` runs these checks right
//! after them: every call must be allowed, and every grant used, or kept with its reason in the
//! function's catalog entry (`unexercised`, functions/src/spec/catalog.rs).

mod policy;

use std::collections::{BTreeMap, BTreeSet};

use orgs_functions::spec::FUNCTIONS;
use orgs_local::grants::{GrantCall, recorded_calls};
use orgs_local::workspace_root;
use serde_yaml_ng::Value;

use policy::{Statement, glob, policies};

/// Grants no recorded call uses, with why they stay, as the catalog keeps them:
/// (function, action, reason).
fn kept_unexercised() -> Vec<(&'static str, &'static str, &'static str)> {
    FUNCTIONS
        .iter()
        .flat_map(|f| f.unexercised.iter().map(|(a, why)| (f.name, *a, *why)))
        .collect()
}

fn template() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("infra/template.yaml"))
        .expect("infra/template.yaml");
    serde_yaml_ng::from_str(&text).expect("valid YAML")
}

fn recorded() -> BTreeSet<GrantCall> {
    let calls = recorded_calls().unwrap_or_else(|error| {
        panic!("no recording of the functions' calls ({error:#}): run the integration tests first")
    });
    assert!(
        !calls.is_empty(),
        "the recording of the functions' calls is empty: run the integration tests first"
    );
    calls
}

/// Each call no statement of its function allows, described.
fn misses(policies: &BTreeMap<String, Vec<Statement>>, calls: &BTreeSet<GrantCall>) -> Vec<String> {
    calls
        .iter()
        .filter(|call| {
            !policies
                .get(&call.function)
                .is_some_and(|statements| statements.iter().any(|s| s.allows(call)))
        })
        .map(|call| {
            let mut line = format!("{}: {} on {}", call.function, call.action, call.resource);
            if let Some(key) = &call.leading_key {
                line.push_str(&format!(" (partition key {key}…)"));
            }
            if let Some(from) = &call.from_address {
                line.push_str(&format!(" (from {from})"));
            }
            line
        })
        .collect()
}

/// (function, action, resource) of each grant no call of its function uses.
fn unexercised(
    policies: &BTreeMap<String, Vec<Statement>>,
    calls: &BTreeSet<GrantCall>,
) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for (function, statements) in policies {
        for statement in statements {
            for action in &statement.actions {
                for resource in &statement.resources {
                    let used = calls.iter().any(|call| {
                        call.function == *function
                            && glob(action, &call.action)
                            && (resource == "*" || *resource == call.resource)
                    });
                    if !used {
                        out.insert((function.clone(), action.clone(), resource.clone()));
                    }
                }
            }
        }
    }
    out
}

#[test]
#[ignore = "run by tests/check after the integration tests, which record the calls"]
fn every_recorded_call_is_allowed_by_its_function_policy() {
    let missed = misses(&policies(&template()), &recorded());
    assert!(
        missed.is_empty(),
        "calls that the functions' policies in infra/template.yaml do not allow:\n  {}",
        missed.join("\n  ")
    );
}

#[test]
#[ignore = "run by tests/check after the integration tests, which record the calls"]
fn every_grant_is_used_or_explained() {
    let unused = unexercised(&policies(&template()), &recorded());
    let kept = kept_unexercised();
    let explained =
        |function: &str, action: &str| kept.iter().any(|(f, a, _)| *f == function && *a == action);
    let unexplained: Vec<String> = unused
        .iter()
        .filter(|(function, action, _)| !explained(function, action))
        .map(|(function, action, resource)| format!("{function}: {action} on {resource}"))
        .collect();
    assert!(
        unexplained.is_empty(),
        "grants no test uses: add a test that does, or remove the grant from the function's entry \
         in functions/src/spec/catalog.rs, or keep it there in `unexercised` with its reason:\n  {}",
        unexplained.join("\n  ")
    );
    let stale: Vec<_> = kept
        .iter()
        .filter(|(function, action, _)| {
            !unused.iter().any(|(f, a, _)| f == function && a == action)
        })
        .collect();
    assert!(
        stale.is_empty(),
        "the catalog keeps as unexercised grants that are used, or gone: {stale:?}"
    );
}

#[test]
fn a_call_outside_its_function_statements_is_named() {
    let template: Value = serde_yaml_ng::from_str(
        r#"
Resources:
  F:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: f } }
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem]
              Resource: !GetAtt Table.Arn
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: ["INV#*", "DELETING"]
            - Effect: Allow
              Action: dynamodb:Query
              Resource: !Sub "${Table.Arn}/index/gsi1"
"#,
    )
    .unwrap();
    let call = |function: &str, action: &str, resource: &str, key: &str| GrantCall {
        function: function.into(),
        action: action.into(),
        resource: resource.into(),
        leading_key: Some(key.into()),
        from_address: None,
    };
    let calls: BTreeSet<_> = [
        call("f", "dynamodb:GetItem", "table", "INV#"),
        call("f", "dynamodb:GetItem", "table", "DELETING"),
        call("f", "dynamodb:GetItem", "table", "ORG#"),
        call("f", "dynamodb:Query", "table/index/gsi1", "USER#"),
        call("f", "dynamodb:Query", "table", "USER#"),
        call("f", "dynamodb:PutItem", "table", "INV#"),
        call("g", "dynamodb:GetItem", "table", "INV#"),
    ]
    .into();
    let policies = policies(&template);
    assert_eq!(
        misses(&policies, &calls),
        [
            "f: dynamodb:GetItem on table (partition key ORG#…)",
            "f: dynamodb:PutItem on table (partition key INV#…)",
            "f: dynamodb:Query on table (partition key USER#…)",
            "g: dynamodb:GetItem on table (partition key INV#…)",
        ]
    );
    let only_get: BTreeSet<_> = [call("f", "dynamodb:GetItem", "table", "INV#")].into();
    let unused = unexercised(&policies, &only_get);
    let expected = (
        "f".into(),
        "dynamodb:Query".into(),
        "table/index/gsi1".into(),
    );
    assert_eq!(unused, [expected].into());
}

#[test]
fn a_cognito_call_is_held_to_the_functions_grants_on_the_user_pool() {
    // A grant on the user pool as functions/src/spec/sam.rs renders it (`Target::UserPool`).
    let template: Value = serde_yaml_ng::from_str(
        r#"
Resources:
  F:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: f } }
    Properties:
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action:
                - cognito-idp:CreateIdentityProvider
                - cognito-idp:UpdateIdentityProvider
              Resource: !If [NamesUserPool, !Ref CognitoUserPoolArn, !Sub "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/none"]
            - Effect: Allow
              Action: cognito-idp:DescribeUserPoolClient
              Resource: !If [NamesUserPool, !Ref CognitoUserPoolArn, !Ref AWS::NoValue]
"#,
    )
    .unwrap();
    let call = |function: &str, action: &str| GrantCall {
        function: function.into(),
        action: action.into(),
        resource: "user-pool".into(),
        leading_key: None,
        from_address: None,
    };
    let calls: BTreeSet<_> = [
        call("f", "cognito-idp:CreateIdentityProvider"),
        call("f", "cognito-idp:UpdateIdentityProvider"),
        call("f", "cognito-idp:DeleteIdentityProvider"),
        // A resource of another form allows nothing.
        call("f", "cognito-idp:DescribeUserPoolClient"),
        call("g", "cognito-idp:CreateIdentityProvider"),
    ]
    .into();
    let policies = policies(&template);
    assert_eq!(
        misses(&policies, &calls),
        [
            "f: cognito-idp:DeleteIdentityProvider on user-pool",
            "f: cognito-idp:DescribeUserPoolClient on user-pool",
            "g: cognito-idp:CreateIdentityProvider on user-pool",
        ]
    );
    let only_create: BTreeSet<_> = [call("f", "cognito-idp:CreateIdentityProvider")].into();
    let unused: Vec<_> = unexercised(&policies, &only_create)
        .into_iter()
        .map(|(_, action, resource)| format!("{action} on {resource}"))
        .collect();
    assert_eq!(unused.len(), 2, "{unused:?}");
    assert!(unused.contains(&"cognito-idp:UpdateIdentityProvider on user-pool".to_owned()));
}
