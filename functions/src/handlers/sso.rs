//! Single sign-on per organization: its owners connect the company's SAML or OIDC identity
//! provider (`GET|PUT|DELETE /orgs/{org_id}/sso`), which becomes an identity provider of the
//! deployer's Cognito user pool, listed by its app client; anyone asks which provider an
//! address signs in through (`GET /sso/discover`). Members are provisioned at their first
//! sign-in through it, by the token-claims trigger (`jobs::sso_sign_in`).

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;

use orgs_shared::app::App;
use orgs_shared::domain::sso::{MAX_METADATA_DOCUMENT, identifiers};
use orgs_shared::domain::{
    DomainStatus, EmailDomain, Grants, OrgId, Protocol, ProviderName, RawOidc, RawSso, RawTeam,
    RoleName, RoleRefused, RoleScope, SsoConnection, SsoSpec, TeamRole, ValidationError,
    may_assign, may_keep_secret,
};
use orgs_shared::http::{ApiError, answer_at_commit, caller, json, json_body, no_content};
use orgs_shared::idp::{IdentityProviders, IdpError, ProviderSettings};
use orgs_shared::store::{ItemKey, ReadItems, Refusal, StoreError};

use crate::access::{Gate, op};
use crate::sso_client::keep_client_in_step;
use crate::views::SsoView;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutSsoBody {
    #[serde(default)]
    saml: Option<SamlBody>,
    #[serde(default)]
    oidc: Option<OidcBody>,
    #[serde(default)]
    attribute_mapping: Option<MappingBody>,
    #[serde(default)]
    default_role: Option<String>,
    #[serde(default)]
    default_teams: Vec<TeamBody>,
    #[serde(default)]
    sso_required: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SamlBody {
    metadata_url: Option<String>,
    metadata_document: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OidcBody {
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
    scopes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingBody {
    email: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamBody {
    team_id: String,
    role: Option<String>,
}

impl PutSsoBody {
    fn raw(&self) -> RawSso<'_> {
        let mapping = self.attribute_mapping.as_ref();
        RawSso {
            saml: self.saml.is_some(),
            metadata_url: self.saml.as_ref().and_then(|s| s.metadata_url.as_deref()),
            metadata_document: self
                .saml
                .as_ref()
                .and_then(|s| s.metadata_document.as_deref()),
            oidc: self.oidc.as_ref().map(|o| RawOidc {
                issuer: &o.issuer,
                client_id: &o.client_id,
                client_secret: o.client_secret.as_deref(),
                scopes: o
                    .scopes
                    .as_ref()
                    .map(|s| s.iter().map(String::as_str).collect()),
            }),
            email_attribute: mapping.and_then(|m| m.email.as_deref()),
            name_attribute: mapping.and_then(|m| m.name.as_deref()),
            default_role: self.default_role.as_deref(),
            default_teams: self
                .default_teams
                .iter()
                .map(|t| RawTeam {
                    team_id: &t.team_id,
                    role: t.role.as_deref(),
                })
                .collect(),
            sso_required: self.sso_required,
        }
    }
}

/// The user pool's providers, or 501 when the deployment has none.
pub(crate) fn providers(app: &App) -> Result<&IdentityProviders, ApiError> {
    app.idp().ok_or(ApiError::SsoNotConfigured)
}

/// What Cognito's refusals mean to the caller.
pub(crate) fn idp_refused(err: IdpError) -> ApiError {
    match err {
        IdpError::Refused(reason) => ApiError::BadRequest {
            code: "identity-provider-refused",
            detail: format!(
                "Cognito refused the identity provider's settings: {reason}. Check the metadata \
                 URL or document (or the OIDC issuer) and try again; nothing was changed."
            ),
        },
        IdpError::Quota => ApiError::Conflict {
            code: "identity-provider-quota",
            detail: "The user pool holds as many identity providers as its quota allows; the \
                     deployment's operators can ask AWS to raise it."
                .into(),
        },
        other => ApiError::Idp(other),
    }
}

/// `GET /orgs/{org_id}/sso`: the connection, never its secret.
pub async fn get_sso(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let opened = gate
        .open_reading(app, &caller, &req, &[ItemKey::Sso])
        .await?;
    let mut connection = opened
        .items
        .sso()?
        .ok_or(ApiError::NotFound("sso connection"))?;
    // The domains it covers now: verifying and removing domains keep them on the organization.
    connection.domains = opened.org.sso.domains;
    Ok(json(StatusCode::OK, &SsoView::of(&connection)))
}

/// `PUT /orgs/{org_id}/sso`: creates or replaces the connection. The provider is put in the user
/// pool first, then the connection in the table, then the app client's list is brought in step
/// (which the schedule finishes if it fails here).
pub async fn put_sso(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    // A metadata document is larger than any other body: it gets room of its own.
    let limit = app
        .config
        .max_body_bytes
        .max(MAX_METADATA_DOCUMENT + 16 * 1024);
    let body: PutSsoBody = json_body(&req, limit)?;
    let spec = SsoSpec::parse(&body.raw())?;
    let idp = providers(app)?;
    let mut also = vec![ItemKey::Sso];
    if let RoleName::Custom(key) = &spec.default_role {
        also.push(ItemKey::Role(key));
    }
    also.extend(spec.default_teams.iter().map(|a| ItemKey::Team(&a.team_id)));
    also.extend(
        spec.default_teams
            .iter()
            .filter_map(|a| a.role.custom_key().map(ItemKey::Role)),
    );
    let opened = gate
        .open_reading_uncounted(app, &caller, &req, &also)
        .await?;
    let org_id = opened.org_id;
    let previous = opened.items.sso()?;
    check_defaults(&spec, &opened.items, &opened.me.grants())?;
    if matches!(
        &spec.protocol,
        Protocol::Oidc {
            client_secret: None,
            ..
        }
    ) && !may_keep_secret(&spec, previous.as_ref())
    {
        return Err(ValidationError::new(
            "oidc.client_secret",
            "required",
            "A new OIDC connection (or a new issuer or client) needs its client secret.",
        )
        .into());
    }
    let domains = verified_domains(app, &org_id).await?;
    if domains.is_empty() {
        return Err(ApiError::Conflict {
            code: "no-verified-domain",
            detail: "Verify one of the organization's email domains first: its domains decide \
                     who signs in through the connection."
                .into(),
        });
    }
    let name = ProviderName::of(&org_id);
    let kept = match &spec.protocol {
        Protocol::Oidc {
            client_secret: None,
            ..
        } => idp.kept_secret(&name).await.map_err(idp_refused)?,
        _ => None,
    };
    idp.put_provider(&ProviderSettings {
        name: &name,
        protocol: &spec.protocol,
        kept_secret: kept.as_ref(),
        mapping: &spec.mapping,
        identifiers: identifiers(&domains),
    })
    .await
    .map_err(idp_refused)?;
    let op = op(&caller, &req).acting_as(&opened.me);
    let connection = SsoConnection::from_spec(&org_id, spec, domains, previous.as_ref(), op.at);
    answer_at_commit(|connection: &SsoConnection| json(StatusCode::OK, &SsoView::of(connection)));
    app.store
        .put_sso(&connection, previous.as_ref(), &op)
        .await
        .map_err(changed_meanwhile)?;
    keep_client_in_step(app, idp, None).await;
    Ok(json(StatusCode::OK, &SsoView::of(&connection)))
}

/// `DELETE /orgs/{org_id}/sso`: the provider leaves the app client's list, then the pool, then
/// the table. With no connection stored, a provider a failed request left in the pool is
/// deleted all the same (204); 404 only when there was none anywhere.
pub async fn delete_sso(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let idp = providers(app)?;
    let opened = gate
        .open_reading_uncounted(app, &caller, &req, &[ItemKey::Sso])
        .await?;
    let name = ProviderName::of(&opened.org_id);
    let Some(connection) = opened.items.sso()? else {
        let existed = idp.delete_provider(&name).await.map_err(idp_refused)?;
        return match existed {
            true => Ok(no_content()),
            false => Err(ApiError::NotFound("sso connection")),
        };
    };
    remove_connection(
        app,
        idp,
        &connection,
        &op(&caller, &req).acting_as(&opened.me),
    )
    .await?;
    Ok(no_content())
}

/// Takes a connection out of the app client's list, the user pool and the table, in that order:
/// a failure leaves it stored, so that repeating the request finishes the job.
pub(crate) async fn remove_connection(
    app: &App,
    idp: &IdentityProviders,
    connection: &SsoConnection,
    op: &orgs_shared::domain::Op,
) -> Result<(), ApiError> {
    keep_client_in_step(app, idp, Some(&connection.provider)).await;
    idp.delete_provider(&connection.provider)
        .await
        .map_err(idp_refused)?;
    app.store
        .remove_sso(connection, op)
        .await
        .map_err(changed_meanwhile)?;
    keep_client_in_step(app, idp, None).await;
    Ok(())
}

/// `GET /sso/discover?email=`: whether the address's domain signs in through an organization's
/// connection, and the provider's name for Cognito's hosted sign-in; nothing else.
pub async fn discover_sso(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let query = req.query_string_parameters();
    let email = query.first("email").unwrap_or_default();
    let domain = EmailDomain::of_email(email).ok_or_else(|| {
        ValidationError::new(
            "email",
            "invalid_email",
            "An email address, such as bob@acme.com.",
        )
    })?;
    // Whether single sign-on is on is a setting: discovery reads the table, not Cognito.
    let provider = match app.config.sso {
        Some(_) => app.store.sso_for_domain(&domain).await?,
        None => None,
    };
    let answer = match provider {
        Some(provider) => {
            serde_json::json!({ "sso": true, "identity_provider": provider.as_str() })
        }
        None => serde_json::json!({ "sso": false }),
    };
    Ok(json(StatusCode::OK, &answer))
}

/// The default role and teams must be the organization's, of the right scope, and none
/// granting what the owner setting them lacks.
fn check_defaults(spec: &SsoSpec, items: &ReadItems, mine: &Grants) -> Result<(), ApiError> {
    let role_refused = |refused, field: String| ApiError::Role { refused, field };
    let custom = match &spec.default_role {
        RoleName::Custom(key) => items.role(key)?,
        RoleName::System(_) => None,
    };
    may_assign(mine, &spec.default_role, custom.as_ref())
        .map_err(|refused| role_refused(refused, "default_role".into()))?;
    for (i, assignment) in spec.default_teams.iter().enumerate() {
        if !items.team(&assignment.team_id)?.is_some_and(|t| t.active) {
            return Err(ValidationError::new(
                &format!("default_teams[{i}]"),
                "unknown_team",
                "The organization has no such team.",
            )
            .into());
        }
        if let TeamRole::Custom(key) = &assignment.role {
            let field = format!("default_teams[{i}].role");
            match items.role(key)? {
                Some(role) if role.scope == RoleScope::Team => {}
                Some(_) => return Err(role_refused(RoleRefused::WrongScope, field)),
                None => return Err(role_refused(RoleRefused::Unknown, field)),
            }
        }
    }
    Ok(())
}

/// The organization's verified domains, which its connection covers.
async fn verified_domains(app: &App, org: &OrgId) -> Result<Vec<EmailDomain>, ApiError> {
    let limit = usize::try_from(app.config.limits.domains_per_org).unwrap_or(usize::MAX);
    let page = app.store.list_domains(org, limit.max(1), None).await?;
    Ok(page
        .items
        .into_iter()
        .filter(|d| d.status == DomainStatus::Verified)
        .map(|d| d.domain)
        .collect())
}

/// Another request changed the connection at the same time: repeating this one will apply it.
fn changed_meanwhile(err: StoreError) -> ApiError {
    match err {
        StoreError::Refused(Refusal::Changed) => ApiError::Busy,
        other => other.into(),
    }
}
