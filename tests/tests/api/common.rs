//! Test harness: each test gets its own table in one moto server (single-threaded, started on
//! first use unless `AWS_ENDPOINT_URL` names one) and its own local API server on a free port.
//! Requests go over HTTP through the same adapter and handlers as `cargo local`. A test that
//! asks for events also gets what `bus.rs` sets up. Each stack also gets a Cognito user pool of
//! its own with an app client, which single sign-on uses (`Stack::user_pool_id`,
//! `Stack::app_client_id`, `Stack::cognito`).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use aws_sdk_dynamodb::config::retry::RetryPartition;
use orgs_local::conflicts::ConflictProxy;
use orgs_local::cors::{Cors, LOCAL_PAGE_PORT};
use orgs_local::counting::RequestCounter;
use orgs_local::dns::LoopbackDns;
use orgs_local::faults::FaultProxy;
use orgs_local::moto::Moto;
use orgs_local::server::{LocalApi, serve};
use orgs_local::timeouts::FunctionTimeouts;
use orgs_local::{aws, grants, provision, token};
use orgs_shared::app::{App, Config, Limits};
use orgs_shared::domain::invitation_link::RedirectOrigins;
use orgs_shared::domain::{AppPermission, MemberStatus, OrgId, Role, TeamId, Timestamp, UserId};
use orgs_shared::mail::Mailer;
use orgs_shared::store::{Item, Of, SeedMember, Store, Stored};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::bus::Events;

static ENDPOINT: OnceLock<String> = OnceLock::new();

/// The shared local AWS endpoint for this test process. Every test that reaches it records
/// the functions' AWS calls for the IAM check (`grants.rs`).
pub fn endpoint() -> String {
    ENDPOINT
        .get_or_init(|| {
            grants::record_calls().expect("recording the functions' AWS calls");
            match std::env::var("AWS_ENDPOINT_URL") {
                Ok(endpoint) if !endpoint.is_empty() => endpoint,
                _ => Moto::start(false).expect("start moto").detach(),
            }
        })
        .clone()
}

pub struct Stack {
    pub base: String,
    pub http: reqwest::Client,
    pub dynamo: aws_sdk_dynamodb::Client,
    /// A Cognito client of the test's own (recorded as no function's), for the stack's user pool.
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    /// The user pool and app client single sign-on uses (`Config.sso`); `None` for a stack
    /// started `without_sso`.
    pub user_pool: Option<provision::UserPool>,
    pub app: App,
    /// The store on the test's own client, as `dynamo`: its fixtures and reads pass no fault
    /// proxy and no request counter.
    pub fixtures: Store,
    pub table: String,
    /// Only for stacks started with `start_with_events`.
    pub events: Option<Events>,
    /// Only for stacks started with `faulty_dynamodb`: the proxy between the app and moto.
    pub faults: Option<FaultProxy>,
    /// Only for stacks with a conflict window: the proxy that gives moto DynamoDB's transaction
    /// conflicts, between the app (or its fault proxy) and moto.
    pub conflicts: Option<ConflictProxy>,
    /// Only for stacks started with `faulty_ses`: the proxy between the app's mailer and moto.
    pub ses_faults: Option<FaultProxy>,
    /// The DNS server on loopback that verification asks: publish records here.
    pub dns: LoopbackDns,
    secret: String,
    /// Whether the stack made its table (not one of another stack), and so deletes it.
    owns_table: bool,
    /// Whether the stack made its user pool (not one of another stack), and so deletes it.
    owns_user_pool: bool,
}

