//! Prints a local sign-in token (HS256, `ORGS_DEV_JWT_SECRET`) for the local server: an ID
//! token by default, or with `--access` an access token shaped as Cognito's (`client_id`,
//! `token_use: access`, no `aud`, no email).
//!
//! With `--orgs`, the token also carries what the `token-claims` trigger would add to it: the
//! same code runs against the local table, in the AWS that `AWS_ENDPOINT_URL` names (`cargo
//! local` prints it) and the table `ORGS_TABLE_NAME` (default `orgs`), with the cap
//! `ORGS_TOKEN_MAX_ORGS`. An access token then carries the email too, as the trigger adds it.
//!
//! With `--through PROVIDER` (which implies `--orgs`), the sign-in is one through an
//! organization's identity provider (single sign-on), as Cognito tells the trigger: a first one
//! makes the person a member of that organization, in the local table.
//!
//! usage: orgs-token --sub USER_ID [--email ADDRESS] [--unverified] [--access] [--orgs]
//!                   [--through PROVIDER] [--ttl SECONDS]

use anyhow::{Context, bail};
use orgs_functions::jobs::token_claims::token_claims;
use orgs_local::{aws, grants, token};
use orgs_shared::app::{Config, token_max_orgs_from_env};
use orgs_shared::store::Store;
use serde_json::{Map, Value};

const USAGE: &str = "usage: orgs-token --sub USER_ID [--email ADDRESS] [--unverified] [--ttl SECONDS]\n       \
                     orgs-token --sub USER_ID --access [--ttl SECONDS]   (an access token: no email claims)\n       \
                     add --orgs for the claims of the token-claims trigger, read from the local table \
                     (AWS_ENDPOINT_URL=<the endpoint cargo local prints>), and --through PROVIDER for a \
                     sign-in through an organization's identity provider (o-..., as GET /sso/discover names it)";

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut sub = None;
    let mut email = None;
    let mut verified = true;
    let mut access = false;
    let mut orgs = false;
    let mut through = None;
    let mut ttl: i64 = 3600;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sub" => sub = args.next(),
            "--email" => email = args.next(),
            "--unverified" => verified = false,
            "--access" => access = true,
            "--orgs" => orgs = true,
            "--through" => {
                through = args.next();
                orgs = true;
            }
            "--ttl" => match args.next().and_then(|t| t.parse().ok()) {
                Some(seconds) => ttl = seconds,
                None => exit_with_usage(),
            },
            _ => exit_with_usage(),
        }
    }
    let Some(sub) = sub else { exit_with_usage() };
    if access && email.is_some() && !orgs {
        exit_with_usage()
    }
    let extra = if orgs {
        trigger_claims(
            &sub,
            (email.as_deref(), verified),
            through.as_deref(),
            access,
        )
        .await?
    } else {
        Map::new()
    };
    let secret = token::dev_secret();
    let minted = if access {
        token::mint_access_with(&secret, &sub, ttl, extra)
    } else {
        token::mint_with(&secret, &sub, email.as_deref(), verified, ttl, extra)
    };
    println!("{minted}");
    Ok(())
}

/// What the trigger adds to the ID token (or the access token), run against the local table.
async fn trigger_claims(
    sub: &str,
    (email, verified): (Option<&str>, bool),
    through: Option<&str>,
    access: bool,
) -> anyhow::Result<Map<String, Value>> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .context(
            "--orgs reads the local table: set AWS_ENDPOINT_URL to the local AWS endpoint that \
             `cargo local` prints (this command never talks to AWS itself)",
        )?;
    let config = match std::env::var("ORGS_TABLE_NAME") {
        Ok(table) if !table.is_empty() => Config::from_env()?,
        _ => Config {
            token_max_orgs: token_max_orgs_from_env()?,
            ..Config::for_table("orgs")
        },
    };
    let sdk = aws::sdk_config(&endpoint).await;
    let store = Store::from_sdk(&sdk, &config.table_name, config.retention);
    let event = match (through, email) {
        (Some(provider), Some(email)) => token::federated_sign_in_event(sub, email, provider),
        (Some(_), None) => bail!("--through needs --email: the provider states the address"),
        (None, _) => token::pre_token_generation_event(sub, email, verified),
    };
    grants::record_calls_if_asked()?;
    let answered = token_claims(&store, &config, event);
    let answered = grants::as_function("token-claims", answered)
        .await
        .context("reading the local table")?;
    let token = if access {
        "accessTokenGeneration"
    } else {
        "idTokenGeneration"
    };
    match &answered["response"]["claimsAndScopeOverrideDetails"][token]["claimsToAddOrOverride"] {
        Value::Object(claims) => Ok(claims.clone()),
        other => bail!("the trigger answered no claims: {other}"),
    }
}

fn exit_with_usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2)
}
