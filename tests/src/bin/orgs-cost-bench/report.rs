//! tests/bench/COST.md: the units of each operation, their price, and the two workloads.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use orgs_local::workspace_root;

use crate::prices::{self, Workload};
use crate::{Operation, Sample};

/// Where the part of COST.md that a run keeps begins: the cuts, written by hand from the runs
/// before and after each.
pub const KEPT: &str = "\n## Cuts\n";

pub struct Run {
    pub command: String,
    pub took: Duration,
    pub reps: usize,
    pub operations: Vec<Operation>,
    pub kept: Option<String>,
}

/// One operation's medians, and their price.
struct Row<'a> {
    op: &'a Operation,
    memory_mb: f64,
    read: f64,
    write: f64,
    index_write: f64,
    items_read: f64,
    items_written: f64,
    stream_records: f64,
    events: f64,
    emails: f64,
    dynamodb_calls: f64,
    filtered: f64,
    ms: f64,
    moto_ms: f64,
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

impl<'a> Row<'a> {
    fn new(op: &'a Operation, memory: &HashMap<String, f64>) -> Self {
        let m = |f: fn(&Sample) -> f64| median(op.samples.iter().map(f).collect());
        let function = op.name.split(' ').next().unwrap_or(&op.name);
        Self {
            op,
            memory_mb: memory.get(function).copied().unwrap_or(128.0),
            read: m(|s| s.units.read),
            write: m(|s| s.units.write),
            index_write: m(|s| s.units.index_write),
            items_read: m(|s| s.units.items_read as f64),
            items_written: m(|s| s.units.items_written as f64),
            stream_records: m(|s| s.units.stream_records as f64),
            events: m(|s| s.units.events as f64),
            emails: m(|s| s.emails as f64),
            dynamodb_calls: m(|s| s.dynamodb_calls as f64),
            filtered: m(|s| s.units.filtered as f64),
            ms: m(|s| s.duration.as_secs_f64() * 1e3),
            moto_ms: m(|s| s.moto.as_secs_f64() * 1e3),
        }
    }

    fn ours_ms(&self) -> f64 {
        (self.ms - self.moto_ms).max(0.0)
    }

    /// GB-seconds of one invocation lasting `ms`, billed by the millisecond rounded up.
    fn gb_seconds(&self, ms: f64) -> f64 {
        self.memory_mb / 1024.0 * ms.ceil().max(1.0) / 1e3
    }

    /// Dollars per million requests, by service.
    fn dynamodb(&self) -> f64 {
        self.read * prices::READ_UNIT + (self.write + self.index_write) * prices::WRITE_UNIT
    }

    fn lambda(&self) -> f64 {
        prices::LAMBDA_REQUEST + self.gb_seconds(self.ms) * prices::GB_SECOND_ARM64 * 1e6
    }

    fn lambda_ours(&self) -> f64 {
        prices::LAMBDA_REQUEST + self.gb_seconds(self.ours_ms()) * prices::GB_SECOND_ARM64 * 1e6
    }

    fn api(&self) -> f64 {
        if self.op.http {
            prices::HTTP_API_REQUEST
        } else {
            0.0
        }
    }

    fn ses(&self) -> f64 {
        self.emails * prices::SES_EMAIL * 1e6
    }

    fn logs(&self) -> f64 {
        prices::PLATFORM_LOG_BYTES * 1e6 / 1e9 * prices::LOG_GB
    }

    /// The events' cost: the bus's price, and one publish-events invocation per event (the
    /// stream batches up to 100 records a second, so this is the most it costs).
    fn events_cost(&self, publish: f64) -> f64 {
        self.events * (prices::EVENTBRIDGE_EVENT + publish)
    }

    fn total(&self, publish: f64) -> f64 {
        self.dynamodb()
            + self.lambda()
            + self.api()
            + self.ses()
            + self.logs()
            + self.events_cost(publish)
    }
}

