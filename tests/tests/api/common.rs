//! Test harness: each test gets its own table in one moto server (single-threaded, started on
//! first use unless `AWS_ENDPOINT_URL` names one) and its own local API server on a free port.
//! Requests go over HTTP through the same adapter and handlers as `cargo local`. A test that
//! asks for events also gets what `bus.rs` sets up.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use aws_sdk_dynamodb::config::retry::RetryPartition;
use aws_sdk_dynamodb::types::AttributeValue;
use orgs_local::cors::{Cors, LOCAL_PAGE_PORT};
use orgs_local::counting::RequestCounter;
use orgs_local::faults::FaultProxy;
use orgs_local::moto::Moto;
use orgs_local::server::{LocalApi, serve};
use orgs_local::{aws, provision, token};
use orgs_shared::app::{App, Config, Limits};
use orgs_shared::mail::Mailer;
use orgs_shared::store::Store;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::bus::Events;

static ENDPOINT: OnceLock<String> = OnceLock::new();

/// The shared local AWS endpoint for this test process.
pub fn endpoint() -> String {
    ENDPOINT
        .get_or_init(|| match std::env::var("AWS_ENDPOINT_URL") {
            Ok(endpoint) if !endpoint.is_empty() => endpoint,
            _ => Moto::start(false).expect("start moto").detach(),
        })
        .clone()
}

pub struct Stack {
    pub base: String,
    pub http: reqwest::Client,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub app: App,
    pub table: String,
    /// Only for stacks started with `start_with_events`.
    pub events: Option<Events>,
    /// Only for stacks started with `faulty_dynamodb`: the proxy between the app and moto.
    pub faults: Option<FaultProxy>,
    secret: String,
}

/// A signed-in person for requests.
#[derive(Clone, Debug)]
pub struct Person {
    pub sub: String,
    pub email: String,
    pub token: String,
}

/// A stored item, flattened to sorted `name -> value` text so two snapshots compare exactly.
pub type Snapshot = Vec<BTreeMap<String, String>>;

