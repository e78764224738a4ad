//! Runs the whole service on loopback: moto (unless `AWS_ENDPOINT_URL` names an endpoint
//! already), the table and sender from the SAM template, every route of the HTTP API, and the
//! event publisher fed by the table's stream, printing each event it puts on the local bus.
//! Ctrl-C stops everything it started.

use std::sync::Arc;

use anyhow::Context;
use orgs_local::moto::Moto;
use orgs_local::server::{LocalApi, serve};
use orgs_local::stream::{StreamFeed, stream_arn};
use orgs_local::{aws, provision, token, workspace_root};
use orgs_shared::app::{App, Config, init_tracing};
use orgs_shared::events::{EventsConfig, Publisher};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn openapi_json() -> anyhow::Result<String> {
    let yaml = std::fs::read_to_string(workspace_root().join("infra/openapi.yaml"))?;
    let doc: serde_json::Value = serde_yaml_ng::from_str(&yaml)?;
    Ok(doc.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let port: u16 = env_or("PORT", "3000")
        .parse()
        .context("PORT must be a port number")?;
    let table = env_or("ORGS_TABLE_NAME", "orgs");
    let sender = env_or("ORGS_MAIL_FROM", "no-reply@orgs.local");
    let bus = env_or("ORGS_EVENT_BUS_NAME", "orgs-local");

    // Keeps our own moto alive until we return; dropping it stops the server.
    let (endpoint, _moto) = match std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(endpoint) => (endpoint, None),
        None => {
            eprintln!("Starting moto (single-threaded, so transactions are atomic) ...");
            let moto = Moto::start(false)?;
            (moto.endpoint.clone(), Some(moto))
        }
    };
    let sdk = aws::sdk_config(&endpoint).await;
    provision::ensure_table(&sdk, &table).await?;
    provision::ensure_sender(&sdk, &sender).await?;
    provision::ensure_bus(&sdk, &bus).await?;
    let dead_letters = provision::ensure_queue(&sdk, &format!("{table}-events-dlq")).await?;
    // SAFETY: set before any other thread reads the environment.
    unsafe { std::env::set_var("ORGS_TABLE_NAME", &table) };
    let mut app = App::new(&sdk, Config::from_env()?);
    // Locally, print each invitation email's recipient and link so a person can follow it.
    app.mailer = app.mailer.echoing_links();

    // The stream feeds the publisher as Lambda's event source mapping would.
    let publisher = Publisher::from_sdk(
        &sdk,
        EventsConfig {
            bus_name: bus.clone(),
            dead_letter_queue_url: dead_letters.url.clone(),
        },
    );
    let (_publisher, publisher_rx) = tokio::sync::watch::channel(publisher);
    let mut feed = StreamFeed::new(&sdk, stream_arn(&sdk, &table).await?, publisher_rx);
    feed.print = true;

    let api = Arc::new(LocalApi {
        app,
        jwt_secret: token::dev_secret(),
        openapi: Some(openapi_json()?),
        log_requests: true,
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port} (set PORT to use another)"))?;
    eprintln!(
        "orgs is serving on http://127.0.0.1:{port}  (AWS endpoint {endpoint}, table {table})\n\
         Events go to the bus {bus}; each one is printed as it is published.\n\
         Get a token:  cargo token --sub alice --email alice@example.com\n\
         Press Ctrl-C to stop."
    );
    tokio::select! {
        result = serve(listener, api) => result?,
        result = feed.run() => result.context("the event publisher stopped")?,
        _ = tokio::signal::ctrl_c() => eprintln!("Stopping."),
    }
    Ok(())
}
