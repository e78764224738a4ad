//! An organization's email domains: owners add and remove them, admins and owners read them.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use orgs_shared::app::App;
use orgs_shared::dns::Dns;
use orgs_shared::domain::{Challenge, EmailDomain, Enrollment};
use orgs_shared::http::{
    ApiError, Caller, PageRequest, answer_at_commit, caller, created, encode_cursor, json,
    json_body, no_content,
};
use orgs_shared::store::{Domain, ItemKey, Membership, Refusal, StoreError};

use crate::access::{Gate, Uncounted, op, path_param};
use crate::views::{DomainView, PageView};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddDomainBody {
    domain: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateDomainBody {
    enrollment: String,
    default_role: Option<String>,
}

/// The domain named in the path, in an organization where the caller holds what the route needs, and
/// the caller's membership there.
async fn domain(
    gate: &Gate,
    app: &App,
    caller: &Caller,
    req: &Request,
) -> Result<(Domain, Membership), ApiError> {
    let name = EmailDomain::parse("domain", &path_param(req, "domain")).ok();
    let keys: Vec<ItemKey> = name.iter().map(ItemKey::Domain).collect();
    let Uncounted { items, me, .. } = gate.open_reading_uncounted(app, caller, req, &keys).await?;
    let found = match &name {
        Some(name) => items.domain(name)?,
        None => None,
    };
    Ok((found.ok_or(ApiError::NotFound("domain"))?, me))
}

pub async fn add_domain(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: AddDomainBody = json_body(&req, app.config.max_body_bytes)?;
    let name = EmailDomain::parse("domain", &body.domain)?;
    app.config.claim_rules.may_claim(&name)?;
    let (org, me) = gate.open(app, &caller, &req).await?;
    let max = app.config.limits.domains_per_org;
    app.config.limits.admit_domain(org.domain_count)?;
    let challenge = Challenge::generate()?;
    answer_at_commit(domain_added);
    let added = app
        .store
        .add_domain(
            &org,
            &name,
            challenge,
            max,
            &op(&caller, &req).acting_as(&me),
        )
        .await?;
    Ok(domain_added(&added))
}

fn domain_added(added: &Domain) -> Response<Body> {
    created(
        &format!("/orgs/{}/domains/{}", added.org_id, added.domain),
        &DomainView::from(added),
    )
}

fn domain_answer(domain: &Domain) -> Response<Body> {
    json(StatusCode::OK, &DomainView::from(domain))
}

pub async fn list_domains(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let page = PageRequest::from_request(&req)?;
    let after = page.after_as(|raw| EmailDomain::parse("cursor", raw).ok())?;
    let (org_id, _) = gate.open_uncounted(app, &caller, &req).await?;
    let found = app
        .store
        .list_domains(&org_id, page.limit, after.as_ref())
        .await?;
    let items = found.items.iter().map(DomainView::from).collect();
    let next_cursor = found.next.map(|d| encode_cursor(d.as_str()));
    Ok(json(StatusCode::OK, &PageView { items, next_cursor }))
}

pub async fn get_domain(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (found, _) = domain(&gate, app, &caller, &req).await?;
    Ok(json(StatusCode::OK, &DomainView::from(&found)))
}

/// Looks the TXT record up and, if it carries the domain's value, marks the domain verified
/// for this organization (409 `domain-claimed` if another holds it); otherwise answers what
/// was found instead, and changes nothing.
pub async fn verify_domain(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (found, me) = domain(&gate, app, &caller, &req).await?;
    let dns = Dns::new(app.config.dns.resolver, app.config.dns.timeout)?;
    let answer = dns.txt(&found.domain.record_name()).await?;
    found.challenge.judge(&found.domain, &answer)?;
    answer_at_commit(domain_answer);
    let verified = app
        .store
        .verify_domain(&found, &op(&caller, &req).acting_as(&me))
        .await
        .map_err(|e| match e {
            StoreError::Refused(Refusal::Gone) => ApiError::NotFound("domain"),
            other => other.into(),
        })?;
    crate::sso_client::refresh_identifiers(app, &verified.org_id).await;
    Ok(domain_answer(&verified))
}

/// Sets who may come in through the domain (`domain::enrollment`).
pub async fn update_domain(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: UpdateDomainBody = json_body(&req, app.config.max_body_bytes)?;
    let enrollment = Enrollment::parse(&body.enrollment, body.default_role.as_deref())?;
    let (found, me) = domain(&gate, app, &caller, &req).await?;
    answer_at_commit(domain_answer);
    let updated = app
        .store
        .set_enrollment(&found, enrollment, &op(&caller, &req).acting_as(&me))
        .await
        .map_err(|e| match e {
            StoreError::Refused(Refusal::Gone) => ApiError::NotFound("domain"),
            other => other.into(),
        })?;
    Ok(domain_answer(&updated))
}

pub async fn remove_domain(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (found, me) = domain(&gate, app, &caller, &req).await?;
    app.store
        .remove_domain(&found, &op(&caller, &req).acting_as(&me))
        .await
        .map_err(|e| match e {
            StoreError::Refused(Refusal::Gone) => ApiError::NotFound("domain"),
            other => other.into(),
        })?;
    crate::sso_client::refresh_identifiers(app, &found.org_id).await;
    Ok(no_content())
}
