//! The benchmark's world: moto with the table from the SAM template and a user pool with its
//! app client for single sign-on, a DNS stand-in for the domains' TXT records, an in-process
//! `App` whose SDK requests are counted, a few users and organizations (the first with a
//! verified domain), and the API Gateway events for each function's requests.

use std::collections::HashMap;

use anyhow::{Context, anyhow, bail};
use aws_config::SdkConfig;
use bytes::Bytes;
use orgs_functions::routes;
use orgs_local::dns::LoopbackDns;
use orgs_local::{aws, provision, server, token};
use orgs_shared::app::{App, Config};
use serde_json::{Value, json};

use crate::counting::{Call, CountingClient, Recorder};

pub const TABLE: &str = "orgs";
pub const SENDER: &str = "no-reply@orgs.local";
/// The user pool and app client single sign-on uses, created in each moto.
pub const USER_POOL: &str = "orgs-bench";
/// The SAML metadata URL of every connection the benchmark makes (Cognito keeps it; nothing
/// fetches it locally).
pub const SAML_METADATA_URL: &str = "https://idp.bench.example/saml/metadata";

/// A signed-in person, as the JWT authorizer's claims describe them.
#[derive(Clone, Debug)]
pub struct Person {
    pub sub: String,
    pub email: String,
}

impl Person {
    pub fn new(name: &str) -> Self {
        Self {
            sub: format!("bench-{name}"),
            email: format!("{name}@bench.example"),
        }
    }
}

/// An organization the fixture created.
#[derive(Clone, Debug)]
pub struct Org {
    pub id: String,
    pub handle: String,
}

/// One request, before it becomes an event or an HTTP request.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: &'static str,
    /// Path and query, e.g. `/orgs/o_1?confirm=acme`.
    pub path: String,
    pub body: Option<Value>,
}

impl Req {
    pub fn new(method: &'static str, path: impl Into<String>, body: Option<Value>) -> Self {
        Self {
            method,
            path: path.into(),
            body,
        }
    }
}

pub struct Fixture {
    pub app: App,
    /// The local AWS's SdkConfig, its requests counted by `recorder`.
    pub sdk: SdkConfig,
    pub endpoint: String,
    pub recorder: Recorder,
    pub secret: String,
    /// Owns `orgs`; the caller of every read and edit.
    pub alice: Person,
    /// Creates and deletes organizations, so that Alice's listing keeps its size.
    pub carol: Person,
    /// Alice's organizations: the first is the one read, edited and renamed.
    pub orgs: Vec<Org>,
    /// The verified domain of the first organization, which its single sign-on covers.
    pub domain: String,
    /// The identity provider of the first organization's single sign-on, once `connect_sso`
    /// has connected it.
    pub sso_provider: Option<String>,
    /// The user pool and app client the functions are given (`ORGS_USER_POOL_ID`,
    /// `ORGS_SSO_APP_CLIENT_ID`).
    pub user_pool: provision::UserPool,
    /// Answers the domains' TXT records, for the functions in this process and the binaries.
    pub dns: LoopbackDns,
    run: String,
    seq: u64,
}

impl Fixture {
    /// Provisions moto at `endpoint` and creates the people and organizations the requests use.
    pub async fn new(endpoint: &str) -> anyhow::Result<Self> {
        Self::with_recorder(endpoint, Recorder::default()).await
    }

    /// `new`, with the SDK's requests recorded by `recorder`.
    pub async fn with_recorder(endpoint: &str, recorder: Recorder) -> anyhow::Result<Self> {
        let sdk = aws::sdk_config(endpoint).await;
        provision::ensure_table(&sdk, TABLE).await?;
        provision::ensure_sender(&sdk, SENDER).await?;
        let user_pool = provision::ensure_user_pool(&sdk, USER_POOL).await?;
        let dns = LoopbackDns::start().await;
        let inner = sdk
            .http_client()
            .ok_or_else(|| anyhow!("the local SdkConfig has no HTTP client"))?;
        let counted = sdk
            .to_builder()
            .http_client(CountingClient::new(inner, recorder.clone()))
            .build();
        let mut config = Config::for_table(TABLE);
        // One person creates an organization and sends invitations for every repetition of a
        // case: the per-person and first-day limits would refuse the repetitions, not measure.
        config.limits.orgs_per_owner = 1_000_000;
        config.limits.invitation_emails_per_person_per_day = 1_000_000;
        config.limits.invitation_emails_per_new_org = 1_000_000;
        // A domain added (and verified) for each repetition of the domains' cases.
        config.limits.domains_per_org = 1_000_000;
        config.sso = Some(user_pool.sso_settings());
        config.dns.resolver = dns.addr();
        let app = App::new(&counted, config);
        let mut fixture = Self {
            app,
            sdk: counted,
            endpoint: endpoint.to_owned(),
            recorder,
            secret: token::DEFAULT_DEV_SECRET.to_owned(),
            alice: Person::new("alice"),
            carol: Person::new("carol"),
            orgs: Vec::new(),
            domain: String::new(),
            sso_provider: None,
            user_pool,
            dns,
            run: uuid::Uuid::new_v4().simple().to_string()[..6].to_owned(),
            seq: 0,
        };
        for person in [fixture.alice.clone(), fixture.carol.clone()] {
            fixture
                .expect(Some(&person), &Req::new("GET", "/me", None), 200)
                .await?;
        }
        let alice = fixture.alice.clone();
        for _ in 0..3 {
            let org = fixture.create_org(&alice).await?;
            fixture.orgs.push(org);
        }
        let first = fixture.orgs[0].clone();
        fixture.domain = fixture.verified_domain(&first).await?;
        fixture.recorder.take();
        Ok(fixture)
    }

