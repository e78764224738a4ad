//! Runs the whole service on loopback: moto (unless `AWS_ENDPOINT_URL` names an endpoint
//! already), the table and sender from the SAM template, a Cognito user pool with the app client
//! single sign-on lists its providers in (unless `ORGS_USER_POOL_ID` names a pool), every route
//! of the HTTP API, and the
//! event publisher fed by the table's stream, printing each event it puts on the local bus,
//! SES's delivery events fed to `record-delivery` (moto's stand-in publishes them for the
//! mailbox simulator's addresses), the scheduled expiry on a timer, and the accept page on an
//! origin of its own (`PAGE_PORT`).
//! Ctrl-C stops everything it started.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use orgs_functions::jobs::expiry::run_schedule;
use orgs_local::accept_page;
use orgs_local::cors::{Cors, LOCAL_PAGE_PORT};
use orgs_local::delivery::DeliveryFeed;
use orgs_local::moto::Moto;
use orgs_local::server::{LocalApi, serve};
use orgs_local::stream::{StreamFeed, stream_arn};
use orgs_local::{aws, grants, provision, token, workspace_root};
use orgs_shared::app::{App, Config};
use orgs_shared::domain::Timestamp;
use orgs_shared::events::{EventsConfig, Publisher};
use orgs_shared::logs::init_tracing;

