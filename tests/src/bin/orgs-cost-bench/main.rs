//! The cost benchmark: what one request of each operation consumes (DynamoDB request units,
//! Lambda GB-seconds, API Gateway requests, emails, events), measured against moto in this
//! process, priced, and summed over two reference workloads; written to tests/bench/COST.md.
//! docs/operations.md, "Benchmarks", says what each figure means.
//!
//!     cargo bench-cost [--reps N] [--out PATH|-] [--show NAME,NAME]

// The request cases, the fixture and the counting HTTP client are the main benchmark's
// (tests/src/bin/orgs-bench); this program uses only part of them.
#[allow(dead_code)]
#[path = "../orgs-bench/background.rs"]
mod background;
#[allow(dead_code)]
#[path = "../orgs-bench/cases.rs"]
mod cases;
#[allow(dead_code)]
#[path = "../orgs-bench/counting.rs"]
mod counting;
mod extra;
#[allow(dead_code)]
#[path = "../orgs-bench/fixture.rs"]
mod fixture;
mod prices;
mod report;
mod units;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use orgs_functions::routes::{
    COGNITO_TRIGGERS, ROUTES, SCHEDULED_FUNCTIONS, SES_EVENT_FUNCTIONS, STREAM_FUNCTIONS,
};
use orgs_local::moto::Moto;
use orgs_local::workspace_root;

use crate::counting::{Call, Recorder};
use crate::fixture::{Fixture, Person, Req, TABLE};
use crate::units::{Snapshot, Units};

/// One measured request.
#[derive(Clone, Debug)]
pub struct Sample {
    pub units: Units,
    pub dynamodb_calls: usize,
    pub emails: usize,
    /// The whole handler, in this process, against moto.
    pub duration: Duration,
    /// The part of `duration` spent waiting for moto's answers.
    pub moto: Duration,
}

/// One operation: what invokes it, and its samples (none, and why, if it was not measured).
pub struct Operation {
    pub name: String,
    pub trigger: String,
    pub http: bool,
    pub samples: Vec<Sample>,
    pub missing: Option<String>,
}

struct Args {
    reps: usize,
    out: Option<PathBuf>,
    /// Operations whose DynamoDB requests and answers are printed, to see where units go.
    show: Vec<String>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        reps: 3,
        out: Some(workspace_root().join("tests/bench/COST.md")),
        show: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| anyhow!("{name} needs a value"));
        match arg.as_str() {
            "--reps" => args.reps = value("--reps")?.parse().context("--reps")?,
            "--out" => {
                let out = value("--out")?;
                args.out = (out != "-").then(|| PathBuf::from(out));
            }
            "--show" => args.show = value("--show")?.split(',').map(str::to_owned).collect(),
            other => anyhow::bail!(
                "unknown argument {other}: cargo bench-cost [--reps N] [--out PATH|-] [--show NAME,NAME]"
            ),
        }
    }
    Ok(args)
}

