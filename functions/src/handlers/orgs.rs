//! Organizations: create, list, read, edit, rename and delete.

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;

use orgs_shared::app::App;
use orgs_shared::domain::{
    Handle, NewOrganization, OrgId, OrgProfilePatch, confirm_deletion, deletion_access,
    may_write_metadata,
};
use orgs_shared::http::{
    ApiError, PageRequest, Patch, answer_at_commit, caller, created, encode_cursor, json,
    json_body, no_content, present,
};
use orgs_shared::store::{Membership, Organization, Refusal, Rereads, StoreError};

use super::metadata::{self, MetadataBody};
use crate::access::{Gate, op, with_stored_email};
use crate::views::{OrgView, PageView};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrg {
    handle: String,
    display_name: String,
    region: String,
    #[serde(default, deserialize_with = "present")]
    avatar_url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    url: Option<String>,
}

pub async fn create_org(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: CreateOrg = json_body(&req, app.config.max_body_bytes)?;
    let new = NewOrganization::parse(
        &body.handle,
        &body.display_name,
        &body.region,
        body.avatar_url.as_deref(),
        body.url.as_deref(),
    )?;
    let caller = with_stored_email(app, caller).await?;
    answer_at_commit(|(org, owner): &(Organization, Membership)| org_created(org, owner));
    let (org, owner) = app
        .store
        .create_org(
            &new,
            &caller.identity(),
            &app.config.limits,
            &op(&caller, &req),
        )
        .await?;
    Ok(org_created(&org, &owner))
}

fn org_created(org: &Organization, owner: &Membership) -> Response<Body> {
    created(&format!("/orgs/{}", org.org_id), &OrgView::new(org, owner))
}

pub async fn list_orgs(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let page = PageRequest::from_request(&req)?;
    let after = page.after_as(OrgId::parse)?;
    let found = app
        .store
        .list_user_orgs(&caller.user_id, page.limit, after.as_ref())
        .await?;
    let through: Vec<_> = caller.sso_provider.iter().cloned().collect();
    let items = found
        .items
        .iter()
        .map(|(org, m)| OrgView {
            sso_required: org.sso.shuts_out(m.email.as_deref(), &through),
            ..OrgView::new(org, m)
        })
        .collect();
    let next_cursor = found.next.map(|org| encode_cursor(org.as_str()));
    Ok(json(StatusCode::OK, &PageView { items, next_cursor }))
}

pub async fn get_org(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (org, membership) = gate.open(app, &caller, &req).await?;
    Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateOrg {
    #[serde(default)]
    display_name: Patch<String>,
    #[serde(default)]
    avatar_url: Patch<String>,
    #[serde(default)]
    url: Patch<String>,
    #[serde(default)]
    billing_email: Patch<String>,
    #[serde(default, deserialize_with = "present")]
    metadata: Option<MetadataBody>,
}

/// A PATCH field as the domain reads it: `None` left out, `Some(None)` cleared.
fn field(value: &Patch<String>) -> Option<Option<&str>> {
    match value {
        Patch::Absent => None,
        Patch::Null => Some(None),
        Patch::Value(v) => Some(Some(v)),
    }
}

fn parse_patch(body: &UpdateOrg) -> Result<OrgProfilePatch, ApiError> {
    Ok(OrgProfilePatch::parse(
        field(&body.display_name),
        field(&body.avatar_url),
        field(&body.url),
        field(&body.billing_email),
    )?)
}

/// Metadata is merged with what was read and written on the condition that it is still so;
/// when another write came first, the organization is read again and the patch merged again.
pub async fn update_org(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let mut body: UpdateOrg = json_body(&req, app.config.max_body_bytes)?;
    let patch = parse_patch(&body)?;
    let metadata_patch = metadata::parse(body.metadata.take())?;
    let op = op(&caller, &req);
    let mut rereads = Rereads::default();
    loop {
        let (org, membership) = gate.open(app, &caller, &req).await?;
        patch
            .may_apply(membership.standing().held)
            .map_err(|missing| {
                ApiError::Forbidden(format!(
                    "Your role cannot change this field; it takes the {} permission.",
                    missing.key()
                ))
            })?;
        if !metadata_patch.is_empty() {
            may_write_metadata(membership.standing())?;
        }
        let viewer = membership.clone();
        answer_at_commit(move |org: &Organization| {
            json(StatusCode::OK, &OrgView::new(org, &viewer))
        });
        let metadata = if metadata_patch.is_empty() {
            None
        } else {
            let change =
                metadata_patch.apply(&org.metadata.value, app.config.limits.metadata_bytes)?;
            (!change.is_empty()).then_some(change)
        };
        if patch.is_empty() && metadata.is_none() {
            return Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)));
        }
        match app
            .store
            .update_org(
                &org,
                &patch,
                metadata.as_ref(),
                &op.clone().acting_as(&membership),
            )
            .await
        {
            Ok(org) => return Ok(json(StatusCode::OK, &OrgView::new(&org, &membership))),
            Err(e) => rereads.again(e).await?,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeHandle {
    handle: String,
}

pub async fn change_org_handle(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: ChangeHandle = json_body(&req, app.config.max_body_bytes)?;
    let handle = Handle::parse(&body.handle)?;
    let (org, membership) = gate.open(app, &caller, &req).await?;
    if org.handle == handle.as_str() {
        return Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)));
    }
    let viewer = membership.clone();
    answer_at_commit(move |org: &Organization| json(StatusCode::OK, &OrgView::new(org, &viewer)));
    let org = app
        .store
        .change_org_handle(&org, &handle, &op(&caller, &req).acting_as(&membership))
        .await?;
    Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)))
}

/// Deletion runs in steps (see `store::deletion`); an owner who repeats the request after a
/// failure finishes it, even though the organization is already hidden from everyone else.
pub async fn delete_org(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let confirm = req
        .query_string_parameters()
        .first("confirm")
        .map(str::to_owned);
    let (org, _) = gate
        .open_in_any_status(app, &caller, &req, deletion_access)
        .await?;
    confirm_deletion(confirm.as_deref(), &org.handle)?;
    if org.is_live() {
        // Its identity provider goes first, out of the app client and the user pool: once the
        // deletion has begun, nothing is read from the organization any more.
        if let (Some(idp), Some(_)) = (app.idp(), &org.sso.provider)
            && let Some(connection) = app.store.get_sso(&org.org_id).await?
        {
            crate::handlers::sso::remove_connection(app, idp, &connection, &op(&caller, &req))
                .await?;
        }
        match app.store.begin_org_deletion(&org, &op(&caller, &req)).await {
            Ok(()) => {}
            Err(StoreError::Refused(Refusal::Changed)) => {
                return Err(ApiError::Conflict {
                    code: "concurrent-change",
                    detail: "The organization changed (or is being deleted) meanwhile; nothing was deleted.".into(),
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    let deleted = app
        .store
        .purge_org(&org.org_id, Some(&caller.user_id))
        .await?;
    tracing::info!(org_id = %org.org_id, deleted, "organization deleted");
    Ok(no_content())
}