    /// A handle nobody has taken yet.
    pub fn unique_handle(&mut self) -> String {
        self.seq += 1;
        format!("b{}-{}", self.run, self.seq)
    }

    /// What the functions' environment adds to the template's for this world: the user pool
    /// and app client of single sign-on, and the DNS stand-in as the domains' resolver.
    pub fn function_env(&self) -> Vec<(String, String)> {
        [
            ("ORGS_USER_POOL_ID", self.user_pool.id.clone()),
            (
                "ORGS_SSO_APP_CLIENT_ID",
                self.user_pool.app_client_id.clone(),
            ),
            ("ORGS_DNS_RESOLVER", self.dns.addr().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    pub fn token(&self, person: &Person) -> String {
        token::mint(&self.secret, &person.sub, Some(&person.email), true, 3600)
    }

    /// The function that serves `req`, and the payload 2.0 event API Gateway would send it
    /// (without claims when `person` is `None`, as for a public route).
    pub fn event(
        &self,
        person: Option<&Person>,
        req: &Req,
    ) -> anyhow::Result<(&'static str, Value)> {
        let body = req
            .body
            .as_ref()
            .map(|b| Bytes::from(b.to_string()))
            .unwrap_or_default();
        let (parts, body) = http::Request::builder()
            .method(req.method)
            .uri(&req.path)
            .header("host", "api.orgs.local")
            .header("content-type", "application/json")
            .header("user-agent", "orgs-bench")
            .body(body)
            .context("building a request")?
            .into_parts();
        let claims: Option<HashMap<String, String>> = match person {
            Some(person) => Some(
                token::verify(&self.secret, &self.token(person))
                    .ok_or_else(|| anyhow!("a freshly minted token did not verify"))?,
            ),
            None => None,
        };
        let event = server::gateway_event(&parts, &body, claims)
            .ok_or_else(|| anyhow!("no route for {} {}", req.method, req.path))?;
        let (route, _) = routes::find(req.method, parts.uri.path())
            .ok_or_else(|| anyhow!("no route for {} {}", req.method, req.path))?;
        Ok((route.function, event))
    }

    /// Runs `req` through the same handler its function binary runs, in this process.
    pub async fn call(&self, person: Option<&Person>, req: &Req) -> anyhow::Result<(u16, Value)> {
        let (function, event) = self.event(person, req)?;
        let request = lambda_http::request::from_str(&event.to_string())
            .context("converting the event as the runtime does")?;
        let response = routes::invoke(function, &self.app, request)
            .await
            .ok_or_else(|| anyhow!("no handler for {function}"))?;
        let status = response.status().as_u16();
        let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// Like `call`, but fails unless the answer has status `want`.
    pub async fn expect(
        &self,
        person: Option<&Person>,
        req: &Req,
        want: u16,
    ) -> anyhow::Result<Value> {
        let (status, body) = self.call(person, req).await?;
        if status != want {
            bail!(
                "{} {} answered {status}, not {want}: {body}",
                req.method,
                req.path
            );
        }
        Ok(body)
    }

    /// The SDK requests `req` makes, run in this process.
    pub async fn count(
        &self,
        person: Option<&Person>,
        req: &Req,
        want: u16,
    ) -> anyhow::Result<Vec<Call>> {
        self.recorder.take();
        self.expect(person, req, want).await?;
        Ok(self.recorder.take())
    }

    pub fn create_org_req(&mut self) -> Req {
        let handle = self.unique_handle();
        Req::new(
            "POST",
            "/orgs",
            Some(json!({ "handle": handle, "display_name": "Bench Org", "region": "eu" })),
        )
    }

    pub async fn create_org(&mut self, owner: &Person) -> anyhow::Result<Org> {
        let req = self.create_org_req();
        let body = self.expect(Some(owner), &req, 201).await?;
        let field = |name: &str| {
            body[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("POST /orgs answered without {name}: {body}"))
        };
        Ok(Org {
            id: field("org_id")?,
            handle: field("handle")?,
        })
    }

    /// A new person, never seen before.
    pub fn newcomer(&mut self) -> Person {
        self.seq += 1;
        Person::new(&format!("p{}-{}", self.run, self.seq))
    }

    /// Invites `email` into `org` (by Alice); the invitation's id and its token.
    pub async fn invite(&self, org: &Org, email: &str) -> anyhow::Result<(String, String)> {
        self.invite_to_teams(org, email, &[]).await
    }

    /// `invite`, with an invitation that names `teams`.
    pub async fn invite_to_teams(
        &self,
        org: &Org,
        email: &str,
        teams: &[String],
    ) -> anyhow::Result<(String, String)> {
        let mut invitee = json!({ "email": email });
        if !teams.is_empty() {
            invitee["teams"] = json!(teams);
        }
        let body = json!({ "invitations": [invitee] });
        let req = Req::new("POST", format!("/orgs/{}/invitations", org.id), Some(body));
        let answer = self.expect(Some(&self.alice), &req, 201).await?;
        let result = &answer["results"][0];
        let id = result["invitation"]["invitation_id"].as_str();
        let token = result["invite_url"]
            .as_str()
            .and_then(|url| url.split("token=").nth(1));
        match (id, token) {
            (Some(id), Some(token)) => Ok((id.to_owned(), token.to_owned())),
            _ => bail!("POST …/invitations answered without an invitation or link: {answer}"),
        }
    }

    /// A new person who has joined `org` as a member, by invitation.
    pub async fn add_member(&mut self, org: &Org) -> anyhow::Result<Person> {
        let person = self.newcomer();
        let (_, token) = self.invite(org, &person.email).await?;
        let req = Req::new(
            "POST",
            "/invitations/accept",
            Some(json!({ "token": token })),
        );
        self.expect(Some(&person), &req, 200).await?;
        Ok(person)
    }

    /// A new team in `org` (by Alice); its id.
    pub async fn create_team(&mut self, org: &Org) -> anyhow::Result<String> {
        let name = format!("Team {}", self.unique_handle());
        let req = Req::new(
            "POST",
            format!("/orgs/{}/teams", org.id),
            Some(json!({ "name": name })),
        );
        let body = self.expect(Some(&self.alice), &req, 201).await?;
        body["team_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("POST …/teams answered without team_id: {body}"))
    }
    /// A domain nobody has claimed yet.
    pub fn unique_domain(&mut self) -> String {
        format!("{}.example", self.unique_handle())
    }

    /// Adds a new domain to `org` (by Alice) and publishes its TXT record; the domain.
    pub async fn add_domain(&mut self, org: &Org) -> anyhow::Result<String> {
        let domain = self.unique_domain();
        let req = Req::new(
            "POST",
            format!("/orgs/{}/domains", org.id),
            Some(json!({ "domain": domain })),
        );
        let added = self.expect(Some(&self.alice), &req, 201).await?;
        let record = &added["record"];
        match (record["name"].as_str(), record["value"].as_str()) {
            (Some(name), Some(value)) => self.dns.publish(name, &[value]),
            _ => bail!("POST …/domains answered without a TXT record: {added}"),
        }
        Ok(domain)
    }

    /// A new domain of `org`, verified (by Alice).
    pub async fn verified_domain(&mut self, org: &Org) -> anyhow::Result<String> {
        let domain = self.add_domain(org).await?;
        let path = format!("/orgs/{}/domains/{domain}/verify", org.id);
        let req = Req::new("POST", path, Some(json!({})));
        self.expect(Some(&self.alice), &req, 200).await?;
        Ok(domain)
    }

    /// The request that connects `org`'s single sign-on: a SAML identity provider by its
    /// metadata URL.
    pub fn put_sso_req(org: &Org) -> Req {
        let body = json!({ "saml": { "metadata_url": SAML_METADATA_URL } });
        Req::new("PUT", format!("/orgs/{}/sso", org.id), Some(body))
    }

    /// Connects `org`'s single sign-on (by Alice, its owner); its identity provider's name.
    pub async fn connect(&self, org: &Org) -> anyhow::Result<String> {
        let answer = self
            .expect(Some(&self.alice), &Self::put_sso_req(org), 200)
            .await?;
        answer["identity_provider"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("PUT …/sso answered without identity_provider: {answer}"))
    }

    /// The first organization's single sign-on, connected unless it is already; its identity
    /// provider's name.
    pub async fn connect_sso(&mut self) -> anyhow::Result<String> {
        if let Some(provider) = &self.sso_provider {
            return Ok(provider.clone());
        }
        let provider = self.connect(&self.orgs[0]).await?;
        self.sso_provider = Some(provider.clone());
        Ok(provider)
    }

    /// A new person whose address is at the first organization's verified domain.
    pub fn colleague(&mut self) -> Person {
        self.seq += 1;
        Person {
            sub: format!("bench-sso-{}-{}", self.run, self.seq),
            email: format!("p{}-{}@{}", self.run, self.seq, self.domain),
        }
    }
}
