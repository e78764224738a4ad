//! The event side of a test's stack: the table's stream feeding the event publisher (as on
//! Lambda), the stack's own bus, and a queue that a rule on the bus fills with every event
//! published, for the test to read back.

use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use orgs_local::delivery::DeliveryFeed;
use orgs_local::provision::{self, Queue};
use orgs_local::stream::{StreamFeed, stream_arn};
use orgs_shared::app::Config;
use orgs_shared::events::{EventsConfig, Publisher, Retry};
use orgs_shared::store::Store;
use tokio::sync::watch;

/// The event side of a stack: the stream feeding the publisher, and what it published.
pub struct Events {
    pub sqs: aws_sdk_sqs::Client,
    /// Receives every event put on the stack's bus (a rule with an SQS target).
    pub published: Queue,
    pub dead_letters: Queue,
    pub bus: String,
    sdk: SdkConfig,
    table: String,
    stream_arn: String,
    publisher: watch::Sender<Publisher>,
    feeds: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Events {
    fn drop(&mut self) {
        for feed in &self.feeds {
            feed.abort();
        }
    }
}

/// A loopback port where nothing listens: an AWS endpoint that refuses every connection.
pub fn closed_endpoint() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    format!("http://127.0.0.1:{port}")
}

impl Events {
    pub(crate) async fn start(sdk: &SdkConfig, table: &str, eventbridge: Option<&str>) -> Self {
        let bus = format!("{table}-bus");
        provision::ensure_bus(sdk, &bus).await.expect("bus");
        let published = provision::ensure_queue(sdk, &format!("{table}-events"))
            .await
            .expect("queue");
        provision::ensure_rule_to_queue(sdk, &bus, "all-orgs-events", &published)
            .await
            .expect("rule");
        let dead_letters = provision::ensure_queue(sdk, &format!("{table}-dlq"))
            .await
            .expect("dead-letter queue");
        let stream_arn = stream_arn(sdk, table).await.expect("stream");
        let config = EventsConfig {
            bus_name: bus.clone(),
            dead_letter_queue_url: dead_letters.url.clone(),
        };
        let mut events = Self {
            sqs: aws_sdk_sqs::Client::new(sdk),
            published,
            dead_letters,
            bus,
            sdk: sdk.clone(),
            table: table.to_owned(),
            stream_arn,
            publisher: watch::channel(quick_publisher(sdk, config, eventbridge)).0,
            feeds: Vec::new(),
        };
        events.add_feed();
        events
    }

    /// A publisher to this stack's bus through EventBridge at `endpoint` (moto when `None`).
    pub fn publisher_at(&self, endpoint: Option<&str>) -> Publisher {
        let config = EventsConfig {
            bus_name: self.bus.clone(),
            dead_letter_queue_url: self.dead_letters.url.clone(),
        };
        quick_publisher(&self.sdk, config, endpoint)
    }

    /// From the next batch on, the stream's records go to EventBridge at `endpoint`.
    pub fn use_eventbridge_at(&self, endpoint: Option<&str>) {
        self.publisher.send_replace(self.publisher_at(endpoint));
    }

    /// SES's events of this stack's configuration set (named as its table) go to
    /// `record-delivery`: a rule on the default bus, as the template's, into a queue that a
    /// `DeliveryFeed` hands to the handler.
    pub async fn record_deliveries(&mut self, config: &Config) {
        let queue = provision::ensure_queue(&self.sdk, &format!("{}-ses", self.table))
            .await
            .expect("SES events queue");
        let configuration_set = config
            .invitations
            .configuration_set
            .as_deref()
            .expect("a configuration set");
        provision::ensure_delivery_rule(
            &self.sdk,
            &format!("{}-delivery", self.table),
            configuration_set,
            &queue,
        )
        .await
        .expect("SES events rule");
        let store = Store::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            &self.table,
            config.retention,
        );
        let mut feed = DeliveryFeed::new(&self.sdk, queue, store);
        feed.pause = Duration::from_millis(50);
        self.feeds.push(tokio::spawn(async move {
            if let Err(error) = feed.run().await {
                panic!("the delivery feed stopped: {error:#}");
            }
        }));
    }

    /// Another reader of the whole stream from its oldest record, as a new event source
    /// mapping would be: everything it reads is published again.
    pub fn add_feed(&mut self) {
        let mut feed = StreamFeed::new(
            &self.sdk,
            self.stream_arn.clone(),
            self.publisher.subscribe(),
        );
        feed.pause = Duration::from_millis(50);
        self.feeds.push(tokio::spawn(async move {
            if let Err(error) = feed.run().await {
                panic!("the stream feed stopped: {error:#}");
            }
        }));
    }

    /// Waits for `count` messages on `queue` (deleting them), then a moment more to make sure
    /// no others follow. Returns their bodies as JSON, in the order received.
    pub async fn exactly(&self, queue: &Queue, count: usize) -> Vec<serde_json::Value> {
        let messages = self.receive(queue, count, Duration::from_secs(30)).await;
        assert_eq!(messages.len(), count, "{messages:#?}");
        let more = self.receive(queue, 1, Duration::from_millis(700)).await;
        assert!(more.is_empty(), "more than {count} messages: {more:#?}");
        messages
    }

    /// Up to `count` messages from `queue` within `patience`. Short polls only: moto serves one
    /// request at a time, and a long poll would hold up every other test.
    pub async fn receive(
        &self,
        queue: &Queue,
        count: usize,
        patience: Duration,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + patience;
        let mut bodies = Vec::new();
        while bodies.len() < count && Instant::now() < deadline {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&queue.url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive");
            if out.messages().is_empty() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            for message in out.messages() {
                let body = message.body().unwrap_or_default();
                bodies.push(serde_json::from_str(body).expect("a JSON message"));
                self.sqs
                    .delete_message()
                    .queue_url(&queue.url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
            }
        }
        bodies
    }
}

/// A publisher through EventBridge at `endpoint` (moto's when `None`), quick to give up, so a
/// test sees its retries within seconds. The dead-letter queue is always moto's.
fn quick_publisher(sdk: &SdkConfig, config: EventsConfig, endpoint: Option<&str>) -> Publisher {
    let eventbridge = match endpoint {
        None => sdk.clone(),
        Some(endpoint) => sdk
            .to_builder()
            .endpoint_url(endpoint)
            .retry_config(RetryConfig::disabled())
            .build(),
    };
    Publisher::new(
        aws_sdk_eventbridge::Client::new(&eventbridge),
        aws_sdk_sqs::Client::new(sdk),
        config,
    )
    .with_retry(Retry {
        attempts: 2,
        first_delay: Duration::from_millis(50),
    })
}
