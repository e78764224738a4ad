//! `expire-invitations`: the scheduled expiry; see `orgs_functions::expiry`.
#[cfg(not(test))]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    orgs_functions::expiry::serve().await
}
