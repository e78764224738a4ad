//! The per-function blocks of `infra/template.yaml`, rendered from the catalog: each function,
//! its log group, its alarms, and for a Cognito trigger its invoke permission. They go between
//! the template's `BEGIN GENERATED` and `END GENERATED` lines; the rest of the template (table,
//! API, bus, schedule, alarm topic, parameters) is written by hand.

use std::fmt::Write;

use super::{FUNCTIONS, Function, Grant, Target, Trigger};
use crate::routes::Auth;

pub const BEGIN: &str = "  # ---- BEGIN GENERATED from functions/src/spec (UPDATE_INFRA=1 cargo test --locked -p orgs-functions --lib spec); do not edit by hand\n";
pub const END: &str = "  # ---- END GENERATED\n";

/// `get-me` as `GetMe`, for logical ids.
pub fn pascal(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

/// Comment lines of at most ~100 columns at `indent`.
fn comment(out: &mut String, indent: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + 2 + line.len() + 1 + word.len() > 100 {
            writeln!(out, "{indent}# {line}").unwrap();
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    writeln!(out, "{indent}# {line}").unwrap();
}

/// A plain scalar where YAML reads it back as written, else a double-quoted one.
fn scalar(text: &str) -> String {
    let plain = !text.contains(": ")
        && !text.contains(" #")
        && !text.starts_with(|c: char| "!&*{}[]|>'\"%@`#,?:-".contains(c));
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap()
    }
}

fn resources(on: Target) -> &'static [&'static str] {
    match on {
        Target::Table => &["!GetAtt Table.Arn"],
        Target::Gsi1 => &[r#"!Sub "${Table.Arn}/index/gsi1""#],
        Target::Gsi2 => &[r#"!Sub "${Table.Arn}/index/gsi2""#],
        Target::Stream => &["!GetAtt Table.StreamArn"],
        Target::Any | Target::SuppressionList => &[r#""*""#],
        Target::EventBus => &[
            "!Sub arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}",
        ],
        // Without a user pool, single sign-on is off and the grant names no pool of the account.
        Target::UserPool => &[
            r#"!If [NamesUserPool, !Ref CognitoUserPoolArn, !Sub "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/none"]"#,
        ],
        Target::DeadLetterQueue => &["!GetAtt EventsDeadLetterQueue.Arn"],
        Target::DeliveryDeadLetterQueue => &["!GetAtt DeliveryDeadLetterQueue.Arn"],
        Target::MailFrom => &[
            "!Sub arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailFrom}",
            "!Sub\n                  - arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailDomain}\n                  - MailDomain: !Select [1, !Split [\"@\", !Ref MailFrom]]",
            "!Sub arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${DeliveryConfigurationSet}",
        ],
    }
}

fn statement(out: &mut String, grant: &Grant) {
    comment(out, "            ", grant.why);
    out.push_str("            - Effect: Allow\n              Action:\n");
    for action in grant.actions {
        writeln!(out, "                - {action}").unwrap();
    }
    match resources(grant.on) {
        [one] => writeln!(out, "              Resource: {one}").unwrap(),
        many => {
            out.push_str("              Resource:\n");
            for resource in many {
                writeln!(out, "                - {resource}").unwrap();
            }
        }
    }
    if grant.on == Target::MailFrom {
        out.push_str("              Condition:\n                StringEquals:\n                  ses:FromAddress: !Ref MailFrom\n");
    }
    if !grant.keys.is_empty() {
        out.push_str("              Condition:\n                ForAllValues:StringLike:\n                  dynamodb:LeadingKeys:\n");
        for key in grant.keys {
            writeln!(out, "                    - \"{key}*\"").unwrap();
        }
    }
}

fn events(out: &mut String, function: &Function) {
    let text = match &function.trigger {
        Trigger::Http(route) => {
            let mut text = format!(
                "      Events:\n        Api:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n            Path: {}\n            Method: {}\n",
                route.path, route.method
            );
            if route.auth == Auth::Public {
                text.push_str("            # Public: what the body names is the credential; no sign-in needed.\n            Auth:\n              Authorizer: NONE\n");
            }
            text
        }
        Trigger::Stream => STREAM_EVENTS.to_owned(),
        Trigger::Schedule => SCHEDULE_EVENTS.to_owned(),
        Trigger::SesEvents => SES_EVENTS.to_owned(),
        Trigger::CognitoTrigger | Trigger::CognitoPostConfirmation => String::new(),
    };
    out.push_str(&text);
}

fn environment(out: &mut String, trigger: &Trigger) {
    let variables = match trigger {
        Trigger::Stream => "ORGS_EVENTS_DLQ_URL: !Ref EventsDeadLetterQueue",
        Trigger::CognitoTrigger => "ORGS_TOKEN_MAX_ORGS: !Ref TokenMaxOrgs",
        _ => return,
    };
    writeln!(
        out,
        "      Environment:\n        Variables:\n          {variables}"
    )
    .unwrap();
}

fn function(out: &mut String, f: &Function) {
    let id = pascal(f.name);
    writeln!(
        out,
        "  {id}Function:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildMethod: rust-cargolambda\n      BuildProperties:\n        Binary: {}\n    Properties:\n      CodeUri: ..\n      Description: {}",
        f.name,
        scalar(&f.description())
    )
    .unwrap();
    if f.timeout_seconds != Function::DEFAULT_TIMEOUT_SECONDS {
        comment(out, "      ", f.timeout_why);
        writeln!(out, "      Timeout: {}", f.timeout_seconds).unwrap();
    }
    if f.memory_mb != Function::DEFAULT_MEMORY_MB {
        writeln!(out, "      MemorySize: {}", f.memory_mb).unwrap();
    }
    environment(out, &f.trigger);
    writeln!(
        out,
        "      LoggingConfig:\n        LogGroup: !Ref {id}LogGroup"
    )
    .unwrap();
    // A function that calls no AWS service (beyond its logs) gets no policy of its own.
    if !f.grants.is_empty() {
        writeln!(
            out,
            "      Policies:\n        - Version: \"2012-10-17\"\n          Statement:"
        )
        .unwrap();
    }
    for grant in f.grants {
        statement(out, grant);
    }
    events(out, f);
    writeln!(
        out,
        "  {id}LogGroup:\n    Type: AWS::Logs::LogGroup\n    DeletionPolicy: Delete\n    UpdateReplacePolicy: Delete\n    Properties:\n      LogGroupName: !Sub /aws/lambda/${{AWS::StackName}}/{}\n      RetentionInDays: 30",
        f.name
    )
    .unwrap();
    alarm(
        out,
        &format!("{id}ThrottlesAlarm"),
        &format!(
            "Lambda throttled {} (the account's or region's concurrency is used up).",
            f.name
        ),
        &id,
        ("Throttles", "Sum", "1"),
    );
    match f.trigger {
        Trigger::Stream => {
            alarm(
                out,
                &format!("{id}IteratorAgeAlarm"),
                &format!("{} is ten minutes or more behind the table's stream.", f.name),
                &id,
                ("IteratorAge", "Maximum", "600000"),
            );
            alarm(
                out,
                &format!("{id}ErrorsAlarm"),
                &format!(
                    "{} failed (crashed or timed out) on a batch of the table's stream.",
                    f.name
                ),
                &id,
                ("Errors", "Sum", "1"),
            );
        }
        Trigger::Schedule => alarm(
            out,
            &format!("{id}ErrorsAlarm"),
            &format!(
                "A run of {} failed; the next run carries on where it stopped.",
                f.name
            ),
            &id,
            ("Errors", "Sum", "1"),
        ),
        Trigger::SesEvents => {
            alarm(
                out,
                &format!("{id}ErrorsAlarm"),
                &format!(
                    "{} failed on a delivery report; Lambda tries twice more, then the report waits in DeliveryDeadLetterQueue.",
                    f.name
                ),
                &id,
                ("Errors", "Sum", "1"),
            );
            writeln!(
                out,
                "  # A report whose recording still fails after Lambda's two retries (DynamoDB unavailable,\n  # say) goes to the queue with the event, instead of being dropped; see docs/operations.md\n  # for replaying it.\n  {id}EventInvokeConfig:\n    Type: AWS::Lambda::EventInvokeConfig\n    Properties:\n      FunctionName: !Ref {id}Function\n      Qualifier: $LATEST\n      MaximumRetryAttempts: 2\n      DestinationConfig:\n        OnFailure:\n          Destination: !GetAtt DeliveryDeadLetterQueue.Arn"
            )
            .unwrap();
        }
        Trigger::CognitoTrigger | Trigger::CognitoPostConfirmation => writeln!(
            out,
            "  # Lets Cognito invoke the trigger: only the named user pool, or without one any pool of this\n  # account. Attaching it to the pool is the pool's own setting (see docs/api.md:\n  # Organizations in the token, A first organization at sign-up).\n  {id}CognitoPermission:\n    Type: AWS::Lambda::Permission\n    Properties:\n      Action: lambda:InvokeFunction\n      FunctionName: !GetAtt {id}Function.Arn\n      Principal: cognito-idp.amazonaws.com\n      SourceAccount: !Ref AWS::AccountId\n      SourceArn: !If [NamesUserPool, !Ref CognitoUserPoolArn, !Ref AWS::NoValue]"
        )
        .unwrap(),
        _ => {}
    }
}

/// An alarm on one of the function's Lambda metrics: `(metric, statistic, threshold)`.
fn alarm(out: &mut String, id: &str, about: &str, function_id: &str, metric: (&str, &str, &str)) {
    let (metric, statistic, threshold) = metric;
    writeln!(
        out,
        "  {id}:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      AlarmDescription: {}\n      Namespace: AWS/Lambda\n      MetricName: {metric}\n      Dimensions:\n        - Name: FunctionName\n          Value: !Ref {function_id}Function\n      Statistic: {statistic}\n      Period: 300\n      EvaluationPeriods: 1\n      Threshold: {threshold}\n      ComparisonOperator: GreaterThanOrEqualToThreshold\n      TreatMissingData: notBreaching\n      AlarmActions: !If [NotifiesAlarms, [!If [NamesAlarmTopic, !Ref AlarmTopicArn, !Ref AlarmTopic]], !Ref AWS::NoValue]\n      OKActions: !If [NotifiesAlarms, [!If [NamesAlarmTopic, !Ref AlarmTopicArn, !Ref AlarmTopic]], !Ref AWS::NoValue]",
        scalar(about)
    )
    .unwrap();
}

/// The generated region, markers included.
pub fn region() -> String {
    let mut out = String::from(BEGIN);
    for f in FUNCTIONS {
        out.push('\n');
        function(&mut out, f);
    }
    out.push_str(END);
    out
}

/// `template` with its generated region replaced by `region()`; `None` without the markers.
pub fn regenerate(template: &str) -> Option<String> {
    let start = template.find(BEGIN)?;
    let end = template[start..].find(END)? + start + END.len();
    Some(format!(
        "{}{}{}",
        &template[..start],
        region(),
        &template[end..]
    ))
}

const STREAM_EVENTS: &str = r#"      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            # From the oldest record the stream holds, so a new stack misses none.
            StartingPosition: TRIM_HORIZON
            BatchSize: 100
            MaximumBatchingWindowInSeconds: 1
            # One batch per shard at a time: the records of one partition (one organization's
            # events) stay in commit order.
            ParallelizationFactor: 1
            # The function names the first record it could not publish; Lambda retries from
            # there. A crash or timeout is bisected to find a record that causes it.
            FunctionResponseTypes:
              - ReportBatchItemFailures
            BisectBatchOnFunctionError: true
            # Keep retrying while EventBridge is down, so that delivery resumes in order when it
            # is back. Records the stream would soon trim (it keeps 24 hours) go to the
            # dead-letter queue with their shard and sequence numbers, never silently away.
            MaximumRetryAttempts: -1
            MaximumRecordAgeInSeconds: 79200
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt EventsDeadLetterQueue.Arn
            # Only new event records wake the function; the code checks again.
            FilterCriteria:
              Filters:
                - Pattern: '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["event"]}}}}'
"#;

const SCHEDULE_EVENTS: &str = r#"      Events:
        Schedule:
          Type: Schedule
          Properties:
            Schedule: !Ref ExpiryScheduleRate
            Description: Runs the invitation expiry and the domains' re-check.
"#;

const SES_EVENTS: &str = r#"      Events:
        SesEvents:
          Type: EventBridgeRule
          Properties:
            EventBusName: default
            Pattern:
              source:
                - aws.ses
              detail:
                mail:
                  tags:
                    ses:configuration-set:
                      - !Ref DeliveryConfigurationSet
            # A failed invocation (DynamoDB unavailable) is tried again for up to six hours;
            # recording is idempotent.
            RetryPolicy:
              MaximumRetryAttempts: 185
              MaximumEventAgeInSeconds: 21600
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// A function with a grant on the user pool (single sign-on's providers and app client):
    /// the statement names the pool of `CognitoUserPoolArn`, or without one a pool ARN no pool
    /// of the account has, never a wildcard.
    #[test]
    fn a_user_pool_grant_names_the_deployers_pool_or_none() {
        static GRANTS: [Grant; 1] = [Grant {
            actions: &[
                "cognito-idp:CreateIdentityProvider",
                "cognito-idp:UpdateUserPoolClient",
            ],
            on: Target::UserPool,
            keys: &[],
            why: "The organization's identity provider, and the app client that lists it.",
        }];
        let synthetic = Function {
            name: "sso-example",
            about: "A synthetic function with a user pool grant.",
            trigger: Trigger::Schedule,
            timeout_seconds: Function::DEFAULT_TIMEOUT_SECONDS,
            timeout_why: "",
            memory_mb: Function::DEFAULT_MEMORY_MB,
            grants: &GRANTS,
            unexercised: &[],
        };
        let mut out = String::new();
        function(&mut out, &synthetic);
        let statement = r#"            # The organization's identity provider, and the app client that lists it.
            - Effect: Allow
              Action:
                - cognito-idp:CreateIdentityProvider
                - cognito-idp:UpdateUserPoolClient
              Resource: !If [NamesUserPool, !Ref CognitoUserPoolArn, !Sub "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/none"]
"#;
        assert!(out.contains(statement), "{out}");
        assert!(!out.contains("Condition:"), "{out}");
    }

    /// The settings single sign-on reads reach every function through the template's Globals
    /// (hand-written), not through a function's own block.
    #[test]
    fn no_function_block_sets_the_single_sign_on_settings() {
        let region = region();
        assert!(!region.contains("ORGS_USER_POOL_ID"));
        assert!(!region.contains("ORGS_SSO_APP_CLIENT_ID"));
        let template = std::fs::read_to_string(format!(
            "{}/../infra/template.yaml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("infra/template.yaml");
        let start = template.find("\nGlobals:").expect("Globals");
        let end = template.find("\nResources:").expect("Resources");
        let globals = &template[start..end];
        for variable in ["ORGS_USER_POOL_ID", "ORGS_SSO_APP_CLIENT_ID"] {
            assert!(
                globals.contains(&format!("        {variable}: ")),
                "{variable}"
            );
        }
    }
}
