//! `publish-events`: the table's stream in, EventBridge out. Only new event records (INSERTs of
//! the items `store/history.rs` writes in the same transaction as their change, and reads back
//! here) are published; every other change in the table is skipped.
//!
//! The answer is Lambda's partial-batch response. It names the first record that could not be
//! published, so Lambda delivers the batch again from exactly there: nothing after it is lost,
//! and nothing of one organization overtakes an earlier event of the same organization.

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

/// Events waiting to be published, with the position of each one's record in the batch.
#[derive(Default)]
struct Pending {
    positions: Vec<usize>,
    entries: Vec<Outgoing>,
}

impl Pending {
    /// Publishes what is pending; on failure, the position of the first record not published.
    async fn flush(&mut self, publisher: &Publisher) -> Result<(), usize> {
        let result = publisher.publish(&self.entries).await;
        let published = self.entries.len();
        let positions = std::mem::take(&mut self.positions);
        self.entries.clear();
        match result {
            Ok(()) => {
                if published > 0 {
                    tracing::debug!(published, "events published");
                }
                Ok(())
            }
            Err(unpublished) => {
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
                if let Err(failed) = pending.flush(publisher).await {
                    return retry_from(records, failed);
                }
                let body = json!({ "reason": reason, "record": record }).to_string();
                if let Err(error) = publisher.dead_letter(body).await {
                    tracing::error!(error = %error, "could not dead-letter a malformed event record");
                    return retry_from(records, position);
                }
                tracing::error!(
                    reason,
                    sequence_number = record.change.sequence_number.as_deref().unwrap_or("?"),
                    "a malformed event record went to the dead-letter queue"
                );
            }
        }
    }
    match pending.flush(publisher).await {
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
