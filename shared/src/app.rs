//! What a function needs at run time, built once per process from one `SdkConfig`.

use aws_config::SdkConfig;

// The limits are a product rule and live in the domain; configured here.
pub use crate::domain::Limits;
use crate::domain::invitation_link::{self, RedirectOrigins};
use crate::domain::{AppPermission, ClaimRules, EmailDomain, MaxTokenOrgs, RecheckPolicy, Region};
use crate::idp::{IdentityProviders, SsoSettings};
use crate::mail::Mailer;
use crate::store::{Retention, Store};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// How invitations are made.
#[derive(Clone, Debug)]
pub struct InvitationSettings {
    /// Links are `{url_base}?token={token}`, unless the invitation names its own page.
    pub url_base: String,
    /// The origins whose pages an invitation's `redirect_url` may name.
    pub redirect_origins: RedirectOrigins,
    /// How long an invitation lasts that does not say (`expires_in_days`).
    pub ttl_seconds: i64,
    pub mail_from: String,
    /// The SES configuration set every email goes out with (`ORGS_SES_CONFIGURATION_SET`):
    /// its events report each email's delivery. Unset, emails carry their tags but SES reports
    /// nothing.
    pub configuration_set: Option<String>,
    /// Whether an invitation's replies go to the inviter's verified address (`Reply-To`).
    pub reply_to_inviter: bool,
    /// The product's name, in the welcome an invitee without an account gets.
    pub product_name: String,
    /// Where the welcome sends an invitee to create an account (`sign_up_link` adds the accept
    /// link to return to); `None`, the accept link itself, whose page then offers to sign up.
    pub sign_up_url: Option<String>,
}

impl Default for InvitationSettings {
    fn default() -> Self {
        Self {
            url_base: "http://127.0.0.1:3001/invite".into(),
            redirect_origins: RedirectOrigins::default(),
            ttl_seconds: 7 * 24 * 3600,
            mail_from: "no-reply@orgs.local".into(),
            configuration_set: None,
            reply_to_inviter: true,
            product_name: "orgs".into(),
            sign_up_url: None,
        }
    }
}

/// Settings from the environment; the SAM template sets them, the local server too.
#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    /// Bodies larger than this are refused with 413 before they are parsed.
    pub max_body_bytes: usize,
    pub retention: Retention,
    pub limits: Limits,
    pub invitations: InvitationSettings,
    /// How long the API in front waits for a function: API Gateway's 30 s (an HTTP API's most,
    /// never configured otherwise when deployed). A request's time budget ends there at the
    /// latest (`crate::budget`); only tests on a slow local AWS lengthen it.
    pub gateway_limit: std::time::Duration,
    /// The most organizations the `token-claims` trigger names in a token.
    pub token_max_orgs: MaxTokenOrgs,
    /// The domains no organization may claim.
    pub claim_rules: ClaimRules,
    /// How domains' TXT records are looked up.
    pub dns: DnsSettings,
    /// How often the schedule looks a verified domain's record up again, and how long it may
    /// be missing before the domain is unverified.
    pub domain_recheck: RecheckPolicy,
    /// What happens when a person signs up.
    pub sign_up: SignUpSettings,
    /// The application's own permissions, beside the service's (`ORGS_APP_PERMISSIONS`).
    pub app_permissions: Vec<AppPermission>,
    /// Single sign-on's user pool and app client; `None` (either unset) turns it off.
    pub sso: Option<SsoSettings>,
}

/// A first organization for each person who signs up (`CreateOrgOnSignUp`), and its region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignUpSettings {
    pub create_first_org: bool,
    pub first_org_region: Region,
}

impl Default for SignUpSettings {
    fn default() -> Self {
        Self {
            create_first_org: false,
            first_org_region: Region::Us,
        }
    }
}

impl SignUpSettings {
    /// `ORGS_CREATE_ORG_ON_SIGN_UP` (`true` or `false`, default `false`) and
    /// `ORGS_FIRST_ORG_REGION` (`us` or `eu`, default `us`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            create_first_org: flag("ORGS_CREATE_ORG_ON_SIGN_UP", defaults.create_first_org)?,
            first_org_region: match var("ORGS_FIRST_ORG_REGION") {
                None => defaults.first_org_region,
                Some(raw) => Region::parse(&raw).map_err(|_| ConfigError::Invalid {
                    name: "ORGS_FIRST_ORG_REGION",
                    reason: format!("{raw:?} is neither us nor eu"),
                })?,
            },
        })
    }
}

