//! Single sign-on per organization: its connection to the company's own SAML or OIDC identity
//! provider, which becomes one identity provider of the deployer's Cognito user pool. The rules
//! here decide the provider's name, what Cognito is told, who is provisioned at first sign-in,
//! and whom `sso_required` keeps out of a token's claims and the API.

use std::collections::BTreeSet;
use std::fmt;

use super::custom_role::{RoleKey, RoleName, RoleScope};
use super::email_domain::EmailDomain;
use super::ids::OrgId;
use super::ids::TeamId;
use super::invitation::MAX_TEAMS;
use super::role::Role;
use super::team_role::TeamRole;
use super::team_role::{RawTeam, TeamAssignment, parse_teams};
use super::{FieldErrors, ValidationError};

/// The name of an organization's identity provider in the user pool: `o-` and the first 30
/// hex digits of its id. Cognito allows 32 characters, and no `_` (it separates the provider
/// from the subject in a federated user's name).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderName(String);

impl ProviderName {
    const PREFIX: &'static str = "o-";
    const HEX: usize = 30;

    pub fn of(org: &OrgId) -> Self {
        let hex = &org.as_str()[OrgId::PREFIX.len()..];
        Self(format!("{}{}", Self::PREFIX, &hex[..Self::HEX]))
    }

    /// Only a name this service gives; the deployer's own providers (`Google`, `COGNITO`) are
    /// never ours.
    pub fn parse(raw: &str) -> Option<Self> {
        let hex = raw.strip_prefix(Self::PREFIX)?;
        let ours = hex.len() == Self::HEX
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ours.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProviderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An OIDC client secret: passed to Cognito, never stored, answered, logged or published.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(…)")
    }
}

/// Where Cognito reads a SAML provider's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SamlMetadata {
    Url(String),
    /// The XML document itself (Google Workspace gives a file, not a URL).
    Document(String),
}

/// The identity provider's protocol and its settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    Saml(SamlMetadata),
    Oidc {
        issuer: String,
        client_id: String,
        /// `None` when a request replacing an OIDC connection keeps the secret Cognito holds.
        client_secret: Option<ClientSecret>,
        scopes: Vec<String>,
    },
}

impl Protocol {
    pub fn kind(&self) -> &'static str {
        match self {
            Protocol::Saml(_) => "saml",
            Protocol::Oidc { .. } => "oidc",
        }
    }

    /// The provider's `ProviderType` in Cognito.
    pub fn cognito_type(&self) -> &'static str {
        match self {
            Protocol::Saml(_) => "SAML",
            Protocol::Oidc { .. } => "OIDC",
        }
    }

    /// `ProviderDetails`, as Cognito names them. The secret is the one given, or `kept` (what
    /// Cognito holds) when the request left it out.
    pub fn provider_details(&self, kept: Option<&ClientSecret>) -> Vec<(&'static str, String)> {
        match self {
            Protocol::Saml(SamlMetadata::Url(url)) => {
                vec![("MetadataURL", url.clone()), ("IDPSignout", "false".into())]
            }
            Protocol::Saml(SamlMetadata::Document(xml)) => vec![
                ("MetadataFile", xml.clone()),
                ("IDPSignout", "false".into()),
            ],
            Protocol::Oidc {
                issuer,
                client_id,
                client_secret,
                scopes,
            } => {
                let mut details = vec![
                    ("client_id", client_id.clone()),
                    ("authorize_scopes", scopes.join(" ")),
                    ("oidc_issuer", issuer.clone()),
                    ("attributes_request_method", "GET".into()),
                ];
                if let Some(secret) = client_secret.as_ref().or(kept) {
                    details.push(("client_secret", secret.expose().to_owned()));
                }
                details
            }
        }
    }
}

/// Which of the provider's attributes hold a person's email and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeMapping {
    pub email: String,
    pub name: String,
}

impl AttributeMapping {
    /// The claims Okta, Entra ID and Google Workspace send by default.
    pub fn default_for(protocol: &Protocol) -> Self {
        match protocol {
            Protocol::Saml(_) => AttributeMapping {
                email: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress".into(),
                name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name".into(),
            },
            Protocol::Oidc { .. } => AttributeMapping {
                email: "email".into(),
                name: "name".into(),
            },
        }
    }
}

