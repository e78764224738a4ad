//! `token-claims`: Cognito's pre-token-generation trigger. It adds a person's organizations
//! (`orgs`, `orgs_truncated`) to their ID and access tokens, and `email` and `email_verified`
//! to the access token; `orgs_shared::domain::token_claims` says what each claim holds.
//!
//! Event version 2 (`V2_0`, Essentials and Plus tier user pools) customizes both tokens, with
//! the `orgs` claim as a JSON object. Version 1 (`V1_0`, any tier) customizes only the ID token,
//! and takes only strings: `orgs` is then the same object as JSON text. Version 3 events have
//! version 2's shape.
//!
//! The person is the `sub` user attribute, which is the tokens' `sub` and so the user id that
//! `orgs` knows them by. Reading their organizations takes two requests (see
//! `orgs_shared::store::token_orgs`). A read that fails fails the invocation, and Cognito then
//! refuses that sign-in or refresh: a token that silently lacked someone's organizations would
//! be wrong for its whole lifetime. So does running out of time: the whole invocation has one
//! deadline, `TOKEN_CLAIMS_DEADLINE`, inside Cognito's 5 s.

use std::collections::HashMap;
use std::time::Duration;

use aws_lambda_events::event::cognito::{
    ClaimsAndScopeOverrideDetailsV2, ClaimsOverrideDetails, CognitoAccessTokenGenerationV2,
    CognitoEventUserPoolsPreTokenGen, CognitoEventUserPoolsPreTokenGenV2,
    CognitoIdTokenGenerationV2,
};
use orgs_shared::app::Config;
use orgs_shared::budget::TOKEN_CLAIMS_DEADLINE;
use orgs_shared::domain::sso::signed_in_through;
use orgs_shared::domain::{
    EmailClaims, ListedMembership, OrgClaim, TokenClaims, UserId, pick_memberships,
};
use orgs_shared::store::{Store, StoreError, StoreResult};

use super::sso_sign_in;
use serde_json::Value;

/// Why the trigger fails its invocation, and so the sign-in or refresh: it answers with all of
/// a person's claims or with none.
#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The reads did not finish within the deadline; those still in flight were dropped.
    #[error("the person's organizations were not read within the trigger's deadline of {0:?}")]
    OutOfTime(Duration),
}

/// What the trigger adds for the person these user attributes describe. A sign-in through an
/// organization's identity provider (the `identities` attribute) first makes them a member of
/// it, once (`sso_sign_in::provision`); an organization that requires single sign-on is left
/// out of the claims of its members at its domains who signed in otherwise.
pub async fn claims_for(
    store: &Store,
    config: &Config,
    attributes: &HashMap<String, String>,
) -> StoreResult<TokenClaims> {
    let email = EmailClaims::from_claims(
        attributes.get("email").map(String::as_str),
        attributes.get("email_verified").map(String::as_str),
    );
    let through = signed_in_through(attributes.get("identities").map(String::as_str));
    let sso_provider = through.first().cloned();
    let Some(user) = attributes.get("sub").and_then(|sub| UserId::parse(sub)) else {
        return Ok(TokenClaims {
            orgs: Vec::new(),
            truncated: false,
            email,
            sso_provider,
        });
    };
    let max = config.token_max_orgs;
    let listed = store.listed_memberships(&user).await?;
    let (mut picked, mut truncated) = pick_memberships(listed, max);
    let ids: Vec<_> = picked.iter().map(|m| m.org_id.clone()).collect();
    let mut live = store.live_memberships(&user, &ids).await?;
    // A sign-in through an organization's provider, by someone not yet seen a member of it: a
    // first sign-in, which makes them one (or one moments after it, which the listing may not
    // show yet). Every later sign-in costs what any other does.
    if let Some(provider) = &sso_provider
        && !live
            .iter()
            .any(|m| m.sso.provider.as_ref() == Some(provider))
    {
        let address = attributes.get("email").map(String::as_str);
        let provisioned =
            sso_sign_in::provision(store, &config.limits, &user, address, provider).await?;
        if let Some(org) = provisioned.filter(|org| !picked.iter().any(|m| &m.org_id == org)) {
            // It goes first, as the most recently joined.
            picked.insert(0, ListedMembership::just_joined(org.clone()));
            if picked.len() > max.get() {
                picked.truncate(max.get());
                truncated = true;
            }
            live.extend(store.live_memberships(&user, &[org]).await?);
        }
    }
    // In the order picked, with the role the table holds now; an organization being deleted,
    // or one the person has left since the listing was read, is left out, and so is one that
    // requires single sign-on of them this sign-in did not go through.
    let orgs = picked
        .into_iter()
        .filter_map(|m| {
            let member = live.iter().find(|l| l.org_id == m.org_id)?;
            if member.sso.shuts_out(member.email.as_deref(), &through) {
                return None;
            }
            Some(OrgClaim {
                org_id: m.org_id,
                handle: member.handle.clone(),
                role: member.role.clone(),
            })
        })
        .collect();
    Ok(TokenClaims {
        orgs,
        truncated,
        email,
        sso_provider,
    })
}

