//! The invitee's side: look an invitation up by its token (no sign-in needed), accept or
//! decline it (signed in as the invitee), and list the invitations addressed to oneself.
//! Tokens travel in bodies, never in paths, so they stay out of access logs.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use orgs_shared::app::App;
use orgs_shared::domain::{
    InvitationId, InvitationStatus, InvitationToken, LateRefusal, NotInvitee, OrgId, Role,
    RoleScope, TeamRole, Timestamp, TokenRefused, answerable, late_refusal, may_answer,
    may_have_lost_a_team, may_repeat_acceptance, repeats_acceptance, teams_to_retry,
};
use orgs_shared::http::{
    ApiError, Caller, PageRequest, answer_at_commit, caller, encode_cursor, json, json_body,
    no_content,
};
use orgs_shared::store::{Invitation, Joiner, Membership, Op, Refusal, StoreError, TokenMatch};

use crate::access::{op, with_stored_email};
use crate::views::{InvitationView, OrgSummary, OrgView, PageView};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
}

/// The invitation a token names, whatever became of it: 404 if none.
async fn by_token(app: &App, req: &Request) -> Result<TokenMatch, ApiError> {
    let body: TokenBody = json_body(req, app.config.max_body_bytes)?;
    let token = InvitationToken::parse(&body.token).ok_or(ApiError::NotFound("invitation"))?;
    app.store
        .invitation_by_token(&token.hash())
        .await?
        .ok_or(ApiError::NotFound("invitation"))
}

/// Whether the invitation a token found can still be answered at `now`.
fn answerable_at(found: &TokenMatch, now: Timestamp) -> Result<(), TokenRefused> {
    let invitation = &found.invitation;
    answerable(
        found.org.status,
        found.replaced,
        invitation.status,
        invitation.expires_at,
        now,
    )
}

/// The pending invitation a token names: 404 if none, 410 with the reason if it is no longer
/// usable.
async fn pending_by_token(
    app: &App,
    req: &Request,
    now: Timestamp,
) -> Result<TokenMatch, ApiError> {
    let found = by_token(app, req).await?;
    answerable_at(&found, now)?;
    Ok(found)
}

/// Only the invitee may answer (`domain::acceptance::may_answer`).
fn check_invitee(caller: &Caller, invitation: &Invitation) -> Result<(), ApiError> {
    match may_answer(
        invitation.invitee_user_id.as_ref(),
        &invitation.email,
        &caller.user_id,
        caller.verified_email(),
    ) {
        // What to do depends on the token: an access token needs the ID token's address on file.
        Err(NotInvitee::Unverified) => Err(ApiError::Forbidden(caller.how_to_verify().into())),
        answer => Ok(answer?),
    }
}

/// After a refused transaction, says why from what is stored now (`late_refusal`).
async fn explain(app: &App, invitation: &Invitation, err: StoreError, now: Timestamp) -> ApiError {
    if !matches!(err, StoreError::Refused(Refusal::NotPending)) {
        return err.into();
    }
    let current = match app
        .store
        .get_invitation(&invitation.org_id, &invitation.invitation_id)
        .await
    {
        Ok(current) => current,
        Err(e) => return e.into(),
    };
    match late_refusal(current.map(|c| (c.status, c.expires_at)), now) {
        LateRefusal::Unusable(why) => ApiError::Gone(why),
        LateRefusal::Missing => ApiError::NotFound("invitation"),
        LateRefusal::Changed => StoreError::Refused(Refusal::Changed).into(),
    }
}

pub async fn lookup_invitation(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let now = Timestamp::now();
    let found = pending_by_token(app, &req, now).await?;
    let inviter = app.store.get_user(&found.invitation.invited_by).await?;
    let invitation = &found.invitation;
    Ok(json(
        StatusCode::OK,
        &json!({
            "invitation_id": invitation.invitation_id.as_str(),
            "organization": OrgSummary::from(&found.org),
            "inviter": {
                "user_id": invitation.invited_by.as_str(),
                "handle": inviter.as_ref().and_then(|u| u.handle.as_deref()),
                "display_name": inviter.as_ref().and_then(|u| u.display_name.as_deref()),
            },
            "email": invitation.email,
            "role": invitation.role.as_str(),
            "expires_at": invitation.expires_at.to_rfc3339(),
            "status": invitation.status.as_str(),
        }),
    ))
}

/// The caller (with their profile's address, for a token without one) and the invitation the
/// body's token names, read side by side: neither read needs the other.
async fn caller_and_invitation(
    app: &App,
    req: &Request,
) -> Result<(Caller, Op, TokenMatch), ApiError> {
    let caller = caller(req)?;
    let op = op(&caller, req);
    let (caller, found) = tokio::try_join!(with_stored_email(app, caller), by_token(app, req))?;
    Ok((caller, op, found))
}

pub async fn accept_invitation(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let (caller, op, found) = caller_and_invitation(app, &req).await?;
    let refused = match answerable_at(&found, op.at) {
        Ok(()) => match accept(app, &caller, &op, &found).await {
            Err(ApiError::Gone(why)) => TokenRefused::Unusable(why),
            answer => return answer,
        },
        Err(refused) => refused,
    };
    repeated_acceptance(app, &caller, &found.invitation, refused).await
}

