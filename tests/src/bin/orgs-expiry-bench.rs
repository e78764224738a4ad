//! The expiry benchmark (`cargo bench-expiry`; figures in `tests/bench/EXPIRY.md`).
//!
//! Seeds pending invitations into a fresh table, some of them past their deadline, runs the
//! expiry as the scheduled function does, and prints the run's time, the DynamoDB requests per
//! expired invitation, and the requests of a second run that finds nothing due.
//!
//!     cargo bench-expiry [--pending 10000] [--due 5000] [--orgs 10]
//!
//! It starts its own single-threaded moto unless `AWS_ENDPOINT_URL` names a local endpoint.
//! That moto rolls transactions back from a journal rather than from a copy of the whole table,
//! which stock moto makes once per item of every transaction (seconds each at this size; see
//! `tests/bench/EXPIRY.md`). Requests are counted on the wire by an SDK interceptor.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use orgs_functions::jobs::expiry::{ExpiryReport, expire_invitations};
use orgs_local::counting::RequestCounter;
use orgs_local::moto::Moto;
use orgs_local::{aws, provision};
use orgs_shared::domain::{
    DisplayName, Handle, InvitationToken, Limits, NewOrganization, OrgId, Region, Role, RoleName,
    Timestamp, TokenHash, UserId,
};
use orgs_shared::store::{Identity, NewInvitation, Op, Retention, Store};

struct Args {
    pending: usize,
    due: usize,
    orgs: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        pending: 10_000,
        due: 5_000,
        orgs: 10,
    };
    let mut raw = std::env::args().skip(1);
    while let Some(flag) = raw.next() {
        let value: usize = raw
            .next()
            .with_context(|| format!("{flag} needs a number"))?
            .parse()
            .with_context(|| format!("{flag} needs a number"))?;
        match flag.as_str() {
            "--pending" => args.pending = value,
            "--due" => args.due = value,
            "--orgs" => args.orgs = value.max(1),
            _ => bail!("unknown argument {flag}; use --pending N, --due N, --orgs N"),
        }
    }
    if args.due > args.pending {
        bail!("--due cannot exceed --pending");
    }
    Ok(args)
}

fn op(at: Timestamp) -> Op {
    Op {
        actor: UserId::system("bench"),
        request_id: "bench-seed".into(),
        at,
        acting_as: None,
    }
}

/// Creates the organizations (through the store, as `POST /orgs` does).
async fn create_orgs(store: &Store, count: usize, now: Timestamp) -> anyhow::Result<Vec<OrgId>> {
    let mut orgs = Vec::with_capacity(count);
    for i in 0..count {
        let owner = Identity {
            user_id: UserId::system(&format!("bench-owner-{i}")),
            email: None,
            email_verified: false,
        };
        let new = NewOrganization {
            handle: Handle::parse(&format!("bench-{i}"))?,
            display_name: DisplayName::parse("display_name", &format!("Bench {i}"))?,
            region: Region::Us,
            avatar_url: None,
            url: None,
        };
        let (org, _) = store
            .create_org(&new, &owner, &Limits::default(), &op(now))
            .await?;
        orgs.push(org.org_id);
    }
    Ok(orgs)
}

