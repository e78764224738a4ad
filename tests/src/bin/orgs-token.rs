//! Prints a local sign-in token (HS256, `ORGS_DEV_JWT_SECRET`) for the local server: an ID
//! token by default, or with `--access` an access token shaped as Cognito's (`client_id`,
//! `token_use: access`, no `aud`, no email).
//!
//! usage: orgs-token --sub USER_ID [--email ADDRESS] [--unverified] [--access] [--ttl SECONDS]

use orgs_local::token;

const USAGE: &str = "usage: orgs-token --sub USER_ID [--email ADDRESS] [--unverified] [--ttl SECONDS]\n       \
                     orgs-token --sub USER_ID --access [--ttl SECONDS]   (an access token: no email claims)";

fn main() {
    let mut sub = None;
    let mut email = None;
    let mut verified = true;
    let mut access = false;
    let mut ttl: i64 = 3600;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sub" => sub = args.next(),
            "--email" => email = args.next(),
            "--unverified" => verified = false,
            "--access" => access = true,
            "--ttl" => match args.next().and_then(|t| t.parse().ok()) {
                Some(seconds) => ttl = seconds,
                None => exit_with_usage(),
            },
            _ => exit_with_usage(),
        }
    }
    let Some(sub) = sub else { exit_with_usage() };
    let secret = token::dev_secret();
    let minted = match (access, &email) {
        (true, Some(_)) => exit_with_usage(),
        (true, None) => token::mint_access(&secret, &sub, ttl),
        (false, _) => token::mint(&secret, &sub, email.as_deref(), verified, ttl),
    };
    println!("{minted}");
}

fn exit_with_usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2)
}
