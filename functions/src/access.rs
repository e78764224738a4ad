//! Who may act on an organization: decided from the verified caller and the stored membership,
//! never from anything else the request says.

use lambda_http::Request;
use orgs_shared::app::App;
use orgs_shared::domain::Timestamp;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use orgs_shared::domain::{
    Access, Grants, MemberStatus, OrgId, OrgSso, OrgStatus, Permission, RoleScope, Standing,
    TeamId, TeamRole, access, team_access,
};
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

/// What a route needs of its caller in the organization its path names (`{org_id}`), as the
/// catalog declares it (`crate::spec`): a permission, and optionally a lesser one for a caller
/// acting on themselves (the path's `{user_id}` is the caller: leaving, stepping down), or
/// the permission held through the caller's team role in the path's `{team_id}` (`in_team`:
/// a team's maintainer manages its members).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    pub permission: Permission,
    pub on_oneself: Option<Permission>,
    /// A permission that opens the route as well: the handler then checks, field by field,
    /// what the request asks (`PATCH /orgs/{org_id}`: the profile, or only the billing address).
    pub or_else: Option<Permission>,
    /// The route opens to a member whose team role in the path's team holds the permission.
    pub in_team: bool,
}

impl Needs {
    /// The permission this caller needs on this request.
    fn permission_of(&self, caller: &Caller, req: &Request) -> Permission {
        match self.on_oneself {
            Some(own) if path_param(req, "user_id") == caller.user_id.as_str() => own,
            _ => self.permission,
        }
    }
}

/// A route's authorization, handed to its handler by the dispatch (`crate::routes::serve`).
/// The handler opens it once it has parsed the request (bad input costs no read), naming the
/// items it reads along (one round trip); what is checked comes from the catalog, never from
/// the handler. The dispatch refuses the answer of a route that never opened its gate.
pub struct Gate {
    /// `None` for a route that needs no permission in an organization: opening it is a fault.
    needs: Option<Needs>,
    opened: Arc<AtomicBool>,
    /// The team role that opened it, where the organization role did not.
    through_team: Mutex<Option<(TeamId, TeamRole)>>,
}

impl Gate {
    /// A gate for `needs`, and the flag that tells the dispatch whether it was opened.
    pub(crate) fn new(needs: Option<Needs>) -> (Self, Arc<AtomicBool>) {
        let opened = Arc::new(AtomicBool::new(false));
        let gate = Gate {
            needs,
            opened: opened.clone(),
            through_team: Mutex::new(None),
        };
        (gate, opened)
    }

    /// The organization named in the path, if it is live and the caller holds what the route
    /// needs in it. Strangers and deactivated members get 404, as if it did not exist.
    pub async fn open(
        &self,
        app: &App,
        caller: &Caller,
        req: &Request,
    ) -> Result<(Organization, Membership), ApiError> {
        let authorized = self.open_reading(app, caller, req, &[]).await?;
        Ok((authorized.org, authorized.me))
    }