/// A test's table is deleted when its stack is dropped: the one moto serving every test would
/// otherwise hold every table of the run, gigabytes by the end. Dropped in a thread of its own,
/// since `drop` cannot wait, and the test's runtime may be shutting down.
impl Drop for Stack {
    fn drop(&mut self) {
        let pool = self
            .user_pool
            .take()
            .filter(|_| self.owns_user_pool)
            .map(|pool| pool.id);
        if !self.owns_table && pool.is_none() {
            return;
        }
        let table = self.owns_table.then(|| std::mem::take(&mut self.table));
        std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let sdk = aws::sdk_config(&endpoint()).await;
                let client = aws_sdk_dynamodb::Client::new(&sdk);
                // A table or pool already gone, or moto gone with the test binary: nothing to do.
                if let Some(table) = table {
                    let _ = client.delete_table().table_name(table).send().await;
                }
                if let Some(pool) = pool {
                    let _ = provision::delete_user_pool(&sdk, &pool).await;
                }
            });
        });
    }
}

/// A signed-in person for requests.
#[derive(Clone, Debug)]
pub struct Person {
    pub sub: String,
    pub email: String,
    pub token: String,
}

/// Who sends a request: a signed-in `&Person`, `Anonymous`, or either (`Option<&Person>`).
pub trait Caller {
    /// The bearer token the request carries, if any.
    fn token(&self) -> Option<&str>;
}

impl Caller for &Person {
    fn token(&self) -> Option<&str> {
        Some(&self.token)
    }
}

impl Caller for Option<&Person> {
    fn token(&self) -> Option<&str> {
        self.map(|person| person.token.as_str())
    }
}

/// Nobody signed in: the request carries no token.
pub struct Anonymous;

impl Caller for Anonymous {
    fn token(&self) -> Option<&str> {
        None
    }
}

/// A stored item, flattened to sorted `name -> value` text so two snapshots compare exactly.
pub type Snapshot = Vec<BTreeMap<String, String>>;

/// What a test may change about its stack.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub invitation_ttl_seconds: Option<i64>,
    /// `ORGS_INVITE_REDIRECT_ORIGINS`: the origins an invitation's `redirect_url` may name.
    pub redirect_origins: Option<String>,
    pub limits: Option<Limits>,
    /// Send mail to this endpoint instead (a closed port makes SES unavailable).
    pub ses_endpoint: Option<String>,
    /// The app sends mail through a fault-injecting proxy in front of moto (`Stack::ses_faults`).
    pub faulty_ses: bool,
    /// Every function's Lambda timeout: the deadline each handler is told, and so its time
    /// budget. Unset, functions and API Gateway wait `UNHURRIED` (`cargo local` and the
    /// benchmarks use the template's timeouts and 30 s): one single-threaded moto serving every
    /// test at once, on a loaded machine, can take a second a call where DynamoDB takes
    /// milliseconds.
    pub function_timeout: Option<std::time::Duration>,
    /// Serve an existing stack's table instead of a new one.
    pub table: Option<String>,
    /// Feed the table's stream to the event publisher, which talks to EventBridge at this
    /// endpoint (moto when `Some(None)`).
    pub events: Option<Option<String>>,
    /// The app reaches DynamoDB through a fault-injecting proxy (`Stack::faults`); the test's
    /// own client (`snapshot`, fixtures) still talks to moto directly.
    pub faulty_dynamodb: bool,
    /// With `faulty_dynamodb`: the app's DynamoDB client times out as the functions' do
    /// (`runtime::timeout_config`); otherwise only connecting has a timeout, as moto can be slow.
    pub function_timeouts: bool,
    /// With `events`: SES's delivery events reach `record-delivery` as on AWS (a rule on the
    /// default bus, see `orgs_local::delivery`), and invitations show what became of their email.
    pub delivery: bool,
    /// Count the API's DynamoDB requests here, by operation.
    pub dynamodb_counter: Option<RequestCounter>,
    /// The app reaches DynamoDB through the conflict proxy (`orgs_local::conflicts`), each
    /// transaction holding its items this long. `ORGS_TEST_CONFLICT_WINDOW_MS` sets it for every
    /// stack that does not set it itself, so that any suite runs with DynamoDB's conflicts.
    pub conflict_window: Option<std::time::Duration>,
    /// The table's global secondary indexes lag this far behind its writes, as DynamoDB's do
    /// (`provision::lag_indexes`). `ORGS_TEST_INDEX_LAG_MS` sets it for every stack that does
    /// not set it itself.
    pub index_lag: Option<std::time::Duration>,
    /// `ORGS_INVITATION_REPLY_TO_INVITER` (unset: the default, on).
    pub reply_to_inviter: Option<bool>,
    /// `ORGS_CREATE_ORG_ON_SIGN_UP` (unset: the default, off).
    pub create_org_on_sign_up: bool,
    /// `ORGS_SIGN_UP_URL` (unset: none, the welcome links the accept link itself).
    pub sign_up_url: Option<String>,
    /// `ORGS_APP_PERMISSIONS` (unset: none).
    pub app_permissions: Option<&'static str>,
    /// No user pool: single sign-on is off (`Config.sso` is `None`), as in a deployment without
    /// `CognitoUserPoolArn` and `SsoAppClientId`.
    pub without_sso: bool,
    /// Use an existing stack's user pool and app client (`Stack::user_pool`) instead of new ones:
    /// with `table`, for a second server of the same deployment.
    pub user_pool: Option<provision::UserPool>,
}

