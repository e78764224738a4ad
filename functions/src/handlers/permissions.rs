//! The permission catalog, and what a member may do: for the apps behind `orgs`, which ask
//! rather than re-implement the answer.

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;

use orgs_shared::app::App;
use orgs_shared::domain::{
    Grants, Permission, Role, TeamRole, UserId, ValidationError, effective_permissions,
    may_see_permissions_of, team_permissions,
};
use orgs_shared::http::{ApiError, caller, json};
use orgs_shared::store::ItemKey;

use crate::access::{Gate, Uncounted, team_role_grants, with_role_grants};
use crate::views::{EffectivePermissionsView, PermissionView, TeamPermissionsView};

const SYSTEM_ROLES: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

/// `GET /permissions`: every permission, the service's and then the application's, with the
/// system roles that hold it.
pub async fn list_permissions(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    caller(&req)?;
    let service = Permission::ALL.iter().map(|&p| PermissionView {
        key: p.key(),
        description: p.description(),
        source: "service",
        roles: holders(|role| role.holds(p)),
    });
    let application = app.config.app_permissions.iter().map(|p| PermissionView {
        key: &p.key,
        description: &p.description,
        source: "application",
        roles: holders(Role::holds_app_permissions),
    });
    let items: Vec<_> = service.chain(application).collect();
    Ok(json(StatusCode::OK, &json!({ "items": items })))
}

fn holders(holds: impl Fn(Role) -> bool) -> Vec<&'static str> {
    SYSTEM_ROLES
        .into_iter()
        .filter(|role| holds(*role))
        .map(Role::as_str)
        .collect()
}

/// `GET /orgs/{org_id}/permissions[?user_id=]`: the caller's effective permissions there, or
/// another member's for a caller who holds `members:read`: their organization role's, and each
/// of their teams' team role's (one more read, for members in a team).
pub async fn get_org_permissions(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let asked =
        match req.query_string_parameters().first("user_id") {
            None => None,
            Some(raw) => Some(UserId::parse(raw).ok_or_else(|| {
                ValidationError::new("user_id", "invalid_query", "Not a user id.")
            })?),
        };
    let also: Vec<ItemKey> = asked.iter().map(ItemKey::Membership).collect();
    let Uncounted { org_id, me, items } = gate
        .open_reading_uncounted(app, &caller, &req, &also)
        .await?;
    let member = match &asked {
        Some(user) if *user != me.user_id => {
            may_see_permissions_of(me.standing(), false)?;
            let theirs = items.membership(user)?;
            with_role_grants(app, theirs)
                .await?
                .ok_or(ApiError::NotFound("member"))?
        }
        _ => me,
    };
    let rows = app
        .store
        .team_rows_of(&org_id, &member.user_id, &member.team_ids)
        .await?;
    let mut teams = Vec::with_capacity(rows.len());
    let mut read: Vec<(TeamRole, Grants)> = Vec::new();
    for (team_id, row) in rows {
        // A custom team role's item is read once, however many teams it is held in.
        let grants = match read.iter().find(|(role, _)| *role == row.role) {
            Some((_, grants)) => grants.clone(),
            None => {
                let grants = team_role_grants(app, &org_id, &row.role).await?;
                read.push((row.role.clone(), grants.clone()));
                grants
            }
        };
        teams.push(TeamPermissionsView {
            team_id: team_id.to_string(),
            role: row.role.as_str().to_owned(),
            permissions: team_permissions(member.standing(), &grants)
                .keys(&app.config.app_permissions),
        });
    }
    Ok(json(
        StatusCode::OK,
        &EffectivePermissionsView {
            org_id: org_id.as_str(),
            user_id: member.user_id.as_str(),
            role: member.role_key(),
            status: member.status.as_str(),
            permissions: effective_permissions(
                member.status,
                &member.grants(),
                &app.config.app_permissions,
            ),
            teams,
        },
    ))
}