/// The version 2 event with its response: the claims for both tokens, and the groups exactly
/// as Cognito would issue them (a response without them would replace them).
pub fn answer_v2(
    mut event: CognitoEventUserPoolsPreTokenGenV2,
    claims: &TokenClaims,
) -> CognitoEventUserPoolsPreTokenGenV2 {
    let mut id_token = CognitoIdTokenGenerationV2::default();
    id_token.claims_to_add_or_override = claims.id_token().into_iter().collect();
    let mut access_token = CognitoAccessTokenGenerationV2::default();
    access_token.claims_to_add_or_override = claims.access_token().into_iter().collect();
    let mut details = ClaimsAndScopeOverrideDetailsV2::default();
    details.group_override_details = event.request.group_configuration.clone();
    details.id_token_generation = Some(id_token);
    details.access_token_generation = Some(access_token);
    event.response.claims_and_scope_override_details = Some(details);
    event
}

/// The version 1 event with its response: the ID token's claims, as strings.
pub fn answer_v1(
    mut event: CognitoEventUserPoolsPreTokenGen,
    claims: &TokenClaims,
) -> CognitoEventUserPoolsPreTokenGen {
    let mut details = ClaimsOverrideDetails::default();
    details.group_override_details = event.request.group_configuration.clone();
    details.claims_to_add_or_override = claims
        .id_token_as_strings()
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_str()?.to_owned())))
        .collect();
    event.response.claims_override_details = Some(details);
    event
}

/// The whole trigger: the event as Cognito sent it, answered within `TOKEN_CLAIMS_DEADLINE`, or
/// an error. An event of a shape it does not know (such as a machine's client-credentials
/// grant, which has no person) goes back as it came, which tells Cognito to change nothing.
pub async fn token_claims(
    store: &Store,
    config: &Config,
    event: Value,
) -> Result<Value, ClaimsError> {
    token_claims_within(store, config, event, TOKEN_CLAIMS_DEADLINE).await
}

/// `token_claims` with another deadline: for tests of what the claims hold against a local AWS
/// that a loaded machine can slow to a second a call.
pub async fn token_claims_within(
    store: &Store,
    config: &Config,
    event: Value,
    deadline: Duration,
) -> Result<Value, ClaimsError> {
    // One deadline over everything: the SDK's retries, and the backoff on a batch's unprocessed
    // keys, which no call's own timeout bounds. A transaction (a first sign-in through single
    // sign-on) commits whole or not at all, and reads are harmless to cut, so nothing is left
    // half done.
    tokio::time::timeout(deadline, answer(store, config, event))
        .await
        .map_err(|_| ClaimsError::OutOfTime(deadline))?
        .map_err(ClaimsError::Store)
}

async fn answer(store: &Store, config: &Config, event: Value) -> StoreResult<Value> {
    let answered = if event["version"] == "1" {
        match serde_json::from_value::<CognitoEventUserPoolsPreTokenGen>(event.clone()) {
            Ok(v1) => {
                let claims = claims_for(store, config, &v1.request.user_attributes).await?;
                serde_json::to_value(answer_v1(v1, &claims))
            }
            Err(e) => return Ok(unchanged(event, &e)),
        }
    } else {
        let mut event = event;
        // Scopes concern the access token; an event without them still names a person.
        if event["request"].is_object() && event["request"]["scopes"].is_null() {
            event["request"]["scopes"] = Value::Array(Vec::new());
        }
        match serde_json::from_value::<CognitoEventUserPoolsPreTokenGenV2>(event.clone()) {
            Ok(v2) => {
                let claims = claims_for(store, config, &v2.request.user_attributes).await?;
                serde_json::to_value(answer_v2(v2, &claims))
            }
            Err(e) => return Ok(unchanged(event, &e)),
        }
    };
    // Serializing these types to a Value cannot fail: their maps have string keys.
    Ok(answered.unwrap_or_default())
}

