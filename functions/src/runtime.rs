//! What every Lambda `main` does: read the config, build the SDK clients once, serve.

use orgs_shared::app::{App, Config, init_tracing};

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
