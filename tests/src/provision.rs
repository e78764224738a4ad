//! Creates what the SAM template declares, in the local AWS: the table (read from the template
//! itself, so the two cannot differ) and the verified SES sender; and what a deployer brings
//! along, the Cognito user pool with the app client single sign-on lists its providers in.

use anyhow::{Context, anyhow};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use serde_yaml_ng::Value;

use crate::workspace_root;

/// `Resources.Table.Properties` of `infra/template.yaml`.
pub fn table_definition() -> anyhow::Result<Value> {
    let path = workspace_root().join("infra/template.yaml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let template: Value = serde_yaml_ng::from_str(&text).context("parsing the SAM template")?;
    template["Resources"]["Table"]["Properties"]
        .as_mapping()
        .map(|m| Value::Mapping(m.clone()))
        .ok_or_else(|| anyhow!("the template has no Resources.Table.Properties"))
}

fn text<'a>(value: &'a Value, key: &str) -> anyhow::Result<&'a str> {
    value[key]
        .as_str()
        .ok_or_else(|| anyhow!("table definition: {key} is missing"))
}

fn key_schema(list: &Value) -> anyhow::Result<Vec<KeySchemaElement>> {
    list.as_sequence()
        .ok_or_else(|| anyhow!("KeySchema is not a list"))?
        .iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName")?)
                .key_type(KeyType::from(text(k, "KeyType")?))
                .build()?)
        })
        .collect()
}

/// Creates the table as the template defines it, unless it exists; then turns on its TTL.
/// Gives the table's global secondary indexes a lag behind its writes, as DynamoDB's have:
/// moto (through `tests/moto_server.py`, which reads this tag) answers a Query on an index from
/// the table as it was `lag` ago. For tests on moto only.
pub async fn lag_indexes(
    sdk: &SdkConfig,
    table_name: &str,
    lag: std::time::Duration,
) -> anyhow::Result<()> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let described = client
        .describe_table()
        .table_name(table_name)
        .send()
        .await
        .context("describing the table")?;
    let arn = described
        .table()
        .and_then(|t| t.table_arn())
        .ok_or_else(|| anyhow!("the table has no ARN"))?;
    let tag = aws_sdk_dynamodb::types::Tag::builder()
        .key("orgs-test:index-lag-ms")
        .value(lag.as_millis().to_string())
        .build()
        .context("building the tag")?;
    client
        .tag_resource()
        .resource_arn(arn)
        .tags(tag)
        .send()
        .await
        .context("tagging the table")?;
    Ok(())
}

pub async fn ensure_table(sdk: &SdkConfig, table_name: &str) -> anyhow::Result<()> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    if client
        .describe_table()
        .table_name(table_name)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    let def = table_definition()?;
    let mut create = client
        .create_table()
        .table_name(table_name)
        .billing_mode(BillingMode::from(text(&def, "BillingMode")?))
        .set_key_schema(Some(key_schema(&def["KeySchema"])?));
    for attribute in def["AttributeDefinitions"]
        .as_sequence()
        .into_iter()
        .flatten()
    {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(text(attribute, "AttributeName")?)
                .attribute_type(ScalarAttributeType::from(text(attribute, "AttributeType")?))
                .build()?,
        );
    }
    for index in def["GlobalSecondaryIndexes"]
        .as_sequence()
        .into_iter()
        .flatten()
    {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(index, "IndexName")?)
                .set_key_schema(Some(key_schema(&index["KeySchema"])?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(text(
                            &index["Projection"],
                            "ProjectionType",
                        )?))
                        .build(),
                )
                .build()?,
        );
    }
    if let Some(view) = def["StreamSpecification"]["StreamViewType"].as_str() {
        create = create.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view))
                .build()?,
        );
    }
    create.send().await.context("creating the table")?;
    if let Some(attribute) = def["TimeToLiveSpecification"]["AttributeName"].as_str() {
        client
            .update_time_to_live()
            .table_name(table_name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attribute)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await
            .context("enabling the table's TTL")?;
    }
    Ok(())
}

/// Registers the sender address with SES v2 (moto treats it as verified).
pub async fn ensure_sender(sdk: &SdkConfig, address: &str) -> anyhow::Result<()> {
    let client = aws_sdk_sesv2::Client::new(sdk);
    if client
        .get_email_identity()
        .email_identity(address)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    client
        .create_email_identity()
        .email_identity(address)
        .send()
        .await
        .context("creating the SES sender identity")?;
    Ok(())
}

/// Creates the event bus unless it exists (`default` always does).
pub async fn ensure_bus(sdk: &SdkConfig, name: &str) -> anyhow::Result<()> {
    let client = aws_sdk_eventbridge::Client::new(sdk);
    if client.describe_event_bus().name(name).send().await.is_ok() {
        return Ok(());
    }
    client
        .create_event_bus()
        .name(name)
        .send()
        .await
        .context("creating the event bus")?;
    Ok(())
}

