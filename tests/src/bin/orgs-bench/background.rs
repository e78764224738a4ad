//! The functions no HTTP request reaches: `publish-events`, which the table's stream feeds,
//! `expire-invitations`, which the schedule invokes, and `token-claims`, which a Cognito user
//! pool invokes. Their events, the check of their answers, and their requests counted in this
//! process.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use orgs_functions::jobs::expiry::expire_invitations;
use orgs_functions::jobs::publish_events::publish_events;
use orgs_functions::jobs::token_claims::token_claims;
use orgs_local::token;
use orgs_shared::domain::time::Timestamp;
use orgs_shared::events::{EventsConfig, Publisher};
use serde_json::{Map, Value, json};

use crate::counting::Call;
use crate::fixture::{Fixture, TABLE};

pub const BUS: &str = "default";

/// The time a function has per invocation: expire-invitations' timeout in infra/template.yaml
/// (it decides how much work a run takes on), Cognito's 5 s for token-claims; 30 s for the
/// others, which never come near it.
pub fn timeout(function: &str) -> Duration {
    match function {
        "expire-invitations" => Duration::from_secs(300),
        "token-claims" => Duration::from_secs(5),
        _ => Duration::from_secs(30),
    }
}

/// What a background function's answer must say for the run to count.
pub fn check(function: &str, answer: &Value) -> anyhow::Result<()> {
    match function {
        "publish-events" => match answer["batchItemFailures"].as_array() {
            Some(failures) if failures.is_empty() => Ok(()),
            _ => bail!("publish-events did not publish its batch: {answer}"),
        },
        // The binary answers the schedule's report (the expiry's, the domains' recheck's and
        // the app client's); in this process, the expiry's own.
        "expire-invitations" => {
            let clean = |report: &Value| report["errors"].as_u64() == Some(0);
            let done = match answer.get("invitations") {
                Some(invitations) => {
                    clean(invitations)
                        && clean(&answer["domains"])
                        && answer["sso_client"] != "failed"
                }
                None => clean(answer),
            };
            if !done {
                bail!("expire-invitations reported errors: {answer}");
            }
            Ok(())
        }
        // Alice owns the fixture's organizations: both tokens must name them.
        "token-claims" => {
            let details = &answer["response"]["claimsAndScopeOverrideDetails"];
            let named = |token: &str| {
                details[token]["claimsToAddOrOverride"]["orgs"]
                    .as_object()
                    .map_or(0, |orgs| orgs.len())
            };
            if named("idTokenGeneration") == 0 || named("accessTokenGeneration") == 0 {
                bail!("token-claims named no organization: {answer}");
            }
            Ok(())
        }
        _ => bail!("{function} is not a background function"),
    }
}

/// The event Lambda hands `function`: for `publish-events`, a stream batch with the newest
/// event record in the table; for `expire-invitations`, the schedule's event. Both are handed
/// twice: the same event does the same work again (one PutEvents; one pass over the shards).
/// For `token-claims`, Alice's sign-in as a Cognito version 2 event.
pub async fn event(fx: &Fixture, function: &str) -> anyhow::Result<Value> {
    match function {
        "token-claims" => Ok(token::pre_token_generation_event(
            &fx.alice.sub,
            Some(&fx.alice.email),
            true,
        )),
        "publish-events" => stream_batch(fx).await,
        "expire-invitations" => Ok(json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "000000000000",
            "time": Timestamp::now().to_string(),
            "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:000000000000:rule/orgs-expiry"],
            "detail": {}
        })),
        _ => bail!("{function} is not a background function"),
    }
}

/// The requests `function` makes for its event, run in this process.
pub async fn count(fx: &Fixture, function: &str) -> anyhow::Result<Vec<Call>> {
    let event = event(fx, function).await?;
    invoke(fx, function, event).await
}

/// The requests of `token-claims` for a first sign-in through the first organization's
/// identity provider (connected first if it is not yet), by someone at its verified domain who
/// is in no organization yet: the sign-in that makes them a member.
pub async fn count_first_sso_sign_in(fx: &mut Fixture) -> anyhow::Result<Vec<Call>> {
    let provider = fx.connect_sso().await?;
    let person = fx.colleague();
    let event = token::federated_sign_in_event(&person.sub, &person.email, &provider);
    invoke(fx, "token-claims", event).await
}