/// Every function's memory, from infra/functions.json (the catalog as data).
fn memory() -> HashMap<String, f64> {
    let path = workspace_root().join("infra/functions.json");
    let json: serde_json::Value = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    json["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["name"].as_str()?.to_owned(), f["memoryMb"].as_f64()?)))
        .collect()
}

fn money(d: f64) -> String {
    if d == 0.0 {
        "0".into()
    } else if d < 0.01 {
        format!("{d:.4}")
    } else if d < 10.0 {
        format!("{d:.2}")
    } else {
        format!("{d:.0}")
    }
}

fn units(u: f64) -> String {
    if u == u.trunc() {
        format!("{u:.0}")
    } else {
        format!("{u:.1}")
    }
}

pub fn render(run: &Run) -> String {
    let memory = memory();
    let rows: Vec<Row> = run
        .operations
        .iter()
        .filter(|op| !op.samples.is_empty())
        .map(|op| Row::new(op, &memory))
        .collect();
    let by_name: HashMap<&str, &Row> = rows.iter().map(|r| (r.op.name.as_str(), r)).collect();
    let publish = by_name
        .get("publish-events")
        .map_or(0.0, |r| (r.lambda() + r.logs()) / 1e6);
    let mut s = String::new();
    let now = time::OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let _ = writeln!(s, "# What it costs to run\n");
    let _ = writeln!(
        s,
        "Written by `{}` on {now} (took {} s, {} requests of each operation, medians). Do not \
         edit it above the Cuts section by hand: run it again. Nothing here is asserted; the \
         figures are for deciding.\n",
        run.command,
        run.took.as_secs(),
        run.reps
    );
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let _ = writeln!(
        s,
        "- Commit: {}; the handlers ran in this process from a {profile} build, against \
         moto (single-threaded, journaled transactions) on loopback.\n",
        git_head()
    );
    method(&mut s);
    prices_section(&mut s);

    let _ = writeln!(s, "## Per operation: what one request consumes\n");
    let _ = writeln!(
        s,
        "RRU, WRU: DynamoDB read and write request units (WRU of the table; index WRU apart). \
         Items: read / written (condition checks included). Stream: records the change puts on \
         the table's stream (free to read); events: event records, each one EventBridge event \
         and at most one publish-events invocation. ms: the handler's duration against moto, \
         and with moto's time at the SDK's HTTP client subtracted (ours alone; 0 where calls run \
         side by side, so that their waits add up to more than the whole). GB-s: at the \
         function's memory, billed by the millisecond rounded up, from the measured ms.\n"
    );
    let _ = writeln!(
        s,
        "| Operation | Trigger | DynamoDB calls | RRU | WRU | index WRU | items r / w | stream | events | emails | ms | ms without moto | MB | GB-s |"
    );
    let _ = writeln!(
        s,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in &rows {
        let filtered = if r.filtered > 0.0 {
            format!(" ({} filtered out)", units(r.filtered))
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {}{} | {} | {} | {} / {} | {} | {} | {} | {:.1} | {:.2} | {} | {:.6} |",
            r.op.name,
            r.op.trigger,
            units(r.dynamodb_calls),
            units(r.read),
            filtered,
            units(r.write),
            units(r.index_write),
            units(r.items_read),
            units(r.items_written),
            units(r.stream_records),
            units(r.events),
            units(r.emails),
            r.ms,
            r.ours_ms(),
            r.memory_mb,
            r.gb_seconds(r.ms)
        );
    }
    let missing: Vec<&Operation> = run
        .operations
        .iter()
        .filter(|o| o.samples.is_empty())
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(s, "\nNot measured (no figures below include them):\n");
        for op in missing {
            let _ = writeln!(
                s,
                "- {} ({}): {}",
                op.name,
                op.trigger,
                op.missing.as_deref().unwrap_or("no samples")
            );
        }
    }

    let _ = writeln!(s, "\n## Per operation: dollars per million requests\n");
    let _ = writeln!(
        s,
        "Lambda: $0.20 of requests plus the duration measured against moto (the last column \
         but one gives it with moto's time subtracted: what our code costs on its own; real \
         DynamoDB answers in a few ms, so the bill lies between). Events: EventBridge and one \
         publish-events invocation per event. Logs: Lambda's own START/END/REPORT lines, about \
         300 bytes an invocation.\n"
    );
    let _ = writeln!(
        s,
        "| Operation | DynamoDB | Lambda | Lambda without moto | API Gateway | SES | events | logs | total |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by(|a, b| b.total(publish).total_cmp(&a.total(publish)));
    for r in sorted {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | **{}** |",
            r.op.name,
            money(r.dynamodb()),
            money(r.lambda()),
            money(r.lambda_ours()),
            money(r.api()),
            money(r.ses()),
            money(r.events_cost(publish * 1e6)),
            money(r.logs()),
            money(r.total(publish * 1e6))
        );
    }

    workloads(&mut s, &by_name, publish);
    cold_starts(&mut s);
    if let Some(kept) = &run.kept {
        s.push_str(kept.trim_end());
        s.push('\n');
    }
    s
}

fn git_head() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(workspace_root())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".into(), |s| s.trim().to_owned())
}

