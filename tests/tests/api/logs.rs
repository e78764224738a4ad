//! What the functions log never carries a secret: no invitation token (nor the link holding
//! it), no bearer token. The logs are captured from the handlers as they run in this test's
//! runtime, at the level the template sets (`info`) and with our own crates at `debug`, as the
//! template's LogLevel parameter suggests for troubleshooting.

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

use crate::common::{Options, Stack};
use crate::invitations::{invite, invite_one};

/// Every line logged while it is the thread's subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
}

#[tokio::test]
async fn no_token_or_link_reaches_the_logs_even_when_things_fail() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "info,orgs_shared=debug,orgs_functions=debug",
        ))
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    // The test's runtime is single-threaded: the local server's handlers run on this thread.
    let _guard = tracing::subscriber::set_default(subscriber);

    // SES is down: the invitation is kept, its email's failure is logged.
    let broken = Stack::start_with(Options {
        ses_endpoint: Some(closed_port()),
        ..Options::default()
    })
    .await;
    let alice = broken.person("alice");
    let bob = broken.unique_person("bob");
    let org_id = broken.create_org(&alice, "acme").await;
    let (status, created) = invite(&broken, &alice, &org_id, json!([{ "email": bob.email }])).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["results"][0]["email_sent"], false);
    let unsent_link = created["results"][0]["invite_url"]
        .as_str()
        .unwrap()
        .to_owned();

    // A healthy stack: lookup, a refused accept, an accept, and a request failing inside.
    let stack = Stack::start().await;
    let carol = stack.person("carol");
    let dave = stack.unique_person("dave");
    let stranger = stack.unique_person("eve");
    let org = stack.create_org(&carol, "globex").await;
    let (token, _) = invite_one(&stack, &carol, &org, &dave.email).await;
    let lookup = stack
        .call(
            None,
            Method::POST,
            "/invitations/lookup",
            Some(json!({ "token": token })),
        )
        .await;
    assert_eq!(lookup.0, StatusCode::OK, "{}", lookup.1);
    let refused = stack
        .call(
            Some(&stranger),
            Method::POST,
            "/invitations/accept",
            Some(json!({ "token": token })),
        )
        .await;
    assert_eq!(refused.0, StatusCode::FORBIDDEN, "{}", refused.1);
    let accepted = stack
        .call(
            Some(&dave),
            Method::POST,
            "/invitations/accept",
            Some(json!({ "token": token })),
        )
        .await;
    assert_eq!(accepted.0, StatusCode::OK, "{}", accepted.1);
    let gone = stack
        .call(
            Some(&dave),
            Method::POST,
            "/invitations/accept",
            Some(json!({ "token": token })),
        )
        .await;
    assert_eq!(gone.0, StatusCode::GONE, "{}", gone.1);
    // A request that fails inside (its table does not exist) is logged with its error chain.
    let lost = Stack::start_with(Options {
        table: Some("no-such-table".into()),
        ..Options::default()
    })
    .await;
    let failed = lost
        .http
        .get(format!("{}/me", lost.base))
        .bearer_auth(&lost.person("frank").token)
        .send()
        .await
        .unwrap();
    assert!(failed.status().is_server_error(), "{failed:?}");

    let text = logs.text();
    assert!(
        text.contains("invitation email not sent") && text.contains("request failed"),
        "the capture missed the failures it was meant to see:\n{text}"
    );
    let unsent_token = crate::invitations::token_of(&unsent_link);
    for secret in [
        token.as_str(),
        unsent_token.as_str(),
        unsent_link.as_str(),
        alice.token.as_str(),
        carol.token.as_str(),
        dave.token.as_str(),
        stranger.token.as_str(),
    ] {
        assert!(!text.contains(secret), "a secret was logged:\n{text}");
    }
}
