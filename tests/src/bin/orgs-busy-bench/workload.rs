//! The stack, the setup and the two measured phases of the busy organization.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use orgs_functions::jobs::expiry::{ExpiryReport, expire_invitations};
use orgs_local::conflicts::{ConflictCounts, ConflictProxy};
use orgs_local::counting::RequestCounter;
use orgs_local::moto::Moto;
use orgs_local::server::{LocalApi, serve};
use orgs_local::{aws, provision, token};
use orgs_shared::app::{App, Config};
use orgs_shared::domain::{InvitationToken, OrgId, Role, RoleName, Timestamp, TokenHash, UserId};
use orgs_shared::store::{Item, NewInvitation, Op, Retention, Store, Stored};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::Args;

const SECRET: &str = "busy-bench-secret";
const ADMINS: usize = 10;
const INVITES_PER_ADMIN: usize = 10;
const ROLE_CHANGES: usize = 20;
const ACCEPTS_AT_ONCE: usize = 50;

/// One answer as the client saw it.
#[derive(Clone, Debug)]
pub struct Sample {
    pub status: u16,
    /// `ok`, or the problem's code (`concurrent-change`, …), or `gateway` for a bare answer.
    pub kind: String,
    pub latency: Duration,
}

/// Everything measured of one operation.
#[derive(Debug, Default)]
pub struct Operation {
    pub samples: Vec<Sample>,
    /// DynamoDB requests its handlers sent, retries included, by SDK operation.
    pub dynamodb: BTreeMap<String, u64>,
}

