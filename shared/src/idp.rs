//! The deployer's Cognito user pool, as single sign-on uses it: one identity provider per
//! organization's connection, and the app client whose hosted sign-in lists them. The only code
//! that speaks Cognito.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::IdentityProviderTypeType;

use crate::domain::sso::{
    AttributeMapping, ClientSecret, Protocol, ProviderName, client_providers,
};

/// Where the organizations' providers live: `ORGS_USER_POOL_ID` and `ORGS_SSO_APP_CLIENT_ID`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoSettings {
    pub user_pool_id: String,
    pub app_client_id: String,
}

/// Why Cognito did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    /// Cognito refused the provider's settings (a metadata URL it could not read, an issuer
    /// without discovery document): the request's fault, with Cognito's reason.
    #[error("Cognito refused the identity provider: {0}")]
    Refused(String),
    /// The user pool holds as many identity providers as its quota allows.
    #[error("the user pool holds as many identity providers as it may")]
    Quota,
    /// Throttling, a fault of Cognito's or of the network: it may succeed if repeated.
    #[error("Cognito did not answer {what}")]
    Unavailable {
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A refusal that only a wrong deployment explains (missing grant, no such pool or client).
    #[error("Cognito refused {what}: {code}")]
    Misconfigured { what: &'static str, code: String },
}

pub type IdpResult<T> = Result<T, IdpError>;

/// What a failed call says, by its error code.
fn classify<E, R>(what: &'static str, err: SdkError<E, R>) -> IdpError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    match code.as_deref() {
        Some("InvalidParameterException") => {
            IdpError::Refused(err.message().unwrap_or("invalid settings").to_owned())
        }
        Some("LimitExceededException") => IdpError::Quota,
        Some(
            code @ ("NotAuthorizedException"
            | "AccessDeniedException"
            | "ResourceNotFoundException"),
        ) => IdpError::Misconfigured {
            what,
            code: code.to_owned(),
        },
        _ => IdpError::Unavailable {
            what,
            source: Box::new(err),
        },
    }
}

fn has_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>, code: &str) -> bool {
    err.code() == Some(code)
}

/// The organizations' identity providers in the deployer's user pool.
#[derive(Clone, Debug)]
pub struct IdentityProviders {
    client: Client,
    settings: SsoSettings,
}

/// What an identity provider is told.
pub struct ProviderSettings<'a> {
    pub name: &'a ProviderName,
    pub protocol: &'a Protocol,
    /// The secret Cognito holds, when the request replacing an OIDC connection left it out.
    pub kept_secret: Option<&'a ClientSecret>,
    pub mapping: &'a AttributeMapping,
    pub identifiers: Vec<String>,
}

impl IdentityProviders {
    pub fn new(client: Client, settings: SsoSettings) -> Self {
        Self { client, settings }
    }

    /// Creates the provider, or replaces its settings when it is there already (a repeated
    /// request, or one whose table write failed after Cognito's).
    pub async fn put_provider(&self, provider: &ProviderSettings<'_>) -> IdpResult<()> {
        let details: HashMap<String, String> = provider
            .protocol
            .provider_details(provider.kept_secret)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let mapping = HashMap::from([
            ("email".to_owned(), provider.mapping.email.clone()),
            ("name".to_owned(), provider.mapping.name.clone()),
        ]);
        let created = self
            .client
            .create_identity_provider()
            .user_pool_id(&self.settings.user_pool_id)
            .provider_name(provider.name.as_str())
            .provider_type(IdentityProviderTypeType::from(
                provider.protocol.cognito_type(),
            ))
            .set_provider_details(Some(details.clone()))
            .set_attribute_mapping(Some(mapping.clone()))
            .set_idp_identifiers(Some(provider.identifiers.clone()))
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if has_code(&e, "DuplicateProviderException") => self
                .client
                .update_identity_provider()
                .user_pool_id(&self.settings.user_pool_id)
                .provider_name(provider.name.as_str())
                .set_provider_details(Some(details))
                .set_attribute_mapping(Some(mapping))
                .set_idp_identifiers(Some(provider.identifiers.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| match has_code(&e, "ResourceNotFoundException") {
                    // Not ours that is there: one of its domains is another provider's identifier.
                    true => IdpError::Refused(
                        "one of the organization's domains is another identity provider's \
                         identifier in the user pool"
                            .into(),
                    ),
                    false => classify("updating an identity provider", e),
                }),
            Err(e) => Err(classify("creating an identity provider", e)),
        }
    }