/// An SQS queue: where to send to it, and its ARN for rules and targets.
#[derive(Clone, Debug)]
pub struct Queue {
    pub url: String,
    pub arn: String,
}

/// Creates the queue unless it exists (creating one with the same name is a no-op in SQS).
pub async fn ensure_queue(sdk: &SdkConfig, name: &str) -> anyhow::Result<Queue> {
    let client = aws_sdk_sqs::Client::new(sdk);
    let created = client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .context("creating a queue")?;
    let url = created
        .queue_url()
        .ok_or_else(|| anyhow!("the new queue has no URL"))?
        .to_owned();
    let attributes = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .context("reading the queue's ARN")?;
    let arn = attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .ok_or_else(|| anyhow!("the queue has no ARN"))?
        .to_owned();
    Ok(Queue { url, arn })
}

/// A rule on `bus` that sends every event with source `orgs` to `queue`: how tests (and a
/// curious person) read what was published.
pub async fn ensure_rule_to_queue(
    sdk: &SdkConfig,
    bus: &str,
    rule: &str,
    queue: &Queue,
) -> anyhow::Result<()> {
    let client = aws_sdk_eventbridge::Client::new(sdk);
    let pattern = serde_json::json!({ "source": [orgs_shared::events::SOURCE] });
    client
        .put_rule()
        .name(rule)
        .event_bus_name(bus)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .context("creating the rule")?;
    client
        .put_targets()
        .rule(rule)
        .event_bus_name(bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(&queue.arn)
                .build()?,
        )
        .send()
        .await
        .context("pointing the rule at the queue")?;
    Ok(())
}

/// The EventBridge bus SES publishes a configuration set's events to: always the default one.
pub const SES_EVENT_BUS: &str = "default";

/// Creates the SES configuration set as the template does, unless it exists: bounces and
/// complaints suppressed, and every delivery event published to the default bus.
pub async fn ensure_configuration_set(sdk: &SdkConfig, name: &str) -> anyhow::Result<()> {
    use aws_sdk_sesv2::types::{
        EventBridgeDestination, EventDestinationDefinition, EventType, SuppressionListReason,
        SuppressionOptions,
    };
    let client = aws_sdk_sesv2::Client::new(sdk);
    if client
        .get_configuration_set()
        .configuration_set_name(name)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    client
        .create_configuration_set()
        .configuration_set_name(name)
        .suppression_options(
            SuppressionOptions::builder()
                .suppressed_reasons(SuppressionListReason::Bounce)
                .suppressed_reasons(SuppressionListReason::Complaint)
                .build(),
        )
        .send()
        .await
        .context("creating the SES configuration set")?;
    let region = sdk.region().map_or("us-east-1".into(), |r| r.to_string());
    let bus = format!("arn:aws:events:{region}:123456789012:event-bus/{SES_EVENT_BUS}");
    let mut destination = EventDestinationDefinition::builder()
        .enabled(true)
        .event_bridge_destination(
            EventBridgeDestination::builder()
                .event_bus_arn(bus)
                .build()?,
        );
    for kind in [
        EventType::Send,
        EventType::Delivery,
        EventType::DeliveryDelay,
        EventType::Bounce,
        EventType::Complaint,
        EventType::Reject,
    ] {
        destination = destination.matching_event_types(kind);
    }
    client
        .create_configuration_set_event_destination()
        .configuration_set_name(name)
        .event_destination_name("delivery-events")
        .event_destination(destination.build())
        .send()
        .await
        .context("creating the configuration set's EventBridge destination")?;
    Ok(())
}

/// The rule the template puts on the default bus for `record-delivery`: SES's events of this
/// configuration set. Locally its target is `queue`, which `delivery::DeliveryFeed` drains
/// into the function's handler.
pub async fn ensure_delivery_rule(
    sdk: &SdkConfig,
    rule: &str,
    configuration_set: &str,
    queue: &Queue,
) -> anyhow::Result<()> {
    let client = aws_sdk_eventbridge::Client::new(sdk);
    let pattern = serde_json::json!({
        "source": ["aws.ses"],
        "detail": { "mail": { "tags": { "ses:configuration-set": [configuration_set] } } },
    });
    client
        .put_rule()
        .name(rule)
        .event_bus_name(SES_EVENT_BUS)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .context("creating the SES events rule")?;
    client
        .put_targets()
        .rule(rule)
        .event_bus_name(SES_EVENT_BUS)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("record-delivery")
                .arn(&queue.arn)
                .build()?,
        )
        .send()
        .await
        .context("pointing the SES events rule at its queue")?;
    Ok(())
}

/// A Cognito user pool and the app client whose hosted sign-in lists the organizations' identity
/// providers: what `CognitoUserPoolArn` and `SsoAppClientId` name on AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPool {
    pub id: String,
    pub arn: String,
    pub app_client_id: String,
}

