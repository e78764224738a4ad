//! Runs the invitation expiry and the domains' re-check once, now: the same code the scheduled function runs, against
//! the local AWS that `AWS_ENDPOINT_URL` names (`cargo local` prints it) and the table
//! `ORGS_TABLE_NAME` (default `orgs`). Prints the run's summary line.
//!
//!     AWS_ENDPOINT_URL=http://127.0.0.1:PORT cargo expire

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use orgs_functions::jobs::expiry::run_schedule;
use orgs_local::{aws, grants};
use orgs_shared::app::{App, Config};
use orgs_shared::domain::Timestamp;
use orgs_shared::logs::init_tracing;

/// A run on demand may take this long before it leaves the rest to the next one.
const TIME_LIMIT: Duration = Duration::from_secs(15 * 60);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .context(
            "set AWS_ENDPOINT_URL to the local AWS endpoint that `cargo local` prints \
             (this command never talks to AWS itself)",
        )?;
    let config = match std::env::var("ORGS_TABLE_NAME") {
        Ok(table) if !table.is_empty() => Config::from_env()?,
        _ => Config::for_table("orgs"),
    };
    let sdk = aws::sdk_config(&endpoint).await;
    let app = App::new(&sdk, config);
    let run_id = format!("manual-{}", uuid::Uuid::new_v4().simple());
    grants::record_calls_if_asked()?;
    let run = run_schedule(&app, Timestamp::now(), Instant::now() + TIME_LIMIT, &run_id);
    let report = grants::as_function("expire-invitations", run).await;
    let errors = report.invitations.errors + report.domains.errors;
    if errors > 0 {
        bail!("the run met {errors} errors (logged above)");
    }
    Ok(())
}
