//! An organization's roles: the system roles and its own custom roles, each a set of
//! permissions. Members read them; those holding `roles:manage` create, change and delete
//! custom roles, never one granting a permission they lack (`domain::custom_role`).

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use orgs_shared::app::App;
use orgs_shared::domain::{
    AppPermission, CustomRole, Role, RoleKey, RoleRefused, RoleScope, RoleSpec, ValidationError,
    may_grant,
};
use orgs_shared::http::{
    ApiError, Caller, answer_at_commit, caller, created, json, json_body, no_content, present,
};
use orgs_shared::store::{ItemKey, Membership, Refusal, StoreError};

use crate::access::{Gate, Uncounted, op, path_param};
use crate::views::RoleView;

const SYSTEM_ROLES: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRoleBody {
    key: String,
    name: String,
    #[serde(default, deserialize_with = "present")]
    description: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default, deserialize_with = "present")]
    scope: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateRoleBody {
    #[serde(default, deserialize_with = "present")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    permissions: Option<Vec<String>>,
}

/// `GET /orgs/{org_id}/roles`: the system roles, then the organization's own, by key.
pub async fn list_roles(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (org_id, _) = gate.open_uncounted(app, &caller, &req).await?;
    let custom = app.store.list_roles(&org_id).await?;
    let deployment = &app.config.app_permissions;
    let items: Vec<RoleView> = SYSTEM_ROLES
        .iter()
        .map(|&role| RoleView::system(role, deployment))
        .chain(custom.iter().map(|role| RoleView::custom(role, deployment)))
        .collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
}

/// `GET /orgs/{org_id}/roles/{role}`: a system role's key answers too.
pub async fn get_role(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let raw = path_param(&req, "role");
    if let Some(system) = Role::parse(&raw) {
        gate.open_uncounted(app, &caller, &req).await?;
        let view = RoleView::system(system, &app.config.app_permissions);
        return Ok(json(StatusCode::OK, &view));
    }
    let (role, _) = custom_role_in_path(&gate, app, &caller, &req).await?;
    Ok(role_answer(&role, &app.config.app_permissions))
}

pub async fn create_role(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: CreateRoleBody = json_body(&req, app.config.max_body_bytes)?;
    let key = RoleKey::parse(&body.key)?;
    let scope = match body.scope.as_deref() {
        None => RoleScope::Organization,
        Some(raw) => RoleScope::parse(raw).ok_or_else(|| {
            ValidationError::new("scope", "invalid_scope", "scope is organization or team.")
        })?,
    };
    let limits = &app.config.limits;
    let spec = RoleSpec::parse(
        &body.name,
        body.description.as_deref(),
        &body.permissions,
        &app.config.app_permissions,
        limits.permissions_per_role,
    )?;
    let (org_id, me) = gate.open_uncounted(app, &caller, &req).await?;
    may_grant(&me.grants(), &spec.grants()).map_err(permissions_refused)?;
    let deployment = app.config.app_permissions.clone();
    answer_at_commit(move |role: &CustomRole| role_created(role, &deployment));
    let role = app
        .store
        .create_role(
            &org_id,
            &key,
            scope,
            &spec,
            limits.roles_per_org,
            &op(&caller, &req).acting_as(&me),
        )
        .await
        .map_err(|e| match e {
            StoreError::Refused(Refusal::AlreadyExists) => ApiError::Conflict {
                code: "role-exists",
                detail: "The organization already has a role with this key.".into(),
            },
            other => other.into(),
        })?;
    Ok(role_created(&role, &app.config.app_permissions))
}

/// Changes what the body names; the permissions, if given, replace the role's. The caller must
/// hold every permission the role grants, before and after.
pub async fn update_role(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: UpdateRoleBody = json_body(&req, app.config.max_body_bytes)?;
    if body.name.is_none() && body.description.is_none() && body.permissions.is_none() {
        return Err(ValidationError::new(
            "body",
            "required",
            "Send a name, a description, permissions, or several of them.",
        )
        .into());
    }
    let (role, me) = custom_role_in_path(&gate, app, &caller, &req).await?;
    let spec = RoleSpec::parse(
        body.name.as_deref().unwrap_or(&role.name),
        Some(body.description.as_deref().unwrap_or(&role.description)),
        body.permissions.as_ref().unwrap_or(&role.permissions),
        &app.config.app_permissions,
        app.config.limits.permissions_per_role,
    )?;
    let mine = me.grants();
    may_grant(&mine, &role.grants()).map_err(permissions_refused)?;
    may_grant(&mine, &spec.grants()).map_err(permissions_refused)?;
    let deployment = app.config.app_permissions.clone();
    answer_at_commit(move |role: &CustomRole| role_answer(role, &deployment));
    let changed = app
        .store
        .update_role(&role, &spec, &op(&caller, &req).acting_as(&me))
        .await?;
    Ok(role_answer(&changed, &app.config.app_permissions))
}

/// Deletes a role nobody holds (409 with the count of its holders otherwise).
pub async fn delete_role(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (role, me) = custom_role_in_path(&gate, app, &caller, &req).await?;
    may_grant(&me.grants(), &role.grants()).map_err(permissions_refused)?;
    if role.holders > 0 {
        return Err(orgs_shared::store::StoreError::Refused(
            orgs_shared::store::Refusal::RoleHeld(role.holders),
        )
        .into());
    }
    app.store
        .delete_role(&role, &op(&caller, &req).acting_as(&me))
        .await
        .map_err(|e| match e {
            StoreError::Refused(Refusal::Gone) => ApiError::NotFound("role"),
            other => other.into(),
        })?;
    Ok(no_content())
}

/// The custom role named in the path, read along with the authorization.
async fn custom_role_in_path(
    gate: &Gate,
    app: &App,
    caller: &Caller,
    req: &Request,
) -> Result<(CustomRole, Membership), ApiError> {
    let key = RoleKey::parse(&path_param(req, "role")).ok();
    let also: Vec<ItemKey> = key.iter().map(ItemKey::Role).collect();
    let Uncounted { items, me, .. } = gate.open_reading_uncounted(app, caller, req, &also).await?;
    let role = match &key {
        Some(key) => items.role(key)?,
        None => None,
    };
    Ok((role.ok_or(ApiError::NotFound("role"))?, me))
}

/// A role's permissions, refused for granting more than the caller holds.
fn permissions_refused(refused: RoleRefused) -> ApiError {
    ApiError::Role {
        refused,
        field: "permissions".to_owned(),
    }
}

fn role_created(role: &CustomRole, deployment: &[AppPermission]) -> Response<Body> {
    created(
        &format!("/orgs/{}/roles/{}", role.org_id, role.key),
        &RoleView::custom(role, deployment),
    )
}

fn role_answer(role: &CustomRole, deployment: &[AppPermission]) -> Response<Body> {
    json(StatusCode::OK, &RoleView::custom(role, deployment))
}
