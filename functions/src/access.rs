//! Who may act on an organization: decided from the verified caller and the stored membership,
//! never from anything else the request says.

use lambda_http::Request;
use orgs_shared::app::App;
use orgs_shared::domain::Timestamp;
use orgs_shared::domain::{Access, OrgId, OrgStatus, Permission, access};
use orgs_shared::http::{ApiError, Caller};
use orgs_shared::store::{ItemKey, Membership, Op, Organization, ReadItems};

/// A path parameter as API Gateway passed it; empty if missing (which no route allows).
pub fn path_param(req: &Request, name: &str) -> String {
    use lambda_http::RequestExt;
    req.path_parameters()
        .first(name)
        .unwrap_or_default()
        .to_owned()
}

/// The caller, with the profile's address when the token states none (an access token): the
/// invitee's flows and a new organization's owner go by the last address an ID token verified.
/// One read, and only for such tokens.
pub async fn with_stored_email(app: &App, caller: Caller) -> Result<Caller, ApiError> {
    if !caller.needs_stored_email() {
        return Ok(caller);
    }
    let profile = app.store.get_user(&caller.user_id).await?;
    Ok(caller.with_stored_email(profile.as_ref()))
}

/// The operation's stamp: the caller, this request, and the one reading of the clock.
pub fn op(caller: &Caller, req: &Request) -> Op {
    Op {
        actor: caller.user_id.clone(),
        request_id: orgs_shared::http::request_id(req),
        at: Timestamp::now(),
        acting_as: None,
    }
}

/// The organization named in the path, if it is live and the caller holds `permission` in it.
/// Strangers and deactivated members get 404, as if it did not exist.
pub async fn authorize(
    app: &App,
    caller: &Caller,
    raw_org_id: &str,
    permission: Permission,
) -> Result<(Organization, Membership), ApiError> {
    let authorized = authorize_reading(app, caller, raw_org_id, permission, &[]).await?;
    Ok((authorized.org, authorized.me))
}

/// What `authorize_reading` found: the organization, the caller's membership, and the other
/// items it read along with them.
pub struct Authorized {
    pub org: Organization,
    pub me: Membership,
    pub items: ReadItems,
}

/// `authorize`, reading the items of `also` in the same request, so that a route needs no
/// second round trip for items whose keys it knows. They are decided on only once the caller
/// is authorized: a stranger learns nothing from them.
pub async fn authorize_reading(
    app: &App,
    caller: &Caller,
    raw_org_id: &str,
    permission: Permission,
    also: &[ItemKey<'_>],
) -> Result<Authorized, ApiError> {
    let org_id = OrgId::parse(raw_org_id).ok_or(ApiError::NotFound("organization"))?;
    let read = app
        .store
        .read_org(&org_id, &caller.user_id, also)
        .await?
        .ok_or(ApiError::NotFound("organization"))?;
    let me = check(&read.org, read.caller, permission)?;
    Ok(Authorized {
        org: read.org,
        me,
        items: read.items,
    })
}

/// Decides on an organization and membership already read.
pub fn check(
    org: &Organization,
    membership: Option<Membership>,
    permission: Permission,
) -> Result<Membership, ApiError> {
    if org.status != OrgStatus::Active {
        return Err(ApiError::NotFound("organization"));
    }
    let standing = membership.as_ref().map(Membership::standing);
    granted(access(standing, permission), permission, membership)
}

/// The domain's decision on `permission`, as the route answers it: the caller's membership,
/// 403 for a member without the role, or 404 for everyone else.
pub fn granted(
    access: Access,
    permission: Permission,
    membership: Option<Membership>,
) -> Result<Membership, ApiError> {
    match (access, membership) {
        (Access::Granted, Some(membership)) => Ok(membership),
        (Access::Forbidden, _) => Err(ApiError::Forbidden(format!(
            "Your role cannot do this; it takes {} or above.",
            permission.least_role().as_str()
        ))),
        _ => Err(ApiError::NotFound("organization")),
    }
}

/// The organization (in any status) and the caller's membership; 404 if there is no such id.
pub async fn load(
    app: &App,
    caller: &Caller,
    raw_org_id: &str,
) -> Result<(Organization, Option<Membership>), ApiError> {
    let org_id = OrgId::parse(raw_org_id).ok_or(ApiError::NotFound("organization"))?;
    app.store
        .org_with_membership(&org_id, &caller.user_id)
        .await?
        .ok_or(ApiError::NotFound("organization"))
}
