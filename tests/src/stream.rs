//! Plays Lambda's DynamoDB event source mapping locally. It reads the table's stream (moto's
//! DynamoDB Streams), hands each batch to the same `publish-events` handler in the very shape
//! Lambda gives it, and when the handler names a record it could not publish, reads again from
//! that record, as Lambda does with a partial-batch response.

use std::time::Duration;

use anyhow::{Context, anyhow};
use aws_config::SdkConfig;
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use orgs_functions::jobs::publish_events::{Plan, plan, publish_events};
use orgs_shared::events::Publisher;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

/// Where a shard's reading stands: the last record handled, and the iterator to go on with.
struct Shard {
    id: String,
    checkpoint: Option<String>,
    iterator: Option<String>,
}

pub struct StreamFeed {
    streams: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    /// The publisher of the next batch; tests swap it to take EventBridge away and back.
    publisher: watch::Receiver<Publisher>,
    /// Lambda's BatchSize.
    pub batch_size: i32,
    /// How long to wait when the stream has nothing new, and before a retry.
    pub pause: Duration,
    /// Print one line per published event (for `cargo local`).
    pub print: bool,
}

/// The ARN of the table's stream.
pub async fn stream_arn(sdk: &SdkConfig, table: &str) -> anyhow::Result<String> {
    let table = aws_sdk_dynamodb::Client::new(sdk)
        .describe_table()
        .table_name(table)
        .send()
        .await
        .context("describing the table")?;
    table
        .table()
        .and_then(|t| t.latest_stream_arn())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the table has no stream"))
}

impl StreamFeed {
    pub fn new(sdk: &SdkConfig, stream_arn: String, publisher: watch::Receiver<Publisher>) -> Self {
        Self {
            streams: aws_sdk_dynamodbstreams::Client::new(sdk),
            stream_arn,
            publisher,
            batch_size: 100,
            pause: Duration::from_millis(100),
            print: false,
        }
    }

    /// Reads from the oldest record on (`TRIM_HORIZON`, as the template says), forever. On
    /// AWS the event source mapping reads the stream with the function's role, so the reads
    /// are the function's calls too.
    pub async fn run(self) -> anyhow::Result<()> {
        crate::grants::as_function("publish-events", self.read()).await
    }

    async fn read(self) -> anyhow::Result<()> {
        let description = self
            .streams
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await
            .context("describing the stream")?;
        // moto keeps one shard per table; each shard is read in order on its own.
        let mut shards: Vec<Shard> = description
            .stream_description()
            .map(|d| d.shards())
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.shard_id())
            .map(|id| Shard {
                id: id.to_owned(),
                checkpoint: None,
                iterator: None,
            })
            .collect();
        loop {
            let mut busy = false;
            for shard in &mut shards {
                match self.poll(shard).await {
                    Ok(delivered) => busy |= delivered,
                    Err(error) => {
                        tracing::warn!(error = format!("{error:#}"), "reading the stream failed");
                        shard.iterator = None;
                    }
                }
            }
            if !busy {
                tokio::time::sleep(self.pause).await;
            }
        }
    }

    async fn iterator(&self, shard: &Shard) -> anyhow::Result<String> {
        let request = self
            .streams
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(&shard.id);
        let request = match &shard.checkpoint {
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
            Some(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence),
        };
        let out = request.send().await.context("getting a shard iterator")?;
        out.shard_iterator()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no shard iterator"))
    }

    /// Delivers one batch, if there is one. Returns whether there was.
    async fn poll(&self, shard: &mut Shard) -> anyhow::Result<bool> {
        let iterator = match shard.iterator.take() {
            Some(iterator) => iterator,
            None => self.iterator(shard).await?,
        };
        let out = self
            .streams
            .get_records()
            .shard_iterator(iterator)
            .limit(self.batch_size)
            .send()
            .await
            .context("reading records")?;
        shard.iterator = out.next_shard_iterator().map(str::to_owned);
        if out.records().is_empty() {
            return Ok(false);
        }
        let event: Event = serde_json::from_value(lambda_event(out.records(), &self.stream_arn)?)
            .context("the stream event Lambda would send")?;
        let publisher = self.publisher.borrow().clone();
        let response = publish_events(&publisher, event.clone()).await;
        let failed = response
            .batch_item_failures
            .first()
            .map(|f| f.item_identifier.clone().unwrap_or_default());
        let records = &event.records;
        let handled = match &failed {
            None => records.len(),
            // An unknown or empty identifier means the whole batch, as for Lambda.
            Some(sequence) => records
                .iter()
                .position(|r| r.change.sequence_number.as_ref() == Some(sequence))
                .unwrap_or(0),
        };
        if self.print {
            for record in &records[..handled] {
                print_published(record);
            }
        }
        if let Some(last) = handled
            .checked_sub(1)
            .and_then(|i| records[i].change.sequence_number.clone())
        {
            shard.checkpoint = Some(last);
        }
        if failed.is_some() {
            // Lambda retries from the failed record: read again after the checkpoint.
            shard.iterator = None;
            tokio::time::sleep(self.pause).await;
        }
        Ok(true)
    }
}

