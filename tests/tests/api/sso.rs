//! Single sign-on per organization, through the API, moto's Cognito (the user pool's identity
//! providers and app client) and the token-claims trigger with the event Cognito sends for a
//! sign-in through an identity provider.

use orgs_functions::jobs::token_claims::token_claims_within;
use orgs_local::token;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use crate::common::{Options, Person, Stack, assert_problem};
use crate::joining::verified_org;

const OKTA_METADATA: &str = "https://acme.okta.com/app/exk1/sso/saml/metadata";

pub(crate) fn saml() -> Value {
    json!({ "saml": { "metadata_url": OKTA_METADATA } })
}

/// Olivia and her organization, acme.com verified.
pub(crate) async fn acme(stack: &Stack) -> (Person, String) {
    let olivia = stack.person("olivia");
    let org = verified_org(stack, &olivia, "acme", "acme.com").await;
    (olivia, org)
}

/// Connects `org` with `body` as its owner `olivia`; the provider's name.
async fn connect(stack: &Stack, olivia: &Person, org: &str, body: Value) -> String {
    let (status, connection) = stack.put(olivia, format!("/orgs/{org}/sso"), body).await;
    assert_eq!(status, StatusCode::OK, "{connection}");
    connection["identity_provider"].as_str().unwrap().to_owned()
}

/// What `GET /sso/discover` answers anyone for `email`.
async fn discover(stack: &Stack, email: &str) -> Value {
    let path = format!("/sso/discover?email={}", email.replace('@', "%40"));
    let (status, found) = stack.get(crate::common::Anonymous, path).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    found
}

/// The user pool and app client of the stack.
fn pool(stack: &Stack) -> (&str, &str) {
    let pool = stack.user_pool.as_ref().expect("a stack with a user pool");
    (&pool.id, &pool.app_client_id)
}

/// The providers the app client lists.
pub(crate) async fn client_providers(stack: &Stack) -> Vec<String> {
    let (pool_id, client_id) = pool(stack);
    let client = stack
        .cognito
        .describe_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .send()
        .await
        .expect("the app client")
        .user_pool_client
        .expect("a client");
    client.supported_identity_providers.unwrap_or_default()
}

/// The identity provider `name` of the pool, if there is one.
async fn provider(
    stack: &Stack,
    name: &str,
) -> Option<aws_sdk_cognitoidentityprovider::types::IdentityProviderType> {
    let (pool_id, _) = pool(stack);
    stack
        .cognito
        .describe_identity_provider()
        .user_pool_id(pool_id)
        .provider_name(name)
        .send()
        .await
        .ok()
        .and_then(|out| out.identity_provider)
}

fn federated_sign_in(sub: &str, email: &str, provider: &str) -> Value {
    token::federated_sign_in_event(sub, email, provider)
}