pub struct Outcome {
    /// In the order they are reported.
    pub operations: Vec<(&'static str, Operation)>,
    /// Each invitee's result inside the admins' batch invitations: `ok` or the problem code.
    pub invitees: BTreeMap<String, usize>,
    pub expiry: ExpiryReport,
    pub expiry_time: Duration,
    pub expiry_dynamodb: BTreeMap<String, u64>,
    pub conflicts: ConflictCounts,
    pub counts: Counts,
    pub moto: String,
}

/// The organization's counters beside what its items say.
#[derive(Debug, Default)]
pub struct Counts {
    pub member_count: i64,
    pub members: i64,
    pub owner_count: i64,
    pub active_owners: i64,
    pub pending_count: i64,
    pub pending: i64,
    /// What the successes of the run make the member count.
    pub expected_members: i64,
}

impl Outcome {
    pub fn invariants_hold(&self) -> bool {
        let c = &self.counts;
        c.member_count == c.members
            && c.owner_count == c.active_owners
            && c.pending_count == c.pending
            && c.members == c.expected_members
            && c.active_owners >= 1
    }
}

/// A server of the local API for one operation, with its own request counter.
struct Endpoint {
    base: String,
    counter: RequestCounter,
}

async fn endpoint(
    sdk_through_proxy: &aws_config::SdkConfig,
    app: &App,
    table: &str,
) -> anyhow::Result<Endpoint> {
    let counter = RequestCounter::default();
    let mut app = app.clone();
    app.store = Store::new(
        counter.client(sdk_through_proxy),
        table,
        app.config.retention,
    );
    let api = Arc::new(LocalApi {
        app,
        jwt_secret: SECRET.into(),
        openapi: None,
        log_requests: false,
        cors: orgs_local::cors::Cors::default(),
        timeouts: orgs_local::timeouts::FunctionTimeouts::from_template()?,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(serve(listener, api));
    Ok(Endpoint { base, counter })
}

#[derive(Clone)]
struct Person {
    sub: String,
    email: String,
    token: String,
}

fn person(sub: &str) -> Person {
    let email = format!("{sub}@busy.example");
    Person {
        token: token::mint(SECRET, sub, Some(&email), true, 3 * 3600),
        sub: sub.to_owned(),
        email,
    }
}

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    who: &Person,
    body: Value,
) -> anyhow::Result<(Sample, Value)> {
    let started = Instant::now();
    let response = http
        .request(method, url)
        .bearer_auth(&who.token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .context("a request to the local API")?;
    let status = response.status().as_u16();
    let text = response.text().await.context("an answer's body")?;
    let latency = started.elapsed();
    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let kind = if status < 400 {
        "ok".to_owned()
    } else {
        json["type"]
            .as_str()
            .and_then(|t| t.strip_prefix("urn:orgs:problem:"))
            .unwrap_or("gateway")
            .to_owned()
    };
    Ok((
        Sample {
            status,
            kind,
            latency,
        },
        json,
    ))
}

/// A pending invitation the setup put in place, with its link's token.
struct Seeded {
    person: Person,
    token: String,
}

/// Seeds pending invitations for `people` with `role`, lapsing at `expires_at`.
async fn seed(
    store: &Store,
    org: &OrgId,
    people: &[Person],
    role: Role,
    expires_at: Timestamp,
) -> anyhow::Result<Vec<Seeded>> {
    let tokens: Vec<InvitationToken> = people
        .iter()
        .map(|_| InvitationToken::generate())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("no randomness for tokens: {e}"))?;
    let hashes: Vec<TokenHash> = tokens.iter().map(InvitationToken::hash).collect();
    let op = Op {
        actor: UserId::system("bench"),
        request_id: "busy-bench-seed".into(),
        at: Timestamp::now().plus_seconds(-8 * 86_400),
        acting_as: None,
    };
    let role = RoleName::System(role);
    for (chunk, hashes) in people.chunks(100).zip(hashes.chunks(100)) {
        let new: Vec<NewInvitation<'_>> = chunk
            .iter()
            .zip(hashes)
            .map(|(p, hash)| NewInvitation {
                email: &p.email,
                invitee_user_id: None,
                role: &role,
                name: None,
                note: None,
                team_ids: &[],
                team_roles: &[],
                token_hash: hash,
                expires_at,
                expires_in_days: None,
                redirect_url: None,
            })
            .collect();
        store.seed_pending_invitations(org, &new, &op).await?;
    }
    Ok(people
        .iter()
        .zip(tokens)
        .map(|(p, t)| Seeded {
            person: p.clone(),
            token: t.expose().to_owned(),
        })
        .collect())
}

/// Accepts each invitation, `ACCEPTS_AT_ONCE` at a time.
async fn accept_all(
    http: &reqwest::Client,
    base: &str,
    invitations: Vec<Seeded>,
) -> anyhow::Result<Vec<Sample>> {
    let gate = Arc::new(Semaphore::new(ACCEPTS_AT_ONCE));
    let mut tasks = JoinSet::new();
    for seeded in invitations {
        let gate = gate.clone();
        let http = http.clone();
        let url = format!("{base}/invitations/accept");
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let body = json!({ "token": seeded.token });
            send(&http, reqwest::Method::POST, url, &seeded.person, body)
                .await
                .map(|(s, _)| s)
        });
    }
    let mut samples = Vec::new();
    while let Some(done) = tasks.join_next().await {
        samples.push(done??);
    }
    Ok(samples)
}

/// Marks a phase's start in moto's timing log, when one is kept (`ORGS_MOTO_TIMING`, read by
/// `tests/bench/moto_timing.py`).
fn mark_phase(name: &str) -> anyhow::Result<()> {
    if let Some(path) = std::env::var_os("ORGS_MOTO_TIMING") {
        use std::io::Write;
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)?;
        writeln!(log, "# {name}")?;
    }
    Ok(())
}

