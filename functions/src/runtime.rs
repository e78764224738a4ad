//! What every Lambda `main` does: read the config, build the SDK clients once, serve.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_lambda_events::event::dynamodb::Event;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use lambda_http::LambdaEvent;
use orgs_shared::app::{App, Config};
use orgs_shared::events::{EventsConfig, Publisher};
use orgs_shared::logs::init_tracing;
use orgs_shared::store::Store;

/// The roots of the certificates AWS endpoints present: Amazon Trust Services' four, and
/// Starfield Services G2, which cross-signs them. Trusting only these spares every cold start
/// parsing the system's bundle of some 140 roots: 3 to 4 ms, as long as an empty lambda_http
/// function takes to start. Setting `SSL_CERT_FILE` or `SSL_CERT_DIR` adds the system's roots,
/// for a TLS-inspecting proxy or a partition whose endpoints use other CAs.
const AWS_ROOTS: &str = include_str!("aws-roots.pem");

/// The one HTTPS client of every SDK client: rustls with ring. The SDK's default, rustls with
/// aws-lc, makes every binary megabytes larger for the same job.
pub fn https_client() -> Result<SharedHttpClient, lambda_http::Error> {
    let var = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let system_roots = var("SSL_CERT_FILE") || var("SSL_CERT_DIR");
    let trust = TrustStore::empty()
        .with_native_roots(system_roots)
        .with_pem_certificate(AWS_ROOTS.as_bytes());
    let tls = TlsContext::builder().with_trust_store(trust).build()?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https())
}

/// How every SDK client of a function retries: the SDK's standard mode, three attempts in all,
/// with jittered exponential backoff from 1 s. Throttling and 5xx answers, timeouts and failed
/// connections are retried; once the attempts are spent, the request answers 503 with
/// `Retry-After` (`orgs_shared::http::problem`). The tests use this same configuration.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// How long a function waits on AWS: a connection 3.1 s (the SDK's default), one attempt 3 s,
/// one call with its retries 8 s. A dependency that hangs then ends in a 503 before the API
/// functions' 10 s Lambda timeout, instead of in a timeout that API Gateway answers for us.
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(3_100))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build()
}

/// How long the Cognito trigger waits on AWS for one connection (1 s) and one attempt (1.5 s),
/// so that a hung attempt is tried again in time. Calls and their retries have no bound of
/// their own: the whole invocation has one, `TOKEN_CLAIMS_DEADLINE` (Cognito gives it 5 s in
/// all, cold start included), which `token_claims` keeps.
pub fn trigger_timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_millis(1_500))
        .build()
}

/// The SDK configuration of a function, from what Lambda puts in its environment: the region
/// and the execution role's credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`). Not `aws_config::load_defaults`: its provider chains (profile files,
/// SSO, STS web identity, ECS, IMDS) never apply on Lambda, yet would be linked into every
/// binary and set up at every cold start. `AWS_ENDPOINT_URL` is honoured, as by the defaults,
/// so a function can run against a local endpoint.
pub fn sdk_config() -> Result<SdkConfig, lambda_http::Error> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .ok_or("AWS_REGION is not set (Lambda always sets it)")?;
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .http_client(https_client()?)
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(endpoint);
    }
    Ok(builder.build())
}

/// Builds the shared state once per process. It lives as long as the process, so handlers
/// borrow it for free.
pub async fn init() -> Result<&'static App, lambda_http::Error> {
    init_tracing();
    let sdk = sdk_config()?;
    let config = Config::from_env()?;
    Ok(Box::leak(Box::new(App::new(&sdk, config))))
}