    /// Changes only the provider's identifiers (its organization's verified domains changed).
    /// A provider that is not there is left so.
    pub async fn set_identifiers(
        &self,
        name: &ProviderName,
        identifiers: Vec<String>,
    ) -> IdpResult<()> {
        let updated = self
            .client
            .update_identity_provider()
            .user_pool_id(&self.settings.user_pool_id)
            .provider_name(name.as_str())
            .set_idp_identifiers(Some(identifiers))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(e) if has_code(&e, "ResourceNotFoundException") => Ok(()),
            Err(e) => Err(classify("updating an identity provider's identifiers", e)),
        }
    }

    /// The OIDC client secret Cognito holds for the provider, if it is an OIDC one.
    pub async fn kept_secret(&self, name: &ProviderName) -> IdpResult<Option<ClientSecret>> {
        let described = self
            .client
            .describe_identity_provider()
            .user_pool_id(&self.settings.user_pool_id)
            .provider_name(name.as_str())
            .send()
            .await;
        match described {
            Ok(out) => Ok(out
                .identity_provider
                .and_then(|p| p.provider_details)
                .and_then(|mut d| d.remove("client_secret"))
                .map(ClientSecret::new)),
            Err(e) if has_code(&e, "ResourceNotFoundException") => Ok(None),
            Err(e) => Err(classify("reading an identity provider", e)),
        }
    }

    /// Deletes the provider; `false` if it was not there.
    pub async fn delete_provider(&self, name: &ProviderName) -> IdpResult<bool> {
        let deleted = self
            .client
            .delete_identity_provider()
            .user_pool_id(&self.settings.user_pool_id)
            .provider_name(name.as_str())
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(e) if has_code(&e, "ResourceNotFoundException") => Ok(false),
            Err(e) => Err(classify("deleting an identity provider", e)),
        }
    }

    /// Makes the app client list exactly `ours` of this service's providers, beside the
    /// deployer's own. Cognito's UpdateUserPoolClient resets every setting it is not given, so
    /// all of the client's settings as read are given back unchanged.
    pub async fn set_client_providers(&self, ours: &BTreeSet<ProviderName>) -> IdpResult<()> {
        let described = self
            .client
            .describe_user_pool_client()
            .user_pool_id(&self.settings.user_pool_id)
            .client_id(&self.settings.app_client_id)
            .send()
            .await
            .map_err(|e| classify("reading the app client", e))?;
        let Some(c) = described.user_pool_client else {
            return Err(IdpError::Misconfigured {
                what: "reading the app client",
                code: "no client in the answer".into(),
            });
        };
        let current = c.supported_identity_providers.clone().unwrap_or_default();
        let wanted = client_providers(&current, ours);
        if wanted == current {
            return Ok(());
        }
        self.client
            .update_user_pool_client()
            .user_pool_id(&self.settings.user_pool_id)
            .client_id(&self.settings.app_client_id)
            .set_client_name(c.client_name)
            .refresh_token_validity(c.refresh_token_validity)
            .set_access_token_validity(c.access_token_validity)
            .set_id_token_validity(c.id_token_validity)
            .set_token_validity_units(c.token_validity_units)
            .set_read_attributes(c.read_attributes)
            .set_write_attributes(c.write_attributes)
            .set_explicit_auth_flows(c.explicit_auth_flows)
            .set_supported_identity_providers(Some(wanted))
            .set_callback_urls(c.callback_urls)
            .set_logout_urls(c.logout_urls)
            .set_default_redirect_uri(c.default_redirect_uri)
            .set_allowed_o_auth_flows(c.allowed_o_auth_flows)
            .set_allowed_o_auth_scopes(c.allowed_o_auth_scopes)
            .set_allowed_o_auth_flows_user_pool_client(c.allowed_o_auth_flows_user_pool_client)
            .set_analytics_configuration(c.analytics_configuration)
            .set_prevent_user_existence_errors(c.prevent_user_existence_errors)
            .set_enable_token_revocation(c.enable_token_revocation)
            .set_enable_propagate_additional_user_context_data(
                c.enable_propagate_additional_user_context_data,
            )
            .set_auth_session_validity(c.auth_session_validity)
            .set_refresh_token_rotation(c.refresh_token_rotation)
            .send()
            .await
            .map_err(|e| classify("updating the app client's providers", e))?;
        Ok(())
    }
}
