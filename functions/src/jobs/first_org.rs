//! `create-first-org`: Cognito's Post Confirmation trigger. When the deployer turns it on
//! (`CreateOrgOnSignUp`), a person who confirms their sign-up gets an organization named after
//! them, with them as its owner, and a free handle made from their preferred username or the
//! local part of their address (`orgs_shared::domain::first_org`). For other identity
//! providers, their first `GET /me` does the same (`handlers::me`).
//!
//! It is made at most once per person, however often the sign-up is reported: the transaction
//! that creates it puts the person's first-organization marker on the condition that it is
//! absent (`Store::create_first_org`). Cognito calls the trigger again when an invocation fails
//! or times out, and a first `GET /me` may follow it.
//!
//! A front end can keep a person from getting one (someone signing up through an invitation,
//! say) by passing `ClientMetadata` `{"orgs:first_org": "skip"}` to `ConfirmSignUp`.

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPostConfirmation;
use orgs_shared::app::{Config, SignUpSettings};
use orgs_shared::domain::first_org::{
    candidate_handles, draws, first_org_name, handle_stem, makes_first_org,
};
use orgs_shared::domain::{Limits, NewOrganization, Timestamp, UserId};
use orgs_shared::store::{Identity, Op, Organization, Refusal, Store, StoreError, StoreResult};
use serde_json::Value;

/// The client metadata key, and its value, that skip the organization for this sign-up.
pub const SKIP_KEY: &str = "orgs:first_org";
pub const SKIP_VALUE: &str = "skip";

/// What a person's first organization is made from.
#[derive(Clone, Debug)]
pub struct Person<'a> {
    pub identity: Identity,
    pub name: Option<&'a str>,
    pub preferred_username: Option<&'a str>,
}

/// What became of the attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum FirstOrg {
    Created(Box<Organization>),
    /// The person's first organization was made before: nothing was written.
    MadeBefore,
    /// Every handle tried was taken (or the person owns all the organizations they may).
    NotMade,
}

/// Makes the person's first organization, trying each candidate handle in turn.
pub async fn make_first_org(
    store: &Store,
    settings: &SignUpSettings,
    limits: &Limits,
    person: &Person<'_>,
    op: &Op,
) -> StoreResult<FirstOrg> {
    let email = person.identity.email.as_deref();
    let stem = handle_stem(person.preferred_username, email);
    for handle in candidate_handles(&stem, &draws()) {
        let name = first_org_name(person.name, person.preferred_username, email, &handle);
        let new = NewOrganization {
            handle,
            display_name: name,
            region: settings.first_org_region,
            avatar_url: None,
            url: None,
        };
        match store
            .create_first_org(&new, &person.identity, limits, op)
            .await
        {
            Ok((org, _)) => {
                tracing::info!(org_id = %org.org_id, handle = %org.handle, "first organization made");
                return Ok(FirstOrg::Created(Box::new(org)));
            }
            Err(StoreError::Refused(Refusal::HandleTaken)) => continue,
            Err(StoreError::Refused(Refusal::AlreadyDone)) => return Ok(FirstOrg::MadeBefore),
            Err(StoreError::Refused(Refusal::Limit(kind))) => {
                tracing::warn!(?kind, "no first organization: a limit is reached");
                return Ok(FirstOrg::NotMade);
            }
            Err(e) => return Err(e),
        }
    }
    tracing::warn!("no first organization: every handle tried was taken");
    Ok(FirstOrg::NotMade)
}

/// The whole trigger: the event goes back as it came (a Post Confirmation trigger answers
/// nothing). A store that fails fails the invocation, and Cognito tries again; the marker makes
/// the repeat harmless.
pub async fn create_first_org(store: &Store, config: &Config, event: Value) -> StoreResult<Value> {
    if !config.sign_up.create_first_org {
        return Ok(event);
    }
    let source = event["triggerSource"].as_str().unwrap_or_default();
    if !makes_first_org(source) {
        return Ok(event);
    }
    let parsed: CognitoEventUserPoolsPostConfirmation = match serde_json::from_value(event.clone())
    {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::warn!("not a Post Confirmation event ({e}); nothing made");
            return Ok(event);
        }
    };
    let request = &parsed.request;
    if request.client_metadata.get(SKIP_KEY).map(String::as_str) == Some(SKIP_VALUE) {
        return Ok(event);
    }
    let attribute = |name: &str| {
        request
            .user_attributes
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    };
    let Some(user_id) = attribute("sub").and_then(UserId::parse) else {
        tracing::warn!("a Post Confirmation event without a usable sub; nothing made");
        return Ok(event);
    };
    let identity = Identity {
        user_id: user_id.clone(),
        email: attribute("email").map(str::to_lowercase),
        email_verified: attribute("email_verified") == Some("true"),
    };
    let person = Person {
        identity,
        name: attribute("name"),
        preferred_username: attribute("preferred_username"),
    };
    let op = Op {
        actor: user_id,
        request_id: format!("cognito:{source}"),
        at: Timestamp::now(),
        acting_as: None,
    };
    make_first_org(store, &config.sign_up, &config.limits, &person, &op).await?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::unit_tests::unreachable_store;

    fn event(source: &str, metadata: Value) -> Value {
        json!({
            "version": "1",
            "triggerSource": source,
            "region": "eu-west-1",
            "userPoolId": "eu-west-1_EXAMPLE1",
            "userName": "bob",
            "callerContext": { "awsSdkVersion": "aws-sdk-js-3", "clientId": "client" },
            "request": {
                "userAttributes": { "sub": "bob", "email": "bob@example.com", "email_verified": "true" },
                "clientMetadata": metadata,
            },
            "response": {},
        })
    }

    fn on() -> Config {
        let mut config = Config::for_table("unreachable");
        config.sign_up.create_first_org = true;
        config
    }

    #[tokio::test]
    async fn what_makes_no_organization_goes_back_unchanged_without_a_request() {
        let store = unreachable_store();
        let off = Config::for_table("unreachable");
        let sign_up = event("PostConfirmation_ConfirmSignUp", json!({}));
        assert_eq!(
            create_first_org(&store, &off, sign_up.clone())
                .await
                .unwrap(),
            sign_up
        );
        for quiet in [
            event("PostConfirmation_ConfirmForgotPassword", json!({})),
            event(
                "PostConfirmation_ConfirmSignUp",
                json!({ SKIP_KEY: SKIP_VALUE }),
            ),
            json!({ "triggerSource": "PostConfirmation_ConfirmSignUp", "request": 3 }),
        ] {
            assert_eq!(
                create_first_org(&store, &on(), quiet.clone())
                    .await
                    .unwrap(),
                quiet
            );
        }
    }

    #[tokio::test]
    async fn an_unreachable_table_fails_the_invocation() {
        let store = unreachable_store();
        let sign_up = event("PostConfirmation_ConfirmSignUp", json!(null));
        let answered = create_first_org(&store, &on(), sign_up).await;
        assert!(answered.is_err(), "{answered:?}");
    }
}
