//! `GET /me` and `PATCH /me`: the caller's own profile, created on first use from the claims.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use orgs_shared::app::App;
use orgs_shared::domain::{DisplayName, FieldErrors, Handle, StoredEmail};
use orgs_shared::http::{ApiError, Caller, Patch, caller, json, json_body, present};
use orgs_shared::store::{Identity, Op, User, UserPatch};

use crate::access::op;
use crate::views::UserView;

/// The stored profile, created now if this is the caller's first request, and its email kept
/// in step with the claims of tokens that state one (never changed by an access token).
async fn current_user(app: &App, caller: &Caller, op: &Op) -> Result<User, ApiError> {
    let Some(user) = app.store.get_user(&caller.user_id).await? else {
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

pub async fn get_me(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let user = current_user(app, &caller, &op(&caller, &req)).await?;
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
    let user = current_user(app, &caller, &op).await?;
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