/// Every function, as the main benchmark lists them: routes first, then the others.
fn functions() -> Vec<(&'static str, String, bool)> {
    let mut seen: Vec<(&'static str, String, bool)> = Vec::new();
    for route in ROUTES.iter() {
        if !seen.iter().any(|(f, _, _)| *f == route.function) {
            seen.push((
                route.function,
                format!("{} {}", route.method, route.path),
                true,
            ));
        }
    }
    for (list, trigger) in [
        (&*STREAM_FUNCTIONS, "the table's stream"),
        (&*SCHEDULED_FUNCTIONS, "the schedule"),
        (&*COGNITO_TRIGGERS, "a Cognito user pool"),
        (&*SES_EVENT_FUNCTIONS, "SES's delivery events"),
    ] {
        seen.extend(list.iter().map(|f| (*f, trigger.to_owned(), false)));
    }
    seen
}

struct Bench {
    fx: Fixture,
    /// Print the DynamoDB requests and answers of what is measured next.
    show: bool,
    /// Reads the table for the snapshots; its requests are nobody's.
    plain: aws_sdk_dynamodb::Client,
}

impl Bench {
    /// Runs `work` (which returns the calls it made) between two snapshots of the table.
    async fn measure<F, Fut>(&self, work: F) -> anyhow::Result<Sample>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Vec<Call>>>,
    {
        let before = Snapshot::take(&self.plain, TABLE).await?;
        self.fx.recorder.take();
        let started = Instant::now();
        let calls = work().await?;
        let duration = started.elapsed();
        let after = Snapshot::take(&self.plain, TABLE).await?;
        if self.show {
            for call in calls.iter().filter(|c| c.service == "DynamoDB") {
                let text = |b: &Option<bytes::Bytes>| {
                    b.as_ref()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default()
                };
                eprintln!(
                    "  {} {}\n  -> {}",
                    call.operation,
                    text(&call.request),
                    text(&call.response)
                );
            }
        }
        Ok(Sample {
            units: units::units(&calls, &before, &after)?,
            dynamodb_calls: calls.iter().filter(|c| c.service == "DynamoDB").count(),
            emails: calls
                .iter()
                .filter(|c| c.service == "SES" && c.operation == "SendEmail")
                .count(),
            duration,
            moto: calls.iter().map(|c| c.wire).sum(),
        })
    }

    async fn request(
        &self,
        person: Option<&Person>,
        req: &Req,
        status: u16,
    ) -> anyhow::Result<Sample> {
        self.measure(|| async {
            self.fx.expect(person, req, status).await?;
            Ok(self.fx.recorder.take())
        })
        .await
    }

    /// `request`, for an answer of any success status.
    async fn request_success(&self, person: Option<&Person>, req: &Req) -> anyhow::Result<Sample> {
        self.measure(|| async {
            let (status, body) = self.fx.call(person, req).await?;
            if !(200..300).contains(&status) {
                anyhow::bail!("{} {} answered {status}: {body}", req.method, req.path);
            }
            Ok(self.fx.recorder.take())
        })
        .await
    }

    /// `list-orgs` and `token-claims` read every organization of their person's: each is
    /// measured for a new person in one organization, as in the workloads.
    async fn in_one_org(&mut self, function: &str, reps: usize) -> anyhow::Result<Vec<Sample>> {
        let mut samples = Vec::new();
        for _ in 0..reps {
            let person = self.fx.newcomer();
            self.fx.create_org(&person).await?;
            samples.push(if function == "list-orgs" {
                self.request(Some(&person), &Req::new("GET", "/orgs", None), 200)
                    .await?
            } else {
                let event = orgs_local::token::pre_token_generation_event(
                    &person.sub,
                    Some(&person.email),
                    true,
                );
                self.measure(|| background::invoke(&self.fx, function, event))
                    .await?
            });
        }
        Ok(samples)
    }

    async fn http(&mut self, function: &str, reps: usize) -> anyhow::Result<Option<Vec<Sample>>> {
        let Some(case) = cases::case(&mut self.fx, function, reps).await? else {
            return Ok(None);
        };
        let mut samples = Vec::new();
        for (person, req) in &case.requests {
            samples.push(self.request(person.as_ref(), req, case.status).await?);
        }
        Ok(Some(samples))
    }

    async fn background(&self, function: &str, reps: usize) -> anyhow::Result<Vec<Sample>> {
        let mut samples = Vec::new();
        for _ in 0..reps {
            let event = background::event(&self.fx, function).await?;
            samples.push(
                self.measure(|| background::invoke(&self.fx, function, event))
                    .await?,
            );
        }
        Ok(samples)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let started = Instant::now();
    let moto = Moto::start_journaled()?;
    let fx = Fixture::with_recorder(&moto.endpoint, Recorder::with_bodies()).await?;
    let plain = aws_sdk_dynamodb::Client::new(&orgs_local::aws::sdk_config(&moto.endpoint).await);
    let mut bench = Bench {
        fx,
        show: false,
        plain,
    };

    let mut extra = extra::Extra::start(&mut bench).await;
    let mut operations = Vec::new();
    for (function, trigger, http) in functions() {
        eprintln!("{function} ...");
        bench.show = args.show.iter().any(|s| s == function);
        if function == "get-me" {
            let mut samples = Vec::new();
            for _ in 0..args.reps {
                let newcomer = bench.fx.newcomer();
                samples.push(
                    bench
                        .request(Some(&newcomer), &Req::new("GET", "/me", None), 200)
                        .await?,
                );
            }
            operations.push(Operation {
                name: "get-me (first use)".into(),
                trigger: trigger.clone(),
                http,
                samples,
                missing: None,
            });
        }
        let result = if ["list-orgs", "token-claims"].contains(&function) {
            bench.in_one_org(function, args.reps).await.map(Some)
        } else if extra::OPERATIONS.contains(&function) {
            extra
                .measure(&mut bench, function, args.reps)
                .await
                .map(Some)
        } else if http {
            bench.http(function, args.reps).await
        } else if ["publish-events", "expire-invitations", "token-claims"].contains(&function) {
            bench.background(function, args.reps).await.map(Some)
        } else {
            Ok(None)
        };
        let (samples, missing) = match result {
            Ok(Some(samples)) => (samples, None),
            Ok(None) => (
                Vec::new(),
                Some("the benchmark has no request for it yet".to_owned()),
            ),
            Err(e) => (Vec::new(), Some(format!("its request failed: {e:#}"))),
        };
        if let Some(why) = &missing {
            eprintln!("  not measured: {why}");
        }
        operations.push(Operation {
            name: function.to_owned(),
            trigger,
            http,
            samples,
            missing,
        });
    }
    drop(moto);

    let mut command = String::from("cargo bench-cost");
    for arg in std::env::args().skip(1) {
        command.push(' ');
        command.push_str(&arg);
    }
    let kept = args
        .out
        .as_ref()
        .and_then(|out| std::fs::read_to_string(out).ok())
        .and_then(|text| text.find(report::KEPT).map(|at| text[at + 1..].to_owned()));
    let text = report::render(&report::Run {
        command,
        took: started.elapsed(),
        reps: args.reps,
        operations,
        kept,
    });
    match &args.out {
        Some(out) => {
            std::fs::write(out, &text).with_context(|| format!("writing {}", out.display()))?;
            eprintln!("Wrote {}", out.display());
        }
        None => println!("{text}"),
    }
    Ok(())
}
