//! What the functions log never carries a secret: no invitation token (nor the link holding
//! it), no bearer token. The logs are captured from the handlers as they run, at the level the
//! template sets (`info`) and with our own crates at `debug`, as the template's LogLevel
//! parameter suggests for troubleshooting.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::StatusCode;
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

use crate::common::{Options, Person, Stack};
use crate::invitations::{invite, invite_one};

/// Every line logged in this test binary since `capture` was first called.
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

async fn with_token(
    stack: &Stack,
    who: Option<&Person>,
    path: &str,
    token: &str,
) -> (StatusCode, serde_json::Value) {
    let body = Some(json!({ "token": token }));
    stack.post(who, path, body).await
}

/// The test binary's global subscriber, installed once. Not a thread's scoped one: tracing
/// caches each log site's interest, and a site first reached by a concurrent test on a thread
/// without a subscriber could stay silent here too.
fn capture() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,orgs_shared=debug,orgs_functions=debug",
            ))
            .with_ansi(false)
            .with_writer(logs.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        logs
    })
}

fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
}

#[tokio::test]
async fn no_token_or_link_reaches_the_logs_even_when_things_fail() {
    let logs = capture();

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

    // A healthy stack: lookup, a refused accept, an accept, a refused decline, and a request
    // failing inside.
    let stack = Stack::start().await;
    let carol = stack.person("carol");
    let dave = stack.unique_person("dave");
    let stranger = stack.unique_person("eve");
    let org = stack.create_org(&carol, "globex").await;
    let (token, _) = invite_one(&stack, &carol, &org, &dave.email).await;
    let lookup = with_token(&stack, None, "/invitations/lookup", &token).await;
    assert_eq!(lookup.0, StatusCode::OK, "{}", lookup.1);
    let refused = with_token(&stack, Some(&stranger), "/invitations/accept", &token).await;
    assert_eq!(refused.0, StatusCode::FORBIDDEN, "{}", refused.1);
    let accepted = with_token(&stack, Some(&dave), "/invitations/accept", &token).await;
    assert_eq!(accepted.0, StatusCode::OK, "{}", accepted.1);
    // Accepting again is answered as the first was; declining now is refused.
    let again = with_token(&stack, Some(&dave), "/invitations/accept", &token).await;
    assert_eq!(again.0, StatusCode::OK, "{}", again.1);
    let gone = with_token(&stack, Some(&dave), "/invitations/decline", &token).await;
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