/// One email as SES received it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct SentMail {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// How long a test stack's functions and API Gateway wait, unless a test says otherwise.
const UNHURRIED: std::time::Duration = std::time::Duration::from_secs(300);

/// A duration for every stack from the environment variable `name` (unset: none).
fn millis_from_env(name: &str) -> Option<std::time::Duration> {
    let millis = std::env::var(name).ok()?;
    let millis: u64 = millis
        .parse()
        .unwrap_or_else(|_| panic!("{name} is a number of milliseconds"));
    Some(std::time::Duration::from_millis(millis))
}

impl Stack {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    /// A stack whose table's stream feeds the event publisher, as on Lambda. The publisher
    /// talks to EventBridge at `eventbridge` (moto when `None`).
    pub async fn start_with_events(eventbridge: Option<&str>) -> Self {
        Self::start_with(Options {
            events: Some(eventbridge.map(str::to_owned)),
            ..Options::default()
        })
        .await
    }

    /// A stack with events whose invitations learn what became of their emails from SES's
    /// events (moto's stand-in publishes them for the mailbox simulator's addresses).
    pub async fn start_with_delivery() -> Self {
        Self::start_with(Options {
            events: Some(None),
            delivery: true,
            ..Options::default()
        })
        .await
    }

    /// A stack whose DynamoDB sits behind the fault proxy (`Stack::faults`).
    pub async fn faulty() -> Self {
        Self::start_with(Options {
            faulty_dynamodb: true,
            ..Options::default()
        })
        .await
    }

