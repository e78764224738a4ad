//! Cold starts of a function's release binary under the loopback Runtime API: init (spawn until
//! its first `/next`), the first invocation, a warm invocation of the same request, and peak
//! resident memory (VmHWM) after each.

use std::fs::File;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::runtime_api::{Invocation, Report, RuntimeApi};

/// No step of a healthy cold start comes near this; a stuck one ends the run.
const STEP_LIMIT: Duration = Duration::from_secs(30);

/// One cold start.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub init: Duration,
    /// The CPU time the process ran for during `init`: unlike `init`, it does not grow while
    /// the process waits for a core, so it compares functions measured under different loads.
    pub init_cpu: Duration,
    pub first: Duration,
    pub warm: Duration,
    /// VmHWM after the first invocation, KiB.
    pub rss_first: u64,
    /// VmHWM after the warm invocation, KiB.
    pub rss_warm: u64,
}

/// The environment Lambda gives a function (provided.al2023), with the template's variables,
/// the local AWS, and `world`'s (the fixture's user pool and DNS stand-in).
pub fn lambda_env(
    function: &str,
    runtime_api: &str,
    endpoint: &str,
    world: &[(String, String)],
) -> Vec<(String, String)> {
    let pairs = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("_HANDLER", "bootstrap"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", function),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/orgs-bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test"),
        ("AWS_ENDPOINT_URL", endpoint),
        // infra/template.yaml, Globals.Function.Environment.
        ("ORGS_TABLE_NAME", crate::fixture::TABLE),
        ("ORGS_EVENT_BUS_NAME", crate::background::BUS),
        ("ORGS_MAIL_FROM", crate::fixture::SENDER),
        ("ORGS_INVITE_URL_BASE", "https://app.orgs.local/invite"),
        ("ORGS_INVITATION_TTL_SECONDS", "604800"),
        ("RUST_LOG", "info"),
    ];
    let mut env: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .chain(world.iter().cloned())
        .collect();
    // Only publish-events has it in the template.
    if function == "publish-events" {
        env.push((
            "ORGS_EVENTS_DLQ_URL".into(),
            crate::background::dead_letter_queue_url(endpoint),
        ));
    }
    env
}

/// Peak resident set size of a live process, KiB.
fn vm_hwm(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmHWM in /proc/{pid}/status"))
}

/// The CPU time a live process has run for, all its threads together (the first field of each
/// thread's `schedstat`, in ns).
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let tasks = format!("/proc/{pid}/task");
    let mut ns = 0u64;
    for task in std::fs::read_dir(&tasks).with_context(|| format!("reading {tasks}"))? {
        let path = task?.path().join("schedstat");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        ns += text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| anyhow!("no run time in {}", path.display()))?;
    }
    Ok(Duration::from_nanos(ns))
}

/// The next report, unless the process exits first.
async fn next(api: &mut RuntimeApi, child: &mut Child, what: &str) -> anyhow::Result<Report> {
    tokio::select! {
        report = api.report(STEP_LIMIT) => report.with_context(|| format!("waiting for {what}")),
        status = child.wait() => bail!("the function exited ({}) while we waited for {what}", status?),
    }
}

/// Hands `event` to the `/next` that `report` is, and returns when it was handed out.
fn hand(report: Report, id: &str, event: &Value, timeout: Duration) -> anyhow::Result<Instant> {
    let Report::Next { reply, .. } = report else {
        bail!("expected the function to ask for an event, got {report:?}");
    };
    let at = Instant::now();
    reply
        .send(Invocation {
            id: id.to_owned(),
            event: event.to_string(),
            timeout,
        })
        .map_err(|_| anyhow!("the function stopped waiting for its event"))?;
    Ok(at)
}

/// What a function's answer must be.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// API Gateway's response with this status.
    Status(u16),
    /// A background function's answer that says it did its work (`background::check`).
    Done(&'static str),
}

/// When the answer to `id` came, after checking it is what `expect` says.
fn answered(report: Report, id: &str, expect: Expect) -> anyhow::Result<Instant> {
    match report {
        Report::Response { id: got, at, body } if got == id => {
            let response: Value = serde_json::from_slice(&body)
                .with_context(|| format!("the answer is not JSON: {body:?}"))?;
            match expect {
                Expect::Status(status) => {
                    let got_status = response["statusCode"].as_u64().unwrap_or_default();
                    if got_status != u64::from(status) {
                        bail!("the function answered {got_status}, not {status}: {response}");
                    }
                }
                Expect::Done(function) => crate::background::check(function, &response)?,
            }
            Ok(at)
        }
        Report::Error { id, body } => bail!("invocation {id} failed: {body:?}"),
        Report::InitError(body) => bail!("the function could not start: {body:?}"),
        other => bail!("expected the answer to {id}, got {other:?}"),
    }
}

/// One cold start of `binary`: two invocations (`events[0]` first, then `events[1]`, which
/// does the same work), then the process is killed. Its output is appended to `log`. `world`
/// is added to its environment (`lambda_env`).
pub async fn cold_start(
    binary: &Path,
    function: &str,
    endpoint: &str,
    world: &[(String, String)],
    events: [&Value; 2],
    expect: Expect,
    log: &Path,
) -> anyhow::Result<Sample> {
    let mut api = RuntimeApi::start().await?;
    let output = File::options()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    let mut command = Command::new(binary);
    command
        .env_clear()
        .envs(lambda_env(function, &api.addr.to_string(), endpoint, world))
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .kill_on_drop(true);

    let spawned = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let pid = child
        .id()
        .ok_or_else(|| anyhow!("the function has no pid"))?;

    let ready = next(&mut api, &mut child, "the first /next").await?;
    let Report::Next { at: ready_at, .. } = &ready else {
        bail!("expected the function to ask for an event, got {ready:?}");
    };
    let init = *ready_at - spawned;
    let init_cpu = cpu_time(pid)?;
    let timeout = crate::background::timeout(function);
    let handed = hand(ready, "first", events[0], timeout)?;
    let done = answered(
        next(&mut api, &mut child, "the first answer").await?,
        "first",
        expect,
    )?;
    let first = done - handed;
    let rss_first = vm_hwm(pid)?;

    let again = next(&mut api, &mut child, "the second /next").await?;
    let handed = hand(again, "warm", events[1], timeout)?;
    let done = answered(
        next(&mut api, &mut child, "the warm answer").await?,
        "warm",
        expect,
    )?;
    let warm = done - handed;
    let rss_warm = vm_hwm(pid)?;

    child.kill().await.context("stopping the function")?;
    Ok(Sample {
        init,
        init_cpu,
        first,
        warm,
        rss_first,
        rss_warm,
    })
}