/// What a test may change about its stack.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub invitation_ttl_seconds: Option<i64>,
    pub limits: Option<Limits>,
    /// Send mail to this endpoint instead (a closed port makes SES unavailable).
    pub ses_endpoint: Option<String>,
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
    /// Count the API's DynamoDB requests here, by operation.
    pub dynamodb_counter: Option<RequestCounter>,
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

    pub async fn start_with(options: Options) -> Self {
        let endpoint = endpoint();
        let sdk = aws::sdk_config(&endpoint).await;
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
                table
            }
        };
        let mut config = Config::for_table(&table);
        if let Some(ttl) = options.invitation_ttl_seconds {
            config.invitations.ttl_seconds = ttl;
        }
        if let Some(limits) = options.limits {
            config.limits = limits;
        }
        let mut app = App::new(&sdk, config);
        if let Some(counter) = &options.dynamodb_counter {
            app.store = Store::new(counter.client(&sdk), &table, app.config.retention);
        }
        let faults = if options.faulty_dynamodb {
            let proxy = FaultProxy::start(&endpoint).await.expect("fault proxy");
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
            app.mailer = Mailer::new(aws_sdk_sesv2::Client::new(&broken), "no-reply@orgs.local");
        }
        let secret = "test-secret".to_owned();
        let api = Arc::new(LocalApi {
            app: app.clone(),
            jwt_secret: secret.clone(),
            openapi: None,
            log_requests: false,
            cors: Cors::for_local_page(LOCAL_PAGE_PORT),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(serve(listener, api));
        let events = match options.events {
            Some(eventbridge) => Some(Events::start(&sdk, &table, eventbridge.as_deref()).await),
            None => None,
        };
        Self {
            base,
            http: reqwest::Client::new(),
            dynamo: aws_sdk_dynamodb::Client::new(&sdk),
            app,
            table,
            events,
            faults,
            secret,
        }
    }

    /// The fault proxy of a stack started with `faulty_dynamodb`.
    pub fn faults(&self) -> &FaultProxy {
        self.faults
            .as_ref()
            .expect("a stack started with faulty_dynamodb")
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

    /// The HTML of every message moto's SES holds for `address`, oldest first.
    pub async fn mail_to(&self, address: &str) -> Vec<String> {
        let data: Value = self
            .http
            .get(format!("{}/moto-api/data.json", endpoint()))
            .send()
            .await
            .expect("moto data")
            .json()
            .await
            .expect("moto JSON");
        data["ses"]["Message"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| {
                m["destinations"]["ToAddresses"]
                    .as_array()
                    .is_some_and(|to| to.iter().any(|a| a == address))
            })
            .filter_map(|m| m["body"].as_str().map(str::to_owned))
            .collect()
    }

    pub fn events(&self) -> &Events {
        self.events.as_ref().expect("a stack started with events")
    }

    /// The `event_id`s of the table's event records, in stream order per subject.
    pub async fn stored_event_ids(&self, prefix: &str) -> Vec<String> {
        self.keys_with_prefix(prefix)
            .await
            .into_iter()
            .filter_map(|(_, sk)| sk.split_once('#').map(|(_, id)| id.to_owned()))
            .collect()
    }

    /// `person`, signed in with an access token instead: the same `sub`, no email claims.
    pub fn with_access_token(&self, person: &Person) -> Person {
        Person {
            token: token::mint_access(&self.secret, &person.sub, 3600),
            ..person.clone()
        }
    }

    /// A person with a verified email `{sub}@example.com`.
    pub fn person(&self, sub: &str) -> Person {
        let email = format!("{sub}@example.com");
        let token = token::mint(&self.secret, sub, Some(&email), true, 3600);
        Person {
            sub: sub.to_owned(),
            email,
            token,
        }
    }

    /// Sends a request; returns the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        who: Option<&Person>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, json) = self.call_with_headers(who, method, path, body).await;
        (status, json)
    }

    /// `call`, with the answer's headers too.
    pub async fn call_with_headers(
        &self,
        who: Option<&Person>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let method_name = method.to_string();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(person) = who {
            request = request.bearer_auth(&person.token);
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

    pub async fn raw(
        &self,
        who: Option<&Person>,
        method: Method,
        path: &str,
        body: String,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .body(body);
        if let Some(person) = who {
            request = request.bearer_auth(&person.token);
        }
        request.send().await.expect("request")
    }

    /// Creates an organization and returns its id.
    pub async fn create_org(&self, who: &Person, handle: &str) -> String {
        let body = serde_json::json!({ "handle": handle, "display_name": format!("{handle} Inc"), "region": "us" });
        let (status, org) = self
            .call(Some(who), Method::POST, "/orgs", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{org}");
        org["org_id"].as_str().expect("org_id").to_owned()
    }

    /// Makes `person` a member with `role` the way a person would: `inviter` invites them and
    /// they accept the link.
    pub async fn join(&self, org_id: &str, inviter: &Person, person: &Person, role: &str) {
        let body = serde_json::json!({ "invitations": [{ "email": person.email, "role": role }] });
        let path = format!("/orgs/{org_id}/invitations");
        let (status, created) = self
            .call(Some(inviter), Method::POST, &path, Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let link = created["results"][0]["invite_url"].as_str().expect("link");
        let token = link.split("token=").nth(1).expect("token");
        let body = serde_json::json!({ "token": token });
        let (status, joined) = self
            .call(
                Some(person),
                Method::POST,
                "/invitations/accept",
                Some(body),
            )
            .await;
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

    /// The `pk`/`sk` of every item whose partition key starts with `prefix`.
    pub async fn keys_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        let text = |v: Option<&String>| v.cloned().unwrap_or_default();
        self.snapshot()
            .await
            .into_iter()
            .map(|item| {
                (
                    unquote(&text(item.get("pk"))),
                    unquote(&text(item.get("sk"))),
                )
            })
            .filter(|(pk, _)| pk.starts_with(prefix))
            .collect()
    }

    /// Writes an item straight into the table: for fixtures that no route can make yet.
    pub async fn put_item(&self, item: Vec<(&str, AttributeValue)>) {
        let item = item.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        self.dynamo
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .expect("put item");
    }

    /// Makes `person` a member of `org_id` with `role`: until the invitations issue lands, the
    /// only way to have a second member is to write the membership item as the store does.
    pub async fn add_member(&self, org_id: &str, person: &Person, role: &str, status: &str) {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let mut item = vec![
            ("pk", s(&format!("ORG#{org_id}"))),
            ("sk", s(&format!("MEMBER#{}", person.sub))),
            ("entity", s("member")),
            ("org_id", s(org_id)),
            ("user_id", s(&person.sub)),
            ("role", s(role)),
            ("status", s(status)),
            ("email", s(&person.email)),
            ("joined_at", s("2026-01-01T00:00:00.000Z")),
            ("updated_at", s("2026-01-01T00:00:00.000Z")),
        ];
        if status == "active" {
            item.push(("gsi1pk", s(&format!("USER#{}", person.sub))));
            item.push(("gsi1sk", s(&format!("ORG#{org_id}"))));
        }
        self.put_item(item).await;
    }
}

/// `S("x")` (the Debug form in snapshots) to `x`.
pub fn unquote(debug: &str) -> String {
    debug
        .strip_prefix("S(\"")
        .and_then(|s| s.strip_suffix("\")"))
        .unwrap_or(debug)
        .to_owned()
}

/// Asserts a problem+json answer with the given status and `type` code.
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
