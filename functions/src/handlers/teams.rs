//! Teams: any member lists and reads them; admins and owners create, rename and delete them and
//! list the pending invitations that name them; they and a team's maintainers add its members,
//! set their team roles and take them out.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use orgs_shared::app::App;
use orgs_shared::domain::{
    DisplayName, InvitationId, MemberStatus, RawTeam, TeamId, TeamRole, Timestamp, UserId,
    may_give_team_role,
};
use orgs_shared::http::{
    ApiError, Caller, PageRequest, answer_at_commit, caller, created, encode_cursor, json,
    json_body, no_content, optional_json_body, present,
};
use orgs_shared::store::{
    ItemKey, Membership, ReadItems, Refusal, StoreError, Team, TeamMember, User,
};

use crate::access::{Gate, Uncounted, op, path_param, team_role_grants};
use crate::views::{InvitationView, PageView, TeamMemberView, TeamView};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamBody {
    name: String,
}

/// A team as an invitation or an approval names it with a team role:
/// `{"team_id": "team_…", "role": "maintainer"}` (no role: `member`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TeamWithRole {
    team_id: String,
    #[serde(default, deserialize_with = "present")]
    role: Option<String>,
}

impl TeamWithRole {
    pub(crate) fn raw(&self) -> RawTeam<'_> {
        RawTeam {
            team_id: &self.team_id,
            role: self.role.as_deref(),
        }
    }
}

/// `PUT …/members/{user_id}`: the body may be left out (a `member`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddTeamMemberBody {
    #[serde(default, deserialize_with = "present")]
    role: Option<String>,
}

/// `PATCH …/members/{user_id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamRoleBody {
    role: String,
}