/// The resolver that verification asks, and how long it waits for each of its two attempts.
#[derive(Clone, Copy, Debug)]
pub struct DnsSettings {
    pub resolver: std::net::SocketAddr,
    pub timeout: std::time::Duration,
}

impl Default for DnsSettings {
    fn default() -> Self {
        Self {
            resolver: std::net::SocketAddr::from(([1, 1, 1, 1], 53)),
            timeout: std::time::Duration::from_secs(2),
        }
    }
}

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|_| ConfigError::Invalid {
            name,
            reason: format!("{raw:?} is not a number"),
        }),
    }
}

/// `true` or `false`; unset or empty, the default.
fn flag(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match var(name).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(raw) => Err(ConfigError::Invalid {
            name,
            reason: format!("{raw:?} is neither true nor false"),
        }),
    }
}

impl Config {
    pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024;

    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Retention::default();
        let limits = Limits::default();
        let invitations = InvitationSettings::default();
        Ok(Self {
            limits: Limits {
                pending_invitations_per_org: number(
                    "ORGS_MAX_PENDING_INVITATIONS",
                    limits.pending_invitations_per_org,
                )?,
                invitation_emails_per_org_per_day: number(
                    "ORGS_MAX_INVITATION_EMAILS_PER_DAY",
                    limits.invitation_emails_per_org_per_day,
                )?,
                resends_per_invitation_per_day: number(
                    "ORGS_MAX_RESENDS_PER_DAY",
                    limits.resends_per_invitation_per_day,
                )?,
                members_per_org: number("ORGS_MAX_MEMBERS", limits.members_per_org)?,
                metadata_bytes: number("ORGS_MAX_METADATA_BYTES", limits.metadata_bytes)?,
                domains_per_org: number("ORGS_MAX_DOMAINS", limits.domains_per_org)?,
                orgs_per_owner: number("ORGS_MAX_ORGS_PER_OWNER", limits.orgs_per_owner)?,
                invitation_emails_per_person_per_day: number(
                    "ORGS_MAX_INVITATION_EMAILS_PER_PERSON_PER_DAY",
                    limits.invitation_emails_per_person_per_day,
                )?,
                invitation_emails_per_new_org: number(
                    "ORGS_MAX_INVITATION_EMAILS_NEW_ORG",
                    limits.invitation_emails_per_new_org,
                )?,
                pending_join_requests_per_org: number(
                    "ORGS_MAX_PENDING_JOIN_REQUESTS",
                    limits.pending_join_requests_per_org,
                )?,
                pending_join_requests_per_person: number(
                    "ORGS_MAX_JOIN_REQUESTS_PER_PERSON",
                    limits.pending_join_requests_per_person,
                )?,
                roles_per_org: number("ORGS_MAX_ROLES", limits.roles_per_org)?,
                permissions_per_role: number(
                    "ORGS_MAX_ROLE_PERMISSIONS",
                    limits.permissions_per_role,
                )?,
            },
            dns: DnsSettings {
                resolver: match var("ORGS_DNS_RESOLVER") {
                    None => DnsSettings::default().resolver,
                    Some(raw) => raw.parse().map_err(|_| ConfigError::Invalid {
                        name: "ORGS_DNS_RESOLVER",
                        reason: format!("{raw:?} is not an address and port such as 1.1.1.1:53"),
                    })?,
                },
                timeout: std::time::Duration::from_millis(number(
                    "ORGS_DNS_TIMEOUT_MS",
                    DnsSettings::default().timeout.as_millis() as u64,
                )?),
            },
            domain_recheck: domain_recheck_from_env()?,
            claim_rules: claim_rules_from_env(
                var("ORGS_MAIL_FROM")
                    .as_deref()
                    .unwrap_or(&invitations.mail_from),
            )?,
            invitations: InvitationSettings {
                url_base: var("ORGS_INVITE_URL_BASE").unwrap_or(invitations.url_base),
                redirect_origins: match var("ORGS_INVITE_REDIRECT_ORIGINS") {
                    None => invitations.redirect_origins,
                    Some(list) => {
                        RedirectOrigins::parse(&list).map_err(|e| ConfigError::Invalid {
                            name: "ORGS_INVITE_REDIRECT_ORIGINS",
                            reason: e.to_string(),
                        })?
                    }
                },
                ttl_seconds: number("ORGS_INVITATION_TTL_SECONDS", invitations.ttl_seconds)?,
                mail_from: var("ORGS_MAIL_FROM").unwrap_or(invitations.mail_from),
                configuration_set: var("ORGS_SES_CONFIGURATION_SET"),
                reply_to_inviter: flag(
                    "ORGS_INVITATION_REPLY_TO_INVITER",
                    invitations.reply_to_inviter,
                )?,
                product_name: var("ORGS_PRODUCT_NAME").unwrap_or(invitations.product_name),
                sign_up_url: sign_up_url_from_env()?,
            },
            sign_up: SignUpSettings::from_env()?,
            app_permissions: match var("ORGS_APP_PERMISSIONS") {
                None => Vec::new(),
                Some(raw) => AppPermission::parse_list(&raw).map_err(|e| ConfigError::Invalid {
                    name: "ORGS_APP_PERMISSIONS",
                    reason: e.message,
                })?,
            },
            sso: match (var("ORGS_USER_POOL_ID"), var("ORGS_SSO_APP_CLIENT_ID")) {
                (Some(user_pool_id), Some(app_client_id)) => Some(SsoSettings {
                    user_pool_id,
                    app_client_id,
                }),
                _ => None,
            },
            table_name: var("ORGS_TABLE_NAME").ok_or(ConfigError::Missing("ORGS_TABLE_NAME"))?,
            max_body_bytes: number("ORGS_MAX_BODY_BYTES", Self::DEFAULT_MAX_BODY_BYTES)?,
            gateway_limit: crate::domain::budget::GATEWAY_LIMIT,
            token_max_orgs: token_max_orgs_from_env()?,
            retention: Retention {
                audit_seconds: number::<i64>(
                    "ORGS_AUDIT_RETENTION_DAYS",
                    defaults.audit_seconds / 86_400,
                )? * 86_400,
                event_seconds: defaults.event_seconds,
                dead_invitation_seconds: defaults.dead_invitation_seconds,
            },
        })
    }

    pub fn for_table(table_name: impl Into<String>) -> Self {
        Self {
            table_name: table_name.into(),
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            retention: Retention::default(),
            limits: Limits::default(),
            invitations: InvitationSettings::default(),
            gateway_limit: crate::domain::budget::GATEWAY_LIMIT,
            token_max_orgs: MaxTokenOrgs::default(),
            dns: DnsSettings::default(),
            domain_recheck: RecheckPolicy::default(),
            sign_up: SignUpSettings::default(),
            app_permissions: Vec::new(),
            sso: None,
            claim_rules: ClaimRules {
                service_domains: EmailDomain::of_email(&InvitationSettings::default().mail_from)
                    .into_iter()
                    .collect(),
                ..ClaimRules::default()
            },
        }
    }
}

