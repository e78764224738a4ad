//! moto's user pools refuse what Cognito refuses, where single sign-on depends on it
//! (`cognito_as_aws` in `tests/moto_server.py`): through the real SDK, against the stack's own
//! user pool and app client. A test that passes here only because moto is lenient would prove
//! nothing about AWS.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    IdentityProviderTypeType, OAuthFlowType, TimeUnitsType, UserPoolClientType,
};
use orgs_shared::domain::sso::ProviderName;
use orgs_shared::idp::IdentityProviders;

use crate::common::Stack;

/// An OIDC provider's details, as single sign-on gives them.
fn oidc_details(issuer: &str) -> HashMap<String, String> {
    [
        ("client_id", "example-client"),
        ("client_secret", "example-secret"),
        ("oidc_issuer", issuer),
        ("authorize_scopes", "openid email profile"),
        ("attributes_request_method", "GET"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A provider name as single sign-on gives them: `o-` and 30 hex characters.
fn provider_name(n: u8) -> String {
    format!("o-{:030x}", u128::from(n) + 0xabc0)
}

async fn create_provider(
    stack: &Stack,
    name: &str,
    issuer: &str,
    identifiers: &[&str],
) -> Result<(), (Option<String>, Option<String>)> {
    stack
        .cognito
        .create_identity_provider()
        .user_pool_id(stack.user_pool_id())
        .provider_name(name)
        .provider_type(IdentityProviderTypeType::Oidc)
        .set_provider_details(Some(oidc_details(issuer)))
        .set_idp_identifiers(Some(identifiers.iter().map(|i| (*i).to_owned()).collect()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| (e.code().map(str::to_owned), e.message().map(str::to_owned)))
}

async fn update_identifiers(
    stack: &Stack,
    name: &str,
    identifiers: &[&str],
) -> Result<(), Option<String>> {
    stack
        .cognito
        .update_identity_provider()
        .user_pool_id(stack.user_pool_id())
        .provider_name(name)
        .set_idp_identifiers(Some(identifiers.iter().map(|i| (*i).to_owned()).collect()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().map(str::to_owned))
}

/// The provider's issuer and identifiers, or `None` if the pool has no such provider.
async fn provider(stack: &Stack, name: &str) -> Option<(String, Vec<String>)> {
    let described = stack
        .cognito
        .describe_identity_provider()
        .user_pool_id(stack.user_pool_id())
        .provider_name(name)
        .send()
        .await;
    match described {
        Ok(out) => {
            let provider = out.identity_provider.expect("a provider");
            let issuer = provider
                .provider_details
                .and_then(|mut d| d.remove("oidc_issuer"))
                .unwrap_or_default();
            Some((issuer, provider.idp_identifiers.unwrap_or_default()))
        }
        Err(e) if e.code() == Some("ResourceNotFoundException") => None,
        Err(e) => panic!("describing {name}: {e:?}"),
    }
}

async fn app_client(stack: &Stack) -> UserPoolClientType {
    stack
        .cognito
        .describe_user_pool_client()
        .user_pool_id(stack.user_pool_id())
        .client_id(stack.app_client_id())
        .send()
        .await
        .expect("describing the app client")
        .user_pool_client
        .expect("an app client")
}

#[tokio::test]
async fn a_second_provider_of_the_same_name_is_refused_and_the_first_stays() {
    let stack = Stack::start().await;
    let name = provider_name(1);
    create_provider(
        &stack,
        &name,
        "https://first.example.com",
        &["first.example.com"],
    )
    .await
    .expect("the first provider");
    let (code, message) = create_provider(
        &stack,
        &name,
        "https://second.example.com",
        &["second.example.com"],
    )
    .await
    .expect_err("a provider of the same name");
    assert_eq!(code.as_deref(), Some("DuplicateProviderException"));
    assert_eq!(
        message.as_deref(),
        Some(format!("A provider with the name {name} already exists in this user pool").as_str())
    );
    assert_eq!(
        provider(&stack, &name).await,
        Some((
            "https://first.example.com".to_owned(),
            vec!["first.example.com".to_owned()]
        ))
    );
}

#[tokio::test]
async fn an_identifier_another_provider_has_is_refused_on_create_and_on_update() {
    let stack = Stack::start().await;
    let (acme, other) = (provider_name(2), provider_name(3));
    create_provider(&stack, &acme, "https://acme.example.com", &["acme.com"])
        .await
        .expect("acme's provider");

    // Created with acme's identifier: refused, and not created.
    let (code, _) = create_provider(
        &stack,
        &other,
        "https://other.example.com",
        &["other.com", "acme.com"],
    )
    .await
    .expect_err("an identifier acme's provider has");
    assert_eq!(code.as_deref(), Some("DuplicateProviderException"));
    assert_eq!(provider(&stack, &other).await, None);

    // Created with its own, then given acme's: refused, and left as it was.
    create_provider(&stack, &other, "https://other.example.com", &["other.com"])
        .await
        .expect("the other provider");
    assert_eq!(
        update_identifiers(&stack, &other, &["other.com", "acme.com"]).await,
        Err(Some("DuplicateProviderException".to_owned()))
    );
    assert_eq!(
        provider(&stack, &other).await.map(|(_, ids)| ids),
        Some(vec!["other.com".to_owned()])
    );

    // A provider may keep its own identifiers and add new ones.
    update_identifiers(&stack, &acme, &["acme.com", "acme.org"])
        .await
        .expect("acme's own identifiers");
    assert_eq!(
        provider(&stack, &acme).await.map(|(_, ids)| ids),
        Some(vec!["acme.com".to_owned(), "acme.org".to_owned()])
    );
}

#[tokio::test]
async fn updating_the_app_client_with_some_settings_resets_the_others() {
    let stack = Stack::start().await;
    let before = app_client(&stack).await;
    assert_eq!(
        before.callback_urls(),
        [orgs_local::provision::SSO_CALLBACK_URL]
    );
    assert_eq!(before.allowed_o_auth_flows(), [OAuthFlowType::Code]);
    assert_eq!(before.access_token_validity(), Some(30));
    assert_eq!(before.refresh_token_validity(), 7);

    // Only the providers: everything else goes back to its default, as on AWS.
    stack
        .cognito
        .update_user_pool_client()
        .user_pool_id(stack.user_pool_id())
        .client_id(stack.app_client_id())
        .supported_identity_providers("COGNITO")
        .send()
        .await
        .expect("a partial update");
    let after = app_client(&stack).await;
    assert_eq!(after.client_id(), before.client_id());
    assert_eq!(after.client_name(), before.client_name());
    assert_eq!(after.supported_identity_providers(), ["COGNITO"]);
    assert!(after.callback_urls().is_empty(), "{after:?}");
    assert!(after.allowed_o_auth_flows().is_empty(), "{after:?}");
    assert!(after.allowed_o_auth_scopes().is_empty(), "{after:?}");
    assert_eq!(after.allowed_o_auth_flows_user_pool_client(), Some(false));
    assert!(after.explicit_auth_flows().is_empty(), "{after:?}");
    assert_eq!(after.access_token_validity(), None);
    assert_eq!(after.id_token_validity(), None);
    assert_eq!(after.token_validity_units(), None);
    assert_eq!(after.refresh_token_validity(), 30);
}

#[tokio::test]
async fn updating_the_app_client_with_every_setting_keeps_them() {
    let stack = Stack::start().await;
    let name = provider_name(4);
    create_provider(&stack, &name, "https://acme.example.com", &["acme.com"])
        .await
        .expect("a provider");
    let before = app_client(&stack).await;

    // What single sign-on does: every setting read, given back, with the provider added.
    let idp = IdentityProviders::new(
        stack.cognito.clone(),
        stack
            .user_pool
            .as_ref()
            .expect("a user pool")
            .sso_settings(),
    );
    let ours = BTreeSet::from([ProviderName::parse(&name).expect("a provider name")]);
    idp.set_client_providers(&ours)
        .await
        .expect("listing the provider");
    let after = app_client(&stack).await;
    assert_eq!(
        after.supported_identity_providers(),
        ["COGNITO".to_owned(), name.clone()]
    );
    let without_providers = |client: &UserPoolClientType| {
        let mut client = client.clone();
        client.supported_identity_providers = None;
        client
    };
    assert_eq!(without_providers(&after), without_providers(&before));
    assert_eq!(after.callback_urls(), before.callback_urls());
    assert_eq!(
        after.allowed_o_auth_scopes(),
        ["openid", "email", "profile"]
    );
    assert_eq!(after.allowed_o_auth_flows_user_pool_client(), Some(true));
    assert_eq!(
        after
            .token_validity_units()
            .and_then(|u| u.refresh_token().cloned()),
        Some(TimeUnitsType::Days)
    );
}

#[tokio::test]
async fn the_app_client_may_list_only_providers_the_pool_has() {
    let stack = Stack::start().await;
    let missing = provider_name(5);
    let refused = stack
        .cognito
        .update_user_pool_client()
        .user_pool_id(stack.user_pool_id())
        .client_id(stack.app_client_id())
        .supported_identity_providers("COGNITO")
        .supported_identity_providers(&missing)
        .send()
        .await
        .expect_err("a provider the pool does not have");
    assert_eq!(refused.code(), Some("InvalidParameterException"));
    assert_eq!(
        refused.message(),
        Some(
            format!(
                "The provider {missing} does not exist for User Pool {}",
                stack.user_pool_id()
            )
            .as_str()
        )
    );
    // Refused, the client is as it was.
    assert_eq!(
        app_client(&stack).await.supported_identity_providers(),
        ["COGNITO"]
    );
    assert_eq!(
        app_client(&stack).await.callback_urls(),
        [orgs_local::provision::SSO_CALLBACK_URL]
    );

    // Once the pool has it, the client may list it.
    create_provider(&stack, &missing, "https://acme.example.com", &[])
        .await
        .expect("the provider");
    let idp = IdentityProviders::new(
        stack.cognito.clone(),
        stack
            .user_pool
            .as_ref()
            .expect("a user pool")
            .sso_settings(),
    );
    idp.set_client_providers(&BTreeSet::from([
        ProviderName::parse(&missing).expect("a provider name")
    ]))
    .await
    .expect("listing the provider");
}

#[tokio::test]
async fn a_stack_without_sso_has_no_user_pool() {
    let stack = Stack::start_with(crate::common::Options {
        without_sso: true,
        ..Default::default()
    })
    .await;
    assert!(stack.user_pool.is_none());
    assert!(stack.app.config.sso.is_none());
    assert!(stack.app.idp().is_none());
}
