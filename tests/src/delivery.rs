//! Plays the EventBridge rule that invokes `record-delivery` on AWS. moto's EventBridge
//! matches SES's events (which `tests/moto_server.py` publishes as SES would) against the
//! rule's pattern and delivers them to an SQS queue; this feed hands each one, as the rule's
//! Lambda target receives it, to the same handler the function runs, and deletes it once
//! handled. A failed one stays, and comes back after the queue's visibility timeout, as
//! EventBridge retries a failed invocation.

use std::time::Duration;

use anyhow::Context;
use aws_config::SdkConfig;
use orgs_functions::jobs::delivery::{Outcome, record_delivery};
use orgs_shared::store::Store;

use crate::provision::Queue;

pub struct DeliveryFeed {
    sqs: aws_sdk_sqs::Client,
    queue: Queue,
    store: Store,
    /// How long to wait when the queue is empty. Short polls only: a single-threaded moto
    /// would wait out a long poll before serving anyone else.
    pub pause: Duration,
    /// Print one line per recorded event (for `cargo local`).
    pub print: bool,
}

impl DeliveryFeed {
    pub fn new(sdk: &SdkConfig, queue: Queue, store: Store) -> Self {
        Self {
            sqs: aws_sdk_sqs::Client::new(sdk),
            queue,
            store,
            pause: Duration::from_millis(100),
            print: false,
        }
    }

    /// Delivers events forever.
    pub async fn run(self) -> anyhow::Result<()> {
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue.url)
                .max_number_of_messages(10)
                .send()
                .await
                .context("reading the SES events queue")?;
            if out.messages().is_empty() {
                tokio::time::sleep(self.pause).await;
            }
            for message in out.messages() {
                let event: serde_json::Value =
                    serde_json::from_str(message.body().unwrap_or_default())
                        .context("an SES event that is not JSON")?;
                // Only the handler's calls: on AWS a rule invokes it, with no queue between.
                let recorded = record_delivery(&self.store, &event);
                match crate::grants::as_function("record-delivery", recorded).await {
                    Ok(outcome) => {
                        if self.print && outcome == Outcome::Recorded {
                            eprintln!(
                                "delivery {} ({})",
                                event["detail-type"].as_str().unwrap_or_default(),
                                event["detail"]["mail"]["tags"]["invitation_id"][0]
                                    .as_str()
                                    .unwrap_or_default()
                            );
                        }
                        self.sqs
                            .delete_message()
                            .queue_url(&self.queue.url)
                            .receipt_handle(message.receipt_handle().unwrap_or_default())
                            .send()
                            .await
                            .context("deleting a handled SES event")?;
                    }
                    Err(error) => {
                        tracing::warn!(error = %error, "recording an SES event failed; it comes back");
                    }
                }
            }
        }
    }
}
