//! The benchmark: cold starts, sizes, requests per operation and warm latency, side by side in
//! one run, written to tests/bench/RESULTS.md. docs/operations.md, "Benchmarks", says what each
//! figure means.
//!
//!     cargo bench-orgs [--runs N] [--rounds N] [--write-rounds N] [--out PATH|-] [--no-build]
//!                      [--only NAME,NAME]

mod background;
mod cases;
mod cold;
mod counting;
mod fixture;
mod latency;
mod report;
mod runtime_api;
mod sizes;
mod stats;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use orgs_functions::routes::{
    COGNITO_TRIGGERS, ROUTES, SCHEDULED_FUNCTIONS, SES_EVENT_FUNCTIONS, STREAM_FUNCTIONS,
};
use orgs_local::moto::Moto;
use orgs_local::workspace_root;

use crate::fixture::{Fixture, Req};
use crate::report::{Count, Function, Results};

const FLOOR: &str = "orgs-lambda-floor";

struct Args {
    runs: usize,
    rounds: usize,
    write_rounds: usize,
    out: Option<PathBuf>,
    build: bool,
    /// Only these functions (and the floor); every one when empty.
    only: Vec<String>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        runs: 7,
        rounds: 500,
        write_rounds: 40,
        out: Some(workspace_root().join("tests/bench/RESULTS.md")),
        build: true,
        only: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| anyhow!("{name} needs a value"));
        match arg.as_str() {
            "--runs" => args.runs = value("--runs")?.parse().context("--runs")?,
            "--rounds" => args.rounds = value("--rounds")?.parse().context("--rounds")?,
            "--write-rounds" => {
                args.write_rounds = value("--write-rounds")?.parse().context("--write-rounds")?
            }
            "--out" => {
                let out = value("--out")?;
                args.out = (out != "-").then(|| PathBuf::from(out));
            }
            "--no-build" => args.build = false,
            "--only" => {
                args.only = value("--only")?.split(',').map(str::to_owned).collect();
            }
            "-h" | "--help" => {
                println!(
                    "usage: cargo bench-orgs [--runs N (7)] [--rounds N (500)] [--write-rounds N (40)] \
                     [--out PATH|- (tests/bench/RESULTS.md)] [--no-build] [--only NAME,NAME]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    if args.runs == 0 || args.rounds == 0 || args.write_rounds > args.rounds {
        bail!("--runs and --rounds must be at least 1, --write-rounds at most --rounds");
    }
    Ok(args)
}

/// Every function binary: the route table's in its order, then the stream's, the schedule's,
/// Cognito's and SES's, which no route reaches.
fn functions() -> Vec<(&'static str, String)> {
    let mut seen = Vec::new();
    for route in ROUTES.iter() {
        if !seen.iter().any(|(f, _)| *f == route.function) {
            seen.push((route.function, format!("{} {}", route.method, route.path)));
        }
    }
    seen.extend(
        STREAM_FUNCTIONS
            .iter()
            .map(|f| (*f, "the table's stream".to_owned())),
    );
    seen.extend(
        SCHEDULED_FUNCTIONS
            .iter()
            .map(|f| (*f, "the schedule".to_owned())),
    );
    seen.extend(
        COGNITO_TRIGGERS
            .iter()
            .map(|f| (*f, "a Cognito user pool".to_owned())),
    );
    seen.extend(
        SES_EVENT_FUNCTIONS
            .iter()
            .map(|f| (*f, "SES's delivery events".to_owned())),
    );
    seen
}

fn is_background(function: &str) -> bool {
    STREAM_FUNCTIONS.contains(&function)
        || SCHEDULED_FUNCTIONS.contains(&function)
        || COGNITO_TRIGGERS.contains(&function)
        || SES_EVENT_FUNCTIONS.contains(&function)
}

/// Builds every function and the floor with the release profile, in one cargo invocation
/// whose features are those `sam build` resolves too (all workspace members).
fn build(names: &[&str]) -> anyhow::Result<Duration> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args(["build", "--release", "--locked"])
        .args(["-p", "orgs-functions", "-p", "orgs-local"]);
    // `cargo run` gave this process its package's CARGO_PKG_* and CARGO_MANIFEST_* variables;
    // build scripts such as ring's rerun when those change, which would rebuild everything
    // that a plain `cargo build --release` has just built.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&name.as_ref())
        {
            command.env_remove(name.as_ref());
        }
    }
    for name in names {
        command.args(["--bin", name]);
    }
    eprintln!("Building the release binaries ...");
    let started = Instant::now();
    let status = command.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    Ok(started.elapsed())
}

