//! The results as Markdown: printed, and written to tests/bench/RESULTS.md.

use std::fmt::Write;
use std::time::Duration;

use crate::cases::{self, Minimum};
use crate::cold::Sample;
use crate::counting::Call;
use crate::latency::RouteLatency;
use crate::sizes::Size;
use crate::stats::{mb, median, median_u64, mib, ms, quantile, ratio};

pub const INIT_RATIO: f64 = 2.0;
pub const FIRST_RATIO: f64 = 2.0;
pub const RSS_LIMIT_KIB: u64 = 16 * 1024;
/// 6 MB, decimal.
pub const SIZE_LIMIT: u64 = 6_000_000;

pub struct Function {
    pub name: String,
    pub route: String,
    pub cold: Vec<Sample>,
    /// The floor's cold starts, each run right before one of this function's, so that both
    /// meet the same load on the shared cores; the init ratio is taken against these.
    pub floor_beside: Vec<Sample>,
    pub native: Option<Size>,
    pub arm64: Option<Size>,
}

pub struct Count {
    pub operation: String,
    pub route: String,
    pub calls: Vec<Call>,
}

pub struct Results {
    pub command: String,
    pub when: String,
    pub took: Duration,
    pub machine: Vec<String>,
    pub runs: usize,
    pub native_build: Option<Duration>,
    pub floor: Function,
    pub functions: Vec<Function>,
    pub counts: Vec<Count>,
    pub rounds: usize,
    pub write_rounds: usize,
    pub latency: Vec<RouteLatency>,
    /// What tests/build-artifacts recorded, if it ran.
    pub artifacts: Option<String>,
}

#[derive(Clone)]
struct Medians {
    init: Duration,
    init_cpu: Duration,
    first: Duration,
    warm: Duration,
    rss_first: u64,
    rss_warm: u64,
}

fn medians(samples: &[Sample]) -> Option<Medians> {
    if samples.is_empty() {
        return None;
    }
    let pick = |f: fn(&Sample) -> Duration| median(&samples.iter().map(f).collect::<Vec<_>>());
    let pick_kib = |f: fn(&Sample) -> u64| median_u64(&samples.iter().map(f).collect::<Vec<_>>());
    Some(Medians {
        init: pick(|s| s.init),
        init_cpu: pick(|s| s.init_cpu),
        first: pick(|s| s.first),
        warm: pick(|s| s.warm),
        rss_first: pick_kib(|s| s.rss_first),
        rss_warm: pick_kib(|s| s.rss_warm),
    })
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "**over**" }
}

/// The DynamoDB operations of `calls`, in order, e.g. `BatchGetItem + TransactWriteItems`.
fn names(calls: &[&str]) -> String {
    if calls.is_empty() {
        "none".into()
    } else {
        calls.join(" + ")
    }
}

fn service<'a>(calls: &'a [Call], name: &str) -> Vec<&'a str> {
    calls
        .iter()
        .filter(|c| c.service == name)
        .map(|c| c.operation.as_str())
        .collect()
}

/// Whether `calls` are within `min`: as many requests of each kind, or fewer.
fn above_minimum(calls: &[Call], min: &Minimum) -> Option<String> {
    let dynamodb = service(calls, "DynamoDB");
    let mut excess = Vec::new();
    let mut sorted_min: Vec<&str> = min.dynamodb.to_vec();
    sorted_min.sort_unstable();
    let mut sorted: Vec<&str> = dynamodb.clone();
    sorted.sort_unstable();
    if sorted != sorted_min {
        excess.push(format!(
            "DynamoDB {} instead of {}",
            names(&dynamodb),
            names(min.dynamodb)
        ));
    }
    let ses = service(calls, "SES").len();
    if ses > min.ses {
        excess.push(format!("{ses} SES requests, minimum {}", min.ses));
    }
    let events = service(calls, "EventBridge").len();
    if events > min.eventbridge {
        excess.push(format!(
            "{events} EventBridge requests, minimum {}",
            min.eventbridge
        ));
    }
    let cognito = service(calls, "Cognito").len();
    if cognito > min.cognito {
        excess.push(format!(
            "{cognito} Cognito requests ({}), minimum {}",
            service(calls, "Cognito").join(" + "),
            min.cognito
        ));
    }
    let other = service(calls, "other");
    if !other.is_empty() {
        excess.push(format!("other requests: {}", other.join(", ")));
    }
    (!excess.is_empty()).then(|| excess.join("; "))
}