fn method(s: &mut String) {
    let _ = writeln!(
        s,
        "## How the units are counted\n\n\
         moto answers `ReturnConsumedCapacity` with a constant (1.0 for a write, 0.5 for a \
         read, whatever the item's size) and not at all for BatchGetItem or the transactions, \
         and the store does not ask for it. So every unit here is computed, from what each \
         DynamoDB request the SDK sent and its answer (recorded at the SDK's HTTP client) and \
         from the table's items just before and just after the request (two full scans that \
         nobody is charged for), as DynamoDB's on-demand mode counts them:\n\n\
         - An item's size is the UTF-8 bytes of its attribute names and values (a number about \
           one byte per two significant digits plus one, a boolean or null 1, a list or map 3 \
           plus 1 per element plus its elements).\n\
         - GetItem, and each key of a BatchGetItem: its item's size rounded up to 4 KB, 1 RRU per \
           4 KB read consistently, 0.5 eventually; a key with no item still costs that least \
           unit.\n\
         - Query: the sizes of every item it evaluates, summed, then rounded up to 4 KB (at \
           least one unit), halved when eventually consistent. The items a filter leaves out \
           are not in the answer; each is counted at the returned items' average size (the \
           column says how many).\n\
         - A write (PutItem, UpdateItem, DeleteItem, each request of a BatchWriteItem): 1 WRU \
           per 1 KB of the larger of the item before and after it (the size of the whole item, \
           not of the attributes changed). In TransactWriteItems each item costs twice that, a \
           ConditionCheck included.\n\
         - Index writes: for each global secondary index, a write that puts an item into it, \
           removes it, or changes a projected attribute of an item in it costs 1 WRU per KB of \
           the index entry; one that changes the index's key costs two (a delete and a put). \
           Both indexes project ALL, so an entry is the whole item.\n\
         - The stream (NEW_AND_OLD_IMAGES) gets one record per changed item; Lambda's reads of \
           it are free. Only INSERTs of event records pass the trigger's filter to \
           publish-events. Deletions by TTL cost no write units.\n\
         - `list-orgs` and `token-claims` read every organization of their person's: they are \
           measured for a person in one organization, as in the workloads. The other requests \
           are those of `cargo bench-orgs` (an organization with a few members, teams and \
           invitations).\n\
         - Sizes are the table's before and after the whole request: an item a request writes \
           twice (the steps of a deletion) is counted at those sizes each time.\n"
    );
}

fn prices_section(s: &mut String) {
    let _ = writeln!(
        s,
        "## Prices\n\nus-east-1, on-demand, as published on {} (re-check them before relying \
         on a figure; free tiers are left out):\n",
        prices::PRICES_DATED
    );
    let _ = writeln!(s, "| What | $ | per | Source |");
    let _ = writeln!(s, "|---|---|---|---|");
    for p in prices::PRICES {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            p.what, p.dollars, p.per, p.source
        );
    }
    let _ = writeln!(
        s,
        "\nThe hosted services, as the issue \"What it costs to run\" gives them: Clerk, 100 \
         monthly retained organizations included, then $1 each a month; WorkOS, AuthKit free \
         to 1M monthly active users, SSO $125 per connection a month; Auth0, B2B Essentials \
         from $150 a month.\n"
    );
}

