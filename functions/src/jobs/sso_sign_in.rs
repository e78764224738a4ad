//! A sign-in through an organization's identity provider (single sign-on), as the token-claims
//! trigger sees it: the person becomes a member of that organization the first time, with its
//! connection's default role and teams, so that the same sign-in's tokens carry it.

use orgs_shared::app::Limits;
use orgs_shared::domain::{
    DomainStatus, EmailDomain, JoinRequestStatus, Op, OrgId, ProviderName, Timestamp, UserId,
    provisioned_access,
};
use orgs_shared::store::{ItemKey, Joiner, Refusal, Store, StoreError, StoreResult};

/// Makes the person signing in through `provider` at `email` a member of the organization whose
/// provider it is, once; the organization, when they are (or just became) an active member of
/// it. Nothing when the address is not at one of its verified domains, when it has no room
/// left, or when the address is a member's already through another account: the sign-in goes
/// on without it (and says why in the log). A failed read or write fails the sign-in, which the
/// person may repeat.
pub async fn provision(
    store: &Store,
    limits: &Limits,
    user: &UserId,
    email: Option<&str>,
    provider: &ProviderName,
) -> StoreResult<Option<OrgId>> {
    let Some((email, domain)) = email.and_then(|e| Some((e, EmailDomain::of_email(e)?))) else {
        return Ok(None);
    };
    let Some(org_id) = store.domain_owner(&domain).await? else {
        return Ok(None);
    };
    let also = [
        ItemKey::Sso,
        ItemKey::Domain(&domain),
        ItemKey::JoinRequest(user),
    ];
    let Some(read) = store.read_org(&org_id, user, &also).await? else {
        return Ok(None);
    };
    let through = std::slice::from_ref(provider);
    if !read.org.is_live() || !read.org.sso.provisions(Some(email), through) {
        return Ok(None);
    }
    if read.caller.is_some() {
        // Provisioned before (the listing may not show it yet), or a member all along.
        return Ok(Some(org_id));
    }
    let verified = read
        .items
        .domain(&domain)?
        .is_some_and(|d| d.status == DomainStatus::Verified);
    let Some(connection) = read.items.sso()?.filter(|_| verified) else {
        return Ok(None);
    };
    let room = match limits.seat_room(read.org.member_count, read.org.pending_invitations) {
        Ok(room) => room,
        Err(_) => {
            tracing::warn!(org_id = %org_id, "single sign-on: the organization is full; not provisioned");
            return Ok(None);
        }
    };
    // Its custom roles and teams, as they are now: one more read, only for a first sign-in.
    let (roles, live_teams) = store.roles_and_live_teams(&org_id, &connection).await?;
    let (role, teams) = provisioned_access(&connection, &roles, &live_teams);
    let joiner = Joiner {
        user_id: user,
        verified_email: Some(email),
    };
    let op = Op {
        actor: user.clone(),
        request_id: format!("cognito:sso:{provider}"),
        at: Timestamp::now(),
        acting_as: None,
    };
    let pending = read
        .items
        .join_request(user)?
        .filter(|r| r.status == JoinRequestStatus::Pending);
    let joined = store
        .join_through_sso(
            &read.org,
            &connection,
            (&joiner, &domain),
            (&role, &teams),
            (room, pending.as_ref()),
            &op,
        )
        .await;
    match joined {
        Ok(_) => Ok(Some(org_id)),
        Err(StoreError::Refused(Refusal::AlreadyMember)) => {
            // The address is a member's through another account of the pool (one signed up
            // with a password, say): Cognito keeps a federated user apart from it.
            tracing::warn!(org_id = %org_id, "single sign-on: the address is another account's membership; not provisioned");
            Ok(None)
        }
        Err(StoreError::Refused(
            refusal @ (Refusal::Limit(_) | Refusal::Changed | Refusal::Gone | Refusal::RoleGone),
        )) => {
            tracing::warn!(org_id = %org_id, "single sign-on: not provisioned this time ({refusal})");
            Ok(None)
        }
        Err(other) => Err(other),
    }
}