/// The claims the trigger adds to the ID token for `event`.
pub(crate) async fn id_claims(stack: &Stack, event: Value) -> Value {
    let answered = token_claims_within(
        &stack.app.store,
        &stack.app.config,
        event,
        std::time::Duration::from_secs(300),
    );
    let answered = orgs_local::grants::as_function("token-claims", answered)
        .await
        .expect("the trigger answers");
    answered["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]
        ["claimsToAddOrOverride"]
        .clone()
}

/// `person` with a token carrying `claims` (as the trigger added them).
fn with_claims(stack: &Stack, person: &Person, claims: &Value) -> Person {
    let extra: Map<String, Value> = claims.as_object().cloned().unwrap_or_default();
    stack.with_claims(person, extra)
}

#[tokio::test]
async fn an_organization_goes_from_a_verified_domain_to_a_saml_connection_to_a_first_sign_in_and_back()
 {
    let stack = Stack::start().await;
    let (olivia, org) = acme(&stack).await;
    let team = stack.first_team(&org).await;

    let body = json!({
        "saml": { "metadata_url": OKTA_METADATA },
        "default_role": "member",
        "default_teams": [{ "team_id": team }],
    });
    let name = connect(&stack, &olivia, &org, body).await;
    assert_eq!(name, format!("o-{}", &org[4..34]));
    let (status, connection) = stack.get(&olivia, format!("/orgs/{org}/sso")).await;
    assert_eq!(status, StatusCode::OK, "{connection}");
    assert_eq!(connection["identity_provider"], json!(name));
    assert_eq!(connection["protocol"], "saml");
    assert_eq!(connection["saml"], json!({ "metadata_url": OKTA_METADATA }));
    assert_eq!(connection["domains"], json!(["acme.com"]));
    assert_eq!(
        connection["default_teams"],
        json!([{ "team_id": team, "role": "member" }])
    );

    // The user pool has the provider, for the organization's verified domain only, and the app
    // client lists it beside Cognito's own sign-in, its other settings unchanged.
    let idp = provider(&stack, &name).await.expect("the provider");
    assert_eq!(idp.provider_type.unwrap().as_str(), "SAML");
    assert_eq!(idp.idp_identifiers.unwrap_or_default(), ["acme.com"]);
    let details = idp.provider_details.unwrap_or_default();
    assert_eq!(details["MetadataURL"], OKTA_METADATA);
    assert_eq!(client_providers(&stack).await, ["COGNITO", name.as_str()]);

    // A sign-in page asks where bob@acme.com signs in; anyone else signs in as before.
    assert_eq!(
        discover(&stack, "bob@acme.com").await,
        json!({ "sso": true, "identity_provider": name })
    );
    assert_eq!(
        discover(&stack, "bob@gmail.com").await,
        json!({ "sso": false })
    );

    // Bob signs in through it for the first time: a member at once, in this sign-in's token.
    let bob = stack.person_with_email("sso-bob", "bob@acme.com", true);
    let claims = id_claims(&stack, federated_sign_in(&bob.sub, &bob.email, &name)).await;
    assert_eq!(
        claims["orgs"],
        json!({ &org: { "handle": "acme", "role": "member" } })
    );
    assert_eq!(claims["sso_provider"], json!(name));
    let bob = with_claims(&stack, &bob, &claims);
    let (status, me) = stack
        .get(&olivia, format!("/orgs/{org}/members/{}", bob.sub))
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["role"], "member");
    let (status, members) = stack
        .get(&bob, format!("/orgs/{org}/teams/{team}/members"))
        .await;
    assert_eq!(status, StatusCode::OK, "{members}");
    assert!(members.to_string().contains(&bob.sub), "{members}");
    let (_, audit) = stack
        .get(
            &olivia,
            format!("/orgs/{org}/audit-log?action=member.joined"),
        )
        .await;
    let joined = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target"]["id"] == json!(bob.sub))
        .expect("bob's member.joined")
        .clone();
    assert_eq!(joined["data"]["identity_provider"], json!(name), "{joined}");

    // Signing in again changes nothing.
    let (_, before) = stack.get(&olivia, format!("/orgs/{org}")).await;
    let again = id_claims(&stack, federated_sign_in(&bob.sub, &bob.email, &name)).await;
    assert_eq!(again["orgs"], claims["orgs"]);
    let (_, after) = stack.get(&olivia, format!("/orgs/{org}")).await;
    assert_eq!(after["member_count"], before["member_count"]);

    // And back: the connection removed, the provider is gone from the pool and the client;
    // Bob stays a member.
    let (status, _) = stack.delete(&olivia, format!("/orgs/{org}/sso")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(provider(&stack, &name).await.is_none());
    assert_eq!(client_providers(&stack).await, ["COGNITO"]);
    let (status, gone) = stack.get(&olivia, format!("/orgs/{org}/sso")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    assert_eq!(
        discover(&stack, "bob@acme.com").await,
        json!({ "sso": false })
    );
    let (status, _) = stack
        .get(&olivia, format!("/orgs/{org}/members/{}", bob.sub))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack.delete(&olivia, format!("/orgs/{org}/sso")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn two_organizations_connecting_at_once_both_end_in_the_app_clients_list() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let oscar = stack.person("oscar");
    let acme = verified_org(&stack, &olivia, "acme", "acme.com").await;
    let beta = verified_org(&stack, &oscar, "beta", "beta.io").await;
    let (a, b) = tokio::join!(
        stack.put(&olivia, format!("/orgs/{acme}/sso"), saml()),
        stack.put(&oscar, format!("/orgs/{beta}/sso"), saml()),
    );
    assert_eq!(
        (a.0, b.0),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        a.1,
        b.1
    );
    let mut listed = client_providers(&stack).await;
    listed.sort();
    let mut expected = vec![
        "COGNITO".to_owned(),
        a.1["identity_provider"].as_str().unwrap().to_owned(),
        b.1["identity_provider"].as_str().unwrap().to_owned(),
    ];
    expected.sort();
    assert_eq!(listed, expected);

    // One leaves while the other changes its own: the list ends with exactly the other.
    let (gone, changed) = tokio::join!(
        stack.delete(&olivia, format!("/orgs/{acme}/sso")),
        stack.put(
            &oscar,
            format!("/orgs/{beta}/sso"),
            json!({ "saml": { "metadata_url": OKTA_METADATA }, "sso_required": true })
        ),
    );
    assert_eq!(
        (gone.0, changed.0),
        (StatusCode::NO_CONTENT, StatusCode::OK)
    );
    assert_eq!(
        client_providers(&stack).await,
        ["COGNITO", b.1["identity_provider"].as_str().unwrap()]
    );
}

#[tokio::test]
async fn sso_required_keeps_members_at_its_domains_out_unless_they_signed_in_through_it() {
    let stack = Stack::start().await;
    let (olivia, org) = acme(&stack).await;
    // Carol signed up with a password at her work address; Dana is a contractor elsewhere.
    let carol = stack.person_with_email("carol", "carol@acme.com", true);
    let dana = stack.person_with_email("dana", "dana@agency.io", true);
    stack.join(&org, &olivia, &carol, "admin").await;
    stack.join(&org, &olivia, &dana, "member").await;
    let body = json!({ "saml": { "metadata_url": OKTA_METADATA }, "sso_required": true });
    let name = connect(&stack, &olivia, &org, body).await;

    // Signed in with her password: the organization is not in Carol's token, and the API
    // refuses her in it; the contractor and the owner (at other domains) go on as before.
    let password = token::pre_token_generation_event(&carol.sub, Some(&carol.email), true);
    let claims = id_claims(&stack, password).await;
    assert!(claims.get("orgs").is_none(), "{claims}");
    let (status, refused) = stack.get(&carol, format!("/orgs/{org}")).await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "sso-required");
    let (_, listed) = stack.get(&carol, "/orgs").await;
    assert_eq!(listed["items"][0]["sso_required"], json!(true), "{listed}");
    let (status, _) = stack.get(&dana, format!("/orgs/{org}")).await;
    assert_eq!(status, StatusCode::OK);
    let dana_event = token::pre_token_generation_event(&dana.sub, Some(&dana.email), true);
    assert!(id_claims(&stack, dana_event).await["orgs"][&org].is_object());
    let (status, _) = stack.get(&olivia, format!("/orgs/{org}/sso")).await;
    assert_eq!(status, StatusCode::OK);

    // An invitation to an address at its domains says so; one to anyone else does not.
    let body =
        json!({ "invitations": [{ "email": "erin@acme.com" }, { "email": "fay@agency.io" }] });
    let (status, invited) = stack
        .post(&olivia, format!("/orgs/{org}/invitations"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    assert_eq!(
        invited["results"][0]["sso_required"],
        json!(true),
        "{invited}"
    );
    assert!(
        invited["results"][1].get("sso_required").is_none(),
        "{invited}"
    );

    // A token whose sign-in went through the organization's provider opens it again.
    let through = with_claims(&stack, &carol, &json!({ "sso_provider": name }));
    let (status, _) = stack.get(&through, format!("/orgs/{org}")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = stack.get(&through, "/orgs").await;
    assert!(listed["items"][0].get("sso_required").is_none(), "{listed}");

    // Turned off, Carol's password sign-in is enough again.
    let body = json!({ "saml": { "metadata_url": OKTA_METADATA }, "sso_required": false });
    let (status, _) = stack.put(&olivia, format!("/orgs/{org}/sso"), body).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack.get(&carol, format!("/orgs/{org}")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_oidc_client_secret_goes_to_cognito_only_and_is_kept_when_left_out() {
    let stack = Stack::start().await;
    let (olivia, org) = acme(&stack).await;
    let oidc = |secret: Option<&str>| {
        let mut oidc = json!({
            "issuer": "https://login.microsoftonline.com/tenant-1/v2.0",
            "client_id": "client-1",
        });
        if let Some(secret) = secret {
            oidc["client_secret"] = json!(secret);
        }
        json!({ "oidc": oidc })
    };
    let (status, connection) = stack
        .put(
            &olivia,
            format!("/orgs/{org}/sso"),
            oidc(Some("s3cret-value")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{connection}");
    assert_eq!(
        connection["oidc"],
        json!({
            "issuer": "https://login.microsoftonline.com/tenant-1/v2.0",
            "client_id": "client-1",
            "scopes": ["openid", "email", "profile"],
            "client_secret_set": true,
        })
    );
    let name = connection["identity_provider"].as_str().unwrap().to_owned();
    let details = provider(&stack, &name)
        .await
        .unwrap()
        .provider_details
        .unwrap();
    assert_eq!(details["client_secret"], "s3cret-value");
    assert_eq!(
        details["oidc_issuer"],
        "https://login.microsoftonline.com/tenant-1/v2.0"
    );

    // Changed without the secret: Cognito keeps the one it has.
    let mut changed = oidc(None);
    changed["sso_required"] = json!(true);
    let (status, _) = stack
        .put(&olivia, format!("/orgs/{org}/sso"), changed)
        .await;
    assert_eq!(status, StatusCode::OK);
    let details = provider(&stack, &name)
        .await
        .unwrap()
        .provider_details
        .unwrap();
    assert_eq!(details["client_secret"], "s3cret-value");

    // Nowhere else: not in the table (its audit entries and event records among its items),
    // nor in the audit log.
    let stored = format!("{:?}", stack.stored().await);
    assert!(
        stored.contains("SsoConnectionSet"),
        "the event records are there"
    );
    assert!(!stored.contains("s3cret-value"));
    let (_, audit) = stack.get(&olivia, format!("/orgs/{org}/audit-log")).await;
    assert!(!audit.to_string().contains("s3cret-value"));
    assert!(audit.to_string().contains("sso.connection_set"));
}

#[tokio::test]
async fn connections_that_cannot_be_made_are_refused_and_change_nothing() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let adam = stack.person("adam");
    let org = verified_org(&stack, &olivia, "acme", "acme.com").await;
    stack.join(&org, &olivia, &adam, "admin").await;
    let bare = stack.create_org(&olivia, "bare").await;
    let before = stack.snapshot().await;
    let listed = client_providers(&stack).await;

    let cases = [
        (
            &olivia,
            &bare,
            saml(),
            StatusCode::CONFLICT,
            "no-verified-domain",
        ),
        (&adam, &org, saml(), StatusCode::FORBIDDEN, "forbidden"),
        (
            &olivia,
            &org,
            json!({ "saml": { "metadata_url": OKTA_METADATA }, "default_role": "owner" }),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            &olivia,
            &org,
            json!({ "saml": { "metadata_url": "http://acme.okta.com/metadata" } }),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            &olivia,
            &org,
            json!({ "oidc": { "issuer": "https://idp.acme.com", "client_id": "c" } }),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            &olivia,
            &org,
            json!({ "saml": { "metadata_url": OKTA_METADATA },
                    "default_teams": [{ "team_id": "team_0123456789abcdef0123456789abcdef" }] }),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            &olivia,
            &org,
            json!({ "saml": { "metadata_url": OKTA_METADATA }, "default_role": "no-such-role" }),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
    ];
    for (who, org, body, status, kind) in cases {
        let (got, problem) = stack
            .put(who, format!("/orgs/{org}/sso"), body.clone())
            .await;
        assert_eq!(got, status, "{body}: {problem}");
        assert!(
            problem["type"].as_str().unwrap_or_default().ends_with(kind),
            "{body}: {problem}"
        );
    }
    assert_eq!(stack.snapshot().await, before);
    assert_eq!(client_providers(&stack).await, listed);
}

#[tokio::test]
async fn without_a_user_pool_single_sign_on_is_not_configured() {
    let stack = Stack::start_with(Options {
        without_sso: true,
        ..Options::default()
    })
    .await;
    let (olivia, org) = acme(&stack).await;
    let (status, problem) = stack.put(&olivia, format!("/orgs/{org}/sso"), saml()).await;
    assert_problem(
        status,
        &problem,
        StatusCode::NOT_IMPLEMENTED,
        "sso-not-configured",
    );
    assert_eq!(
        discover(&stack, "bob@acme.com").await,
        json!({ "sso": false })
    );
}

#[tokio::test]
async fn a_removed_domain_leaves_the_providers_identifiers_and_stops_provisioning() {
    let stack = Stack::start().await;
    let (olivia, org) = acme(&stack).await;
    let (status, added) = stack
        .post(
            &olivia,
            format!("/orgs/{org}/domains"),
            json!({ "domain": "acme.io" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    stack.dns.publish(
        added["record"]["name"].as_str().unwrap(),
        &[added["record"]["value"].as_str().unwrap()],
    );
    let name = connect(&stack, &olivia, &org, saml()).await;
    // Verified after the connection was made: its provider covers it at once.
    let (status, _) = stack
        .post(
            &olivia,
            format!("/orgs/{org}/domains/acme.io/verify"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut identifiers = provider(&stack, &name)
        .await
        .unwrap()
        .idp_identifiers
        .unwrap();
    identifiers.sort();
    assert_eq!(identifiers, ["acme.com", "acme.io"]);

    let (status, _) = stack
        .delete(&olivia, format!("/orgs/{org}/domains/acme.com"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let identifiers = provider(&stack, &name)
        .await
        .unwrap()
        .idp_identifiers
        .unwrap();
    assert_eq!(identifiers, ["acme.io"]);
    let (_, read) = stack.get(&olivia, format!("/orgs/{org}/sso")).await;
    assert_eq!(read["domains"], json!(["acme.io"]));
    let bob = stack.person_with_email("sso-bob", "bob@acme.com", true);
    let claims = id_claims(&stack, federated_sign_in(&bob.sub, &bob.email, &name)).await;
    assert!(claims.get("orgs").is_none(), "{claims}");
    let (status, _) = stack
        .get(&olivia, format!("/orgs/{org}/members/{}", bob.sub))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_full_organization_or_an_address_already_a_member_is_not_provisioned_and_the_sign_in_goes_on()
 {
    let stack = Stack::start_with(Options {
        limits: Some(orgs_shared::domain::Limits {
            members_per_org: 2,
            ..Default::default()
        }),
        ..Options::default()
    })
    .await;
    let (olivia, org) = acme(&stack).await;
    let carol = stack.person_with_email("carol", "carol@acme.com", true);
    stack.join(&org, &olivia, &carol, "member").await;
    let name = connect(&stack, &olivia, &org, saml()).await;
    let before = stack.snapshot().await;

    // Carol's address is a member's already (her password account), and the organization is
    // full for anyone else: both sign in, with no organization and nothing written.
    for (sub, email) in [
        ("sso-carol", "carol@acme.com"),
        ("sso-erin", "erin@acme.com"),
    ] {
        let claims = id_claims(&stack, federated_sign_in(sub, email, &name)).await;
        assert!(claims.get("orgs").is_none(), "{email}: {claims}");
        assert_eq!(claims["sso_provider"], json!(name));
    }
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn the_schedule_brings_the_app_client_in_step_after_a_function_failed_to() {
    let stack = Stack::start().await;
    let (olivia, org) = acme(&stack).await;
    let name = connect(&stack, &olivia, &org, saml()).await;
    let schedule = || async {
        let run = orgs_functions::jobs::expiry::run_schedule(
            &stack.app,
            orgs_shared::domain::Timestamp::now(),
            std::time::Instant::now() + std::time::Duration::from_secs(120),
            "run-sso",
        );
        orgs_local::grants::as_function("expire-invitations", run).await
    };
    assert_eq!(schedule().await.sso_client, "in step");

    // As a function leaves it that stored its change and died before the app client was
    // updated: the list's version moved on, the client still without the provider.
    let (pool_id, client_id) = pool(&stack);
    let client = stack
        .cognito
        .describe_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    stack
        .cognito
        .update_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .set_callback_urls(client.callback_urls)
        .set_allowed_o_auth_flows(client.allowed_o_auth_flows)
        .set_allowed_o_auth_scopes(client.allowed_o_auth_scopes)
        .set_allowed_o_auth_flows_user_pool_client(client.allowed_o_auth_flows_user_pool_client)
        .supported_identity_providers("COGNITO")
        .send()
        .await
        .unwrap();
    let key = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.into());
    stack
        .dynamo
        .update_item()
        .table_name(&stack.table)
        .key("pk", key("SSOCLIENT#providers"))
        .key("sk", key("SSOCLIENT"))
        .update_expression("ADD version :one")
        .expression_attribute_values(
            ":one",
            aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(client_providers(&stack).await, ["COGNITO"]);

    assert_eq!(schedule().await.sso_client, "brought in step");
    assert_eq!(client_providers(&stack).await, ["COGNITO", name.as_str()]);
    assert_eq!(schedule().await.sso_client, "in step");
}

#[tokio::test]
async fn a_domain_the_schedule_unverifies_leaves_the_providers_identifiers() {
    use orgs_shared::domain::{EmailDomain, Timestamp};
    let stack = Stack::start().await;
    let (olivia, org) = acme(&stack).await;
    let name = connect(&stack, &olivia, &org, saml()).await;
    let start = Timestamp::now();
    let run_at = |hours: i64| {
        let run = orgs_functions::jobs::expiry::run_schedule(
            &stack.app,
            start.plus_seconds(hours * 3600),
            std::time::Instant::now() + std::time::Duration::from_secs(120),
            "run-lapse",
        );
        orgs_local::grants::as_function("expire-invitations", run)
    };
    // The record goes, and stays gone past the grace period.
    let domain = EmailDomain::parse("domain", "acme.com").unwrap();
    stack.dns.remove(&domain.record_name());
    assert_eq!(run_at(25).await.domains.unverified, 0);
    assert_eq!(run_at(98).await.domains.unverified, 1);

    let idp = provider(&stack, &name).await.expect("the provider stays");
    assert!(idp.idp_identifiers.unwrap_or_default().is_empty());
    assert_eq!(
        discover(&stack, "bob@acme.com").await,
        json!({ "sso": false })
    );
}