pub async fn run(args: &Args) -> anyhow::Result<Outcome> {
    mark_phase("setup")?;
    let moto = Moto::start_journaled()?;
    let sdk = aws::sdk_config(&moto.endpoint).await;
    let table = format!("orgs-busy-{}", uuid::Uuid::new_v4().simple());
    provision::ensure_table(&sdk, &table).await?;
    provision::ensure_sender(&sdk, "no-reply@orgs.local").await?;
    let proxy = ConflictProxy::start(&moto.endpoint, Duration::ZERO).await?;
    let through = aws::sdk_config(proxy.endpoint()).await;

    let mut config = Config::for_table(&table);
    // A company's rollout sends more than the default 200 emails a day; the limit is a setting.
    config.limits.invitation_emails_per_org_per_day = 10_000;
    // ... from an organization made for the run, by a few admins.
    config.limits.invitation_emails_per_new_org = 10_000;
    config.limits.invitation_emails_per_person_per_day = 10_000;
    let app = App::new(&sdk, config);
    let direct = Store::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &table,
        Retention::default(),
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;

    // Setup, not measured: the organization, 10 admins and 20 members who joined by invitation,
    // and the invitations of everyone who accepts later, and the lapsed ones.
    let setup = endpoint(&through, &app, &table).await?;
    let owner = person("owner");
    let (created, org) = send(
        &http,
        reqwest::Method::POST,
        format!("{}/orgs", setup.base),
        &owner,
        json!({ "handle": "busy", "display_name": "Busy Corp", "region": "eu" }),
    )
    .await?;
    if created.status != 201 {
        bail!("creating the organization: {} {org}", created.status);
    }
    let org_id = org["org_id"].as_str().context("org_id")?.to_owned();
    let org = OrgId::parse(&org_id).context("an org id")?;
    let week = Timestamp::now().plus_seconds(7 * 86_400);
    let admins: Vec<Person> = (0..ADMINS).map(|i| person(&format!("admin-{i}"))).collect();
    let members: Vec<Person> = (0..ROLE_CHANGES)
        .map(|i| person(&format!("member-{i}")))
        .collect();
    let mut staff = seed(&direct, &org, &admins, Role::Admin, week).await?;
    staff.extend(seed(&direct, &org, &members, Role::Member, week).await?);
    for seeded in &staff {
        let (answer, body) = send(
            &http,
            reqwest::Method::POST,
            format!("{}/invitations/accept", setup.base),
            &seeded.person,
            json!({ "token": seeded.token }),
        )
        .await?;
        if answer.status != 200 {
            bail!("setup: {} could not join: {body}", seeded.person.sub);
        }
    }
    let joiners: Vec<Person> = (0..args.accepts)
        .map(|i| person(&format!("joiner-{i}")))
        .collect();
    let joining = seed(&direct, &org, &joiners, Role::Member, week).await?;
    let late: Vec<Person> = (0..args.late_accepts)
        .map(|i| person(&format!("late-{i}")))
        .collect();
    let late_joining = seed(&direct, &org, &late, Role::Member, week).await?;
    let lapsed: Vec<Person> = (0..args.lapsed)
        .map(|i| person(&format!("lapsed-{i}")))
        .collect();
    seed(
        &direct,
        &org,
        &lapsed,
        Role::Member,
        Timestamp::now().plus_seconds(-3_600),
    )
    .await?;

    // Phase 1: everything at once, with DynamoDB's conflicts.
    proxy.set_window(args.window);
    mark_phase("phase 1: accepts, invitations, role changes, edit")?;
    let accepts = endpoint(&through, &app, &table).await?;
    let invites = endpoint(&through, &app, &table).await?;
    let roles = endpoint(&through, &app, &table).await?;
    let edits = endpoint(&through, &app, &table).await?;
    let late_accepts = endpoint(&through, &app, &table).await?;

    let accepting = accept_all(&http, &accepts.base, joining);
    let inviting = async {
        let mut tasks = JoinSet::new();
        for (a, admin) in admins.iter().enumerate() {
            let invitations: Vec<Value> = (0..INVITES_PER_ADMIN)
                .map(|k| json!({ "email": format!("invitee-{a}-{k}@busy.example") }))
                .collect();
            let url = format!("{}/orgs/{org_id}/invitations", invites.base);
            let http = http.clone();
            let admin = admin.clone();
            tasks.spawn(async move {
                let body = json!({ "invitations": invitations });
                send(&http, reqwest::Method::POST, url, &admin, body).await
            });
        }
        let mut samples = Vec::new();
        let mut invitees: BTreeMap<String, usize> = BTreeMap::new();
        while let Some(done) = tasks.join_next().await {
            let (sample, body) = done??;
            for result in body["results"].as_array().into_iter().flatten() {
                let kind = match result["status"].as_u64() {
                    Some(201) => "ok".to_owned(),
                    _ => result["problem"]["type"]
                        .as_str()
                        .and_then(|t| t.strip_prefix("urn:orgs:problem:"))
                        .unwrap_or("unknown")
                        .to_owned(),
                };
                *invitees.entry(kind).or_default() += 1;
            }
            samples.push(sample);
        }
        anyhow::Ok((samples, invitees))
    };
    let changing_roles = async {
        let mut tasks = JoinSet::new();
        for member in &members {
            let url = format!("{}/orgs/{org_id}/members/{}", roles.base, member.sub);
            let http = http.clone();
            let owner = owner.clone();
            tasks.spawn(async move {
                let body = json!({ "role": "admin" });
                send(&http, reqwest::Method::PATCH, url, &owner, body).await
            });
        }
        let mut samples = Vec::new();
        while let Some(done) = tasks.join_next().await {
            samples.push(done??.0);
        }
        anyhow::Ok(samples)
    };
    let editing = send(
        &http,
        reqwest::Method::PATCH,
        format!("{}/orgs/{org_id}", edits.base),
        &owner,
        json!({ "display_name": "Busy Corp (rolling out)", "url": "https://busy.example" }),
    );
    let (accepted, invited, changed, edited) =
        tokio::join!(accepting, inviting, changing_roles, editing);
    let (accepted, (invited, invitees), changed, (edited, _)) =
        (accepted?, invited?, changed?, edited?);

    // Phase 2: the expiry over the lapsed invitations, while more people accept.
    mark_phase("phase 2: expiry and accepts")?;
    let expiry_counter = RequestCounter::default();
    let expiry_store = Store::new(
        expiry_counter.client(&through),
        &table,
        Retention::default(),
    );
    let expiring = async {
        let started = Instant::now();
        let report = expire_invitations(
            &expiry_store,
            Timestamp::now(),
            Instant::now() + Duration::from_secs(280),
            "busy-bench-expiry",
        )
        .await;
        (report, started.elapsed())
    };
    let (late_accepted, (expiry, expiry_time)) = tokio::join!(
        accept_all(&http, &late_accepts.base, late_joining),
        expiring
    );
    let late_accepted = late_accepted?;
    mark_phase("counting")?;

    let joined = accepted.iter().filter(|s| s.status == 200).count()
        + late_accepted.iter().filter(|s| s.status == 200).count();
    let counts = count(&sdk, &table, &org_id, 1 + ADMINS + ROLE_CHANGES + joined).await?;
    Ok(Outcome {
        operations: vec![
            ("accept invitation (phase 1)", measured(accepted, &accepts)),
            ("invite 10 (admins)", measured(invited, &invites)),
            ("change role", measured(changed, &roles)),
            ("edit organization", measured(vec![edited], &edits)),
            (
                "accept invitation (during expiry)",
                measured(late_accepted, &late_accepts),
            ),
        ],
        invitees,
        expiry,
        expiry_time,
        expiry_dynamodb: expiry_counter.take(),
        conflicts: proxy.counts(),
        counts,
        moto: "single-threaded moto (journaled transactions)".into(),
    })
}