/// The invitation as it can be accepted: a custom role (or custom team role) deleted since it
/// was sent gives way to `member`, the least role, rather than leave the invitation unusable.
async fn with_live_role(app: &App, invitation: &Invitation) -> Result<Invitation, ApiError> {
    let mut live = invitation.clone();
    for assignment in &mut live.team_roles {
        if let Some(key) = assignment.role.custom_key() {
            let found = app.store.get_role(&invitation.org_id, key).await?;
            if !found.is_some_and(|role| role.scope == RoleScope::Team) {
                assignment.role = TeamRole::Member;
            }
        }
    }
    let Some(key) = &invitation.custom_role else {
        return Ok(live);
    };
    let found = app.store.get_role(&invitation.org_id, key).await?;
    Ok(match found {
        Some(role) if role.scope == RoleScope::Organization => live,
        _ => Invitation {
            role: Role::Member,
            custom_role: None,
            ..live
        },
    })
}

async fn accept(
    app: &App,
    caller: &Caller,
    op: &Op,
    found: &TokenMatch,
) -> Result<Response<Body>, ApiError> {
    check_invitee(caller, &found.invitation)?;
    let invitation = &with_live_role(app, &found.invitation).await?;
    let mut org = found.org.clone();
    let mut teams = app
        .store
        .live_teams(&org.org_id, &invitation.team_ids)
        .await?;
    let joiner = Joiner {
        user_id: &caller.user_id,
        verified_email: caller.verified_email(),
    };
    let mut joined = org.clone();
    joined.member_count += 1;
    joined.pending_invitations -= 1;
    answer_at_commit(move |m: &Membership| json(StatusCode::OK, &OrgView::new(&joined, m)));
    let membership = loop {
        let err = match app
            .store
            .accept_invitation(invitation, &joiner, &teams, op)
            .await
        {
            Ok(membership) => break membership,
            Err(err) => err,
        };
        // A team named by the invitation may have begun its deletion since the read.
        let gone = matches!(err, StoreError::Refused(Refusal::Gone));
        if may_have_lost_a_team(gone, &teams) {
            let live = app.store.live_teams(&org.org_id, &teams).await?;
            if let Some(fewer) = teams_to_retry(&teams, live) {
                teams = fewer;
                continue;
            }
        }
        return Err(explain(app, invitation, err, op.at).await);
    };
    org.member_count += 1;
    org.pending_invitations -= 1;
    Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)))
}

/// An invitation that can no longer be accepted: the invitee who accepted it and is a member
/// gets the first acceptance's answer again (`may_repeat_acceptance`, `repeats_acceptance`);
/// anyone else the refusal.
async fn repeated_acceptance(
    app: &App,
    caller: &Caller,
    invitation: &Invitation,
    refused: TokenRefused,
) -> Result<Response<Body>, ApiError> {
    if !may_repeat_acceptance(refused, check_invitee(caller, invitation).is_ok()) {
        return Err(refused.into());
    }
    let read = app
        .store
        .org_with_membership(&invitation.org_id, &caller.user_id)
        .await?;
    match read {
        Some((org, Some(membership)))
            if repeats_acceptance(refused, org.status, Some(membership.status)) =>
        {
            Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)))
        }
        _ => Err(refused.into()),
    }
}

pub async fn decline_invitation(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let (caller, op, found) = caller_and_invitation(app, &req).await?;
    answerable_at(&found, op.at)?;
    check_invitee(&caller, &found.invitation)?;
    answer_at_commit(|_: &Invitation| no_content());
    if let Err(err) = app
        .store
        .close_invitation(&found.invitation, InvitationStatus::Declined, &op)
        .await
    {
        return Err(explain(app, &found.invitation, err, op.at).await);
    }
    Ok(no_content())
}

/// The pending invitations addressed to the caller's verified email.
pub async fn list_my_invitations(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = with_stored_email(app, caller(&req)?).await?;
    let page = PageRequest::from_request(&req)?;
    let after = page.after_as(|raw| {
        let (org, id) = raw.split_once('/')?;
        Some((OrgId::parse(org)?, InvitationId::parse(id)?))
    })?;
    let Some(email) = caller.verified_email() else {
        return Err(ApiError::Forbidden(caller.how_to_verify().into()));
    };
    let now = Timestamp::now();
    let found = app
        .store
        .list_invitations_for_email(email, now, page.limit, after.as_ref().map(|(o, i)| (o, i)))
        .await?;
    let items = found
        .items
        .iter()
        .map(|(invitation, org)| {
            let mut view = json!(InvitationView::new(invitation, now));
            // How the invitee's mailbox answered is for the organization's admins only.
            if let Some(fields) = view.as_object_mut() {
                fields.remove("delivery");
            }
            view["organization"] = json!(OrgSummary::from(org));
            view
        })
        .collect();
    let next_cursor = found
        .next
        .map(|(org, id)| encode_cursor(&format!("{org}/{id}")));
    Ok(json(
        StatusCode::OK,
        &PageView::<serde_json::Value> { items, next_cursor },
    ))
}
