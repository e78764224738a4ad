//! The prices the cost benchmark multiplies by, and the two reference workloads. Prices are
//! us-east-1, on-demand, as published on the date below; they change, so check them again
//! before relying on a figure.

/// When the prices below were taken.
pub const PRICES_DATED: &str = "2026-12-06";

/// One price: what, how much, per what, and where AWS publishes it.
pub struct Price {
    pub what: &'static str,
    pub dollars: f64,
    pub per: &'static str,
    pub source: &'static str,
}

pub const DYNAMODB_PRICING: &str = "https://aws.amazon.com/dynamodb/pricing/on-demand/";
pub const LAMBDA_PRICING: &str = "https://aws.amazon.com/lambda/pricing/";
pub const API_GATEWAY_PRICING: &str = "https://aws.amazon.com/api-gateway/pricing/";
pub const SES_PRICING: &str = "https://aws.amazon.com/ses/pricing/";
pub const EVENTBRIDGE_PRICING: &str = "https://aws.amazon.com/eventbridge/pricing/";
pub const CLOUDWATCH_PRICING: &str = "https://aws.amazon.com/cloudwatch/pricing/";

/// Dollars per million write request units.
pub const WRITE_UNIT: f64 = 1.25;
/// Dollars per million read request units.
pub const READ_UNIT: f64 = 0.25;
/// Dollars per GB-second of an arm64 function.
pub const GB_SECOND_ARM64: f64 = 0.000_013_333_4;
/// Dollars per million Lambda invocations.
pub const LAMBDA_REQUEST: f64 = 0.20;
/// Dollars per million HTTP API requests (the first 300 million a month).
pub const HTTP_API_REQUEST: f64 = 1.00;
/// Dollars per email SES sends.
pub const SES_EMAIL: f64 = 0.10 / 1_000.0;
/// Dollars per million custom events put on an EventBridge bus (each 64 KB chunk is one).
pub const EVENTBRIDGE_EVENT: f64 = 1.00;
/// Dollars per GB of logs CloudWatch Logs ingests.
pub const LOG_GB: f64 = 0.50;
/// What Lambda writes to a function's log for every invocation, whatever the function logs:
/// the START, END and REPORT lines, about 300 bytes together.
pub const PLATFORM_LOG_BYTES: f64 = 300.0;

pub const PRICES: &[Price] = &[
    Price {
        what: "DynamoDB on-demand write request unit",
        dollars: WRITE_UNIT,
        per: "million units",
        source: DYNAMODB_PRICING,
    },
    Price {
        what: "DynamoDB on-demand read request unit",
        dollars: READ_UNIT,
        per: "million units",
        source: DYNAMODB_PRICING,
    },
    Price {
        what: "DynamoDB Streams reads by a Lambda trigger",
        dollars: 0.0,
        per: "(free)",
        source: DYNAMODB_PRICING,
    },
    Price {
        what: "Lambda duration, arm64",
        dollars: GB_SECOND_ARM64,
        per: "GB-second",
        source: LAMBDA_PRICING,
    },
    Price {
        what: "Lambda requests",
        dollars: LAMBDA_REQUEST,
        per: "million invocations",
        source: LAMBDA_PRICING,
    },
    Price {
        what: "API Gateway HTTP API (first 300 million a month)",
        dollars: HTTP_API_REQUEST,
        per: "million requests",
        source: API_GATEWAY_PRICING,
    },
    Price {
        what: "SES outbound email",
        dollars: 0.10,
        per: "1,000 emails",
        source: SES_PRICING,
    },
    Price {
        what: "EventBridge custom events",
        dollars: EVENTBRIDGE_EVENT,
        per: "million events",
        source: EVENTBRIDGE_PRICING,
    },
    Price {
        what: "CloudWatch Logs ingestion",
        dollars: LOG_GB,
        per: "GB",
        source: CLOUDWATCH_PRICING,
    },
];

