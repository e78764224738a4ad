//! SDK configuration for a local endpoint.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// One `SdkConfig` for every client, aimed at `endpoint`, with throwaway credentials unless the
/// environment provides some. It retries as the functions do (`runtime::retry_config`), but
/// sets no timeouts beyond the SDK's connect timeout: one single-threaded moto serving every
/// test at once can take seconds to answer, where DynamoDB takes milliseconds.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    // The functions' own HTTPS client: the workspace builds the SDK without a default one.
    // Wrapped to record each function's calls for the IAM check (`grants`).
    let client = crate::grants::RecordingClient::wrap(
        orgs_functions::runtime::https_client().expect("the HTTPS client"),
    );
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .http_client(client)
        .retry_config(orgs_functions::runtime::retry_config());
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        loader = loader.region(Region::new("us-east-1"));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader =
            loader.credentials_provider(Credentials::new("test", "test", None, None, "orgs-local"));
    }
    loader.load().await
}

/// A Cognito user pool client (`cognito-idp`) aimed at `endpoint`, set up as every other client
/// of the local stack (`sdk_config`): for tests that read or change the local user pool, its
/// identity providers and app client, as the functions see them.
pub async fn cognito_client(endpoint: &str) -> aws_sdk_cognitoidentityprovider::Client {
    aws_sdk_cognitoidentityprovider::Client::new(&sdk_config(endpoint).await)
}
