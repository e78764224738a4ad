//! `publish-events`: fed by the table's stream, not by HTTP; see
//! `orgs_functions::jobs::publish_events::publish_events`.
#[cfg(not(test))]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    orgs_functions::runtime::serve_stream().await
}
