//! `token-claims`: a Cognito user pool's pre-token-generation trigger, not an HTTP route; see
//! `orgs_functions::jobs::token_claims`.
#[cfg(not(test))]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    orgs_functions::runtime::serve_token_claims().await
}