/// `ORGS_PUBLIC_EMAIL_DOMAINS` (replacing the built-in list of public providers when set) and
/// `ORGS_SERVICE_DOMAINS`, to which the domain of the sender address is always added.
fn claim_rules_from_env(mail_from: &str) -> Result<ClaimRules, ConfigError> {
    let list = |name: &'static str, raw: &str| {
        ClaimRules::parse_list(raw).map_err(|e| ConfigError::Invalid {
            name,
            reason: format!("{:?} is not a domain", e.field),
        })
    };
    let mut rules = ClaimRules::default();
    if let Some(raw) = var("ORGS_PUBLIC_EMAIL_DOMAINS") {
        rules.public_providers = list("ORGS_PUBLIC_EMAIL_DOMAINS", &raw)?;
    }
    if let Some(raw) = var("ORGS_SERVICE_DOMAINS") {
        rules.service_domains = list("ORGS_SERVICE_DOMAINS", &raw)?;
    }
    rules
        .service_domains
        .extend(EmailDomain::of_email(mail_from));
    Ok(rules)
}

/// `ORGS_SIGN_UP_URL`: an absolute URL without a fragment (the sign-up link puts the accept
/// link there); unset or empty, none.
fn sign_up_url_from_env() -> Result<Option<String>, ConfigError> {
    let Some(raw) = var("ORGS_SIGN_UP_URL") else {
        return Ok(None);
    };
    match url::Url::parse(&raw) {
        Ok(url) if url.fragment().is_none() && url.has_host() => Ok(Some(raw)),
        _ => Err(ConfigError::Invalid {
            name: "ORGS_SIGN_UP_URL",
            reason: format!("{raw:?} is not an absolute URL without a fragment"),
        }),
    }
}