fn print_published(record: &EventRecord) {
    if let Plan::Publish(event) = plan(record) {
        eprintln!(
            "event {} {} ({})",
            event.detail_type, event.event_id, event.stream
        );
    }
}

/// The event Lambda sends for these stream records (`{"Records": [...]}`).
pub fn lambda_event(records: &[Record], stream_arn: &str) -> anyhow::Result<Value> {
    let mut out = Vec::new();
    for record in records {
        let change = record
            .dynamodb()
            .ok_or_else(|| anyhow!("a stream record without its change"))?;
        let image = |item: Option<&std::collections::HashMap<String, AttributeValue>>| {
            item.map(item_json).transpose()
        };
        let mut dynamodb = Map::new();
        if let Some(at) = change.approximate_creation_date_time() {
            dynamodb.insert("ApproximateCreationDateTime".into(), json!(at.secs()));
        }
        dynamodb.insert("Keys".into(), image(change.keys())?.unwrap_or(json!({})));
        if let Some(new) = image(change.new_image())? {
            dynamodb.insert("NewImage".into(), new);
        }
        if let Some(old) = image(change.old_image())? {
            dynamodb.insert("OldImage".into(), old);
        }
        dynamodb.insert("SequenceNumber".into(), json!(change.sequence_number()));
        dynamodb.insert("SizeBytes".into(), json!(change.size_bytes().unwrap_or(0)));
        if let Some(view) = change.stream_view_type() {
            dynamodb.insert("StreamViewType".into(), json!(view.as_str()));
        }
        out.push(json!({
            "eventID": record.event_id(),
            "eventName": record.event_name().map(|n| n.as_str()),
            "eventVersion": record.event_version(),
            "eventSource": record.event_source(),
            "awsRegion": record.aws_region(),
            "dynamodb": dynamodb,
            "eventSourceARN": stream_arn,
        }));
    }
    Ok(json!({ "Records": out }))
}

fn item_json(item: &std::collections::HashMap<String, AttributeValue>) -> anyhow::Result<Value> {
    item.iter()
        .map(|(name, value)| Ok((name.clone(), attribute_json(value)?)))
        .collect::<anyhow::Result<Map<_, _>>>()
        .map(Value::Object)
}

/// DynamoDB's JSON form of an attribute value, as in Lambda's stream events.
fn attribute_json(value: &AttributeValue) -> anyhow::Result<Value> {
    let blob = |b: &aws_sdk_dynamodbstreams::primitives::Blob| STANDARD.encode(b.as_ref());
    Ok(match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": blob(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(list) => json!({ "SS": list }),
        AttributeValue::Ns(list) => json!({ "NS": list }),
        AttributeValue::Bs(list) => json!({ "BS": list.iter().map(blob).collect::<Vec<_>>() }),
        AttributeValue::L(list) => json!({
            "L": list.iter().map(attribute_json).collect::<anyhow::Result<Vec<_>>>()?
        }),
        AttributeValue::M(map) => json!({ "M": item_json(map)? }),
        other => {
            return Err(anyhow!(
                "an attribute type this feed does not know: {other:?}"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_take_dynamodb_json_form() {
        let value = AttributeValue::M(
            [
                ("s".to_owned(), AttributeValue::S("x".into())),
                ("n".to_owned(), AttributeValue::N("1".into())),
                (
                    "l".to_owned(),
                    AttributeValue::L(vec![AttributeValue::Bool(true)]),
                ),
            ]
            .into(),
        );
        assert_eq!(
            attribute_json(&value).unwrap(),
            json!({ "M": { "s": { "S": "x" }, "n": { "N": "1" }, "l": { "L": [{ "BOOL": true }] } } })
        );
    }
}