    /// `open`, reading the items of `also` in the same request, so that a route needs no
    /// second round trip for items whose keys it knows. They are decided on only once the
    /// caller is authorized: a stranger learns nothing from them.
    pub async fn open_reading(
        &self,
        app: &App,
        caller: &Caller,
        req: &Request,
        also: &[ItemKey<'_>],
    ) -> Result<Authorized, ApiError> {
        let permission = self.permission(caller, req)?;
        let org_id = org_in_path(req)?;
        let read = app
            .store
            .read_org(&org_id, &caller.user_id, also)
            .await?
            .ok_or(ApiError::NotFound("organization"))?;
        let caller_membership = with_role_grants(app, read.caller).await?;
        let me = self
            .decide(
                app,
                req,
                &org_id,
                permission,
                read.org.is_live(),
                caller_membership,
            )
            .await?;
        signed_in_as_required(&read.org.sso, &me, caller)?;
        Ok(Authorized {
            org: read.org,
            me,
            items: read.items,
        })
    }

    /// `open_reading` for a route that needs nothing of the organization but its id (no
    /// count, no name, no setting): the organization's 8 tallies, which only complete its
    /// counts, are not read, 8 read units fewer. The same checks, the same answers.
    pub async fn open_reading_uncounted(
        &self,
        app: &App,
        caller: &Caller,
        req: &Request,
        also: &[ItemKey<'_>],
    ) -> Result<Uncounted, ApiError> {
        let permission = self.permission(caller, req)?;
        let org_id = org_in_path(req)?;
        let read = app
            .store
            .read_org_uncounted(&org_id, &caller.user_id, also)
            .await?
            .ok_or(ApiError::NotFound("organization"))?;
        let caller_membership = with_role_grants(app, read.caller).await?;
        let me = self
            .decide(app, req, &org_id, permission, read.live, caller_membership)
            .await?;
        signed_in_as_required(&read.sso, &me, caller)?;
        Ok(Uncounted {
            org_id,
            me,
            items: read.items,
        })
    }

    /// `open_reading_uncounted` with nothing read along: the organization's id and the caller's
    /// membership.
    pub async fn open_uncounted(
        &self,
        app: &App,
        caller: &Caller,
        req: &Request,
    ) -> Result<(OrgId, Membership), ApiError> {
        let opened = self.open_reading_uncounted(app, caller, req, &[]).await?;
        Ok((opened.org_id, opened.me))
    }

    /// The organization named in the path in any status, and the caller's membership, decided
    /// by `rule` (which sees the status) on what the route needs: for a step that may be
    /// finished after the organization left `Active`, as deletion may.
    pub async fn open_in_any_status(
        &self,
        app: &App,
        caller: &Caller,
        req: &Request,
        rule: fn(OrgStatus, Option<Standing>, Permission) -> Access,
    ) -> Result<(Organization, Membership), ApiError> {
        let permission = self.permission(caller, req)?;
        let org_id = org_in_path(req)?;
        let (org, membership) = app
            .store
            .org_with_membership(&org_id, &caller.user_id)
            .await?
            .ok_or(ApiError::NotFound("organization"))?;
        let membership = with_role_grants(app, membership).await?;
        self.opened.store(true, Ordering::Relaxed);
        let standing = membership.as_ref().map(Membership::standing);
        let me = granted(
            rule(org.status, standing, permission),
            permission,
            membership,
        )?;
        signed_in_as_required(&org.sso, &me, caller)?;
        Ok((org, me))
    }
}

/// `sso_required`: a member at the organization's verified domains acts in it only signed in
/// through its identity provider, whatever their role.
fn signed_in_as_required(sso: &OrgSso, me: &Membership, caller: &Caller) -> Result<(), ApiError> {
    let through: Vec<_> = caller.sso_provider.iter().cloned().collect();
    if sso.shuts_out(me.email.as_deref(), &through) {
        return Err(ApiError::SsoRequired);
    }
    Ok(())
}

impl Gate {
    /// The decision on an organization read for this gate: 404 unless it is live, then what
    /// the caller's membership holds against `permission`; for a route open to a team role, an
    /// active member whose organization role falls short is decided by their role in the path's
    /// team (one more read, only then).
    async fn decide(
        &self,
        app: &App,
        req: &Request,
        org_id: &OrgId,
        permission: Permission,
        live: bool,
        membership: Option<Membership>,
    ) -> Result<Membership, ApiError> {
        self.opened.store(true, Ordering::Relaxed);
        if !live {
            return Err(ApiError::NotFound("organization"));
        }
        let standing = membership.as_ref().map(Membership::standing);
        let alternative = self.needs.and_then(|needs| needs.or_else);
        let mut decision = match (access(standing, permission), alternative) {
            (Access::Forbidden, Some(other)) => access(standing, other),
            (decision, _) => decision,
        };
        let in_team = self.needs.is_some_and(|needs| needs.in_team);
        if let (Access::Forbidden, true, Some(me)) = (decision, in_team, &membership) {
            let team_role = match TeamId::parse(&path_param(req, "team_id")) {
                Some(team) => app.store.team_role(org_id, &team, &me.user_id).await?,
                None => None,
            };
            let team_grants = match &team_role {
                Some(role) => Some(team_role_grants(app, org_id, role).await?),
                None => None,
            };
            decision = team_access(decision, team_grants.as_ref(), permission);
            if let (Access::Granted, Some(team), Some(role)) = (
                decision,
                TeamId::parse(&path_param(req, "team_id")),
                team_role,
            ) && let Ok(mut through) = self.through_team.lock()
            {
                *through = Some((team, role));
            }
        }
        granted(decision, permission, membership)
    }

    /// The team role in the path's team that opened the gate, if the organization role did not:
    /// a write holds it at commit too (`Op::through_team`).
    pub fn through_team(&self) -> Option<(TeamId, TeamRole)> {
        self.through_team
            .lock()
            .ok()
            .and_then(|through| through.clone())
    }

    /// What this caller needs on this request, from the route's entry in the catalog.
    fn permission(&self, caller: &Caller, req: &Request) -> Result<Permission, ApiError> {
        let needs = self.needs.as_ref().ok_or(ApiError::Unguarded)?;
        Ok(needs.permission_of(caller, req))
    }
}

/// What `Gate::open_reading` found: the organization, the caller's membership, and the other
/// items it read along with them.
pub struct Authorized {
    pub org: Organization,
    pub me: Membership,
    pub items: ReadItems,
}

/// What `Gate::open_reading_uncounted` found: the organization's id (it is live, and the
/// caller holds what the route needs there), the caller's membership, and the other items read.
pub struct Uncounted {
    pub org_id: OrgId,
    pub me: Membership,
    pub items: ReadItems,
}

/// The membership with what its custom role grants, read now: one more read, for the holders
/// of a custom role only, so that a change of the role's permissions holds from the next
/// request. A role that is gone, or not an organization role, grants nothing.
pub async fn with_role_grants(
    app: &App,
    membership: Option<Membership>,
) -> Result<Option<Membership>, ApiError> {
    let Some(mut membership) = membership else {
        return Ok(None);
    };
    if let (Some(key), MemberStatus::Active) = (&membership.custom_role, membership.status) {
        let role = app.store.get_role(&membership.org_id, key).await?;
        let grants = role
            .filter(|r| r.scope == RoleScope::Organization)
            .map_or_else(Grants::none, |r| r.grants());
        membership.custom_grants = Some(grants);
    }
    Ok(Some(membership))
}

/// What a team role grants within its team: a custom one's role item is read now (one more
/// read, for its holders only), so that a change of its permissions holds from the next
/// request; a custom role that is gone, or is not a team role, grants nothing.
pub async fn team_role_grants(app: &App, org: &OrgId, role: &TeamRole) -> Result<Grants, ApiError> {
    let custom = match role.custom_key() {
        Some(key) => app.store.get_role(org, key).await?,
        None => None,
    };
    Ok(role.grants(custom.as_ref()))
}

/// The organization id in the path; an id that cannot be one is no organization (404).
fn org_in_path(req: &Request) -> Result<OrgId, ApiError> {
    OrgId::parse(&path_param(req, "org_id")).ok_or(ApiError::NotFound("organization"))
}

/// The domain's decision on `permission`, as the route answers it: the caller's membership,
/// 403 for a member without the role, or 404 for everyone else.
fn granted(
    access: Access,
    permission: Permission,
    membership: Option<Membership>,
) -> Result<Membership, ApiError> {
    match (access, membership) {
        (Access::Granted, Some(membership)) => Ok(membership),
        (Access::Forbidden, _) => Err(ApiError::Forbidden(format!(
            "Your role cannot do this; it takes the {} permission ({} or above).",
            permission.key(),
            permission.least_role().as_str()
        ))),
        _ => Err(ApiError::NotFound("organization")),
    }
}
