//! Join requests, for an organization's admins and owners (list, approve, deny) and for their
//! author (withdraw). People file them with `POST /orgs/{org_id}/join` (`joining.rs`).

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use orgs_shared::app::App;
use orgs_shared::domain::join_request::DENIAL_STANDS_SECONDS;
use orgs_shared::domain::{
    Approval, Denied, JoinRequestStatus, OrgId, RawTeam, RoleName, TeamId, UserId, ValidationError,
    may_assign, may_give_team_role, one_team_list,
};
use orgs_shared::http::{
    ApiError, PageRequest, answer_at_commit, caller, encode_cursor, json, json_body, no_content,
    present,
};
use orgs_shared::store::{ItemKey, JoinRequest, Membership, Refusal, StoreError};

use crate::access::{Authorized, Gate, Uncounted, op, path_param};
use crate::handlers::teams::TeamWithRole;
use crate::views::{JoinRequestView, MemberView, PageView};

/// The pending request of the person the path names, read with the organization (and the
/// `teams` an approval names) once the caller is authorized to manage its members; 404 if there
/// is none.
async fn pending_request(
    gate: &Gate,
    app: &App,
    caller: &orgs_shared::http::Caller,
    req: &Request,
    teams: &[TeamId],
) -> Result<(Authorized, JoinRequest), ApiError> {
    let requester =
        UserId::parse(&path_param(req, "user_id")).ok_or(ApiError::NotFound("join request"))?;
    let mut also = vec![ItemKey::JoinRequest(&requester)];
    also.extend(teams.iter().map(ItemKey::Team));
    let authorized = gate.open_reading(app, caller, req, &also).await?;
    let request = authorized
        .items
        .join_request(&requester)?
        .filter(|r| r.status == JoinRequestStatus::Pending)
        .ok_or(ApiError::NotFound("join request"))?;
    Ok((authorized, request))
}

pub async fn list_join_requests(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let page = PageRequest::from_request(&req)?;
    let after = page.after_as(UserId::parse)?;
    let (org_id, _) = gate.open_uncounted(app, &caller, &req).await?;
    let found = app
        .store
        .list_join_requests(&org_id, page.limit, after.as_ref())
        .await?;
    let items = found.items.iter().map(JoinRequestView::from).collect();
    let next_cursor = found.next.map(|u| encode_cursor(u.as_str()));
    Ok(json(StatusCode::OK, &PageView { items, next_cursor }))
}

