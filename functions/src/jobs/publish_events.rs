//! `publish-events`: the table's stream in, EventBridge out. Only new event records (INSERTs of
//! the items `store/history.rs` writes in the same transaction as their change, and reads back
//! here) are published; every other change in the table is skipped.
//!
//! The answer is Lambda's partial-batch response. It names the first record that could not be
//! published, so Lambda delivers the batch again from exactly there: nothing after it is lost,
//! and nothing of one organization overtakes an earlier event of the same organization. A
//! record that can never be published (malformed, or refused for good by EventBridge) goes to
//! the dead-letter queue instead, and the stream moves on.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_dynamo::AttributeValue;
use serde_json::json;

use orgs_shared::events::{Outgoing, Publisher};
use orgs_shared::store::event_from_item;

/// What becomes of one stream record.
#[derive(Debug, PartialEq)]
pub enum Plan {
    /// Not a new event record: another item, an update, or TTL removing a published one.
    Skip,
    Publish(Outgoing),
    /// An event record that can never be published as it is; it goes to the dead-letter queue.
    DeadLetter(String),
}

fn text<'a>(record: &'a EventRecord, name: &str) -> Option<&'a str> {
    match record.change.new_image.get(name) {
        Some(AttributeValue::S(value)) => Some(value),
        _ => None,
    }
}

/// Decides what to do with a record; pure, so the choice is tested on its own.
pub fn plan(record: &EventRecord) -> Plan {
    if record.event_name != "INSERT" {
        return Plan::Skip;
    }
    match event_from_item(|name| text(record, name)) {
        None => Plan::Skip,
        Some(Ok(outgoing)) => Plan::Publish(outgoing),
        Some(Err(attribute)) => Plan::DeadLetter(format!(
            "the event record's {attribute} attribute is missing or malformed"
        )),
    }
}

/// The answer that has Lambda deliver again from `records[position]` on.
pub fn retry_from(records: &[EventRecord], position: usize) -> DynamoDbEventResponse {
    // Without a sequence number the identifier is empty, which Lambda reads as "the whole batch
    // failed": a duplicate at worst, never a loss.
    let identifier = records
        .get(position)
        .and_then(|r| r.change.sequence_number.clone())
        .unwrap_or_default();
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = Some(identifier);
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures.push(failure);
    response
}

/// SQS takes messages of at most 256 KiB.
pub const MAX_DEAD_LETTER_BYTES: usize = 256 * 1024;

/// The dead-letter message for a record: why, and the record as Lambda gave it. A record too
/// large for a message (an entry too large for EventBridge may be) goes without its images;
/// its keys still find the item in the table.
pub fn dead_letter_body(reason: &str, record: &EventRecord) -> String {
    let body = json!({ "reason": reason, "record": record }).to_string();
    if body.len() <= MAX_DEAD_LETTER_BYTES {
        return body;
    }
    let mut record = serde_json::to_value(record).unwrap_or_default();
    if let Some(change) = record.get_mut("dynamodb").and_then(|c| c.as_object_mut()) {
        change.remove("NewImage");
        change.remove("OldImage");
    }
    json!({
        "reason": reason,
        "record": record,
        "images_left_out": "the record was too large for a message; its Keys name the item",
    })
    .to_string()
}

/// Keeps a record in the dead-letter queue, with why, for a person to look at. On failure, the
/// record's position, for the stream to deliver again from there.
async fn dead_letter(
    publisher: &Publisher,
    records: &[EventRecord],
    position: usize,
    reason: &str,
) -> Result<(), usize> {
    let record = &records[position];
    let body = dead_letter_body(reason, record);
    if let Err(error) = publisher.dead_letter(body).await {
        tracing::error!(error = %error, reason, "could not dead-letter an event record");
        return Err(position);
    }
    tracing::error!(
        reason,
        sequence_number = record.change.sequence_number.as_deref().unwrap_or("?"),
        "an event record went to the dead-letter queue"
    );
    Ok(())
}

