//! Every Lambda function of the service, declared once (`catalog.rs`): what invokes it (an HTTP
//! route with who may call it, the table's stream, the schedule, SES's events, Cognito), its
//! timeout and memory, and its grants: the AWS actions it may call, on which resource, and for
//! DynamoDB the partition-key prefixes it is limited to where they are a known set.
//!
//! Everything else follows from it: the local server routes with it (`crate::routes`), the
//! per-function blocks of `infra/template.yaml` and `infra/functions.json` (which the CDK app
//! builds its functions and policies from) are generated from it (`UPDATE_INFRA=1 cargo test
//! --locked -p orgs-functions --lib spec` rewrites both; the same test fails while either is
//! stale), and the integration suite holds every AWS call each function makes to its grants.

mod catalog;
#[cfg(test)]
mod export;
#[cfg(test)]
mod sam;

use std::sync::LazyLock;

pub use catalog::FUNCTIONS;

use crate::routes::Route;

/// What a grant's actions may touch; the template and the CDK app turn each into ARNs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Table,
    Gsi1,
    Gsi2,
    /// The table's stream.
    Stream,
    /// `dynamodb:ListStreams` has no resource-level permissions.
    Any,
    /// The bus domain events are published to (`EventBusName`).
    EventBus,
    /// The queue of event records that could not be published.
    DeadLetterQueue,
    /// The queue of SES delivery reports whose recording failed (the on-failure destination).
    DeliveryDeadLetterQueue,
    /// What SES v2 SendEmail is authorized against: the From address's email identity, its
    /// domain identity and the delivery configuration set, only with MailFrom as the From.
    MailFrom,
    /// The account's suppression list: `ses:GetSuppressedDestination` has no resource type.
    SuppressionList,
    /// The deployer's Cognito user pool (`CognitoUserPoolArn`): single sign-on's identity
    /// providers and app client.
    UserPool,
}

impl Target {
    /// The name the exported spec and the CDK app use.
    pub const fn key(self) -> &'static str {
        match self {
            Target::Table => "table",
            Target::Gsi1 => "gsi1",
            Target::Gsi2 => "gsi2",
            Target::Stream => "stream",
            Target::Any => "any",
            Target::EventBus => "eventBus",
            Target::DeadLetterQueue => "deadLetterQueue",
            Target::DeliveryDeadLetterQueue => "deliveryDeadLetterQueue",
            Target::MailFrom => "mailFrom",
            Target::SuppressionList => "suppressionList",
            Target::UserPool => "userPool",
        }
    }
}

/// Actions a function may call on one target.
#[derive(Clone, Copy, Debug)]
pub struct Grant {
    /// IAM actions, `service:Action`. A transaction is authorized per item by PutItem,
    /// UpdateItem, DeleteItem and ConditionCheckItem: there is no action for TransactWriteItems.
    pub actions: &'static [&'static str],
    pub on: Target,
    /// The partition-key prefixes (`ORG#`) the grant is limited to, with a
    /// `dynamodb:LeadingKeys` condition; empty, any key.
    pub keys: &'static [&'static str],
    /// Why the grant is there, where the action alone does not say (a comment in the template).
    pub why: &'static str,
}

/// What invokes a function.
#[derive(Clone, Copy, Debug)]
pub enum Trigger {
    /// An HTTP API route.
    Http(Route),
    /// The table's stream (the event outbox).
    Stream,
    /// The EventBridge schedule (`ExpiryScheduleRate`).
    Schedule,
    /// A rule on the default bus with SES's delivery events.
    SesEvents,
    /// A Cognito user pool, as its pre-token-generation trigger.
    CognitoTrigger,
    /// A Cognito user pool, as its Post Confirmation trigger (after a person confirms their
    /// sign-up).
    CognitoPostConfirmation,
}