fn workloads(s: &mut String, by_name: &HashMap<&str, &Row>, publish: f64) {
    let _ = writeln!(s, "\n## Two workloads, a month\n");
    let _ = writeln!(
        s,
        "Each adds the schedule: `expire-invitations` {} times a day with nothing due (its \
         measured run), {} days. The stream's publish-events is counted once per event (at \
         most; batches make it fewer). Not included: the Cognito user pool's own charges (the \
         hosted services include sign-in; orgs uses the customer's Cognito), DynamoDB storage \
         ($0.25 per GB-month: a few hundred bytes per item, cents at these sizes), point-in-time \
         recovery, and what a function logs beyond Lambda's own lines.\n",
        prices::SCHEDULED_RUNS_PER_DAY,
        prices::DAYS_PER_MONTH
    );
    for w in prices::workloads() {
        workload(s, &w, by_name, publish);
    }
}

fn workload(s: &mut String, w: &Workload, by_name: &HashMap<&str, &Row>, publish: f64) {
    let mut ops = w.operations.clone();
    ops.push((
        "expire-invitations",
        prices::SCHEDULED_RUNS_PER_DAY * prices::DAYS_PER_MONTH,
    ));
    let mut dynamodb = 0.0;
    let mut lambda = 0.0;
    let mut api = 0.0;
    let mut ses = 0.0;
    let mut events = 0.0;
    let mut logs = 0.0;
    let mut requests = 0.0;
    let mut missing = Vec::new();
    for (name, times) in &ops {
        let Some(r) = by_name.get(name) else {
            missing.push(*name);
            continue;
        };
        let per = times / 1e6;
        requests += times;
        dynamodb += per * r.dynamodb();
        lambda += per * r.lambda();
        api += per * r.api();
        ses += per * r.ses();
        events += per * r.events_cost(publish * 1e6);
        logs += per * r.logs();
    }
    let total = dynamodb + lambda + api + ses + events + logs;
    let _ = writeln!(s, "### {}\n\n{}.\n", w.name, w.description);
    let _ = writeln!(s, "| Operation | a month |");
    let _ = writeln!(s, "|---|---|");
    for (name, times) in &ops {
        let _ = writeln!(s, "| {name} | {times:.0} |");
    }
    let _ = writeln!(
        s,
        "\n| orgs in your account | DynamoDB | Lambda | API Gateway | SES | events | logs | total |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    let _ = writeln!(
        s,
        "| {requests:.0} requests | ${} | ${} | ${} | ${} | ${} | ${} | **${}** |",
        money(dynamodb),
        money(lambda),
        money(api),
        money(ses),
        money(events),
        money(logs),
        money(total)
    );
    if !missing.is_empty() {
        let _ = writeln!(s, "\nNot measured, so left out: {}.", missing.join(", "));
    }
    let _ = writeln!(s, "\n| Hosted service | a month, as the issue prices it |");
    let _ = writeln!(s, "|---|---|");
    for (name, price) in &w.hosted {
        let _ = writeln!(s, "| {name} | {price} |");
    }
    s.push('\n');
}

fn cold_starts(s: &mut String) {
    let _ = writeln!(
        s,
        "## Cold starts\n\n\
         A cold start adds its init (billed, like the invocation, at the function's memory) \
         and a slower first invocation. tests/bench/RESULTS.md measures both for every \
         function's release build: init 1.6 to 2.5 ms, and a first invocation within 1.6× the \
         warm one. At 128 MB a millisecond costs $0.0017 per million invocations, so even if \
         every request started cold it would add well under $0.01 per million: the figures \
         above leave it out.\n"
    );
}