/// Events waiting to be published, with the position of each one's record in the batch.
#[derive(Default)]
struct Pending {
    positions: Vec<usize>,
    entries: Vec<Outgoing>,
}

impl Pending {
    /// Publishes what is pending, and dead-letters the records EventBridge refused for good;
    /// on failure, the position of the first record not published.
    async fn flush(&mut self, publisher: &Publisher, records: &[EventRecord]) -> Result<(), usize> {
        let outcome = publisher.publish(&self.entries).await;
        let published = self.entries.len() - outcome.rejected.len();
        let positions = std::mem::take(&mut self.positions);
        self.entries.clear();
        for rejected in &outcome.rejected {
            let reason = rejected.to_string();
            dead_letter(publisher, records, positions[rejected.position], &reason).await?;
        }
        match outcome.unpublished {
            None => {
                if published > 0 {
                    tracing::debug!(published, "events published");
                }
                Ok(())
            }
            Some(unpublished) => {
                tracing::error!(
                    first_unpublished = unpublished.first,
                    error = %unpublished.error,
                    "could not publish every event; the stream will deliver them again"
                );
                Err(positions[unpublished.first])
            }
        }
    }
}

pub async fn publish_events(publisher: &Publisher, event: Event) -> DynamoDbEventResponse {
    let records = &event.records;
    let mut pending = Pending::default();
    for (position, record) in records.iter().enumerate() {
        match plan(record) {
            Plan::Skip => {}
            Plan::Publish(outgoing) => {
                pending.positions.push(position);
                pending.entries.push(outgoing);
            }
            Plan::DeadLetter(reason) => {
                // Whatever came before it goes first, so the order holds.
                let done = match pending.flush(publisher, records).await {
                    Ok(()) => dead_letter(publisher, records, position, &reason).await,
                    failed => failed,
                };
                if let Err(failed) = done {
                    return retry_from(records, failed);
                }
            }
        }
    }
    match pending.flush(publisher, records).await {
        Ok(()) => DynamoDbEventResponse::default(),
        Err(failed) => retry_from(records, failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::retry::RetryConfig;
    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use orgs_shared::events::{EventsConfig, Retry};
    use serde_json::Value;

    fn record(sequence: u32, name: &str, image: Value) -> Value {
        json!({
            "eventID": format!("id-{sequence}"),
            "eventName": name,
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1_700_000_000.0,
                "Keys": { "pk": image["pk"], "sk": image["sk"] },
                "NewImage": image,
                "SequenceNumber": sequence.to_string(),
                "SizeBytes": 100,
                "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        })
    }

    fn event_item(org: &str, n: u32) -> Value {
        json!({
            "pk": { "S": format!("events-of-{org}") },
            "sk": { "S": format!("2026-01-01T00:00:00.00{n}Z#evt_{n}") },
            "entity": { "S": "event" },
            "event_id": { "S": format!("evt_{n}") },
            "detail_type": { "S": "OrganizationUpdated" },
            "detail": { "S": format!("{{\"event_id\":\"evt_{n}\"}}") },
            "at": { "S": format!("2026-01-01T00:00:00.00{n}Z") }
        })
    }

    fn other_item() -> Value {
        json!({ "pk": { "S": "org_1" }, "sk": { "S": "org" }, "entity": { "S": "org" } })
    }

    fn batch(records: Vec<Value>) -> Event {
        serde_json::from_value(json!({ "Records": records })).expect("a stream event")
    }

    #[test]
    fn only_inserted_event_records_are_published() {
        let event = batch(vec![
            record(1, "INSERT", other_item()),
            record(2, "MODIFY", event_item("org_1", 1)),
            record(3, "REMOVE", event_item("org_1", 1)),
            record(4, "INSERT", event_item("org_1", 2)),
        ]);
        let plans: Vec<Plan> = event.records.iter().map(plan).collect();
        assert_eq!(&plans[..3], [Plan::Skip, Plan::Skip, Plan::Skip]);
        let Plan::Publish(outgoing) = &plans[3] else {
            panic!("{:?}", plans[3])
        };
        // The record's partition: events of one subject keep their order.
        assert_eq!(outgoing.stream, "events-of-org_1");
        assert_eq!(outgoing.event_id, "evt_2");
        assert_eq!(outgoing.detail, r#"{"event_id":"evt_2"}"#);
    }

    #[test]
    fn malformed_event_records_are_dead_lettered_not_skipped() {
        for broken in ["detail", "detail_type", "at"] {
            let mut item = event_item("org_1", 1);
            item.as_object_mut().unwrap().remove(broken);
            let event = batch(vec![record(1, "INSERT", item)]);
            assert!(
                matches!(plan(&event.records[0]), Plan::DeadLetter(why) if why.contains(broken)),
                "{broken}"
            );
        }
        let mut item = event_item("org_1", 1);
        item["detail"] = json!({ "S": "[1]" });
        let event = batch(vec![record(1, "INSERT", item)]);
        assert!(matches!(plan(&event.records[0]), Plan::DeadLetter(_)));
    }

    #[test]
    fn a_dead_letter_too_large_for_a_message_leaves_the_images_out() {
        let mut item = event_item("org_1", 1);
        let event = batch(vec![record(1, "INSERT", item.clone())]);
        let body: Value =
            serde_json::from_str(&dead_letter_body("why", &event.records[0])).unwrap();
        assert_eq!(
            body["record"]["dynamodb"]["NewImage"]["event_id"]["S"],
            "evt_1"
        );

        item["detail"] = json!({ "S": "x".repeat(MAX_DEAD_LETTER_BYTES) });
        let event = batch(vec![record(1, "INSERT", item)]);
        let body = dead_letter_body("too large", &event.records[0]);
        assert!(body.len() < MAX_DEAD_LETTER_BYTES, "{}", body.len());
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["reason"], "too large");
        assert_eq!(
            body["record"]["dynamodb"]["Keys"]["pk"]["S"],
            "events-of-org_1"
        );
        assert_eq!(body["record"]["dynamodb"]["SequenceNumber"], "1");
        assert!(body["record"]["dynamodb"].get("NewImage").is_none());
    }

    #[test]
    fn a_failure_names_the_sequence_number_of_its_record() {
        let event = batch(vec![
            record(7, "INSERT", event_item("org_1", 1)),
            record(8, "INSERT", event_item("org_1", 2)),
        ]);
        let response = retry_from(&event.records, 1);
        assert_eq!(response.batch_item_failures.len(), 1);
        assert_eq!(
            response.batch_item_failures[0].item_identifier.as_deref(),
            Some("8")
        );
    }

    /// EventBridge at a closed port: the answer names the first event record, after the
    /// records that needed no publishing, so Lambda retries from exactly there.
    #[tokio::test]
    async fn with_eventbridge_unreachable_the_first_event_record_is_retried() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .http_client(crate::runtime::https_client().expect("the HTTPS client"))
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(RetryConfig::disabled())
            .build();
        let config = EventsConfig {
            bus_name: "bus".into(),
            dead_letter_queue_url: "http://127.0.0.1:9/queue".into(),
        };
        let publisher = Publisher::from_sdk(&sdk, config).with_retry(Retry {
            attempts: 2,
            first_delay: std::time::Duration::from_millis(1),
        });
        let event = batch(vec![
            record(1, "INSERT", other_item()),
            record(2, "INSERT", event_item("org_1", 1)),
            record(3, "INSERT", event_item("org_2", 2)),
        ]);
        let response = publish_events(&publisher, event).await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_deref())
            .collect();
        assert_eq!(failed, [Some("2")]);

        let only_others = batch(vec![record(1, "INSERT", other_item())]);
        let response = publish_events(&publisher, only_others).await;
        assert!(response.batch_item_failures.is_empty());
    }
}
