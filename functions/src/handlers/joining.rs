//! People's side of verified domains: the organizations their verified address suggests, and
//! joining one at once where its domain's policy is `auto_join`.

use http::StatusCode;
use lambda_http::{Body, Request, Response};

use orgs_shared::app::App;
use orgs_shared::domain::{EmailDomain, JoinRefused, OrgId, OrgStatus, auto_join_role, suggested};
use orgs_shared::http::{ApiError, Caller, caller, json};
use orgs_shared::store::{ItemKey, Joiner, Refusal, StoreError};

use crate::access::{op, path_param, with_stored_email};
use crate::views::{OrgView, SuggestionView};

/// The domain of the caller's verified address; 403 with how to verify one if there is none.
fn verified_domain(caller: &Caller) -> Result<Option<EmailDomain>, ApiError> {
    match caller.verified_email() {
        Some(email) => Ok(EmailDomain::of_email(email)),
        None => Err(ApiError::Forbidden(caller.how_to_verify().into())),
    }
}

/// The organizations with a verified domain equal to the caller's verified email domain (a
/// domain is verified for one organization at most), with their policy; none the caller
/// belongs to, and none whose policy is `none`.
pub async fn list_my_suggestions(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = with_stored_email(app, caller(&req)?).await?;
    let domain = verified_domain(&caller)?;
    let read = match &domain {
        Some(domain) => app.store.domain_holder(domain, &caller.user_id).await?,
        None => None,
    };
    let found = match (&read, &domain) {
        (Some(read), Some(domain))
            if read.org.status == OrgStatus::Active && read.caller.is_none() =>
        {
            read.items.domain(domain)?
        }
        _ => None,
    };
    let items: Vec<SuggestionView> = match (&read, &found) {
        (Some(read), Some(found)) if suggested(found.standing()) => {
            vec![SuggestionView::new(&read.org, found)]
        }
        _ => Vec::new(),
    };
    Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
}

/// How many times a join decides again after the domain changed under it.
const DECISIONS: usize = 3;

/// The caller joins the organization at once, with the role its domain's `auto_join` policy
/// names, if their verified address is at that verified domain: 403 otherwise, and nothing
/// changes.
pub async fn join_org(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = with_stored_email(app, caller(&req)?).await?;
    let op = op(&caller, &req);
    let org_id =
        OrgId::parse(&path_param(&req, "org_id")).ok_or(ApiError::NotFound("organization"))?;
    let domain = verified_domain(&caller)?;
    let keys: Vec<ItemKey> = domain.iter().map(ItemKey::Domain).collect();
    let joiner = Joiner {
        user_id: &caller.user_id,
        verified_email: caller.verified_email(),
    };
    let mut tries = 0;
    loop {
        tries += 1;
        let read = app
            .store
            .read_org(&org_id, &caller.user_id, &keys)
            .await?
            .filter(|read| read.org.status == OrgStatus::Active)
            .ok_or(ApiError::NotFound("organization"))?;
        if read.caller.is_some() {
            return Err(StoreError::Refused(Refusal::AlreadyMember).into());
        }
        let found = match &domain {
            Some(domain) => read.items.domain(domain)?,
            None => None,
        };
        let role = auto_join_role(found.as_ref().map(|d| d.standing()))?;
        let Some(found) = found else {
            return Err(JoinRefused::NotAtDomain.into());
        };
        let mut org = read.org;
        let room = app
            .config
            .limits
            .seat_room(org.member_count, org.pending_invitations)?;
        match app
            .store
            .join_through_domain(&org, &found, &joiner, role, room, &op)
            .await
        {
            Ok(membership) => {
                org.member_count += 1;
                return Ok(json(StatusCode::OK, &OrgView::new(&org, &membership)));
            }
            // The domain's policy or status changed since the read: decide again on a fresh one.
            Err(StoreError::Refused(Refusal::Changed)) if tries < DECISIONS => continue,
            Err(err) => return Err(err.into()),
        }
    }
}