    pub async fn start_with(options: Options) -> Self {
        let endpoint = endpoint();
        let sdk = aws::sdk_config(&endpoint).await;
        let owns_table = options.table.is_none();
        let table = match options.table {
            Some(table) => table,
            None => {
                let table = format!("orgs-test-{}", uuid::Uuid::new_v4().simple());
                provision::ensure_table(&sdk, &table)
                    .await
                    .expect("create table");
                provision::ensure_sender(&sdk, "no-reply@orgs.local")
                    .await
                    .expect("create sender");
                // Each stack's emails go out with a configuration set of its own, so that its
                // delivery events reach only its own rule.
                provision::ensure_configuration_set(&sdk, &table)
                    .await
                    .expect("create configuration set");
                let lag = options
                    .index_lag
                    .or_else(|| millis_from_env("ORGS_TEST_INDEX_LAG_MS"));
                if let Some(lag) = lag {
                    provision::lag_indexes(&sdk, &table, lag)
                        .await
                        .expect("lag the indexes");
                }
                table
            }
        };
        let owns_user_pool = options.user_pool.is_none() && !options.without_sso;
        let user_pool = match (options.user_pool.clone(), options.without_sso) {
            (_, true) => None,
            (Some(pool), false) => Some(pool),
            // Named after the stack's table (pool names need not be unique).
            (None, false) => Some(
                provision::create_user_pool(&sdk, &table)
                    .await
                    .expect("create user pool"),
            ),
        };
        let mut config = Config::for_table(&table);
        config.sso = user_pool.as_ref().map(provision::UserPool::sso_settings);
        let dns = LoopbackDns::start().await;
        config.dns.resolver = dns.addr();
        // A silent name times out quickly: the tests wait for it.
        config.dns.timeout = std::time::Duration::from_millis(300);
        config.invitations.configuration_set = Some(table.clone());
        if let Some(ttl) = options.invitation_ttl_seconds {
            config.invitations.ttl_seconds = ttl;
        }
        // The limits against one person's abuse (organizations owned, emails per person and
        // in an organization's first day) stay out of the way of tests that make many
        // organizations or invitations, unless a test sets the limits itself (abuse_limits.rs).
        config.limits = options.limits.unwrap_or(Limits {
            orgs_per_owner: 1_000,
            invitation_emails_per_person_per_day: 100_000,
            invitation_emails_per_new_org: 100_000,
            ..Limits::default()
        });
        if let Some(reply_to_inviter) = options.reply_to_inviter {
            config.invitations.reply_to_inviter = reply_to_inviter;
        }
        config.sign_up.create_first_org = options.create_org_on_sign_up;
        config.invitations.sign_up_url = options.sign_up_url.clone();
        if let Some(raw) = options.app_permissions {
            config.app_permissions = AppPermission::parse_list(raw).expect("app permissions");
        }
        if options.function_timeout.is_none() {
            config.gateway_limit = UNHURRIED;
        }
        if let Some(origins) = &options.redirect_origins {
            config.invitations.redirect_origins =
                RedirectOrigins::parse(origins).expect("an origin list");
        }
        let mut app = App::new(&sdk, config);
        let conflicts = match options
            .conflict_window
            .or_else(|| millis_from_env("ORGS_TEST_CONFLICT_WINDOW_MS"))
        {
            Some(window) => {
                let proxy = ConflictProxy::start(&endpoint, window)
                    .await
                    .expect("conflict proxy");
                let through = aws::sdk_config(proxy.endpoint()).await;
                app.store = Store::new(
                    aws_sdk_dynamodb::Client::new(&through),
                    &table,
                    app.config.retention,
                );
                Some(proxy)
            }
            None => None,
        };
        // Where the app's DynamoDB requests go: moto, or the conflict proxy in front of it.
        let dynamodb = conflicts
            .as_ref()
            .map_or(endpoint.clone(), |p| p.endpoint().to_owned());
        if let Some(counter) = &options.dynamodb_counter {
            let through = aws::sdk_config(&dynamodb).await;
            app.store = Store::new(counter.client(&through), &table, app.config.retention);
        }
        let faults = if options.faulty_dynamodb {
            let proxy = FaultProxy::start(&dynamodb).await.expect("fault proxy");
            let through = aws::sdk_config(proxy.endpoint()).await;
            // The functions' attempts with a short backoff (the tests hold the retries to be
            // spent, not how long they wait), and a retry quota of its own, so that the faults
            // of one test never spend another's.
            let retries = orgs_functions::runtime::retry_config()
                .with_initial_backoff(std::time::Duration::from_millis(20));
            let mut client = aws_sdk_dynamodb::config::Builder::from(&through)
                .retry_config(retries)
                .retry_partition(RetryPartition::new(format!("faults-{table}")));
            if options.function_timeouts {
                client = client.timeout_config(orgs_functions::runtime::timeout_config());
            }
            app.store = Store::new(
                aws_sdk_dynamodb::Client::from_conf(client.build()),
                &table,
                app.config.retention,
            );
            Some(proxy)
        } else {
            None
        };
        if let Some(ses) = options.ses_endpoint {
            let broken = aws::sdk_config(&ses).await;
            app.mailer = Mailer::new(aws_sdk_sesv2::Client::new(&broken), "no-reply@orgs.local")
                .with_configuration_set(Some(table.clone()));
        }
        let ses_faults = if options.faulty_ses {
            let proxy = FaultProxy::start(&endpoint).await.expect("SES fault proxy");
            let through = aws::sdk_config(proxy.endpoint()).await;
            app.mailer = Mailer::new(aws_sdk_sesv2::Client::new(&through), "no-reply@orgs.local")
                .with_configuration_set(Some(table.clone()));
            Some(proxy)
        } else {
            None
        };
        let timeouts = FunctionTimeouts::all(options.function_timeout.unwrap_or(UNHURRIED));
        let secret = "test-secret".to_owned();
        let api = Arc::new(LocalApi {
            app: app.clone(),
            jwt_secret: secret.clone(),
            openapi: None,
            log_requests: false,
            cors: Cors::for_local_page(LOCAL_PAGE_PORT),
            timeouts,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(serve(listener, api));
        let events = match options.events {
            Some(eventbridge) => {
                let mut events = Events::start(&sdk, &table, eventbridge.as_deref()).await;
                if options.delivery {
                    events.record_deliveries(&app.config).await;
                }
                Some(events)
            }
            None => None,
        };
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        Self {
            base,
            http: reqwest::Client::new(),
            fixtures: Store::new(dynamo.clone(), &table, app.config.retention),
            dynamo,
            cognito: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
            user_pool,
            owns_user_pool,
            app,
            table,
            events,
            faults,
            conflicts,
            ses_faults,
            dns,
            secret,
            owns_table,
        }
    }

    /// The id of the stack's user pool (`ORGS_USER_POOL_ID`).
    pub fn user_pool_id(&self) -> &str {
        &self
            .user_pool
            .as_ref()
            .expect("a stack with single sign-on")
            .id
    }

    /// The id of the stack's app client (`ORGS_SSO_APP_CLIENT_ID`), whose
    /// `SupportedIdentityProviders` single sign-on keeps.
    pub fn app_client_id(&self) -> &str {
        &self
            .user_pool
            .as_ref()
            .expect("a stack with single sign-on")
            .app_client_id
    }

    /// The fault proxy of a stack started with `faulty_dynamodb`.
    pub fn faults(&self) -> &FaultProxy {
        self.faults
            .as_ref()
            .expect("a stack started with faulty_dynamodb")
    }

    /// The SES fault proxy of a stack started with `faulty_ses`.
    pub fn ses_faults(&self) -> &FaultProxy {
        self.ses_faults
            .as_ref()
            .expect("a stack started with faulty_ses")
    }

    /// The conflict proxy of a stack with a conflict window.
    pub fn conflicts(&self) -> &ConflictProxy {
        self.conflicts
            .as_ref()
            .expect("a stack started with a conflict window")
    }

    /// A person whose address no other test uses, for tests that read mail back from moto
    /// (one moto keeps every test's mail).
    pub fn unique_person(&self, prefix: &str) -> Person {
        self.person(&format!(
            "{prefix}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ))
    }

    /// A person signed in with `email`, verified or not.
    pub fn person_with_email(&self, sub: &str, email: &str, verified: bool) -> Person {
        let token = token::mint(&self.secret, sub, Some(email), verified, 3600);
        Person {
            sub: sub.to_owned(),
            email: email.to_owned(),
            token,
        }
    }

    /// The HTML of every message moto's SES holds for `address`, oldest first. Read through
    /// our moto wrapper's narrow route (`mail_route` in `tests/moto_server.py`): moto's own
    /// `/moto-api/data.json` serializes every table of the run on each call.
    pub async fn mail_to(&self, address: &str) -> Vec<String> {
        self.mail(&[("to", address)]).await
    }

    /// Every message moto's SES holds for `address`, oldest first, with its subject and both
    /// parts.
    pub async fn mail_parts_to(&self, address: &str) -> Vec<SentMail> {
        self.mail(&[("to", address), ("parts", "1")]).await
    }

    async fn mail<T: serde::de::DeserializeOwned>(&self, query: &[(&str, &str)]) -> Vec<T> {
        self.http
            .get(format!("{}/orgs-test/mail", endpoint()))
            .query(query)
            .send()
            .await
            .expect("moto mail")
            .error_for_status()
            .expect("moto mail")
            .json()
            .await
            .expect("moto mail JSON")
    }

    pub fn events(&self) -> &Events {
        self.events.as_ref().expect("a stack started with events")
    }

    /// `person`, signed in with an access token instead: the same `sub`, no email claims.
    pub fn with_access_token(&self, person: &Person) -> Person {
        Person {
            token: token::mint_access(&self.secret, &person.sub, 3600),
            ..person.clone()
        }
    }

    /// A person with a verified email `{sub}@example.com`.
    /// `person` with a token carrying `extra` claims too, as the token-claims trigger adds them.
    pub fn with_claims(&self, person: &Person, extra: serde_json::Map<String, Value>) -> Person {
        let token = token::mint_with(
            &self.secret,
            &person.sub,
            Some(&person.email),
            true,
            3600,
            extra,
        );
        Person {
            token,
            ..person.clone()
        }
    }

    pub fn person(&self, sub: &str) -> Person {
        let email = format!("{sub}@example.com");
        let token = token::mint(&self.secret, sub, Some(&email), true, 3600);
        Person {
            sub: sub.to_owned(),
            email,
            token,
        }
    }

    /// `GET path` as `who`: the status and the JSON body (`Null` when empty).
    pub async fn get(&self, who: impl Caller, path: impl AsRef<str>) -> (StatusCode, Value) {
        self.call(who, Method::GET, path, None).await
    }

    /// `DELETE path` as `who`.
    pub async fn delete(&self, who: impl Caller, path: impl AsRef<str>) -> (StatusCode, Value) {
        self.call(who, Method::DELETE, path, None).await
    }

    /// `POST path` as `who`, with a JSON body or none (`None`).
    pub async fn post(
        &self,
        who: impl Caller,
        path: impl AsRef<str>,
        body: impl Into<Option<Value>>,
    ) -> (StatusCode, Value) {
        self.call(who, Method::POST, path, body.into()).await
    }

    /// `PUT path` as `who`, with a JSON body or none (`None`).
    pub async fn put(
        &self,
        who: impl Caller,
        path: impl AsRef<str>,
        body: impl Into<Option<Value>>,
    ) -> (StatusCode, Value) {
        self.call(who, Method::PUT, path, body.into()).await
    }

    /// `PATCH path` as `who`, with a JSON body.
    pub async fn patch(
        &self,
        who: impl Caller,
        path: impl AsRef<str>,
        body: Value,
    ) -> (StatusCode, Value) {
        self.call(who, Method::PATCH, path, Some(body)).await
    }

    /// Sends a request with any method (for tests that go through several).
    pub async fn call(
        &self,
        who: impl Caller,
        method: Method,
        path: impl AsRef<str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, json) = self.call_with_headers(who, method, path, body).await;
        (status, json)
    }

    /// `call`, with the answer's headers too.
    pub async fn call_with_headers(
        &self,
        who: impl Caller,
        method: Method,
        path: impl AsRef<str>,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        self.call_with_key(who, method, path, body, None).await
    }

    /// `call_with_headers`, with an `Idempotency-Key` header when `key` is given.
    pub async fn call_with_key(
        &self,
        who: impl Caller,
        method: Method,
        path: impl AsRef<str>,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let path = path.as_ref();
        let method_name = method.to_string();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = who.token() {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        // Every answer a test sees is held to the OpenAPI document.
        crate::openapi::check(&method_name, path, status.as_u16(), &content_type, &json);
        (status, headers, json)
    }

    /// Sends `body` as it is, with no content type: for bodies that are not JSON.
    pub async fn raw(
        &self,
        who: impl Caller,
        method: Method,
        path: &str,
        body: String,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .body(body);
        if let Some(token) = who.token() {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// Creates an organization and returns its id.
    pub async fn create_org(&self, who: &Person, handle: &str) -> String {
        let body = serde_json::json!({ "handle": handle, "display_name": format!("{handle} Inc"), "region": "us" });
        let (status, org) = self.post(who, "/orgs", body).await;
        assert_eq!(status, StatusCode::CREATED, "{org}");
        org["org_id"].as_str().expect("org_id").to_owned()
    }

    /// Makes `person` a member with `role` the way a person would: `inviter` invites them and
    /// they accept the link.
    pub async fn join(&self, org_id: &str, inviter: &Person, person: &Person, role: &str) {
        let body = serde_json::json!({ "invitations": [{ "email": person.email, "role": role }] });
        let path = format!("/orgs/{org_id}/invitations");
        let (status, created) = self.post(inviter, &path, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let link = created["results"][0]["invite_url"].as_str().expect("link");
        let token = link.split("token=").nth(1).expect("token");
        let body = serde_json::json!({ "token": token });
        let (status, joined) = self.post(person, "/invitations/accept", body).await;
        assert_eq!(status, StatusCode::OK, "{joined}");
    }

    /// Every item in the table, in key order.
    pub async fn snapshot(&self) -> Snapshot {
        let mut items: Snapshot = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .dynamo
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("scan");
            for item in page.items() {
                items.push(
                    item.iter()
                        .map(|(k, v)| (k.clone(), format!("{v:?}")))
                        .collect(),
                );
            }
            match page.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => break,
            }
        }
        items.sort_by(|a, b| (a.get("pk"), a.get("sk")).cmp(&(b.get("pk"), b.get("sk"))));
        items
    }

    /// Every item in the table with what it is, in key order.
    pub async fn stored(&self) -> Vec<(Stored, Item)> {
        self.fixtures.stored_items().await.expect("scan")
    }

    /// What every item in the table is, in key order.
    pub async fn kinds(&self) -> Vec<Stored> {
        self.stored()
            .await
            .into_iter()
            .map(|(what, _)| what)
            .collect()
    }

    /// The item that is `what`, if the table holds it.
    pub async fn stored_item(&self, what: &Stored) -> Option<Item> {
        self.stored()
            .await
            .into_iter()
            .find_map(|(it, item)| (it == *what).then_some(item))
    }

    /// What the items of the organization's partition are, in key order.
    pub async fn org_items(&self, org_id: &str) -> Vec<Stored> {
        let mut items = self.kinds().await;
        items.retain(|what| what.org() == Some(org_id));
        items
    }

    /// The id of the organization's first team ("My Team", unless it is gone).
    pub async fn first_team(&self, org_id: &str) -> String {
        self.org_items(org_id)
            .await
            .into_iter()
            .find_map(|what| match what {
                Stored::Team { team, .. } => Some(team),
                _ => None,
            })
            .expect("a team")
    }

    /// The audit entries of an organization (`Of::Org`) or user, oldest first.
    pub async fn audit_entries(&self, of: &Of) -> Vec<Item> {
        let mut entries = self.stored().await;
        entries.retain(|(what, _)| matches!(what, Stored::Audit { of: o, .. } if o == of));
        entries.into_iter().map(|(_, item)| item).collect()
    }

    /// The event records of an organization (`Of::Org`) or user, in commit order.
    pub async fn event_records(&self, of: &Of) -> Vec<Item> {
        let mut records = self.stored().await;
        records.retain(|(what, _)| matches!(what, Stored::Event { of: o, .. } if o == of));
        records.into_iter().map(|(_, item)| item).collect()
    }

    /// The `event_id`s of the table's event records (`of` one subject, or all), in stream
    /// order per subject.
    pub async fn stored_event_ids(&self, of: Option<&Of>) -> Vec<String> {
        self.kinds()
            .await
            .into_iter()
            .filter_map(|what| match what {
                Stored::Event { of: o, id, .. } if of.is_none_or(|of| *of == o) => Some(id),
                _ => None,
            })
            .collect()
    }

    /// Whether the table holds any invitation token item.
    pub async fn has_invitation_tokens(&self) -> bool {
        self.kinds()
            .await
            .iter()
            .any(|what| matches!(what, Stored::InvitationToken { .. }))
    }

    /// The handles that have a marker, in order.
    pub async fn handles(&self) -> Vec<String> {
        self.kinds()
            .await
            .into_iter()
            .filter_map(|what| match what {
                Stored::Handle { handle } => Some(handle),
                _ => None,
            })
            .collect()
    }

    /// Makes `person` a member of `org_id` with `role` and `status` at once, counts and all,
    /// without an audit entry or event: for a deactivated member, or many, where the API's way
    /// (`join`, then a change of status) would be slow or add to the audit trail a test reads.
    pub async fn add_member(&self, org_id: &str, person: &Person, role: &str, status: &str) {
        self.add_members(org_id, &[(person, role, status)]).await;
    }

    /// `add_member` for many people, in one batch.
    pub async fn add_members(&self, org_id: &str, members: &[(&Person, &str, &str)]) {
        let users: Vec<UserId> = members
            .iter()
            .map(|(person, _, _)| UserId::parse(&person.sub).expect("user id"))
            .collect();
        let seeds: Vec<SeedMember<'_>> = members
            .iter()
            .zip(&users)
            .map(|((person, role, status), user)| SeedMember {
                user,
                email: &person.email,
                role: Role::parse(role).expect("role"),
                status: MemberStatus::parse(status).expect("status"),
            })
            .collect();
        let org = OrgId::parse(org_id).expect("org id");
        self.fixtures
            .seed_members(&org, &seeds, Timestamp::now())
            .await
            .expect("seed members");
    }

    /// Makes each of `people` an active member of `org_id` and of its team `team_id` at once,
    /// counts and all, without an audit entry or event (see `add_member`).
    pub async fn add_team_members(&self, org_id: &str, team_id: &str, people: &[&Person]) {
        let users: Vec<UserId> = people
            .iter()
            .map(|person| UserId::parse(&person.sub).expect("user id"))
            .collect();
        let seeds: Vec<SeedMember<'_>> = people
            .iter()
            .zip(&users)
            .map(|(person, user)| SeedMember {
                user,
                email: &person.email,
                role: Role::Member,
                status: MemberStatus::Active,
            })
            .collect();
        let org = OrgId::parse(org_id).expect("org id");
        let team = TeamId::parse(team_id).expect("team id");
        self.fixtures
            .seed_team_members(&org, &seeds, &team, Timestamp::now())
            .await
            .expect("seed team members");
    }
}

/// Asserts a problem+json answer with the given status and `type` code.
/// How many of `answers` are `ok`; every other one must be the 429 of `limit`.
pub fn ok_within_limit(answers: &[(StatusCode, Value)], ok: StatusCode, limit: &str) -> usize {
    for (status, body) in answers.iter().filter(|(s, _)| *s != ok) {
        assert_problem(
            *status,
            body,
            StatusCode::TOO_MANY_REQUESTS,
            "limit-reached",
        );
        assert_eq!(body["limit"], limit, "{body}");
    }
    answers.iter().filter(|(s, _)| *s == ok).count()
}

pub fn assert_problem(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["type"], format!("urn:orgs:problem:{code}"), "{body}");
    assert_eq!(body["status"], expected.as_u16(), "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert!(body["request_id"].as_str().is_some(), "{body}");
}

/// The field names in a validation problem's `errors`.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
