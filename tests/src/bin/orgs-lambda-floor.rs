//! The benchmark's floor: an empty `lambda_http` function, built with the same release profile
//! as the real ones. It answers every event with 200 and `{}`, and touches no AWS service, so its
//! cold start is what the Lambda runtime crate alone costs.

use lambda_http::{Body, Request, Response, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(service_fn(|_req: Request| async {
        Ok::<_, std::convert::Infallible>(Response::new(Body::from("{}")))
    }))
    .await
}
