//! `create-first-org`: a Cognito user pool's Post Confirmation trigger, not an HTTP route; see
//! `orgs_functions::jobs::first_org`.
#[cfg(not(test))]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    orgs_functions::runtime::serve_first_org().await
}
