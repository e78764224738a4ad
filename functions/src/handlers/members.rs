//! Members of an organization: list and read (any member), change role or status, remove
//! (admins and owners, within the rules of `domain::membership`), leave (anyone, oneself), and
//! transfer ownership (owners).

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;

use orgs_shared::app::App;
use orgs_shared::domain::{
    MemberChange, MemberStatus, Permission, Role, Standing, UserId, ValidationError, may_change,
};
use orgs_shared::http::{
    ApiError, Caller, PageRequest, caller, encode_cursor, json, json_body, no_content, present,
};
use orgs_shared::store::{Membership, Organization};

use crate::access::{authorize, check, op, path_param};
use crate::views::{MemberView, PageView};

fn invalid(field: &str, message: &str) -> ApiError {
    ValidationError::new(field, "invalid_query", message).into()
}

/// The organization, the caller's membership (active, or 404) and the target's, if any.
async fn caller_and_target(
    app: &App,
    caller: &Caller,
    req: &Request,
    target: &str,
) -> Result<(Organization, Membership, Option<Membership>), ApiError> {
    let org_id = orgs_shared::domain::OrgId::parse(&path_param(req, "org_id"))
        .ok_or(ApiError::NotFound("organization"))?;
    let target = UserId::parse(target).ok_or(ApiError::NotFound("member"))?;
    let (org, mine, theirs) = app
        .store
        .org_with_two_members(&org_id, &caller.user_id, &target)
        .await?
        .ok_or(ApiError::NotFound("organization"))?;
    let mine = check(&org, mine, Permission::ViewOrganization)?;
    Ok((org, mine, theirs))
}

fn standing(m: &Membership) -> Standing {
    Standing {
        role: m.role,
        status: m.status,
    }
}

fn allowed(caller: &Membership, target: &Membership, change: MemberChange) -> Result<(), ApiError> {
    may_change(
        standing(caller),
        caller.user_id == target.user_id,
        standing(target),
        change,
    )
    .map_err(|denied| ApiError::Forbidden(denied.detail().into()))
}

pub async fn list_members(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let page = PageRequest::from_request(&req)?;
    let query = req.query_string_parameters();
    let role = query
        .first("role")
        .map(|r| Role::parse(r).ok_or_else(|| invalid("role", "role is owner, admin or member.")))
        .transpose()?;
    let status = query
        .first("status")
        .map(|s| {
            MemberStatus::parse(s)
                .ok_or_else(|| invalid("status", "status is active or deactivated."))
        })
        .transpose()?;
    let after = page.after_as(UserId::parse)?;
    let (org, _) = authorize(
        app,
        &caller,
        &path_param(&req, "org_id"),
        Permission::ViewOrganization,
    )
    .await?;
    let found = app
        .store
        .list_members(&org.org_id, role, status, page.limit, after.as_ref())
        .await?;
    let users: Vec<UserId> = found.items.iter().map(|m| m.user_id.clone()).collect();
    let profiles = app.store.profiles(&users).await?;
    let items = found
        .items
        .iter()
        .map(|m| MemberView::new(m, profiles.iter().find(|p| p.user_id == m.user_id)))
        .collect();
    let next_cursor = found.next.map(|user| encode_cursor(user.as_str()));
    Ok(json(StatusCode::OK, &PageView { items, next_cursor }))
}

pub async fn get_member(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (_, _, target) =
        caller_and_target(app, &caller, &req, &path_param(&req, "user_id")).await?;
    let target = target.ok_or(ApiError::NotFound("member"))?;
    let profile = app.store.get_user(&target.user_id).await?;
    Ok(json(
        StatusCode::OK,
        &MemberView::new(&target, profile.as_ref()),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateMember {
    #[serde(default, deserialize_with = "present")]
    role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    status: Option<String>,
}

pub async fn update_member(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: UpdateMember = json_body(&req, app.config.max_body_bytes)?;
    let role = body
        .role
        .as_deref()
        .map(|r| {
            Role::parse(r).ok_or_else(|| {
                ValidationError::new("role", "invalid_role", "role is owner, admin or member.")
            })
        })
        .transpose()?;
    let status = body
        .status
        .as_deref()
        .map(|s| {
            MemberStatus::parse(s).ok_or_else(|| {
                ValidationError::new(
                    "status",
                    "invalid_status",
                    "status is active or deactivated.",
                )
            })
        })
        .transpose()?;
    if role.is_none() && status.is_none() {
        return Err(
            ValidationError::new("body", "required", "Send a role, a status, or both.").into(),
        );
    }
    let (_, mine, target) =
        caller_and_target(app, &caller, &req, &path_param(&req, "user_id")).await?;
    let target = target.ok_or(ApiError::NotFound("member"))?;
    if let Some(role) = role {
        allowed(&mine, &target, MemberChange::SetRole(role))?;
    }
    if let Some(status) = status {
        allowed(&mine, &target, MemberChange::SetStatus(status))?;
    }
    if role.is_none_or(|r| r == target.role) && status.is_none_or(|s| s == target.status) {
        let profile = app.store.get_user(&target.user_id).await?;
        return Ok(json(
            StatusCode::OK,
            &MemberView::new(&target, profile.as_ref()),
        ));
    }
    let updated = app
        .store
        .change_member(&mine, &target, role, status, &op(&caller, &req))
        .await?;
    let profile = app.store.get_user(&updated.user_id).await?;
    Ok(json(
        StatusCode::OK,
        &MemberView::new(&updated, profile.as_ref()),
    ))
}

/// Removal; on oneself it is leaving.
pub async fn remove_member(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (_, mine, target) =
        caller_and_target(app, &caller, &req, &path_param(&req, "user_id")).await?;
    let target = target.ok_or(ApiError::NotFound("member"))?;
    allowed(&mine, &target, MemberChange::Remove)?;
    app.store
        .remove_member(&mine, &target, &op(&caller, &req))
        .await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfer {
    user_id: String,
}

/// The target becomes owner and the caller admin, in one step; only to an active member who
/// is not an owner already.
pub async fn transfer_ownership(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: Transfer = json_body(&req, app.config.max_body_bytes)?;
    if UserId::parse(&body.user_id).is_none() {
        return Err(ValidationError::new("user_id", "invalid_user_id", "Not a user id.").into());
    }
    let (org, mine, target) = caller_and_target(app, &caller, &req, &body.user_id).await?;
    check(&org, Some(mine.clone()), Permission::TransferOwnership)?;
    let target = target.ok_or_else(|| {
        ApiError::from(ValidationError::new(
            "user_id",
            "not_a_member",
            "Ownership goes to a member of the organization.",
        ))
    })?;
    if target.user_id == mine.user_id || target.role == Role::Owner {
        return Err(ApiError::Conflict {
            code: "already-owner",
            detail: "This member is already an owner.".into(),
        });
    }
    if target.status != MemberStatus::Active {
        return Err(ApiError::Conflict {
            code: "member-deactivated",
            detail: "Ownership goes only to an active member; reactivate them first.".into(),
        });
    }
    app.store
        .transfer_ownership(&mine, &target, &op(&caller, &req))
        .await?;
    Ok(no_content())
}