/// The whole `main` of a route's function binary, written from its entry in the catalog (see
/// `crate::spec::bins`): `lambda_main!(handlers::me::get_me);`, or with what the route needs in
/// the organization, `lambda_main!(handlers::teams::create_team, needs ManageTeams);`. It serves
/// as the local server does (`crate::routes::serve`), and links only its own handler.
#[macro_export]
macro_rules! lambda_main {
    ($handler:path) => {
        $crate::lambda_main!(@serve None, |app, req, _gate| Box::pin($handler(app, req)));
    };
    ($handler:path, needs $permission:ident or team maintainer) => {
        $crate::lambda_main!(@serve
            Some($crate::access::Needs {
                permission: orgs_shared::domain::Permission::$permission,
                on_oneself: None,
                or_else: None,
                in_team: true,
            }),
            |app, req, gate| Box::pin($handler(app, req, gate))
        );
    };
    ($handler:path, needs $permission:ident $(or oneself $own:ident)?) => {
        $crate::lambda_main!(@serve
            Some($crate::access::Needs {
                permission: orgs_shared::domain::Permission::$permission,
                on_oneself: [$(Some(orgs_shared::domain::Permission::$own),)? None][0],
                or_else: None,
                in_team: false,
            }),
            |app, req, gate| Box::pin($handler(app, req, gate))
        );
    };
    ($handler:path, needs any($permission:ident, $other:ident)) => {
        $crate::lambda_main!(@serve
            Some($crate::access::Needs {
                permission: orgs_shared::domain::Permission::$permission,
                on_oneself: None,
                or_else: Some(orgs_shared::domain::Permission::$other),
                in_team: false,
            }),
            |app, req, gate| Box::pin($handler(app, req, gate))
        );
    };
    (@serve $needs:expr, $handler:expr) => {
        // A test build of a binary runs no tests (the library holds them): leaving `main` out
        // keeps its harness from linking the whole service.
        #[cfg(not(test))]
        #[tokio::main(flavor = "current_thread")]
        async fn main() -> Result<(), lambda_http::Error> {
            let app = $crate::runtime::init().await?;
            lambda_http::run(lambda_http::service_fn(
                move |req: lambda_http::Request| async move {
                    let answer = $crate::routes::serve(app, req, $needs, $handler).await;
                    Ok::<_, std::convert::Infallible>(answer)
                },
            ))
            .await
        }
    };
}

/// A Cognito trigger's answer, boxed: the triggers' futures nest deeper than the compiler lays
/// out inline in `main`.
type TriggerAnswer<E> = Pin<Box<dyn Future<Output = Result<serde_json::Value, E>> + Send>>;

/// The whole `main` of a Cognito trigger: only the DynamoDB client is built, with the
/// trigger's timeouts; a failure is logged with its chain (`failed` says what failed) and
/// refuses the user pool's step.
async fn serve_cognito_trigger<E>(
    failed: &'static str,
    handle: fn(&'static Store, &'static Config, serde_json::Value) -> TriggerAnswer<E>,
) -> Result<(), lambda_http::Error>
where
    E: std::error::Error + 'static,
{
    init_tracing();
    let sdk = sdk_config()?
        .into_builder()
        .timeout_config(trigger_timeout_config())
        .build();
    let config: &'static Config = Box::leak(Box::new(Config::from_env()?));
    let store: &'static Store = Box::leak(Box::new(Store::from_sdk(
        &sdk,
        config.table_name.clone(),
        config.retention,
    )));
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            handle(store, config, event.payload).await.map_err(|e| {
                let chain = orgs_shared::logs::error_chain(&e);
                tracing::error!("{failed}: {chain}");
                lambda_http::Error::from(chain)
            })
        },
    ))
    .await
}

/// The whole `main` of `token-claims`, which a Cognito user pool invokes before it issues
/// tokens. It reads, and writes only a first sign-in's membership through single sign-on.
pub async fn serve_token_claims() -> Result<(), lambda_http::Error> {
    serve_cognito_trigger(
        "reading the organizations for a token failed",
        |store, config, event| {
            Box::pin(crate::jobs::token_claims::token_claims(
                store, config, event,
            ))
        },
    )
    .await
}

/// The whole `main` of `create-first-org`, which a Cognito user pool invokes after a person
/// confirms their sign-up.
pub async fn serve_first_org() -> Result<(), lambda_http::Error> {
    serve_cognito_trigger(
        "making a first organization failed",
        |store, config, event| {
            Box::pin(crate::jobs::first_org::create_first_org(
                store, config, event,
            ))
        },
    )
    .await
}

/// The whole `main` of `publish-events`, which the table's stream feeds instead of HTTP.
pub async fn serve_stream() -> Result<(), lambda_http::Error> {
    init_tracing();
    let sdk = sdk_config()?;
    let publisher: &'static Publisher = Box::leak(Box::new(Publisher::from_sdk(
        &sdk,
        EventsConfig::from_env()?,
    )));
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: LambdaEvent<Event>| async move {
            let response =
                crate::jobs::publish_events::publish_events(publisher, event.payload).await;
            Ok::<_, Infallible>(response)
        },
    ))
    .await
}
