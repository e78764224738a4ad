//! The benchmark of one busy organization (`cargo bench-busy`; figures in
//! `tests/bench/BUSY.md`): the day a company rolls `orgs` out to its staff.
//!
//!     cargo bench-busy [--label NAME] [--window-ms 30] [--accepts 200] [--lapsed 500]
//!
//! Everything runs on loopback: its own single-threaded moto, the conflict proxy
//! (`orgs_local::conflicts`) in front of it, so that transactions conflict as in DynamoDB, and
//! the local API over HTTP, one server per operation so that each operation's DynamoDB requests
//! are counted apart at the SDK. The workload, after a setup that is not measured:
//!
//! 1. 200 people accept their invitations to one organization, 50 at a time; meanwhile 10
//!    admins each invite 10 more people in one request, 20 members get a new role in parallel,
//!    and an owner edits the organization's profile.
//! 2. The expiry runs over 500 lapsed invitations of that organization while 100 more people
//!    accept, 50 at a time.
//!
//! It prints, per operation, the answers by kind, the DynamoDB requests per success and the
//! latency (p50, p99, max), then checks the organization's counts against its items, and
//! writes the figures under `## {label}` in `tests/bench/BUSY.md`. It asserts no time.

mod report;
mod workload;

use std::time::Duration;

use anyhow::{Context, bail};

pub struct Args {
    pub label: String,
    pub window: Duration,
    pub accepts: usize,
    pub late_accepts: usize,
    pub lapsed: usize,
    pub write: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        label: "latest".into(),
        window: Duration::from_millis(30),
        accepts: 200,
        late_accepts: 100,
        lapsed: 500,
        write: true,
    };
    let mut raw = std::env::args().skip(1);
    while let Some(flag) = raw.next() {
        if flag == "--no-write" {
            args.write = false;
            continue;
        }
        let value = raw
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        let number = || -> anyhow::Result<usize> {
            value
                .parse()
                .with_context(|| format!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--label" => args.label = value.clone(),
            "--window-ms" => args.window = Duration::from_millis(number()? as u64),
            "--accepts" => args.accepts = number()?,
            "--late-accepts" => args.late_accepts = number()?,
            "--lapsed" => args.lapsed = number()?,
            _ => bail!(
                "unknown argument {flag}; use --label NAME, --window-ms N, --accepts N, \
                 --late-accepts N, --lapsed N, --no-write"
            ),
        }
    }
    Ok(args)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let load_before = load_average();
    let outcome = workload::run(&args).await?;
    let mut text = report::render(&args, &outcome);
    // Moto and the API share the machine's cores with whatever else runs: say how busy it was.
    text.push_str(&format!(
        "Load average (1, 5, 15 min) at the start: {load_before}; at the end: {}.\n",
        load_average()
    ));
    println!("{text}");
    if args.write {
        let path = orgs_local::workspace_root().join("tests/bench/BUSY.md");
        report::write_section(&path, &args.label, &text)?;
        println!("written under \"## {}\" in {}", args.label, path.display());
    }
    if !outcome.invariants_hold() {
        bail!("the organization's counts do not match its items (see above)");
    }
    Ok(())
}