fn unchanged(event: Value, error: &serde_json::Error) -> Value {
    tracing::warn!(
        trigger_source = event["triggerSource"].as_str().unwrap_or("?"),
        "not a pre-token-generation event for a person ({error}); the tokens stay as they are"
    );
    event
}

#[cfg(test)]
mod tests {
    use orgs_shared::domain::{OrgId, Role, RoleName};
    use serde_json::json;

    use super::*;
    use crate::unit_tests::unreachable_store;

    /// A version 2 event with every field Cognito sends, for a sign-in through the hosted UI.
    const V2_EVENT: &str = include_str!("fixtures/pre-token-generation-v2.json");
    /// The same sign-in as a version 1 event (a Lite tier user pool).
    const V1_EVENT: &str = include_str!("fixtures/pre-token-generation-v1.json");

    fn org(n: usize, handle: &str, role: Role) -> OrgClaim {
        OrgClaim {
            org_id: OrgId::parse(&format!("org_{n:032x}")).unwrap(),
            handle: handle.into(),
            role: RoleName::System(role),
        }
    }

    fn bobs_claims(orgs: Vec<OrgClaim>, truncated: bool) -> TokenClaims {
        TokenClaims {
            orgs,
            truncated,
            email: EmailClaims::from_claims(Some("Bob@Example.com"), Some("true")),
            sso_provider: None,
        }
    }

    fn answer(fixture: &str, claims: &TokenClaims) -> Value {
        let event: Value = serde_json::from_str(fixture).unwrap();
        if event["version"] == "1" {
            serde_json::to_value(answer_v1(serde_json::from_value(event).unwrap(), claims))
        } else {
            serde_json::to_value(answer_v2(serde_json::from_value(event).unwrap(), claims))
        }
        .unwrap()
    }

    #[test]
    fn a_version_2_answer_customizes_both_tokens_and_keeps_the_groups() {
        let claims = bobs_claims(
            vec![org(1, "acme", Role::Admin), org(2, "beta", Role::Member)],
            false,
        );
        let answered = answer(V2_EVENT, &claims);
        let orgs = json!({
            "org_00000000000000000000000000000001": { "handle": "acme", "role": "admin" },
            "org_00000000000000000000000000000002": { "handle": "beta", "role": "member" },
        });
        assert_eq!(
            answered["response"],
            json!({
                "claimsAndScopeOverrideDetails": {
                    "idTokenGeneration": {
                        "claimsToAddOrOverride": { "orgs": orgs },
                        "claimsToSuppress": [],
                    },
                    "accessTokenGeneration": {
                        "claimsToAddOrOverride": {
                            "orgs": orgs,
                            "email": "bob@example.com",
                            "email_verified": true,
                        },
                        "claimsToSuppress": [],
                        "scopesToAdd": [],
                        "scopesToSuppress": [],
                    },
                    "groupOverrideDetails": {
                        "groupsToOverride": ["readers"],
                        "iamRolesToOverride": [],
                        "preferredRole": null,
                    },
                }
            })
        );
        // What Cognito sent is still there (with an empty `clientMetadata` when it sent none).
        let sent: Value = serde_json::from_str(V2_EVENT).unwrap();
        for field in [
            "version",
            "triggerSource",
            "userPoolId",
            "userName",
            "callerContext",
        ] {
            assert_eq!(answered[field], sent[field], "{field}");
        }
        for field in ["userAttributes", "groupConfiguration", "scopes"] {
            assert_eq!(
                answered["request"][field], sent["request"][field],
                "{field}"
            );
        }
    }

    #[test]
    fn the_cap_and_its_flag_reach_both_tokens() {
        let orgs = (0..20).map(|n| org(n, "acme", Role::Member)).collect();
        let answered = answer(V2_EVENT, &bobs_claims(orgs, true));
        let details = &answered["response"]["claimsAndScopeOverrideDetails"];
        for token in ["idTokenGeneration", "accessTokenGeneration"] {
            let claims = &details[token]["claimsToAddOrOverride"];
            assert_eq!(claims["orgs"].as_object().unwrap().len(), 20, "{token}");
            assert_eq!(claims["orgs_truncated"], json!(true), "{token}");
        }
    }