impl UserPool {
    /// What the functions are told (`ORGS_USER_POOL_ID`, `ORGS_SSO_APP_CLIENT_ID`).
    pub fn sso_settings(&self) -> orgs_shared::idp::SsoSettings {
        orgs_shared::idp::SsoSettings {
            user_pool_id: self.id.clone(),
            app_client_id: self.app_client_id.clone(),
        }
    }
}

/// The local app client's callback URL (a front end's; nothing serves it).
pub const SSO_CALLBACK_URL: &str = "http://localhost:3000/signed-in";

/// Creates a user pool named `name` and its app client, set up as a deployer's would be for
/// hosted sign-in: the authorization code grant with the scopes `openid`, `email` and `profile`,
/// a callback URL, the pool's own sign-in as its only provider so far, and token lifetimes of
/// its own, so that a test sees whether an update of the client keeps them.
pub async fn create_user_pool(sdk: &SdkConfig, name: &str) -> anyhow::Result<UserPool> {
    let client = aws_sdk_cognitoidentityprovider::Client::new(sdk);
    let created = client
        .create_user_pool()
        .pool_name(name)
        .send()
        .await
        .context("creating the user pool")?;
    let pool = created
        .user_pool()
        .ok_or_else(|| anyhow!("the new user pool is missing from the answer"))?;
    let id = pool
        .id()
        .ok_or_else(|| anyhow!("the new user pool has no id"))?
        .to_owned();
    let arn = pool
        .arn()
        .ok_or_else(|| anyhow!("the new user pool has no ARN"))?
        .to_owned();
    let app_client_id = create_app_client(&client, &id, name).await?;
    Ok(UserPool {
        id,
        arn,
        app_client_id,
    })
}

async fn create_app_client(
    client: &aws_sdk_cognitoidentityprovider::Client,
    pool_id: &str,
    name: &str,
) -> anyhow::Result<String> {
    use aws_sdk_cognitoidentityprovider::types::{
        ExplicitAuthFlowsType, OAuthFlowType, PreventUserExistenceErrorTypes, TimeUnitsType,
        TokenValidityUnitsType,
    };
    let created = client
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name(name)
        .callback_urls(SSO_CALLBACK_URL)
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .allowed_o_auth_scopes("profile")
        .allowed_o_auth_flows_user_pool_client(true)
        .supported_identity_providers("COGNITO")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .access_token_validity(30)
        .id_token_validity(30)
        .refresh_token_validity(7)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .access_token(TimeUnitsType::Minutes)
                .id_token(TimeUnitsType::Minutes)
                .refresh_token(TimeUnitsType::Days)
                .build(),
        )
        .send()
        .await
        .context("creating the app client")?;
    created
        .user_pool_client()
        .and_then(|c| c.client_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the new app client has no id"))
}

/// The user pool named `name` and its app client of the same name, made unless they exist (for
/// `cargo local` against a moto that outlives it).
pub async fn ensure_user_pool(sdk: &SdkConfig, name: &str) -> anyhow::Result<UserPool> {
    let client = aws_sdk_cognitoidentityprovider::Client::new(sdk);
    let mut pages = client
        .list_user_pools()
        .max_results(60)
        .into_paginator()
        .send();
    let mut found = None;
    while let Some(page) = pages.next().await {
        let page = page.context("listing the user pools")?;
        if let Some(pool) = page.user_pools().iter().find(|p| p.name() == Some(name)) {
            found = pool.id().map(str::to_owned);
            break;
        }
    }
    let Some(id) = found else {
        return create_user_pool(sdk, name).await;
    };
    let described = client
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .context("describing the user pool")?;
    let arn = described
        .user_pool()
        .and_then(|p| p.arn())
        .ok_or_else(|| anyhow!("the user pool has no ARN"))?
        .to_owned();
    let mut clients = client
        .list_user_pool_clients()
        .user_pool_id(&id)
        .max_results(60)
        .into_paginator()
        .send();
    let mut app_client_id = None;
    while let Some(page) = clients.next().await {
        let page = page.context("listing the app clients")?;
        if let Some(found) = page
            .user_pool_clients()
            .iter()
            .find(|c| c.client_name() == Some(name))
        {
            app_client_id = found.client_id().map(str::to_owned);
            break;
        }
    }
    let app_client_id = match app_client_id {
        Some(found) => found,
        None => create_app_client(&client, &id, name).await?,
    };
    Ok(UserPool {
        id,
        arn,
        app_client_id,
    })
}

/// Deletes the user pool, with its providers and clients.
pub async fn delete_user_pool(sdk: &SdkConfig, id: &str) -> anyhow::Result<()> {
    aws_sdk_cognitoidentityprovider::Client::new(sdk)
        .delete_user_pool()
        .user_pool_id(id)
        .send()
        .await
        .context("deleting the user pool")?;
    Ok(())
}
