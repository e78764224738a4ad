//! `GET /me` and `PATCH /me`: the caller's own profile, created on first use from the claims.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use orgs_shared::app::App;
use orgs_shared::domain::{DisplayName, FieldErrors, Handle, StoredEmail};
use orgs_shared::http::{
    ApiError, Caller, Patch, answer_at_commit, caller, json, json_body, present,
};
use orgs_shared::store::{Identity, Op, User, UserPatch};

use crate::access::op;
use crate::jobs::first_org::{Person, make_first_org};
use crate::views::UserView;

/// The stored profile, created now if this is the caller's first request, and its email kept
/// in step with the claims of tokens that state one (never changed by an access token). On
/// `GET /me`, a first request may also make the person's first organization (`first_org`).
async fn current_user(
    app: &App,
    caller: &Caller,
    op: &Op,
    with_first_org: bool,
) -> Result<User, ApiError> {
    let Some(user) = app.store.get_user(&caller.user_id).await? else {
        if with_first_org {
            first_org(app, caller, op).await?;
        }
        return Ok(app.store.create_user(&caller.identity(), op).await?);
    };
    let stored = StoredEmail {
        email: user.email.as_deref(),
        verified: user.email_verified,
    };
    match caller.email_claims.profile_update(stored) {
        Some((email, verified)) => {
            let identity = Identity {
                user_id: caller.user_id.clone(),
                email: Some(email.to_owned()),
                email_verified: verified,
            };
            Ok(app.store.refresh_identity(&user, &identity, op).await?)
        }
        None => Ok(user),
    }
}

/// A first request, when the deployer turns it on (`CreateOrgOnSignUp`): a person in no
/// organization gets their own, as the Cognito trigger gives it at sign-up (`first_org`), for
/// identity providers without that trigger. Before the profile is created, so that a failure
/// here is tried again by the next first request. A person who accepted an invitation first
/// is in an organization and gets none; one made before (by the trigger, or a request at the
/// same time) is not made again.
async fn first_org(app: &App, caller: &Caller, op: &Op) -> Result<(), ApiError> {
    if !app.config.sign_up.create_first_org || app.store.has_memberships(&caller.user_id).await? {
        return Ok(());
    }
    let person = Person {
        identity: caller.identity(),
        name: None,
        preferred_username: None,
    };
    let limits = &app.config.limits;
    make_first_org(&app.store, &app.config.sign_up, limits, &person, op).await?;
    Ok(())
}

pub async fn get_me(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let user = current_user(app, &caller, &op(&caller, &req), true).await?;
    Ok(json(StatusCode::OK, &UserView::from(&user)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateMe {
    #[serde(default, deserialize_with = "present")]
    handle: Option<String>,
    #[serde(default)]
    display_name: Patch<String>,
}

pub async fn update_me(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: UpdateMe = json_body(&req, app.config.max_body_bytes)?;
    let mut errors = FieldErrors::default();
    let handle = body
        .handle
        .as_deref()
        .and_then(|h| errors.take(Handle::parse(h)));
    let display_name = match body.display_name {
        Patch::Absent => None,
        Patch::Null => Some(None),
        Patch::Value(name) => errors
            .take(DisplayName::parse("display_name", &name))
            .map(Some),
    };
    if !errors.is_empty() {
        return Err(errors.into_vec().into());
    }
    let op = op(&caller, &req);
    let user = current_user(app, &caller, &op, false).await?;
    answer_at_commit(|user: &User| json(StatusCode::OK, &UserView::from(user)));
    let user = app
        .store
        .update_user(
            &user,
            &UserPatch {
                handle,
                display_name,
            },
            &op,
        )
        .await?;
    Ok(json(StatusCode::OK, &UserView::from(&user)))
}
