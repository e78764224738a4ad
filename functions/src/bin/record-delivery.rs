//! `record-delivery`: fed by SES's events through an EventBridge rule, not by HTTP; see
//! `orgs_functions::jobs::delivery`.
#[cfg(not(test))]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    orgs_functions::jobs::delivery::serve().await
}
