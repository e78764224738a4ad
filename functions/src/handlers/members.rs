//! Members of an organization: list and read (any member), change role or status, remove
//! (admins and owners, within the rules of `domain::membership`), leave (anyone, oneself), and
//! transfer ownership (owners).

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;

use orgs_shared::app::App;
use orgs_shared::domain::{
    MemberChange, MemberStatus, MemberUpdate, RoleName, TransferRefused, UserId, ValidationError,
    may_assign, may_change, may_transfer, may_write_metadata,
};
use orgs_shared::http::{
    ApiError, Caller, PageRequest, answer_at_commit, caller, encode_cursor, json, json_body,
    no_content, present,
};
use orgs_shared::store::{ItemKey, Membership, Organization, Rereads, User};

use super::metadata::{self, MetadataBody};
use crate::access::{Authorized, Gate, Uncounted, op, path_param};
use crate::views::{MemberView, PageView};

fn invalid(field: &str, message: &str) -> ApiError {
    ValidationError::new(field, "invalid_query", message).into()
}

/// What a route on one member reads, all in one request.
struct Target {
    org: Organization,
    /// The caller's membership: active, or the route answered 404.
    mine: Membership,
    /// The target's membership, if they are a member.
    theirs: Option<Membership>,
    /// The target's profile, when asked for.
    profile: Option<User>,
}

/// Reads the organization, the caller's membership and the target's (and, with
/// `with_profile`, the target's profile) in one read; a malformed target id is 404 once the
/// caller is known to be a member.
async fn caller_and_target(
    gate: &Gate,
    app: &App,
    caller: &Caller,
    req: &Request,
    target: &str,
    with_profile: bool,
) -> Result<Target, ApiError> {
    let target = UserId::parse(target);
    let mut also = Vec::new();
    if let Some(target) = &target {
        also.push(ItemKey::Membership(target));
        if with_profile {
            also.push(ItemKey::Profile(target));
        }
    }
    let Authorized { org, me, items } = gate.open_reading(app, caller, req, &also).await?;
    let target = target.ok_or(ApiError::NotFound("member"))?;
    let profile = if with_profile {
        items.profile(&target)?
    } else {
        None
    };
    Ok(Target {
        org,
        mine: me,
        theirs: items.membership(&target)?,
        profile,
    })
}

/// The caller's membership, the member the path names (404 if none) and their profile, in one
/// read.
async fn member_in_path(
    gate: &Gate,
    app: &App,
    caller: &Caller,
    req: &Request,
) -> Result<(Membership, Membership, Option<User>), ApiError> {
    let target = path_param(req, "user_id");
    let Target {
        mine,
        theirs,
        profile,
        ..
    } = caller_and_target(gate, app, caller, req, &target, true).await?;
    Ok((mine, theirs.ok_or(ApiError::NotFound("member"))?, profile))
}

pub async fn list_members(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let page = PageRequest::from_request(&req)?;
    let query = req.query_string_parameters();
    let role = query
        .first("role")
        .map(|r| {
            RoleName::parse("role", r).map_err(|_| {
                invalid(
                    "role",
                    "role is owner, admin, member or the key of one of the organization's roles.",
                )
            })
        })
        .transpose()?;
    let status = query
        .first("status")
        .map(|s| {
            MemberStatus::parse(s)
                .ok_or_else(|| invalid("status", "status is active or deactivated."))
        })
        .transpose()?;
    let after = page.after_as(UserId::parse)?;
    // A custom role's key is read along: a key the organization has no role for is refused.
    let custom: Vec<ItemKey> = match &role {
        Some(RoleName::Custom(key)) => vec![ItemKey::Role(key)],
        _ => Vec::new(),
    };
    let Uncounted {
        org_id,
        me: viewer,
        items,
    } = gate
        .open_reading_uncounted(app, &caller, &req, &custom)
        .await?;
    if let Some(RoleName::Custom(key)) = &role
        && items.role(key)?.is_none()
    {
        return Err(invalid(
            "role",
            "The organization has no role with this key.",
        ));
    }
    let found = app
        .store
        .list_members(&org_id, role.as_ref(), status, page.limit, after.as_ref())
        .await?;
    let users: Vec<UserId> = found.items.iter().map(|m| m.user_id.clone()).collect();
    let profiles = app.store.profiles(&users).await?;
    let items = found
        .items
        .iter()
        .map(|m| {
            let profile = profiles.iter().find(|p| p.user_id == m.user_id);
            MemberView::new(m, profile, viewer.standing().held)
        })
        .collect();
    let next_cursor = found.next.map(|user| encode_cursor(user.as_str()));
    Ok(json(StatusCode::OK, &PageView { items, next_cursor }))
}