    #[test]
    fn a_sign_in_through_an_organizations_provider_says_so_in_both_tokens() {
        let mut claims = bobs_claims(vec![org(1, "acme", Role::Member)], false);
        let provider = "o-0123456789abcdef0123456789abcd";
        claims.sso_provider = orgs_shared::domain::ProviderName::parse(provider);
        let answered = answer(V2_EVENT, &claims);
        let details = &answered["response"]["claimsAndScopeOverrideDetails"];
        for token in ["idTokenGeneration", "accessTokenGeneration"] {
            let added = &details[token]["claimsToAddOrOverride"];
            assert_eq!(added["sso_provider"], json!(provider), "{token}");
        }
        let v1 = answer(V1_EVENT, &claims);
        assert_eq!(
            v1["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"]["sso_provider"],
            json!(provider)
        );
    }

    #[test]
    fn a_person_in_no_organization_gets_only_the_email_claims() {
        let answered = answer(V2_EVENT, &bobs_claims(Vec::new(), false));
        let details = &answered["response"]["claimsAndScopeOverrideDetails"];
        assert_eq!(
            details["idTokenGeneration"]["claimsToAddOrOverride"],
            json!({})
        );
        assert_eq!(
            details["accessTokenGeneration"]["claimsToAddOrOverride"],
            json!({ "email": "bob@example.com", "email_verified": true })
        );
    }

    #[test]
    fn a_version_1_answer_puts_strings_in_the_id_token() {
        let claims = bobs_claims(vec![org(1, "acme", Role::Owner)], true);
        let answered = answer(V1_EVENT, &claims);
        let details = &answered["response"]["claimsOverrideDetails"];
        let added = &details["claimsToAddOrOverride"];
        assert_eq!(added["orgs_truncated"], json!("true"));
        let orgs: Value = serde_json::from_str(added["orgs"].as_str().unwrap()).unwrap();
        assert_eq!(
            orgs,
            json!({ "org_00000000000000000000000000000001": { "handle": "acme", "role": "owner" } })
        );
        assert_eq!(
            details["groupOverrideDetails"]["groupsToOverride"],
            json!(["readers"])
        );
    }

    #[tokio::test]
    async fn a_machines_token_goes_back_unchanged_without_a_read() {
        // Version 3's client-credentials grant: no person, no user attributes.
        let event = json!({
            "version": "3",
            "triggerSource": "TokenGeneration_ClientCredentials",
            "region": "eu-west-1",
            "userPoolId": "eu-west-1_EXAMPLE1",
            "userName": null,
            "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "machine" },
            "request": { "userAttributes": {}, "groupConfiguration": null, "scopes": ["api/read"] },
            "response": { "claimsAndScopeOverrideDetails": null },
        });
        let store = unreachable_store();
        let answered = token_claims(&store, &Config::for_table("orgs"), event.clone()).await;
        assert_eq!(answered.unwrap(), event);
    }

    #[tokio::test]
    async fn without_a_sub_only_the_email_claims_are_added_without_a_read() {
        let mut event: Value = serde_json::from_str(V2_EVENT).unwrap();
        event["request"]["userAttributes"]
            .as_object_mut()
            .unwrap()
            .remove("sub");
        let store = unreachable_store();
        let answered = token_claims(&store, &Config::for_table("orgs"), event)
            .await
            .unwrap();
        let details = &answered["response"]["claimsAndScopeOverrideDetails"];
        assert_eq!(
            details["accessTokenGeneration"]["claimsToAddOrOverride"],
            json!({ "email": "bob@example.com", "email_verified": true })
        );
    }

    #[tokio::test]
    async fn an_unreachable_table_fails_the_invocation() {
        let event: Value = serde_json::from_str(V2_EVENT).unwrap();
        let store = unreachable_store();
        let answered = token_claims(&store, &Config::for_table("orgs"), event).await;
        assert!(answered.is_err(), "{answered:?}");
    }

    #[test]
    fn the_fixtures_are_what_cognito_sends() {
        for fixture in [V2_EVENT, V1_EVENT] {
            let event: Value = serde_json::from_str(fixture).unwrap();
            let attributes = &event["request"]["userAttributes"];
            assert!(attributes["sub"].is_string() && attributes["email_verified"] == "true");
            assert!(
                event["response"]
                    .as_object()
                    .unwrap()
                    .values()
                    .all(Value::is_null)
            );
        }
    }
}