fn measured(samples: Vec<Sample>, endpoint: &Endpoint) -> Operation {
    Operation {
        samples,
        dynamodb: endpoint.counter.take(),
    }
}

/// The organization's counters, and the same figures counted from its items.
async fn count(
    sdk: &aws_config::SdkConfig,
    table: &str,
    org_id: &str,
    expected_members: usize,
) -> anyhow::Result<Counts> {
    let store = Store::new(
        aws_sdk_dynamodb::Client::new(sdk),
        table,
        Retention::default(),
    );
    let mut counts = Counts {
        expected_members: expected_members as i64,
        ..Counts::default()
    };
    let text = |item: &Item, name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let number = |item: &Item, name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let items = store.stored_items().await.context("reading the table")?;
    for (what, item) in items.iter().filter(|(what, _)| what.org() == Some(org_id)) {
        match what {
            // The counts are the org item's plus its tallies' deltas (docs/data-model.md).
            Stored::Organization { .. } => {
                counts.member_count += number(item, "member_count");
                counts.owner_count = number(item, "owner_count");
                counts.pending_count += number(item, "pending_count");
            }
            Stored::Tally { .. } => {
                counts.member_count += number(item, "member_delta");
                counts.pending_count += number(item, "pending_delta");
            }
            Stored::Member { .. } => {
                counts.members += 1;
                if text(item, "role") == "owner" && text(item, "status") == "active" {
                    counts.active_owners += 1;
                }
            }
            Stored::Invitation { .. } if text(item, "status") == "pending" => counts.pending += 1,
            _ => {}
        }
    }
    Ok(counts)
}
