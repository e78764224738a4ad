//! The figures as Markdown, and their place in `tests/bench/BUSY.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::Args;
use crate::workload::{Operation, Outcome};

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// The value at quantile `q` of sorted `values` (nearest rank).
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn row(name: &str, op: &Operation) -> String {
    let ok = op.samples.iter().filter(|s| s.status < 400).count();
    let server = op.samples.iter().filter(|s| s.status >= 500).count();
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    for s in op.samples.iter().filter(|s| (400..500).contains(&s.status)) {
        *refusals
            .entry(format!("{} {}", s.status, s.kind))
            .or_default() += 1;
    }
    let mut unavailable: BTreeMap<String, usize> = BTreeMap::new();
    for s in op.samples.iter().filter(|s| s.status >= 500) {
        *unavailable
            .entry(format!("{} {}", s.status, s.kind))
            .or_default() += 1;
    }
    let list = |m: &BTreeMap<String, usize>| {
        if m.is_empty() {
            "none".to_owned()
        } else {
            m.iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let calls: u64 = op.dynamodb.values().sum();
    let per_success = if ok > 0 {
        format!("{:.2}", calls as f64 / ok as f64)
    } else {
        "–".into()
    };
    let mut latencies: Vec<Duration> = op.samples.iter().map(|s| s.latency).collect();
    latencies.sort();
    format!(
        "| {name} | {} | {ok} | {} | {server}{} | {per_success} | {} | {} | {} |",
        op.samples.len(),
        list(&refusals),
        if server > 0 {
            format!(" ({})", list(&unavailable))
        } else {
            String::new()
        },
        ms(quantile(&latencies, 0.5)),
        ms(quantile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
    )
}

pub fn render(args: &Args, outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Conflict window {} ms; {} accepts 50 at a time, 10 admins inviting 10 each, 20 role \
         changes, 1 profile edit; then the expiry over {} lapsed invitations beside {} more \
         accepts. {}.\n",
        args.window.as_millis(),
        args.accepts,
        args.lapsed,
        args.late_accepts,
        outcome.moto,
    );
    let _ = writeln!(
        out,
        "| operation | requests | ok | refused (4xx) | 5xx | DynamoDB requests per success | \
         p50 | p99 | max |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for (name, op) in &outcome.operations {
        let _ = writeln!(out, "{}", row(name, op));
    }
    let invitees: Vec<String> = outcome
        .invitees
        .iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect();
    let _ = writeln!(
        out,
        "\nInvitees of the admins' requests: {}.",
        if invitees.is_empty() {
            "none".to_owned()
        } else {
            invitees.join(", ")
        }
    );
    let e = &outcome.expiry;
    let calls: u64 = outcome.expiry_dynamodb.values().sum();
    let _ = writeln!(
        out,
        "Expiry: found {}, expired {}, skipped {}, deferred {}, errors {}, in {}; {} DynamoDB \
         requests ({:.2} per expired invitation).",
        e.found,
        e.expired,
        e.skipped,
        e.deferred,
        e.errors,
        ms(outcome.expiry_time),
        calls,
        calls as f64 / e.expired.max(1) as f64,
    );
    let c = &outcome.conflicts;
    let _ = writeln!(
        out,
        "Conflict proxy: {} transactions applied, {} cancelled for a conflict, {} single writes \
         refused.",
        c.transactions, c.cancelled, c.refused_writes
    );
    let k = &outcome.counts;
    let _ = writeln!(
        out,
        "Afterwards: member_count {} (items {}, expected from the successes {}), owner_count {} \
         (active owners {}), pending_count {} (pending invitations {}): {}.",
        k.member_count,
        k.members,
        k.expected_members,
        k.owner_count,
        k.active_owners,
        k.pending_count,
        k.pending,
        if outcome.invariants_hold() {
            "exact"
        } else {
            "NOT exact"
        }
    );
    out
}

/// Puts `text` under `## {label}` in the results file, replacing that section if it is there
/// and keeping every other one.
pub fn write_section(path: &Path, label: &str, text: &str) -> anyhow::Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let heading = format!("## {label}\n");
    let mut kept = String::new();
    let mut skipping = false;
    for line in existing.split_inclusive('\n') {
        if line.starts_with("## ") {
            skipping = line == heading;
        }
        if !skipping {
            kept.push_str(line);
        }
    }
    if !kept.is_empty() && !kept.ends_with("\n\n") {
        kept.push('\n');
    }
    kept.push_str(&heading);
    kept.push('\n');
    kept.push_str(text);
    std::fs::write(path, kept)?;
    Ok(())
}