/// A connection as a request sets it (`PUT /orgs/{org_id}/sso`), validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoSpec {
    pub protocol: Protocol,
    pub mapping: AttributeMapping,
    /// Never `owner`: nobody becomes an owner by signing in.
    pub default_role: RoleName,
    pub default_teams: Vec<TeamAssignment>,
    pub sso_required: bool,
}

/// The request's fields, as read from its JSON.
#[derive(Clone, Debug, Default)]
pub struct RawSso<'a> {
    pub metadata_url: Option<&'a str>,
    pub metadata_document: Option<&'a str>,
    pub saml: bool,
    pub oidc: Option<RawOidc<'a>>,
    pub email_attribute: Option<&'a str>,
    pub name_attribute: Option<&'a str>,
    pub default_role: Option<&'a str>,
    pub default_teams: Vec<RawTeam<'a>>,
    pub sso_required: bool,
}

#[derive(Clone, Debug, Default)]
pub struct RawOidc<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub scopes: Option<Vec<&'a str>>,
}

/// The most a metadata document may be: what Cognito's `MetadataFile` takes.
pub const MAX_METADATA_DOCUMENT: usize = 131_072;

impl SsoSpec {
    pub fn parse(raw: &RawSso<'_>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let protocol = errors.take(parse_protocol(raw));
        let default_role = raw
            .default_role
            .map_or(Ok(RoleName::System(Role::Member)), |r| {
                RoleName::parse("default_role", r)
            })
            .and_then(|role| match role {
                RoleName::System(Role::Owner) => Err(ValidationError::new(
                    "default_role",
                    "invalid_default_role",
                    "Nobody becomes an owner by signing in: the default role is admin, member or \
                     one of the organization's roles.",
                )),
                role => Ok(role),
            });
        let default_role = errors.take(default_role);
        let default_teams =
            parse_teams("default_teams", &raw.default_teams, MAX_TEAMS, &mut errors);
        let mapping = protocol.as_ref().map(|p| {
            let defaults = AttributeMapping::default_for(p);
            AttributeMapping {
                email: raw.email_attribute.map_or(defaults.email, str::to_owned),
                name: raw.name_attribute.map_or(defaults.name, str::to_owned),
            }
        });
        if let Some(mapping) = &mapping {
            for (field, value) in [
                ("attribute_mapping.email", &mapping.email),
                ("attribute_mapping.name", &mapping.name),
            ] {
                if value.is_empty()
                    || value.chars().count() > 131
                    || value.contains(char::is_control)
                {
                    errors.push(ValidationError::new(
                        field,
                        "invalid_attribute",
                        "An attribute's name is 1 to 131 characters.",
                    ));
                }
            }
        }
        match (protocol, mapping, default_role) {
            (Some(protocol), Some(mapping), Some(default_role)) if errors.is_empty() => {
                Ok(SsoSpec {
                    protocol,
                    mapping,
                    default_role,
                    default_teams,
                    sso_required: raw.sso_required,
                })
            }
            _ => Err(errors),
        }
    }
}

fn parse_protocol(raw: &RawSso<'_>) -> Result<Protocol, ValidationError> {
    match (raw.saml, &raw.oidc) {
        (true, None) => parse_saml(raw).map(Protocol::Saml),
        (false, Some(oidc)) => parse_oidc(oidc),
        _ => Err(ValidationError::new(
            "saml",
            "invalid_protocol",
            "A connection is either saml or oidc: give exactly one.",
        )),
    }
}

fn parse_saml(raw: &RawSso<'_>) -> Result<SamlMetadata, ValidationError> {
    match (raw.metadata_url, raw.metadata_document) {
        (Some(url), None) => https_url("saml.metadata_url", url).map(SamlMetadata::Url),
        (None, Some(xml)) => {
            let xml = xml.trim();
            if xml.len() > MAX_METADATA_DOCUMENT
                || !xml.starts_with('<')
                || !xml.contains("EntityDescriptor")
            {
                return Err(ValidationError::new(
                    "saml.metadata_document",
                    "invalid_metadata",
                    "A SAML metadata document is the XML of an EntityDescriptor, at most 128 KiB.",
                ));
            }
            Ok(SamlMetadata::Document(xml.to_owned()))
        }
        _ => Err(ValidationError::new(
            "saml",
            "invalid_metadata",
            "SAML takes either metadata_url or metadata_document.",
        )),
    }
}

