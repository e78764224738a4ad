//! The accept page (tests/web/invite.html) in a real headless browser: Debian's chromium, driven by
//! Playwright for Python (tests/browser/accept_page.py). The page is served on an origin of its
//! own, as `cargo local` serves it, so the preview, the accept (whose first answer is lost after
//! the API applied it, and whose repeat with the same Idempotency-Key is answered as the first), a
//! second accept and the 410 of a decline after it all cross origins: the test passes only if the
//! API's CORS configuration lets them.
//!
//! `tests/check` runs it (`cargo test -p orgs-local --test api browser -- --ignored`) after
//! installing chromium (as root) and Playwright (tests/tools.sh browser); it says so when it
//! cannot.

use std::sync::Arc;

use orgs_local::cors::Cors;
use orgs_local::server::{LocalApi, serve};
use orgs_local::timeouts::FunctionTimeouts;
use orgs_local::{accept_page, token, workspace_root};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::net::TcpListener;

use crate::common::Stack;

#[tokio::test]
#[ignore = "needs chromium and Playwright: tests/check runs it"]
async fn the_accept_page_previews_accepts_twice_and_shows_the_410_in_a_browser() {
    let python = workspace_root().join("target/tools/browser/bin/python");
    assert!(
        python.exists(),
        "run tests/tools.sh browser first (it installs the pinned Playwright)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());

    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "browsers").await;

    // The page on an origin of its own, and the API allowing that origin only.
    let page_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page_origin = format!("http://{}", page_listener.local_addr().unwrap());
    let api_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_base = format!("http://{}", api_listener.local_addr().unwrap());
    let secret = "browser-test-secret";
    let api = LocalApi {
        app: stack.app.clone(),
        jwt_secret: secret.into(),
        openapi: None,
        log_requests: false,
        cors: Cors {
            allow_origins: vec![page_origin.clone()],
        },
        timeouts: FunctionTimeouts::from_template().expect("function timeouts"),
    };
    tokio::spawn(serve(api_listener, Arc::new(api)));
    tokio::spawn(accept_page::serve(page_listener, api_base));

    let body = json!({ "invitations": [{ "email": "bob@example.com" }] });
    let path = format!("/orgs/{org_id}/invitations");
    let (status, created) = stack
        .call(Some(&alice), Method::POST, &path, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let link = created["results"][0]["invite_url"].as_str().unwrap();
    let invitation_token = link.split("token=").nth(1).unwrap();
    let page_url = format!(
        "{page_origin}{}?token={invitation_token}",
        accept_page::PATH
    );

    let bob = token::mint(secret, "bob", Some("bob@example.com"), true, 3600);
    let run = tokio::process::Command::new(&python)
        .arg(workspace_root().join("tests/browser/accept_page.py"))
        .env("PAGE_URL", &page_url)
        .env("ORG_NAME", "browsers Inc")
        .env("SIGN_IN", &bob)
        .env("CHROMIUM", &chromium)
        .output()
        .await
        .expect("run the Playwright script");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    println!("{stdout}");

    let member = format!("/orgs/{org_id}/members/bob");
    let (status, bob_member) = stack.call(Some(&alice), Method::GET, &member, None).await;
    assert_eq!(status, StatusCode::OK, "{bob_member}");
    assert_eq!(bob_member["role"], "member");
}