/// The requests `function` makes for `event` (from `event`), run in this process.
pub async fn invoke(fx: &Fixture, function: &str, event: Value) -> anyhow::Result<Vec<Call>> {
    fx.recorder.take();
    let answer = match function {
        "publish-events" => {
            let publisher = Publisher::from_sdk(
                &fx.sdk,
                EventsConfig {
                    bus_name: BUS.into(),
                    dead_letter_queue_url: dead_letter_queue_url(&fx.endpoint),
                },
            );
            let batch: Event = serde_json::from_value(event).context("the stream batch")?;
            serde_json::to_value(publish_events(&publisher, batch).await)?
        }
        "expire-invitations" => {
            let stop_at = orgs_functions::jobs::expiry::stop_before(
                std::time::SystemTime::now() + timeout(function),
            );
            let report =
                expire_invitations(&fx.app.store, Timestamp::now(), stop_at, "bench").await;
            serde_json::to_value(report)?
        }
        "token-claims" => token_claims(&fx.app.store, &fx.app.config, event).await?,
        _ => bail!("{function} is not a background function"),
    };
    check(function, &answer)?;
    Ok(fx.recorder.take())
}

/// The events queue's URL as the template gives it; the benchmark's records are well formed,
/// so nothing is sent there.
pub fn dead_letter_queue_url(endpoint: &str) -> String {
    format!("{endpoint}/000000000000/orgs-events-dlq")
}

/// A batch of one INSERT record, the newest event item of the table, as Lambda delivers it.
async fn stream_batch(fx: &Fixture) -> anyhow::Result<Value> {
    let client = aws_sdk_dynamodb::Client::new(&fx.sdk);
    let items = client
        .scan()
        .table_name(TABLE)
        .filter_expression("entity = :event")
        .expression_attribute_values(":event", AttributeValue::S("event".into()))
        .send()
        .await
        .context("scanning for event records")?
        .items
        .unwrap_or_default();
    fx.recorder.take();
    let newest = items
        .iter()
        .max_by_key(|item| item.get("at").and_then(|at| at.as_s().ok()).cloned())
        .ok_or_else(|| anyhow!("the fixture wrote no event record"))?;
    let keys: HashMap<String, AttributeValue> = ["pk", "sk"]
        .into_iter()
        .filter_map(|k| Some((k.to_owned(), newest.get(k)?.clone())))
        .collect();
    Ok(json!({ "Records": [{
        "eventID": "bench-1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": Timestamp::now().unix_seconds(),
            "Keys": item_json(&keys)?,
            "NewImage": item_json(newest)?,
            "SequenceNumber": "100000000000000000001",
            "SizeBytes": 512,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        },
        "eventSourceARN": format!(
            "arn:aws:dynamodb:us-east-1:000000000000:table/{TABLE}/stream/2026-01-01T00:00:00.000"
        )
    }]}))
}

/// An item in DynamoDB's JSON form, as in Lambda's stream events.
pub fn item_json(item: &HashMap<String, AttributeValue>) -> anyhow::Result<Value> {
    item.iter()
        .map(|(name, value)| Ok((name.clone(), attribute_json(value)?)))
        .collect::<anyhow::Result<Map<_, _>>>()
        .map(Value::Object)
}

/// DynamoDB's JSON form of an attribute value, as in Lambda's stream events.
fn attribute_json(value: &AttributeValue) -> anyhow::Result<Value> {
    Ok(match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": STANDARD.encode(b.as_ref()) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(n) => json!({ "NULL": n }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::L(v) => {
            json!({ "L": v.iter().map(attribute_json).collect::<anyhow::Result<Vec<_>>>()? })
        }
        AttributeValue::M(m) => json!({ "M": item_json(m)? }),
        other => bail!("an attribute type the benchmark does not convert: {other:?}"),
    })
}