/// The Cognito requests: how many, and which.
fn cognito_cell(calls: &[&str]) -> String {
    if calls.is_empty() {
        "0".into()
    } else {
        format!("{} ({})", calls.len(), calls.join(" + "))
    }
}

fn size_cell(size: Option<Size>, zipped: bool) -> String {
    match size {
        None => "n/a".into(),
        Some(s) if zipped => mb(s.zipped),
        Some(s) if s.stripped => mb(s.binary),
        Some(s) => format!("{} (not stripped)", mb(s.binary)),
    }
}

/// The floor to hold `f` against: the floor's runs beside it, or the floor's own runs.
fn floor_for(f: &Function, own: &Option<Medians>) -> Option<Medians> {
    medians(&f.floor_beside).or_else(|| own.clone())
}

pub fn render(r: &Results) -> String {
    let mut out = String::new();
    let o = &mut out;
    let floor = medians(&r.floor.cold);

    let _ = writeln!(o, "# Benchmark results\n");
    let _ = writeln!(
        o,
        "Written by `{}` on {} (took {:.0} s). Do not edit by hand: run it again.\n",
        r.command,
        r.when,
        r.took.as_secs_f64()
    );
    for line in &r.machine {
        let _ = writeln!(o, "- {line}");
    }
    let _ = writeln!(
        o,
        "\nUnless a column says arm64, every figure is from the host-native (x86_64) release \
         build (`[profile.release]` of Cargo.toml), run here. The arm64 sizes are from \
         `tests/build-artifacts` (`cargo lambda build --release --arm64`, the binaries SAM \
         deploys), read from `target/lambda/*/bootstrap`. Cold starts are against moto on \
         loopback, with the binary in the page cache after the first run, so they show the \
         functions' own start-up cost, not Lambda's sandbox or download time."
    );

    // Targets.
    let _ = writeln!(o, "\n## Targets\n");
    let _ = writeln!(
        o,
        "| Function | init ≤ {INIT_RATIO}× floor | first ≤ {FIRST_RATIO}× warm | peak RSS ≤ 16 MiB | \
         stripped ≤ 6 MB | DynamoDB at minimum |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    let mut misses = Vec::new();
    for f in &r.functions {
        let m = medians(&f.cold);
        let floor = floor_for(f, &floor);
        let init = match (&m, &floor) {
            (Some(m), Some(fl)) => {
                let x = ratio(m.init, fl.init);
                if x > INIT_RATIO {
                    misses.push(format!("{}: init {x:.2}× the floor's", f.name));
                }
                format!("{x:.2}× {}", verdict(x <= INIT_RATIO))
            }
            _ => "n/a".into(),
        };
        let first = match &m {
            Some(m) => {
                let x = ratio(m.first, m.warm);
                if x > FIRST_RATIO {
                    misses.push(format!("{}: first invocation {x:.2}× a warm one", f.name));
                }
                format!("{x:.2}× {}", verdict(x <= FIRST_RATIO))
            }
            None => "n/a".into(),
        };
        let rss = match &m {
            Some(m) => {
                if m.rss_first > RSS_LIMIT_KIB {
                    misses.push(format!("{}: {} MiB peak RSS", f.name, mib(m.rss_first)));
                }
                format!(
                    "{} MiB {}",
                    mib(m.rss_first),
                    verdict(m.rss_first <= RSS_LIMIT_KIB)
                )
            }
            None => "n/a".into(),
        };
        let largest = [f.native, f.arm64]
            .into_iter()
            .flatten()
            .map(|s| s.binary)
            .max();
        let size = match largest {
            Some(bytes) => {
                if bytes > SIZE_LIMIT {
                    misses.push(format!("{}: {} MB binary", f.name, mb(bytes)));
                }
                format!("{} MB {}", mb(bytes), verdict(bytes <= SIZE_LIMIT))
            }
            None => "n/a".into(),
        };
        let minimum = r
            .counts
            .iter()
            .find(|c| c.operation == f.name)
            .and_then(|c| Some((c, cases::minimum(&c.operation)?)))
            .map(|(c, min)| match above_minimum(&c.calls, &min) {
                None => "ok".to_owned(),
                Some(_) => "**above**, see below".to_owned(),
            })
            .unwrap_or_else(|| "n/a".into());
        let _ = writeln!(
            o,
            "| {} | {init} | {first} | {rss} | {size} | {minimum} |",
            f.name
        );
    }
    if misses.is_empty() {
        let _ = writeln!(o, "\nEvery function meets every target.");
    } else {
        let _ = writeln!(o, "\nOver a target:");
        for miss in &misses {
            let _ = writeln!(o, "- {miss}");
        }
    }
    let _ = writeln!(
        o,
        "\nThe size column is the larger of the x86_64 and arm64 stripped binaries."
    );

    // Cold starts.
    let _ = writeln!(o, "\n## Cold starts (median of {} each)\n", r.runs);
    let _ = writeln!(
        o,
        "Init: from spawning the process until it asks the Runtime API for its first event. \
         First: from handing out the first event until its answer. Warm: the same request \
         (equivalent work, e.g. a fresh organization to delete) once more in the same process. \
         Peak RSS: VmHWM after the first and after the warm invocation. The floor's init \
         beside a function is the median of the floor's cold starts run one right before each \
         of that function's, so that both meet the same load on the shared cores; the ratio \
         is to that figure. Init on CPU: the CPU time the process ran for during its init \
         (its threads' `schedstat`): waiting for a core on a loaded machine inflates init and \
         its ratio, not this.\n"
    );
    let _ = writeln!(
        o,
        "| Function | Route | init ms | floor's init beside it, ms | × floor | init on CPU, ms | \
         × floor's on CPU | first ms | warm ms | first ÷ warm | peak RSS after first, MiB | \
         after warm, MiB |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for f in std::iter::once(&r.floor).chain(&r.functions) {
        let Some(m) = medians(&f.cold) else {
            let _ = writeln!(
                o,
                "| {} | {} | not run | | | | | | | | | |",
                f.name, f.route
            );
            continue;
        };
        let beside = floor_for(f, &floor);
        let times_floor = beside
            .as_ref()
            .map(|fl| format!("{:.2}", ratio(m.init, fl.init)))
            .unwrap_or_default();
        let floor_init = beside.as_ref().map(|fl| ms(fl.init)).unwrap_or_default();
        let times_floor_cpu = beside
            .as_ref()
            .map(|fl| format!("{:.2}", ratio(m.init_cpu, fl.init_cpu)))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {floor_init} | {times_floor} | {} | {times_floor_cpu} | {} | {} | \
             {:.2} | {} | {} |",
            f.name,
            f.route,
            ms(m.init),
            ms(m.init_cpu),
            ms(m.first),
            ms(m.warm),
            ratio(m.first, m.warm),
            mib(m.rss_first),
            mib(m.rss_warm),
        );
    }

    // Sizes.
    let _ = writeln!(o, "\n## Sizes (MB = 10⁶ bytes)\n");
    let _ = writeln!(
        o,
        "Stripped: the `bootstrap` binary Lambda runs. Zipped: that binary alone in a deflated \
         zip, as the deployment package holds it.\n"
    );
    let _ = writeln!(
        o,
        "| Function | x86_64 stripped | x86_64 zipped | arm64 stripped | arm64 zipped |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|");
    for f in std::iter::once(&r.floor).chain(&r.functions) {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            f.name,
            size_cell(f.native, false),
            size_cell(f.native, true),
            size_cell(f.arm64, false),
            size_cell(f.arm64, true),
        );
    }

    // Requests.
    let _ = writeln!(o, "\n## Requests per operation\n");
    let _ = writeln!(
        o,
        "Counted at the SDK's HTTP client (every round trip, retries included) while the \
         handler ran in this process against moto; the minimum is what docs/data-model.md \
         allows. Cognito: the requests to the user pool (single sign-on's identity providers \
         and app client).\n"
    );
    let _ = writeln!(
        o,
        "| Operation | Route | DynamoDB | SES | EventBridge | Cognito | Total | Minimum | Why \
         that minimum |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
    let mut above = Vec::new();
    for c in &r.counts {
        let min = cases::minimum(&c.operation);
        let (min_total, why) = match &min {
            Some(m) => (
                (m.dynamodb.len() + m.ses + m.eventbridge + m.cognito).to_string(),
                m.why,
            ),
            None => ("?".into(), "no minimum recorded"),
        };
        if let Some(m) = &min
            && let Some(excess) = above_minimum(&c.calls, m)
        {
            above.push(format!("{} ({}): {excess}", c.operation, c.route));
        }
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {min_total} | {why} |",
            c.operation,
            c.route,
            names(&service(&c.calls, "DynamoDB")),
            service(&c.calls, "SES").len(),
            service(&c.calls, "EventBridge").len(),
            cognito_cell(&service(&c.calls, "Cognito")),
            c.calls.len(),
        );
    }
    if above.is_empty() {
        let _ = writeln!(o, "\nEvery operation is at its minimum.");
    } else {
        let _ = writeln!(o, "\nAbove the minimum:");
        for line in &above {
            let _ = writeln!(o, "- {line}");
        }
    }

    // Latency.
    let total: usize = r.latency.iter().map(|l| l.total.len()).sum();
    let _ = writeln!(o, "\n## Warm latency of the local API\n");
    let _ = writeln!(
        o,
        "{total} requests, one at a time over one keep-alive HTTP connection to the local API \
         (`orgs_local::server`: it checks the token and builds the payload 2.0 event as API \
         Gateway would, then runs the handler in-process), against single-threaded moto: {} \
         rounds of the {} reads, the first {} of them followed by the {} writes, after a \
         warm-up. \"moto\" is the time spent waiting for moto's answers during the same \
         requests, measured at the SDK's HTTP client: the floor for those DynamoDB calls. \
         \"ours\" is the rest (HTTP, token check, event conversion, handler, SDK serialization \
         and signing), request by request. Against moto the total is mostly moto; stock moto \
         also copies the whole table for each item of a transaction, so its writes slow down \
         as the run goes on (hence fewer write rounds).\n",
        r.rounds,
        crate::latency::READS.len(),
        r.write_rounds,
        crate::latency::WRITES.len(),
    );
    let _ = writeln!(
        o,
        "| Route | p50 ms | p99 ms | moto p50 ms | moto p99 ms | ours p50 ms | ours p99 ms | SDK requests |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|");
    let mut all_total = Vec::new();
    let mut all_moto = Vec::new();
    let mut all_ours = Vec::new();
    for l in &r.latency {
        let ours: Vec<Duration> = l
            .total
            .iter()
            .zip(&l.moto)
            .map(|(t, m)| t.saturating_sub(*m))
            .collect();
        let mut calls = l.calls.clone();
        calls.sort_unstable();
        calls.dedup();
        let calls = calls
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("–");
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {calls} |",
            l.route,
            ms(quantile(&l.total, 0.5)),
            ms(quantile(&l.total, 0.99)),
            ms(quantile(&l.moto, 0.5)),
            ms(quantile(&l.moto, 0.99)),
            ms(quantile(&ours, 0.5)),
            ms(quantile(&ours, 0.99)),
        );
        all_total.extend(&l.total);
        all_moto.extend(&l.moto);
        all_ours.extend(ours);
    }
    let _ = writeln!(
        o,
        "| **all** | {} | {} | {} | {} | {} | {} | |",
        ms(quantile(&all_total, 0.5)),
        ms(quantile(&all_total, 0.99)),
        ms(quantile(&all_moto, 0.5)),
        ms(quantile(&all_moto, 0.99)),
        ms(quantile(&all_ours, 0.5)),
        ms(quantile(&all_ours, 0.99)),
    );

    // Builds.
    let _ = writeln!(o, "\n## Builds\n");
    match r.native_build {
        Some(d) => {
            let _ = writeln!(
                o,
                "- This run's `cargo build --release` of every function and the floor: {:.0} s \
                 (only what had changed since the last build).",
                d.as_secs_f64()
            );
        }
        None => {
            let _ = writeln!(
                o,
                "- This run used the binaries already built (`--no-build`)."
            );
        }
    }
    match &r.artifacts {
        Some(text) => {
            let _ = writeln!(o, "- `tests/build-artifacts`, as it recorded its last run:");
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(o, "  - {}", line.trim());
            }
        }
        None => {
            let _ = writeln!(
                o,
                "- No arm64 figures: `tests/build-artifacts` has not been run in this checkout."
            );
        }
    }
    out
}