/// A month of one reference workload: how many times each operation runs.
pub struct Workload {
    pub name: &'static str,
    pub description: &'static str,
    /// (operation, times a month); scheduled runs and the stream's invocations are added from
    /// the measured operations (`report`).
    pub operations: Vec<(&'static str, f64)>,
    /// What the hosted services charge for the same month, as the issue gives their prices.
    pub hosted: Vec<(&'static str, String)>,
}

/// Days a month, and days a month a person uses the product.
const DAYS: f64 = 30.0;
const ACTIVE_DAYS: f64 = 22.0;

/// What one person does on a day they use the product: a sign-in and a token refresh every
/// hour of an 8-hour day (Cognito calls token-claims for each token it issues), and the reads
/// a front end makes when it opens.
fn daily_use(people: f64) -> Vec<(&'static str, f64)> {
    let month = people * ACTIVE_DAYS;
    vec![
        ("token-claims", 8.0 * month),
        ("get-me", month),
        ("list-orgs", month),
        ("get-org", 2.0 * month),
        ("get-org-permissions", month),
        ("list-members", 0.5 * month),
        ("get-member", 0.5 * month),
        ("list-teams", 0.5 * month),
        ("list-team-members", 0.5 * month),
        ("list-my-invitations", 0.2 * month),
    ]
}

/// One person joining an organization by invitation, and one leaving it.
fn churn(joins: f64) -> Vec<(&'static str, f64)> {
    vec![
        ("create-invitations", joins),
        ("lookup-invitation", joins),
        ("accept-invitation", joins),
        ("remove-member", joins),
        ("add-team-member", joins),
    ]
}

pub fn workloads() -> Vec<Workload> {
    let orgs = 1_000.0;
    let members = 20.0;
    let mut many = daily_use(orgs * members);
    // A month of each organization: two people join and two leave, one role and one profile
    // change, a team made, an admin reads the audit log and the invitations twice.
    many.extend(churn(2.0 * orgs));
    many.extend([
        ("update-member", orgs),
        ("update-me", orgs * members * 0.05),
        ("update-org", 0.2 * orgs),
        ("create-team", orgs),
        ("list-audit-log", 2.0 * orgs),
        ("list-invitations", 2.0 * orgs),
        ("resend-invitation", 0.2 * orgs),
        ("revoke-invitation", 0.1 * orgs),
    ]);
    let people = 10_000.0;
    let daily = 50.0;
    let mut one = daily_use(people);
    // Every day 50 people join and 50 leave; admins work the member list.
    one.extend(churn(daily * DAYS));
    one.extend([
        ("update-member", 10.0 * DAYS),
        ("update-me", people * 0.05),
        ("list-audit-log", 5.0 * DAYS),
        ("list-invitations", 10.0 * DAYS),
        ("list-members", 20.0 * DAYS),
        ("resend-invitation", 5.0 * DAYS),
        ("revoke-invitation", 2.0 * DAYS),
    ]);
    vec![
        Workload {
            name: "1,000 organizations of 20 members",
            description: "20,000 people, each in one organization of 20, each using the \
                          product 22 days a month (per day: a sign-in and 7 hourly token \
                          refreshes, GET /me, the organization list, the organization twice, \
                          its permissions, half a member list, half a member, half a team \
                          list, half a team's members, a fifth of their invitations); per \
                          organization a month: 2 people invited and joining (invite, lookup, \
                          accept, added to a team), 2 removed, 1 role change, 1 team created, \
                          2 reads of the audit log and of the invitations, a fifth of an \
                          organization edit, resend and a tenth of a revoke; 5 % of people \
                          edit their profile",
            operations: many,
            hosted: vec![
                (
                    "Clerk",
                    "$900 (1,000 monthly retained organizations: 100 included, 900 × $1)".into(),
                ),
                (
                    "WorkOS",
                    "$0 for AuthKit (20,000 MAU, free to 1M); $125 a month per SSO connection, \
                     $125,000 if every organization had one"
                        .into(),
                ),
                ("Auth0", "B2B Essentials from $150".into()),
            ],
        },
        Workload {
            name: "one organization of 10,000 members with daily churn",
            description: "10,000 people in one organization, each using the product 22 days \
                          a month as above; every day 50 people invited and joining (invite, \
                          lookup, accept, added to a team) and 50 removed; admins a day: 10 \
                          role changes, 20 member-list pages, 10 reads of the invitations, 5 of \
                          the audit log, 5 resends and 2 revokes; 5 % of people edit their \
                          profile",
            operations: one,
            hosted: vec![
                (
                    "Clerk",
                    "$0 (1 monthly retained organization, within the 100 included)".into(),
                ),
                (
                    "WorkOS",
                    "$0 for AuthKit (10,000 MAU, free to 1M); $125 with one SSO connection".into(),
                ),
                ("Auth0", "B2B Essentials from $150".into()),
            ],
        },
    ]
}

/// The schedule's runs a month: `expire-invitations` at the template's default rate(1 hour).
pub const SCHEDULED_RUNS_PER_DAY: f64 = 24.0;
pub const DAYS_PER_MONTH: f64 = DAYS;