/// The team named in the path (live or being deleted), in an organization where the caller
/// holds what the route needs (`gate`), read together with the organization, the caller's membership and the
/// items of `also`.
async fn any_team(
    gate: &Gate,
    app: &App,
    caller: &Caller,
    req: &Request,
    also: &[ItemKey<'_>],
) -> Result<(Team, ReadItems, Membership), ApiError> {
    let id = TeamId::parse(&path_param(req, "team_id"));
    let mut keys = also.to_vec();
    keys.extend(id.iter().map(ItemKey::Team));
    let Uncounted { items, me, .. } = gate.open_reading_uncounted(app, caller, req, &keys).await?;
    let team = match &id {
        Some(id) => items.team(id)?,
        None => None,
    };
    Ok((team.ok_or(ApiError::NotFound("team"))?, items, me))
}

/// The live team named in the path: `any_team` without one being deleted.
async fn team(
    gate: &Gate,
    app: &App,
    caller: &Caller,
    req: &Request,
    also: &[ItemKey<'_>],
) -> Result<(Team, ReadItems, Membership), ApiError> {
    let (team, items, me) = any_team(gate, app, caller, req, also).await?;
    if !team.active {
        return Err(ApiError::NotFound("team"));
    }
    Ok((team, items, me))
}

/// The user named in the path, if the id is well-formed.
fn user_param(req: &Request) -> Option<UserId> {
    UserId::parse(&path_param(req, "user_id"))
}

pub async fn list_teams(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let page = PageRequest::from_request(&req)?;
    let after = page.after_as(TeamId::parse)?;
    let (org_id, _) = gate.open_uncounted(app, &caller, &req).await?;
    let found = app
        .store
        .list_teams(&org_id, page.limit, after.as_ref())
        .await?;
    let items = found.items.iter().map(TeamView::from).collect();
    let next_cursor = found.next.map(|id| encode_cursor(id.as_str()));
    Ok(json(StatusCode::OK, &PageView { items, next_cursor }))
}

pub async fn create_team(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: TeamBody = json_body(&req, app.config.max_body_bytes)?;
    let name = DisplayName::parse("name", &body.name)?;
    let (org, me) = gate.open(app, &caller, &req).await?;
    answer_at_commit(team_created);
    let team = app
        .store
        .create_team(&org.org_id, &name, &op(&caller, &req).acting_as(&me))
        .await?;
    Ok(team_created(&team))
}

fn team_created(team: &Team) -> Response<Body> {
    let location = format!("/orgs/{}/teams/{}", team.org_id, team.team_id);
    created(&location, &TeamView::from(team))
}

pub async fn get_team(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (team, _, _) = team(&gate, app, &caller, &req, &[]).await?;
    Ok(json(StatusCode::OK, &TeamView::from(&team)))
}

pub async fn rename_team(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: TeamBody = json_body(&req, app.config.max_body_bytes)?;
    let name = DisplayName::parse("name", &body.name)?;
    let (team, _, me) = team(&gate, app, &caller, &req, &[]).await?;
    if team.name == name.as_str() {
        return Ok(json(StatusCode::OK, &TeamView::from(&team)));
    }
    answer_at_commit(|team: &Team| json(StatusCode::OK, &TeamView::from(team)));
    let renamed = app
        .store
        .rename_team(&team, &name, &op(&caller, &req).acting_as(&me))
        .await?;
    Ok(json(StatusCode::OK, &TeamView::from(&renamed)))
}

/// Deletion runs in steps; repeating the request finishes one that stopped half-way.
pub async fn delete_team(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    // A team being deleted is still found: repeating the request finishes the job.
    let (team, _, _) = any_team(&gate, app, &caller, &req, &[]).await?;
    app.store.delete_team(&team, &op(&caller, &req)).await?;
    Ok(no_content())
}

pub async fn list_team_members(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let page = PageRequest::from_request(&req)?;
    let after = page.after_as(UserId::parse)?;
    let (team, _, _) = team(&gate, app, &caller, &req, &[]).await?;
    let found = app
        .store
        .list_team_members(&team, page.limit, after.as_ref())
        .await?;
    let users: Vec<UserId> = found.items.iter().map(|m| m.user_id.clone()).collect();
    let profiles = app.store.profiles(&users).await?;
    let items = found
        .items
        .iter()
        .map(|m| TeamMemberView::new(m, profiles.iter().find(|p| p.user_id == m.user_id)))
        .collect();
    let next_cursor = found.next.map(|user| encode_cursor(user.as_str()));
    Ok(json(StatusCode::OK, &PageView { items, next_cursor }))
}

/// Puts an active member in the team, as a `member` or with the body's role. Idempotent: a
/// member already in it stays as they are, unless the body names another role, which is set
/// (as `PATCH` would).
pub async fn add_team_member(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: AddTeamMemberBody = optional_json_body(&req, app.config.max_body_bytes)?;
    let user = user_param(&req);
    let team_id = TeamId::parse(&path_param(&req, "team_id"));
    let mut also: Vec<ItemKey> = user.iter().map(ItemKey::Membership).collect();
    if let (Some(team), Some(user)) = (&team_id, &user) {
        also.push(ItemKey::TeamMember(team, user));
    }
    let given = (body.role.as_deref())
        .map(|raw| TeamRole::parse_field("role", raw))
        .transpose()?;
    also.extend(
        given
            .as_ref()
            .and_then(TeamRole::custom_key)
            .map(ItemKey::Role),
    );
    also.extend(
        team_id
            .iter()
            .map(|t| ItemKey::TeamMember(t, &caller.user_id)),
    );
    let (team, items, me) = team(&gate, app, &caller, &req, &also).await?;
    let user = user.ok_or(ApiError::NotFound("member"))?;
    let member = items
        .membership(&user)?
        .filter(|m| m.status == MemberStatus::Active)
        .ok_or(ApiError::NotFound("member"))?;
    let op = op(&caller, &req)
        .acting_as(&me)
        .through_team(gate.through_team());
    if let Some(row) = items.team_member(&team.team_id, &user)? {
        if let Some(role) = given.filter(|role| *role != row.role) {
            may_give(app, &items, &team, &me, &role).await?;
            set_team_role(app, &team, &row, role, &op).await?;
        }
        return Ok(no_content());
    }
    if member.team_ids.contains(&team.team_id) {
        return Ok(no_content());
    }
    let role = given.unwrap_or_default();
    may_give(app, &items, &team, &me, &role).await?;
    app.store.add_team_member(&team, &member, role, &op).await?;
    Ok(no_content())
}

/// Changes a team member's team role; the same role again changes nothing.
pub async fn update_team_member(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: TeamRoleBody = json_body(&req, app.config.max_body_bytes)?;
    let role = TeamRole::parse_field("role", &body.role)?;
    let user = user_param(&req);
    let team_id = TeamId::parse(&path_param(&req, "team_id"));
    let mut also = Vec::new();
    if let (Some(team), Some(user)) = (&team_id, &user) {
        also.extend([ItemKey::TeamMember(team, user), ItemKey::Profile(user)]);
    }
    also.extend(role.custom_key().map(ItemKey::Role));
    also.extend(
        team_id
            .iter()
            .map(|t| ItemKey::TeamMember(t, &caller.user_id)),
    );
    let (team, items, me) = team(&gate, app, &caller, &req, &also).await?;
    let user = user.ok_or(ApiError::NotFound("team member"))?;
    let row = items
        .team_member(&team.team_id, &user)?
        .ok_or(ApiError::NotFound("team member"))?;
    let profile = items.profile(&user)?;
    if row.role == role {
        return Ok(team_member_answer(&row, profile.as_ref()));
    }
    may_give(app, &items, &team, &me, &role).await?;
    let answer_profile = profile.clone();
    answer_at_commit(move |changed: &TeamMember| {
        team_member_answer(changed, answer_profile.as_ref())
    });
    let op = op(&caller, &req)
        .acting_as(&me)
        .through_team(gate.through_team());
    let changed = set_team_role(app, &team, &row, role, &op).await?;
    Ok(team_member_answer(&changed, profile.as_ref()))
}

/// Whether the caller may give `role` in `team` (`may_give_team_role`): a custom role must be a
/// team role of the organization (read in `items`), granting nothing beyond what the caller
/// holds through their organization role and their own team role in this team (also in
/// `items`).
async fn may_give(
    app: &App,
    items: &ReadItems,
    team: &Team,
    me: &Membership,
    role: &TeamRole,
) -> Result<(), ApiError> {
    let Some(key) = role.custom_key() else {
        return Ok(());
    };
    let custom = items.role(key)?;
    let mine = match items.team_member(&team.team_id, &me.user_id)? {
        Some(row) => me
            .grants()
            .union(&team_role_grants(app, &team.org_id, &row.role).await?),
        None => me.grants(),
    };
    may_give_team_role(&mine, role, custom.as_ref()).map_err(|refused| ApiError::Role {
        refused,
        field: "role".to_owned(),
    })
}

fn team_member_answer(member: &TeamMember, profile: Option<&User>) -> Response<Body> {
    json(StatusCode::OK, &TeamMemberView::new(member, profile))
}

/// The store's change of a team role, its refusal answered as the route does.
async fn set_team_role(
    app: &App,
    team: &Team,
    row: &TeamMember,
    role: TeamRole,
    op: &orgs_shared::store::Op,
) -> Result<TeamMember, ApiError> {
    app.store
        .set_team_role(team, row, role, op)
        .await
        .map_err(|e| match e {
            // Taken out of the team, or their role changed, since the read.
            StoreError::Refused(Refusal::Gone) => ApiError::NotFound("team member"),
            other => other.into(),
        })
}

pub async fn remove_team_member(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let user = user_param(&req);
    let team_id = TeamId::parse(&path_param(&req, "team_id"));
    let also: Vec<ItemKey> = match (&team_id, &user) {
        (Some(team), Some(user)) => vec![ItemKey::TeamMember(team, user)],
        _ => Vec::new(),
    };
    let (team, items, me) = team(&gate, app, &caller, &req, &also).await?;
    let user = user.ok_or(ApiError::NotFound("member"))?;
    let row = items
        .team_member(&team.team_id, &user)?
        .ok_or(ApiError::NotFound("team member"))?;
    app.store
        .remove_team_member(
            &team,
            &row,
            &op(&caller, &req)
                .acting_as(&me)
                .through_team(gate.through_team()),
        )
        .await
        .map_err(|e| match e {
            // Taken out of the team (or the organization) since the read.
            StoreError::Refused(Refusal::Gone) => ApiError::NotFound("team member"),
            other => other.into(),
        })?;
    Ok(no_content())
}

/// The pending invitations that name the team, for those who manage invitations.
pub async fn list_team_invitations(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let page = PageRequest::from_request(&req)?;
    let after = page.after_as(InvitationId::parse)?;
    let (team, _, _) = team(&gate, app, &caller, &req, &[]).await?;
    let now = Timestamp::now();
    let found = app
        .store
        .list_team_invitations(&team, now, page.limit, after.as_ref())
        .await?;
    let items = found
        .items
        .iter()
        .map(|i| InvitationView::new(i, now))
        .collect();
    let next_cursor = found.next.map(|id| encode_cursor(id.as_str()));
    Ok(json(StatusCode::OK, &PageView { items, next_cursor }))
}
