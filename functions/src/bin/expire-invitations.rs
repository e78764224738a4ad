//! `expire-invitations`: the scheduled expiry; see `orgs_functions::jobs::expiry`.
#[cfg(not(test))]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    orgs_functions::jobs::expiry::serve().await
}
