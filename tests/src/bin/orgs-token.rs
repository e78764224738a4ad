//! Prints a local sign-in token (HS256, `ORGS_DEV_JWT_SECRET`) for the local server.
//!
//! usage: orgs-token --sub USER_ID [--email ADDRESS] [--unverified] [--ttl SECONDS]

use orgs_local::token;

const USAGE: &str =
    "usage: orgs-token --sub USER_ID [--email ADDRESS] [--unverified] [--ttl SECONDS]";

fn main() {
    let mut sub = None;
    let mut email = None;
    let mut verified = true;
    let mut ttl: i64 = 3600;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sub" => sub = args.next(),
            "--email" => email = args.next(),
            "--unverified" => verified = false,
            "--ttl" => match args.next().and_then(|t| t.parse().ok()) {
                Some(seconds) => ttl = seconds,
                None => exit_with_usage(),
            },
            _ => exit_with_usage(),
        }
    }
    let Some(sub) = sub else { exit_with_usage() };
    println!(
        "{}",
        token::mint(&token::dev_secret(), &sub, email.as_deref(), verified, ttl)
    );
}

fn exit_with_usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2)
}