impl Trigger {
    /// Whether a Cognito user pool invokes it (and so it needs its own invoke permission).
    pub const fn is_cognito(&self) -> bool {
        matches!(
            self,
            Trigger::CognitoTrigger | Trigger::CognitoPostConfirmation
        )
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Function {
    /// The binary, the Lambda function and its log group: `src/bin/{name}.rs`.
    pub name: &'static str,
    /// What it does, in a line; after the method and path for a route.
    pub about: &'static str,
    pub trigger: Trigger,
    pub timeout_seconds: u32,
    /// Why the timeout is not the default, when it is not.
    pub timeout_why: &'static str,
    pub memory_mb: u32,
    pub grants: &'static [Grant],
    /// Grants that no test exercises, each with the reason it is kept: `(action, reason)`.
    pub unexercised: &'static [(&'static str, &'static str)],
}

impl Function {
    pub const DEFAULT_TIMEOUT_SECONDS: u32 = 10;
    pub const DEFAULT_MEMORY_MB: u32 = 128;

    pub const fn route(&self) -> Option<&Route> {
        match &self.trigger {
            Trigger::Http(route) => Some(route),
            _ => None,
        }
    }

    /// The template's and the CDK app's description of the function.
    pub fn description(&self) -> String {
        match self.route() {
            Some(route) => format!("{} {} - {}", route.method, route.path, self.about),
            None => self.about.to_owned(),
        }
    }
}

/// The function named `name`.
pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The names of the functions a trigger of this kind invokes.
fn named(kind: fn(&Trigger) -> bool) -> Vec<&'static str> {
    FUNCTIONS
        .iter()
        .filter(|f| kind(&f.trigger))
        .map(|f| f.name)
        .collect()
}

/// The functions that no HTTP route reaches: the table's stream feeds them.
pub static STREAM_FUNCTIONS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| named(|t| matches!(t, Trigger::Stream)));
/// The functions an EventBridge schedule invokes.
pub static SCHEDULED_FUNCTIONS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| named(|t| matches!(t, Trigger::Schedule)));
/// The functions a rule on the default bus invokes with SES's events.
pub static SES_EVENT_FUNCTIONS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| named(|t| matches!(t, Trigger::SesEvents)));
/// The functions a Cognito user pool invokes as its triggers.
pub static COGNITO_TRIGGERS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| named(Trigger::is_cognito));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_each_has_a_binary() {
        let mut names: Vec<_> = FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FUNCTIONS.len());
        for name in names {
            let binary = format!("{}/src/bin/{name}.rs", env!("CARGO_MANIFEST_DIR"));
            assert!(
                std::path::Path::new(&binary).exists(),
                "{binary} is missing"
            );
        }
    }

    #[test]
    fn every_grant_names_actions_of_one_service_fitting_its_target() {
        for f in FUNCTIONS {
            for grant in f.grants {
                let service = grant.actions[0].split(':').next().unwrap();
                assert!(
                    grant
                        .actions
                        .iter()
                        .all(|a| a.starts_with(&format!("{service}:"))),
                    "{}: one service per grant",
                    f.name
                );
                let fits = match grant.on {
                    Target::Table | Target::Gsi1 | Target::Gsi2 | Target::Stream | Target::Any => {
                        service == "dynamodb"
                    }
                    Target::EventBus => service == "events",
                    Target::DeadLetterQueue | Target::DeliveryDeadLetterQueue => service == "sqs",
                    Target::MailFrom | Target::SuppressionList => service == "ses",
                    Target::UserPool => service == "cognito-idp",
                };
                assert!(fits, "{}: {:?} on {:?}", f.name, grant.actions, grant.on);
                assert!(
                    grant.keys.is_empty() || service == "dynamodb",
                    "{}: key prefixes limit DynamoDB grants only",
                    f.name
                );
            }
            for (action, reason) in f.unexercised {
                assert!(!reason.is_empty(), "{}: {action} needs its reason", f.name);
                assert!(
                    f.grants.iter().any(|g| g.actions.contains(action)),
                    "{}: {action} is listed as unexercised but not granted",
                    f.name
                );
            }
        }
    }

    #[test]
    fn only_the_stream_function_reads_the_stream() {
        for f in FUNCTIONS {
            let reads_stream = f.grants.iter().any(|g| g.on == Target::Stream);
            assert_eq!(
                reads_stream,
                matches!(f.trigger, Trigger::Stream),
                "{}",
                f.name
            );
        }
    }
}
