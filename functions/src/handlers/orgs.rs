//! Organizations: create, list, read, edit, rename and delete.

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;

use orgs_shared::app::App;
use orgs_shared::domain::{
    DisplayName, Email, FieldErrors, Handle, HttpsUrl, MemberStatus, NewOrganization, OrgId,
    OrgProfilePatch, OrgStatus, Permission, Role, ValidationError,
};
use orgs_shared::http::{
    ApiError, PageRequest, Patch, caller, created, encode_cursor, json, json_body, no_content,
    present,
};
use orgs_shared::store::{Refusal, StoreError};

use crate::access::{authorize, check, load, op, with_stored_email};
use crate::views::{OrgView, PageView};

fn org_id_param(req: &Request) -> String {
    req.path_parameters()
        .first("org_id")
        .unwrap_or_default()
        .to_owned()
}

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
    )
    .map_err(|e| ApiError::Invalid(e.into_vec()))?;
    let caller = with_stored_email(app, caller).await?;
    let (org, owner) = app
        .store
        .create_org(&new, &caller.identity(), &op(&caller, &req))
        .await?;
    Ok(created(
        &format!("/orgs/{}", org.org_id),
        &OrgView::new(&org, &owner),
    ))
}

pub async fn list_orgs(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let page = PageRequest::from_request(&req)?;
    let after = page.after_as(OrgId::parse)?;
    let found = app
        .store
        .list_user_orgs(&caller.user_id, page.limit, after.as_ref())
        .await?;
    let items = found
        .items
        .iter()
        .map(|(org, m)| OrgView::new(org, m))
        .collect();
    let next_cursor = found.next.map(|org| encode_cursor(org.as_str()));
    Ok(json(StatusCode::OK, &PageView { items, next_cursor }))
}

pub async fn get_org(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (org, membership) = authorize(
        app,
        &caller,
        &org_id_param(&req),
        Permission::ViewOrganization,
    )
    .await?;
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
}

fn parse_patch(body: UpdateOrg) -> Result<OrgProfilePatch, ApiError> {
    let mut errors = FieldErrors::default();
    let display_name = match body.display_name {
        Patch::Absent => None,
        Patch::Null => {
            errors.push(ValidationError::new(
                "display_name",
                "required",
                "An organization always has a display name.",
            ));
            None
        }
        Patch::Value(name) => errors.take(DisplayName::parse("display_name", &name)),
    };
    let mut url_field = |field: &str, value: Patch<String>| {
        value
            .into_option()
            .map(|v| v.and_then(|u| errors.take(HttpsUrl::parse(field, &u))))
    };
    let avatar_url = url_field("avatar_url", body.avatar_url);
    let url = url_field("url", body.url);
    let billing_email = body
        .billing_email
        .into_option()
        .map(|v| v.and_then(|e| errors.take(Email::parse("billing_email", &e))));
    if !errors.is_empty() {
        return Err(errors.into_vec().into());
    }
    Ok(OrgProfilePatch {
        display_name,
        avatar_url,
        url,
        billing_email,
    })
}

pub async fn update_org(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let patch = parse_patch(json_body(&req, app.config.max_body_bytes)?)?;
    let (org, membership) =
        authorize(app, &caller, &org_id_param(&req), Permission::EditProfile).await?;
    if patch.is_empty() {
        return Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)));
    }
    let org = app
        .store
        .update_org(&org, &patch, &op(&caller, &req))
        .await?;
    Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeHandle {
    handle: String,
}

pub async fn change_org_handle(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: ChangeHandle = json_body(&req, app.config.max_body_bytes)?;
    let handle = Handle::parse(&body.handle)?;
    let (org, membership) =
        authorize(app, &caller, &org_id_param(&req), Permission::ChangeHandle).await?;
    if org.handle == handle.as_str() {
        return Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)));
    }
    let org = app
        .store
        .change_org_handle(&org, &handle, &op(&caller, &req))
        .await?;
    Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)))
}

/// Deletion runs in steps (see `store::deletion`); an owner who repeats the request after a
/// failure finishes it, even though the organization is already hidden from everyone else.
pub async fn delete_org(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let confirm = req
        .query_string_parameters()
        .first("confirm")
        .map(str::to_owned);
    let (org, membership) = load(app, &caller, &org_id_param(&req)).await?;
    if org.status == OrgStatus::Active {
        check(&org, membership, Permission::DeleteOrganization)?;
    } else if !membership.is_some_and(|m| m.role == Role::Owner && m.status == MemberStatus::Active)
    {
        return Err(ApiError::NotFound("organization"));
    }
    let Some(confirm) = confirm else {
        return Err(ValidationError::new(
            "confirm",
            "required",
            "Repeat the organization's handle in ?confirm= to delete it.",
        )
        .into());
    };
    if confirm.to_ascii_lowercase() != org.handle {
        return Err(ValidationError::new(
            "confirm",
            "confirmation_mismatch",
            "This is not the organization's current handle; nothing was deleted.",
        )
        .into());
    }
    if org.status == OrgStatus::Active {
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