/// Seeds `args.pending` invitations spread evenly over `orgs`; every `pending/due`-th one (so
/// spread over every organization and shard) is past its deadline.
async fn seed(store: &Store, orgs: &[OrgId], args: &Args, now: Timestamp) -> anyhow::Result<()> {
    let per_org = args.pending.div_ceil(orgs.len());
    let mut index = 0;
    for org in orgs {
        let batch = per_org.min(args.pending - index);
        let emails: Vec<String> = (index..index + batch)
            .map(|i| format!("person-{i}@bench.example"))
            .collect();
        let hashes: Vec<TokenHash> = (0..batch)
            .map(|_| InvitationToken::generate().map(|t| t.hash()))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("no randomness for tokens: {e}"))?;
        let new: Vec<NewInvitation<'_>> = (0..batch)
            .map(|k| {
                let i = index + k;
                let due =
                    i * args.due / args.pending.max(1) != (i + 1) * args.due / args.pending.max(1);
                // Due ones lapsed within the last hour; the others lapse in up to seven days.
                let offset = (i % 3_600) as i64 + 1;
                let expires_at = if due {
                    now.plus_seconds(-offset)
                } else {
                    now.plus_seconds(7 * 86_400 - offset)
                };
                NewInvitation {
                    email: &emails[k],
                    invitee_user_id: None,
                    role: &RoleName::System(Role::Member),
                    name: None,
                    note: None,
                    team_ids: &[],
                    team_roles: &[],
                    token_hash: &hashes[k],
                    expires_at,
                    expires_in_days: None,
                    redirect_url: None,
                }
            })
            .collect();
        store
            .seed_pending_invitations(org, &new, &op(now.plus_seconds(-7 * 86_400)))
            .await?;
        index += batch;
    }
    Ok(())
}

fn print_requests(counts: &BTreeMap<String, u64>) -> u64 {
    let total: u64 = counts.values().sum();
    let each: Vec<String> = counts.iter().map(|(op, n)| format!("{op} {n}")).collect();
    println!("  DynamoDB requests: {} (total {total})", each.join(", "));
    total
}

async fn run(store: &Store, run_id: &str) -> (ExpiryReport, Duration) {
    let started = Instant::now();
    let far = Instant::now() + Duration::from_secs(3_600);
    let report = expire_invitations(store, Timestamp::now(), far, run_id).await;
    (report, started.elapsed())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let (endpoint, _moto) = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(endpoint) if !endpoint.is_empty() => (endpoint, None),
        _ => {
            let moto = Moto::start_journaled()?;
            (moto.endpoint.clone(), Some(moto))
        }
    };
    let sdk = aws::sdk_config(&endpoint).await;
    let table = format!("orgs-bench-{}", uuid::Uuid::new_v4().simple());
    provision::ensure_table(&sdk, &table).await?;
    let plain = Store::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &table,
        Retention::default(),
    );
    let counter = RequestCounter::default();
    let counted = Store::new(counter.client(&sdk), &table, Retention::default());
    println!(
        "expiry benchmark: {} pending invitations in {} organizations, {} of them due \
         (moto at {endpoint}, table {table})",
        args.pending, args.orgs, args.due
    );

    let now = Timestamp::now();
    let started = Instant::now();
    let orgs = create_orgs(&plain, args.orgs, now).await?;
    seed(&plain, &orgs, &args, now).await?;
    println!(
        "seeded in {:.1} s (BatchWriteItem of the store's own items: invitation, pending \
         marker, token)",
        started.elapsed().as_secs_f64()
    );

    println!("\nrun 1: {} due", args.due);
    counter.take();
    let (report, took) = run(&counted, "bench-run-1").await;
    println!("  {report}");
    let total = print_requests(&counter.take());
    println!("  run time: {:.1} s", took.as_secs_f64());
    if report.expired > 0 {
        println!(
            "  per expired invitation: {:.3} requests, {:.1} ms",
            total as f64 / report.expired as f64,
            took.as_secs_f64() * 1000.0 / report.expired as f64
        );
    }
    if report.expired != args.due as u64 || !report.finished {
        bail!("expected {} expired and a finished run", args.due);
    }

    println!("\nrun 2: {} pending, none due", args.pending - args.due);
    let (report, took) = run(&counted, "bench-run-2").await;
    println!("  {report}");
    let reads = print_requests(&counter.take());
    println!(
        "  run time: {:.1} s; {reads} reads: one Query per expiry shard and one for abandoned \
         deletions, however many invitations are pending",
        took.as_secs_f64()
    );
    // moto keeps no index: it answers an index Query by going through every item of the table.
    println!(
        "  (moto's own cost of one index Query over this table: {:.1} s; DynamoDB reads only \
         the key range)",
        took.as_secs_f64() / reads.max(1) as f64
    );
    if report.found != 0 {
        bail!("the second run found {} due", report.found);
    }
    Ok(())
}