/// How often the expiry runs locally, unless `ORGS_EXPIRY_INTERVAL_SECONDS` says otherwise.
const DEFAULT_EXPIRY_INTERVAL_SECONDS: &str = "60";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Runs the expiry (and the domains' re-check) every `every`, as the EventBridge schedule does
/// on AWS. The first run is at
/// once; each prints its summary line, and the next waits for it. A run gets at least a minute,
/// like the function, whose timeout is longer still.
async fn expire_periodically(app: App, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let budget = every.max(Duration::from_secs(60));
    loop {
        ticks.tick().await;
        let run_id = format!("local-{}", uuid::Uuid::new_v4().simple());
        let run = run_schedule(&app, Timestamp::now(), Instant::now() + budget, &run_id);
        grants::as_function("expire-invitations", run).await;
    }
}

fn openapi_json() -> anyhow::Result<String> {
    let yaml = std::fs::read_to_string(workspace_root().join("infra/openapi.yaml"))?;
    let doc: serde_json::Value = serde_yaml_ng::from_str(&yaml)?;
    Ok(doc.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    grants::record_calls_if_asked()?;
    let port: u16 = env_or("PORT", "3000")
        .parse()
        .context("PORT must be a port number")?;
    let table = env_or("ORGS_TABLE_NAME", "orgs");
    let expiry_every: u64 = env_or(
        "ORGS_EXPIRY_INTERVAL_SECONDS",
        DEFAULT_EXPIRY_INTERVAL_SECONDS,
    )
    .parse()
    .context("ORGS_EXPIRY_INTERVAL_SECONDS must be a whole number of seconds (0: never)")?;
    let page_port: u16 = env_or("PAGE_PORT", &LOCAL_PAGE_PORT.to_string())
        .parse()
        .context("PAGE_PORT must be a port number")?;
    // The origins a browser may call from: the accept page's by default; empty for none.
    let cors = match std::env::var("ORGS_CORS_ALLOWED_ORIGINS") {
        Ok(list) => Cors::parse(&list),
        Err(_) => Cors::for_local_page(page_port),
    };
    let sender = env_or("ORGS_MAIL_FROM", "no-reply@orgs.local");
    let bus = env_or("ORGS_EVENT_BUS_NAME", "orgs-local");
    let configuration_set = env_or("ORGS_SES_CONFIGURATION_SET", &format!("{table}-delivery"));

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
    provision::ensure_configuration_set(&sdk, &configuration_set).await?;
    let ses_events = provision::ensure_queue(&sdk, &format!("{table}-ses-events")).await?;
    provision::ensure_delivery_rule(
        &sdk,
        &format!("{table}-record-delivery"),
        &configuration_set,
        &ses_events,
    )
    .await?;
    let invite_base = env_or(
        "ORGS_INVITE_URL_BASE",
        &format!("http://127.0.0.1:{page_port}{}", accept_page::PATH),
    );
    // The accept page's own origins, so that an invitation may name a page there.
    let redirect_origins = env_or(
        "ORGS_INVITE_REDIRECT_ORIGINS",
        &format!("http://127.0.0.1:{page_port},http://localhost:{page_port}"),
    );
    // Single sign-on's pool and app client, `{table}-users`, unless the environment names some.
    let user_pool = match std::env::var("ORGS_USER_POOL_ID") {
        Ok(id) if !id.is_empty() => None,
        _ => Some(provision::ensure_user_pool(&sdk, &format!("{table}-users")).await?),
    };
    // SAFETY: set before any other thread reads the environment.
    unsafe {
        if let Some(pool) = &user_pool {
            std::env::set_var("ORGS_USER_POOL_ID", &pool.id);
            std::env::set_var("ORGS_SSO_APP_CLIENT_ID", &pool.app_client_id);
        }
        std::env::set_var("ORGS_TABLE_NAME", &table);
        std::env::set_var("ORGS_SES_CONFIGURATION_SET", &configuration_set);
        std::env::set_var("ORGS_INVITE_URL_BASE", &invite_base);
        std::env::set_var("ORGS_INVITE_REDIRECT_ORIGINS", &redirect_origins);
    }
    let mut config = Config::from_env()?;
    // Verification asks a DNS server of our own, serving target/local-dns.txt, unless the
    // environment names another.
    let _dns = if std::env::var_os("ORGS_DNS_RESOLVER").is_none() {
        let zone = orgs_local::workspace_root().join("target/local-dns.txt");
        let dns = orgs_local::dns::LoopbackDns::start_with_file(zone.clone()).await;
        config.dns.resolver = dns.addr();
        eprintln!(
            "DNS on {} serves the TXT records in {}",
            dns.addr(),
            zone.display()
        );
        Some(dns)
    } else {
        None
    };
    let app_sso = config.sso.clone();
    let mut app = App::new(&sdk, config);
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

    let store = app.store.clone();
    let schedule_app = app.clone();
    let mut delivery = DeliveryFeed::new(&sdk, ses_events, store.clone());
    delivery.print = true;
    let api = Arc::new(LocalApi {
        app,
        jwt_secret: token::dev_secret(),
        openapi: Some(openapi_json()?),
        log_requests: true,
        cors: cors.clone(),
        timeouts: orgs_local::timeouts::FunctionTimeouts::from_template()?,
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port} (set PORT to use another)"))?;
    let page_listener = tokio::net::TcpListener::bind(("127.0.0.1", page_port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{page_port} (set PAGE_PORT to use another)"))?;
    eprintln!(
        "orgs is serving on http://127.0.0.1:{port}  (AWS endpoint {endpoint}, table {table})\n\
         The accept page (invitation links) is on {invite_base}; browsers may call the API from: {origins}\n\
         Events go to the bus {bus}; each one is printed as it is published.\n\
         Single sign-on: {sso}\n\
         Emails go out with the SES configuration set {configuration_set}; SES's events for \
         them (try success@, bounce@ or complaint@simulator.amazonses.com) are printed as \
         recorded.\n\
         Get a token:  cargo token --sub alice --email alice@example.com\n\
         {expiry}\n\
         Press Ctrl-C to stop.",
        sso = match &app_sso {
            Some(sso) => format!(
                "the organizations' identity providers go to the user pool {} and its app client {}",
                sso.user_pool_id, sso.app_client_id
            ),
            None => "off (ORGS_USER_POOL_ID or ORGS_SSO_APP_CLIENT_ID is empty)".to_owned(),
        },
        origins = if cors.enabled() {
            cors.allow_origins.join(", ")
        } else {
            "no origin (ORGS_CORS_ALLOWED_ORIGINS is empty)".to_owned()
        },
        expiry = if expiry_every > 0 {
            format!(
                "Lapsed invitations expire every {expiry_every} s; at once with:  \
                 AWS_ENDPOINT_URL={endpoint} ORGS_TABLE_NAME={table} cargo expire"
            )
        } else {
            "The expiry timer is off (ORGS_EXPIRY_INTERVAL_SECONDS=0).".to_owned()
        },
    );
    if expiry_every > 0 {
        tokio::spawn(expire_periodically(
            schedule_app,
            Duration::from_secs(expiry_every),
        ));
    }
    tokio::select! {
        result = serve(listener, api) => result?,
        result = accept_page::serve(page_listener, format!("http://127.0.0.1:{port}")) => result?,
        result = feed.run() => result.context("the event publisher stopped")?,
        result = delivery.run() => result.context("the delivery feed stopped")?,
        _ = tokio::signal::ctrl_c() => eprintln!("Stopping."),
    }
    Ok(())
}