fn run(command: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(command)
        .args(args)
        .current_dir(workspace_root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// What the figures were measured on.
fn machine(load_before: &str) -> Vec<String> {
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| format!("{:.0} GiB", kib / 1024.0 / 1024.0))
        .unwrap_or_default();
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    let rustc = run("rustc", &["-V"]).unwrap_or_else(|| "rustc ?".into());
    let moto = read(
        &workspace_root()
            .join("tests/requirements.txt")
            .to_string_lossy(),
    )
    .lines()
    .find(|l| l.starts_with("moto"))
    .unwrap_or("moto")
    .to_owned();
    let commit = run("git", &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "?".into());
    let dirty = run("git", &["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|s| !s.is_empty());
    let load_after = read("/proc/loadavg");
    let load = |s: &str| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    vec![
        format!("Machine: {cpu}, {cores} cores, {memory}, Linux {kernel} (x86_64)"),
        format!("Toolchain: {rustc}; local AWS: {moto}, single-threaded"),
        format!(
            "Commit: {commit}{}",
            if dirty {
                " with uncommitted changes"
            } else {
                ""
            }
        ),
        format!(
            "Load average (1, 5, 15 min) before: {}; after: {} (the cores are shared, so \
             figures vary from run to run)",
            load(load_before),
            load(&load_after)
        ),
    ]
}

fn size(path: &Path) -> anyhow::Result<Option<sizes::Size>> {
    sizes::measure(path).with_context(|| format!("measuring {}", path.display()))
}

/// One cold start of `function` in `fx`'s world, its output appended to its log in `logs`.
async fn cold_start(
    release: &Path,
    function: &str,
    fx: &Fixture,
    events: [&serde_json::Value; 2],
    expect: cold::Expect,
    logs: &Path,
) -> anyhow::Result<cold::Sample> {
    cold::cold_start(
        &release.join(function),
        function,
        &fx.endpoint,
        &fx.function_env(),
        events,
        expect,
        &logs.join(format!("{function}.log")),
    )
    .await
    .with_context(|| format!("{function} (its output is in target/bench/{function}.log)"))
}

/// One cold start of the floor, beside a function's.
async fn floor_run(
    release: &Path,
    fx: &Fixture,
    event: &serde_json::Value,
    logs: &Path,
) -> anyhow::Result<cold::Sample> {
    cold_start(
        release,
        FLOOR,
        fx,
        [event, event],
        cold::Expect::Status(200),
        logs,
    )
    .await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let started = Instant::now();
    let when = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)?
        .format(&time::format_description::well_known::Rfc3339)?;
    let load_before = read("/proc/loadavg");
    let root = workspace_root();
    let release = root.join("target/release");
    let lambda = root.join("target/lambda");
    let logs = root.join("target/bench");
    std::fs::create_dir_all(&logs)?;

    let mut functions = functions();
    if !args.only.is_empty() {
        for name in &args.only {
            if !functions.iter().any(|(f, _)| f == name) {
                bail!("--only: there is no function {name:?}");
            }
        }
        functions.retain(|(f, _)| args.only.iter().any(|o| o == f));
    }
    let mut names: Vec<&str> = functions.iter().map(|(f, _)| *f).collect();
    names.push(FLOOR);
    let native_build = if args.build {
        Some(build(&names)?)
    } else {
        None
    };
    for name in &names {
        let path = release.join(name);
        if !path.exists() {
            bail!(
                "{} is missing: build it (cargo bench-orgs builds unless --no-build)",
                path.display()
            );
        }
    }

    // A fresh moto for each function: stock moto's transactions slow down with every write
    // before them (see latency.rs), so each function meets a small table.
    eprintln!("The floor, {FLOOR}: {} cold starts ...", args.runs);
    let moto = Moto::start(false)?;
    let fx = Fixture::new(&moto.endpoint).await?;
    let floor_event = fx.event(Some(&fx.alice), &Req::new("GET", "/me", None))?.1;
    let mut floor = Function {
        name: "(floor) empty lambda_http".into(),
        route: "any".into(),
        cold: Vec::new(),
        floor_beside: Vec::new(),
        native: size(&release.join(FLOOR))?,
        arm64: size(&lambda.join(FLOOR).join("bootstrap"))?,
    };
    for _ in 0..args.runs {
        floor.cold.push(
            cold_start(
                &release,
                FLOOR,
                &fx,
                [&floor_event, &floor_event],
                cold::Expect::Status(200),
                &logs,
            )
            .await?,
        );
    }
    drop(moto);

    let mut counts = Vec::new();
    let mut results = Vec::new();
    for (function, route) in &functions {
        eprintln!("{function}: requests, then {} cold starts ...", args.runs);
        let moto = Moto::start(false)?;
        let mut fx = Fixture::new(&moto.endpoint).await?;
        let mut f = Function {
            name: function.to_string(),
            route: route.clone(),
            cold: Vec::new(),
            floor_beside: Vec::new(),
            native: size(&release.join(function))?,
            arm64: size(&lambda.join(function).join("bootstrap"))?,
        };
        if *function == "get-me" {
            let newcomer = fx.newcomer();
            counts.push(Count {
                operation: "get-me (first use)".into(),
                route: "GET /me".into(),
                calls: fx
                    .count(Some(&newcomer), &Req::new("GET", "/me", None), 200)
                    .await?,
            });
        }
        if is_background(function) {
            counts.push(Count {
                operation: function.to_string(),
                route: route.clone(),
                calls: background::count(&fx, function)
                    .await
                    .with_context(|| format!("{function}, in this process"))?,
            });
            if *function == "token-claims" {
                counts.push(Count {
                    operation: "token-claims (first sign-in through SSO)".into(),
                    route: route.clone(),
                    calls: background::count_first_sso_sign_in(&mut fx)
                        .await
                        .context("token-claims' first sign-in through SSO, in this process")?,
                });
            }
            for _ in 0..args.runs {
                f.floor_beside
                    .push(floor_run(&release, &fx, &floor_event, &logs).await?);
                let event = background::event(&fx, function).await?;
                f.cold.push(
                    cold_start(
                        &release,
                        function,
                        &fx,
                        [&event, &event],
                        cold::Expect::Done(function),
                        &logs,
                    )
                    .await?,
                );
            }
            results.push(f);
            continue;
        }
        let Some(case) = cases::case(&mut fx, function, 1).await? else {
            eprintln!("  {function}: the benchmark has no request for it yet: not measured");
            results.push(f);
            continue;
        };
        let (person, req) = &case.requests[0];
        counts.push(Count {
            operation: function.to_string(),
            route: route.clone(),
            calls: fx
                .count(person.as_ref(), req, case.status)
                .await
                .with_context(|| format!("{function}, in this process"))?,
        });
        for _ in 0..args.runs {
            let case = cases::case(&mut fx, function, 2)
                .await?
                .ok_or_else(|| anyhow!("no case for {function}"))?;
            let mut events = Vec::new();
            for (person, req) in &case.requests {
                events.push(fx.event(person.as_ref(), req)?.1);
            }
            f.floor_beside
                .push(floor_run(&release, &fx, &floor_event, &logs).await?);
            f.cold.push(
                cold_start(
                    &release,
                    function,
                    &fx,
                    [&events[0], &events[1]],
                    cold::Expect::Status(case.status),
                    &logs,
                )
                .await?,
            );
        }
        results.push(f);
    }

    eprintln!(
        "Warm latency: {} rounds of {} reads, {} of {} writes ...",
        args.rounds,
        latency::READS.len(),
        args.write_rounds,
        latency::WRITES.len()
    );
    let moto = Moto::start(false)?;
    let mut fx = Fixture::new(&moto.endpoint).await?;
    let warmup = (args.rounds / 20).clamp(1, 10);
    let latency = latency::measure(&mut fx, args.rounds, args.write_rounds, warmup).await?;
    drop(moto);

    let artifacts = std::fs::read_to_string(lambda.join("build-times.txt")).ok();
    let mut command = String::from("cargo bench-orgs");
    for arg in std::env::args().skip(1) {
        command.push(' ');
        command.push_str(&arg);
    }
    let results = Results {
        command,
        when,
        took: started.elapsed(),
        machine: machine(&load_before),
        runs: args.runs,
        native_build,
        floor,
        functions: results,
        counts,
        rounds: args.rounds,
        write_rounds: args.write_rounds,
        latency,
        artifacts,
    };
    let text = report::render(&results);
    println!("{text}");
    if let Some(out) = &args.out {
        std::fs::write(out, &text).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("Wrote {}", out.display());
    }
    Ok(())
}