fn parse_oidc(raw: &RawOidc<'_>) -> Result<Protocol, ValidationError> {
    let issuer = https_url("oidc.issuer", raw.issuer)?;
    let token = |field: &str, value: &str| {
        let fits =
            !value.is_empty() && value.len() <= 255 && value.bytes().all(|b| b.is_ascii_graphic());
        if fits {
            Ok(value.to_owned())
        } else {
            Err(ValidationError::new(
                field,
                "invalid_client",
                "1 to 255 visible ASCII characters.",
            ))
        }
    };
    let client_id = token("oidc.client_id", raw.client_id)?;
    let client_secret = raw
        .client_secret
        .map(|s| token("oidc.client_secret", s).map(ClientSecret))
        .transpose()?;
    let scopes = raw
        .scopes
        .clone()
        .unwrap_or_else(|| vec!["openid", "email", "profile"]);
    let mut distinct = BTreeSet::new();
    let well_formed = scopes.len() <= 25
        && scopes.iter().all(|s| {
            !s.is_empty()
                && s.len() <= 100
                && s.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        });
    if !well_formed || !scopes.contains(&"openid") {
        return Err(ValidationError::new(
            "oidc.scopes",
            "invalid_scopes",
            "Up to 25 scopes, each visible ASCII without quotes or backslashes, openid among them.",
        ));
    }
    let scopes = scopes
        .into_iter()
        .filter(|s| distinct.insert(*s))
        .map(str::to_owned)
        .collect();
    Ok(Protocol::Oidc {
        issuer,
        client_id,
        client_secret,
        scopes,
    })
}

fn https_url(field: &str, raw: &str) -> Result<String, ValidationError> {
    match url::Url::parse(raw) {
        Ok(url) if url.scheme() == "https" && url.has_host() && raw.len() <= 2048 => {
            Ok(raw.to_owned())
        }
        _ => Err(ValidationError::new(
            field,
            "invalid_url",
            "An https URL of at most 2048 characters.",
        )),
    }
}

/// Cognito's identifiers of a provider (`IdpIdentifiers`): the organization's verified
/// domains that fit (at most 50, each at most 40 characters). Discovery reads the table, so a
/// longer domain still finds its provider.
pub fn identifiers(domains: &[EmailDomain]) -> Vec<String> {
    domains
        .iter()
        .map(EmailDomain::as_str)
        .filter(|d| d.len() <= 40)
        .take(50)
        .map(str::to_owned)
        .collect()
}

/// The app client's `SupportedIdentityProviders` with exactly `ours` of this service's
/// providers: the deployer's own (`COGNITO`, `Google`) kept as they are, in their order,
/// followed by ours, sorted.
pub fn client_providers(current: &[String], ours: &BTreeSet<ProviderName>) -> Vec<String> {
    current
        .iter()
        .filter(|p| ProviderName::parse(p).is_none())
        .cloned()
        .chain(ours.iter().map(|p| p.as_str().to_owned()))
        .collect()
}

/// The providers of this service a sign-in went through, from Cognito's `identities` user
/// attribute (a JSON array as text: `[{"providerName": "o-…", "providerType": "SAML", …}]`).
/// A person who signed up with a password has none.
pub fn signed_in_through(identities: Option<&str>) -> Vec<ProviderName> {
    #[derive(serde::Deserialize)]
    struct Identity {
        #[serde(rename = "providerName")]
        provider_name: String,
    }
    identities
        .and_then(|raw| serde_json::from_str::<Vec<Identity>>(raw).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|i| ProviderName::parse(&i.provider_name))
        .collect()
}

/// An organization's SSO as every sign-in and request sees it (kept on its item).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgSso {
    pub provider: Option<ProviderName>,
    pub required: bool,
    /// The verified domains its connection covers.
    pub domains: Vec<EmailDomain>,
}

impl OrgSso {
    /// Whether a person at `email` signing in through `providers` becomes a member through this
    /// organization's connection: only at one of its domains, only through its own provider.
    pub fn provisions(&self, email: Option<&str>, providers: &[ProviderName]) -> bool {
        let through = self
            .provider
            .as_ref()
            .is_some_and(|p| providers.contains(p));
        through && self.covers(email)
    }

