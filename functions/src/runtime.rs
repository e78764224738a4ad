//! What every Lambda `main` does: read the config, build the SDK clients once, serve.

use std::convert::Infallible;

use aws_lambda_events::event::dynamodb::Event;
use lambda_http::LambdaEvent;
use orgs_shared::app::{App, Config, init_tracing};
use orgs_shared::events::{EventsConfig, Publisher};

/// Builds the shared state once per process. It lives as long as the process, so handlers
/// borrow it for free.
pub async fn init() -> Result<&'static App, lambda_http::Error> {
    init_tracing();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config = Config::from_env()?;
    Ok(Box::leak(Box::new(App::new(&sdk, config))))
}

/// The whole `main` of a function binary: `orgs_functions::lambda_main!(handlers::me::get_me);`
#[macro_export]
macro_rules! lambda_main {
    ($handler:path) => {
        #[tokio::main(flavor = "current_thread")]
        async fn main() -> Result<(), lambda_http::Error> {
            let app = $crate::runtime::init().await?;
            lambda_http::run(lambda_http::service_fn(
                move |req: lambda_http::Request| async move {
                    let request_id = orgs_shared::http::request_id(&req);
                    let result = $handler(app, req).await;
                    Ok::<_, std::convert::Infallible>(orgs_shared::http::respond(
                        &request_id,
                        result,
                    ))
                },
            ))
            .await
        }
    };
}

/// The whole `main` of `publish-events`, which the table's stream feeds instead of HTTP.
pub async fn serve_stream() -> Result<(), lambda_http::Error> {
    init_tracing();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let publisher: &'static Publisher = Box::leak(Box::new(Publisher::from_sdk(
        &sdk,
        EventsConfig::from_env()?,
    )));
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: LambdaEvent<Event>| async move {
            let response = crate::handlers::events::publish_events(publisher, event.payload).await;
            Ok::<_, Infallible>(response)
        },
    ))
    .await
}