/// `ORGS_DOMAIN_RECHECK_HOURS` and `ORGS_DOMAIN_GRACE_HOURS`, whole hours of at least one.
fn domain_recheck_from_env() -> Result<RecheckPolicy, ConfigError> {
    let defaults = RecheckPolicy::default();
    let hours = |name: &'static str, default_seconds: i64| {
        let hours = number::<i64>(name, default_seconds / 3600)?;
        if hours < 1 {
            return Err(ConfigError::Invalid {
                name,
                reason: format!("{hours} is not a number of hours of at least 1"),
            });
        }
        Ok(hours * 3600)
    };
    Ok(RecheckPolicy {
        interval_seconds: hours("ORGS_DOMAIN_RECHECK_HOURS", defaults.interval_seconds)?,
        grace_seconds: hours("ORGS_DOMAIN_GRACE_HOURS", defaults.grace_seconds)?,
    })
}

/// `ORGS_TOKEN_MAX_ORGS`, by default `MaxTokenOrgs::DEFAULT`.
pub fn token_max_orgs_from_env() -> Result<MaxTokenOrgs, ConfigError> {
    const NAME: &str = "ORGS_TOKEN_MAX_ORGS";
    let max = number(NAME, MaxTokenOrgs::default().get())?;
    MaxTokenOrgs::new(max).ok_or_else(|| ConfigError::Invalid {
        name: NAME,
        reason: format!("{max} is not between 1 and {}", MaxTokenOrgs::MOST),
    })
}

/// Shared state of a function: its clients and settings.
#[derive(Clone, Debug)]
pub struct App {
    pub store: Store,
    pub mailer: Mailer,
    /// The SDK configuration, for the clients only some functions build (`idp`).
    sdk: SdkConfig,
    idp: std::sync::OnceLock<Option<IdentityProviders>>,
    pub config: Config,
}

impl App {
    /// Builds every client from the one `SdkConfig` (creating a client makes no request).
    pub fn new(sdk: &SdkConfig, config: Config) -> Self {
        let store = Store::new(
            aws_sdk_dynamodb::Client::new(sdk),
            config.table_name.clone(),
            config.retention,
        );
        let mailer = Mailer::new(
            aws_sdk_sesv2::Client::new(sdk),
            config.invitations.mail_from.clone(),
        )
        .with_configuration_set(config.invitations.configuration_set.clone());
        Self {
            store,
            mailer,
            sdk: sdk.clone(),
            idp: std::sync::OnceLock::new(),
            config,
        }
    }

    /// The organizations' identity providers, when single sign-on is configured. Built on first
    /// use: only the functions that call it link Cognito's client, and only they build it.
    pub fn idp(&self) -> Option<&IdentityProviders> {
        self.idp
            .get_or_init(|| {
                self.config.sso.clone().map(|settings| {
                    let client = aws_sdk_cognitoidentityprovider::Client::new(&self.sdk);
                    IdentityProviders::new(client, settings)
                })
            })
            .as_ref()
    }

    /// The accept link for a token: on the invitation's own page (`redirect_url`, checked
    /// against the allowlist when it was made), else on the configured one.
    pub fn invite_link(
        &self,
        redirect_url: Option<&str>,
        token: &crate::domain::InvitationToken,
    ) -> String {
        let page = redirect_url.unwrap_or(&self.config.invitations.url_base);
        invitation_link::invite_link(page, token.expose())
    }
}
