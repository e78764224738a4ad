//! People's side of verified domains: the organizations their verified address suggests, and
//! coming in through one: at once where its domain's policy is `auto_join`, by asking where it
//! is `suggest` (an admin decides: `join_requests.rs`).

use http::StatusCode;
use lambda_http::{Body, Request, Response};

use orgs_shared::app::App;
use orgs_shared::domain::{
    EmailDomain, Entry, Filing, JoinRefused, JoinRequestStatus, OrgId, Role, entry, filing,
    suggested,
};
use orgs_shared::http::{ApiError, Caller, caller, json};
use orgs_shared::store::{Domain, ItemKey, JoinRequest, Joiner, Op, OrgRead, Refusal, StoreError};

use crate::access::{op, path_param, with_stored_email};
use crate::views::{JoinRequestView, OrgView, SuggestionView};

/// The domain of the caller's verified address; 403 with how to verify one if there is none.
fn verified_domain(caller: &Caller) -> Result<Option<EmailDomain>, ApiError> {
    match caller.verified_email() {
        Some(email) => Ok(EmailDomain::of_email(email)),
        None => Err(ApiError::Forbidden(caller.how_to_verify().into())),
    }
}

/// The organizations with a verified domain equal to the caller's verified email domain (a
/// domain is verified for one organization at most), with their policy and the caller's own
/// join request, if any; none the caller belongs to, and none whose policy is `none`.
pub async fn list_my_suggestions(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = with_stored_email(app, caller(&req)?).await?;
    let domain = verified_domain(&caller)?;
    let read = match &domain {
        Some(domain) => app.store.domain_holder(domain, &caller.user_id).await?,
        None => None,
    };
    let found = match (&read, &domain) {
        (Some(read), Some(domain)) if read.org.is_live() && read.caller.is_none() => {
            read.items.domain(domain)?
        }
        _ => None,
    };
    let request = match &read {
        Some(read) if found.is_some() => read.items.join_request(&caller.user_id)?,
        _ => None,
    };
    let items: Vec<SuggestionView> = match (&read, &found) {
        (Some(read), Some(found)) if suggested(found.standing()) => {
            vec![SuggestionView::new(&read.org, found, request.as_ref())]
        }
        _ => Vec::new(),
    };
    Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
}

/// How many times a join decides again after the domain changed under it.
const DECISIONS: usize = 3;

/// Through the verified domain of the caller's verified address: `auto_join` makes them a
/// member at once, with the role the policy names (200); `suggest` files a join request for an
/// admin to decide (202; asking again answers with the same request). Anyone else gets 403, and
/// nothing changes.
pub async fn join_org(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = with_stored_email(app, caller(&req)?).await?;
    let op = op(&caller, &req);
    let org_id =
        OrgId::parse(&path_param(&req, "org_id")).ok_or(ApiError::NotFound("organization"))?;
    let domain = verified_domain(&caller)?;
    let mut keys: Vec<ItemKey> = domain.iter().map(ItemKey::Domain).collect();
    keys.push(ItemKey::JoinRequest(&caller.user_id));
    let mut tries = 0;
    loop {
        tries += 1;
        let read = app
            .store
            .read_org(&org_id, &caller.user_id, &keys)
            .await?
            .filter(|read| read.org.is_live())
            .ok_or(ApiError::NotFound("organization"))?;
        if read.caller.is_some() {
            return Err(StoreError::Refused(Refusal::AlreadyMember).into());
        }
        let found = match &domain {
            Some(domain) => read.items.domain(domain)?,
            None => None,
        };
        let way = entry(found.as_ref().map(Domain::standing))?;
        let found = found.ok_or(JoinRefused::NotAtDomain)?;
        let outcome = match way {
            Entry::Join(role) => join_at_once(app, &caller, read, &found, role, &op).await,
            Entry::Ask => ask_to_join(app, &caller, read, &found, &op).await,
        };
        match outcome {
            // The domain's policy or status changed since the read: decide again on a fresh one.
            Err(ApiError::Store(StoreError::Refused(Refusal::Changed))) if tries < DECISIONS => {
                continue;
            }
            outcome => return outcome,
        }
    }
}

async fn join_at_once(
    app: &App,
    caller: &Caller,
    read: OrgRead,
    found: &Domain,
    role: Role,
    op: &Op,
) -> Result<Response<Body>, ApiError> {
    let joiner = Joiner {
        user_id: &caller.user_id,
        verified_email: caller.verified_email(),
    };
    let pending = read
        .items
        .join_request(&caller.user_id)?
        .filter(|r| r.status == JoinRequestStatus::Pending);
    let mut org = read.org;
    let room = app
        .config
        .limits
        .seat_room(org.member_count, org.pending_invitations)?;
    let membership = app
        .store
        .join_through_domain(&org, found, &joiner, (role, room), pending.as_ref(), op)
        .await?;
    org.member_count += 1;
    Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)))
}

async fn ask_to_join(
    app: &App,
    caller: &Caller,
    read: OrgRead,
    found: &Domain,
    op: &Op,
) -> Result<Response<Body>, ApiError> {
    let earlier = read.items.join_request(&caller.user_id)?;
    let filed = filing(earlier.as_ref().map(JoinRequest::earlier), op.at)?;
    if let (Filing::Repeat, Some(pending)) = (filed, &earlier) {
        return Ok(json(StatusCode::ACCEPTED, &JoinRequestView::from(pending)));
    }
    let limits = &app.config.limits;
    let room = limits.join_request_room(read.org.join_requests)?;
    // `entry` found the caller's verified address at the domain.
    let email = caller.verified_email().unwrap_or_default();
    let request = JoinRequest::new(&read.org.org_id, &caller.user_id, email, found, op.at);
    let earlier = earlier.filter(|e| e.status == JoinRequestStatus::Denied);
    app.store
        .file_join_request(
            &read.org,
            found,
            &request,
            earlier.as_ref(),
            (room, limits.pending_join_requests_per_person),
            op,
        )
        .await?;
    Ok(json(StatusCode::ACCEPTED, &JoinRequestView::from(&request)))
}