/// One person's join request, pending or denied (a denial stands for a while, and the person
/// cannot ask again until it lapses); 404 once approved or withdrawn.
pub async fn get_join_request(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let requester = UserId::parse(&path_param(&req, "user_id"));
    let also: Vec<ItemKey> = requester.iter().map(ItemKey::JoinRequest).collect();
    let Uncounted { items, .. } = gate
        .open_reading_uncounted(app, &caller, &req, &also)
        .await?;
    let request = match &requester {
        Some(user) => items.join_request(user)?,
        None => None,
    };
    let request = request.ok_or(ApiError::NotFound("join request"))?;
    Ok(json(StatusCode::OK, &JoinRequestView::from(&request)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalBody {
    #[serde(default, deserialize_with = "present")]
    role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    team_ids: Option<Vec<String>>,
    /// The teams with their team roles; never together with `team_ids`.
    #[serde(default, deserialize_with = "present")]
    teams: Option<Vec<TeamWithRole>>,
}

impl ApprovalBody {
    /// The teams named, in whichever of the two lists the body used, and that list's name.
    fn teams(&self) -> Result<(&'static str, Vec<RawTeam<'_>>), ValidationError> {
        let ids = self.team_ids.as_ref().map(|ids| {
            ids.iter()
                .map(|id| RawTeam {
                    team_id: id,
                    role: None,
                })
                .collect()
        });
        let teams = self
            .teams
            .as_ref()
            .map(|teams| teams.iter().map(TeamWithRole::raw).collect());
        Ok(one_team_list(ids, teams)?.unwrap_or(("team_ids", Vec::new())))
    }
}

/// The requester becomes a member (`member`, or `admin` if the body says so, in the live teams
/// it names), within the member limit, and the request is gone.
pub async fn approve_join_request(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: ApprovalBody = json_body(&req, app.config.max_body_bytes)?;
    let (field, teams) = body.teams()?;
    let approval = Approval::parse(body.role.as_deref(), field, &teams)?;
    let op = op(&caller, &req);
    let (Authorized { org, me, items }, request) =
        pending_request(&gate, app, &caller, &req, &approval.teams).await?;
    let mut live = Vec::new();
    for team in &approval.teams {
        if items.team(team)?.is_some_and(|t| t.active) {
            live.push(team.clone());
        }
    }
    approval.check_teams(&live)?;
    match &approval.role {
        RoleName::System(role) if *role > me.role => return Err(Denied::AboveOwnRole.into()),
        RoleName::System(_) => {}
        RoleName::Custom(key) => {
            let custom = app.store.get_role(&org.org_id, key).await?;
            may_assign(&me.grants(), &approval.role, custom.as_ref())?;
        }
    }
    // A custom team role: a team role of the organization, within the approver's grants.
    for assignment in &approval.team_roles {
        let Some(key) = assignment.role.custom_key() else {
            continue;
        };
        let custom = app.store.get_role(&org.org_id, key).await?;
        may_give_team_role(&me.grants(), &assignment.role, custom.as_ref()).map_err(|refused| {
            let j = teams
                .iter()
                .position(|t| t.team_id == assignment.team_id.as_str())
                .unwrap_or(0);
            ApiError::Role {
                refused,
                field: format!("{field}[{j}].role"),
            }
        })?;
    }
    let room = app
        .config
        .limits
        .seat_room(org.member_count, org.pending_invitations)?;
    let viewer = me.standing().held;
    answer_at_commit(move |joined: &Membership| {
        json(StatusCode::OK, &MemberView::new(joined, None, viewer))
    });
    let membership = app
        .store
        .approve_join_request(&org, &request, &approval, room, &op.acting_as(&me))
        .await?;
    Ok(json(
        StatusCode::OK,
        &MemberView::new(&membership, None, me.standing().held),
    ))
}

/// The request is denied: the person may not ask again while the denial stands (30 days).
pub async fn deny_join_request(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let op = op(&caller, &req);
    let (Authorized { me, .. }, request) = pending_request(&gate, app, &caller, &req, &[]).await?;
    let shed_at = op.at.plus_seconds(DENIAL_STANDS_SECONDS);
    let op = op.acting_as(&me);
    answer_at_commit(|denied: &JoinRequest| json(StatusCode::OK, &JoinRequestView::from(denied)));
    let denied = app.store.deny_join_request(&request, shed_at, &op).await?;
    Ok(json(StatusCode::OK, &JoinRequestView::from(&denied)))
}

/// The caller withdraws their own pending request; 404 if they have none, 409 if they are a
/// member (they have nothing to ask, as `POST /orgs/{org_id}/join` answers them).
pub async fn withdraw_join_request(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let op = op(&caller, &req);
    let org_id =
        OrgId::parse(&path_param(&req, "org_id")).ok_or(ApiError::NotFound("organization"))?;
    let read = app
        .store
        .read_org(
            &org_id,
            &caller.user_id,
            &[ItemKey::JoinRequest(&caller.user_id)],
        )
        .await?
        .filter(|read| read.org.is_live())
        .ok_or(ApiError::NotFound("organization"))?;
    if read.caller.is_some() {
        return Err(StoreError::Refused(Refusal::AlreadyMember).into());
    }
    let request = read
        .items
        .join_request(&caller.user_id)?
        .filter(|r| r.status == JoinRequestStatus::Pending)
        .ok_or(ApiError::NotFound("join request"))?;
    app.store.withdraw_join_request(&request, &op).await?;
    Ok(no_content())
}