pub async fn get_member(app: &App, req: Request, gate: Gate) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (mine, target, profile) = member_in_path(&gate, app, &caller, &req).await?;
    Ok(json(
        StatusCode::OK,
        &MemberView::new(&target, profile.as_ref(), mine.standing().held),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateMember {
    #[serde(default, deserialize_with = "present")]
    role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    metadata: Option<MetadataBody>,
}

/// Metadata is merged with what was read and written on the condition that the membership is
/// still so; when another write came first, it is all read and decided again.
pub async fn update_member(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let mut body: UpdateMember = json_body(&req, app.config.max_body_bytes)?;
    // Sending `metadata` at all, even `{}`, asks to write it: only admins and owners may.
    let writes_metadata = body.metadata.is_some();
    let metadata_patch = metadata::parse(body.metadata.take())?;
    let update = MemberUpdate::parse(
        body.role.as_deref(),
        body.status.as_deref(),
        writes_metadata,
    )?;
    let op = op(&caller, &req);
    let mut rereads = Rereads::default();
    loop {
        let (mine, target, profile) = member_in_path(&gate, app, &caller, &req).await?;
        let myself = mine.user_id == target.user_id;
        update.allowed(mine.standing(), myself, target.standing())?;
        if let Some(role) = update.role.as_ref().filter(|r| **r != target.role_name()) {
            let custom = match role {
                RoleName::Custom(key) => app.store.get_role(&mine.org_id, key).await?,
                RoleName::System(_) => None,
            };
            may_assign(&mine.grants(), role, custom.as_ref())?;
        }
        if writes_metadata {
            may_write_metadata(mine.standing())?;
        }
        let metadata = if metadata_patch.is_empty() {
            None
        } else {
            let change =
                metadata_patch.apply(&target.metadata.value, app.config.limits.metadata_bytes)?;
            (!change.is_empty()).then_some(change)
        };
        if !update.changes(&target) && metadata.is_none() {
            return Ok(json(
                StatusCode::OK,
                &MemberView::new(&target, profile.as_ref(), mine.standing().held),
            ));
        }
        // The answer is the membership as changed, with the profile read before: the change
        // does not touch the profile.
        let (read_profile, viewer) = (profile.clone(), mine.standing().held);
        answer_at_commit(move |changed: &Membership| {
            json(
                StatusCode::OK,
                &MemberView::new(changed, read_profile.as_ref(), viewer),
            )
        });
        let changed = app
            .store
            .change_member(
                &mine,
                &target,
                update.role.as_ref(),
                update.status,
                metadata.as_ref(),
                &op,
            )
            .await;
        match changed {
            Ok(updated) => {
                return Ok(json(
                    StatusCode::OK,
                    &MemberView::new(&updated, profile.as_ref(), mine.standing().held),
                ));
            }
            Err(e) => rereads.again(e).await?,
        }
    }
}

/// Removal; on oneself it is leaving.
pub async fn remove_member(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let Target { mine, theirs, .. } = caller_and_target(
        &gate,
        app,
        &caller,
        &req,
        &path_param(&req, "user_id"),
        false,
    )
    .await?;
    let target = theirs.ok_or(ApiError::NotFound("member"))?;
    let myself = mine.user_id == target.user_id;
    may_change(
        mine.standing(),
        myself,
        target.standing(),
        MemberChange::Remove,
    )?;
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
pub async fn transfer_ownership(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: Transfer = json_body(&req, app.config.max_body_bytes)?;
    if UserId::parse(&body.user_id).is_none() {
        return Err(ValidationError::new("user_id", "invalid_user_id", "Not a user id.").into());
    }
    let Target {
        org, mine, theirs, ..
    } = caller_and_target(&gate, app, &caller, &req, &body.user_id, false).await?;
    let target = theirs.ok_or(TransferRefused::NotAMember)?;
    may_transfer(target.user_id == mine.user_id, target.standing())?;
    app.store
        .transfer_ownership(
            &mine,
            &target,
            org.counted_owner.as_ref(),
            &op(&caller, &req),
        )
        .await?;
    Ok(no_content())
}