    /// Whether `sso_required` keeps a member at `email`, signed in through `providers`, out:
    /// their address is at its domains and they did not sign in through its provider.
    pub fn shuts_out(&self, email: Option<&str>, providers: &[ProviderName]) -> bool {
        self.requires_of(email)
            && !self
                .provider
                .as_ref()
                .is_some_and(|p| providers.contains(p))
    }

    /// Whether a person at `email` must sign in through its provider (an invitation to them
    /// says so).
    pub fn requires_of(&self, email: Option<&str>) -> bool {
        self.required && self.provider.is_some() && self.covers(email)
    }

    fn covers(&self, email: Option<&str>) -> bool {
        email
            .and_then(EmailDomain::of_email)
            .is_some_and(|d| self.domains.contains(&d))
    }
}

/// An organization's connection, as stored: never the OIDC client secret, which only Cognito
/// holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoConnection {
    pub org_id: OrgId,
    pub provider: ProviderName,
    /// Without its secret (`client_secret` is `None`).
    pub protocol: Protocol,
    pub mapping: AttributeMapping,
    pub default_role: RoleName,
    pub default_teams: Vec<TeamAssignment>,
    pub sso_required: bool,
    /// The verified domains it was given as identifiers.
    pub domains: Vec<EmailDomain>,
    /// Moves with every change: a write expects the version it read.
    pub version: i64,
    pub created_at: super::Timestamp,
    pub updated_at: super::Timestamp,
}

impl SsoConnection {
    /// The connection `spec` makes for `org`, replacing `previous` (if any) at `at`.
    pub fn from_spec(
        org: &OrgId,
        spec: SsoSpec,
        domains: Vec<EmailDomain>,
        previous: Option<&SsoConnection>,
        at: super::Timestamp,
    ) -> Self {
        let protocol = match spec.protocol {
            Protocol::Oidc {
                issuer,
                client_id,
                scopes,
                ..
            } => Protocol::Oidc {
                issuer,
                client_id,
                client_secret: None,
                scopes,
            },
            saml => saml,
        };
        SsoConnection {
            org_id: org.clone(),
            provider: ProviderName::of(org),
            protocol,
            mapping: spec.mapping,
            default_role: spec.default_role,
            default_teams: spec.default_teams,
            sso_required: spec.sso_required,
            domains,
            version: previous.map_or(1, |p| p.version + 1),
            created_at: previous.map_or(at, |p| p.created_at),
            updated_at: at,
        }
    }

    /// What every sign-in and request of its organization needs of it.
    pub fn org_sso(&self) -> OrgSso {
        OrgSso {
            provider: Some(self.provider.clone()),
            required: self.sso_required,
            domains: self.domains.clone(),
        }
    }
}

/// The role and teams a person provisioned through `connection` gets, as its custom roles
/// (`roles`: each key with its scope) and teams (`live_teams`) were read: a custom role deleted
/// since, or of the wrong scope, gives `member` instead; a team gone is left out.
pub fn provisioned_access(
    connection: &SsoConnection,
    roles: &[(RoleKey, RoleScope)],
    live_teams: &[TeamId],
) -> (RoleName, Vec<TeamAssignment>) {
    let exists = |key: &RoleKey, scope: RoleScope| roles.contains(&(key.clone(), scope));
    let role = match &connection.default_role {
        RoleName::Custom(key) if !exists(key, RoleScope::Organization) => {
            RoleName::System(Role::Member)
        }
        role => role.clone(),
    };
    let teams = connection
        .default_teams
        .iter()
        .filter(|a| live_teams.contains(&a.team_id))
        .map(|a| TeamAssignment {
            team_id: a.team_id.clone(),
            role: match &a.role {
                TeamRole::Custom(key) if !exists(key, RoleScope::Team) => TeamRole::Member,
                role => role.clone(),
            },
        })
        .collect();
    (role, teams)
}

/// Whether a request replacing an OIDC connection may leave its secret out: only when the
/// stored one is OIDC with the same issuer and client, whose secret Cognito holds.
pub fn may_keep_secret(spec: &SsoSpec, previous: Option<&SsoConnection>) -> bool {
    match (&spec.protocol, previous.map(|p| &p.protocol)) {
        (
            Protocol::Oidc {
                issuer, client_id, ..
            },
            Some(Protocol::Oidc {
                issuer: old_issuer,
                client_id: old_client,
                ..
            }),
        ) => issuer == old_issuer && client_id == old_client,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
