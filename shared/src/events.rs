//! Publishing domain events to EventBridge.
//!
//! Every change writes an event record in its own transaction (`store/history.rs`); the table's
//! stream carries those records to the `publish-events` function, which hands them to
//! [`Publisher::publish`]. That calls `PutEvents` with at most 10 entries, retries only the
//! entries that failed, with backoff, and says which entry was the first it could not publish,
//! so that the caller can have the stream deliver again from exactly there.

use std::ops::Range;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::{PutEventsRequestEntry, PutEventsResultEntry};

use crate::app::ConfigError;
use crate::domain::Timestamp;

/// The `source` of every event.
pub const SOURCE: &str = "orgs";

/// `PutEvents` takes at most this many entries.
pub const MAX_ENTRIES: usize = 10;

type Source = Box<dyn std::error::Error + Send + Sync>;

/// One event record, ready to publish. Its detail is the stored JSON, as it was committed.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    /// The record's partition (one organization's or one user's events): the unit whose
    /// order is kept.
    pub stream: String,
    /// Also in the detail as `event_id`: consumers de-duplicate on it.
    pub event_id: String,
    pub detail_type: String,
    pub detail: String,
    pub occurred_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// No answer, a throttle or a 5xx for the whole call: worth trying again later.
    #[error("EventBridge is unavailable")]
    Unavailable(#[source] Source),
    /// EventBridge answered, but refused this entry.
    #[error("EventBridge refused the entry: {code}: {message}")]
    Refused { code: String, message: String },
    #[error("EventBridge answered {answered} results for {sent} entries")]
    Mismatch { sent: usize, answered: usize },
    #[error("could not build a PutEvents entry")]
    Build(#[source] Source),
    #[error("could not send a record to the dead-letter queue")]
    DeadLetter(#[source] Source),
}

/// What is left after the retries: `first` is the position (in the slice given to
/// [`Publisher::publish`]) of the first entry that was not published. Entries after it may or
/// may not have been; publishing from `first` again is always safe, as consumers de-duplicate.
#[derive(Debug, thiserror::Error)]
#[error("entry {first} and maybe later ones were not published")]
pub struct Unpublished {
    pub first: usize,
    #[source]
    pub error: PublishError,
}

/// How often, and how patiently, failed entries are tried again within one call.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    pub attempts: u32,
    pub first_delay: Duration,
}

impl Default for Retry {
    /// Five tries over about 1.5 s; after that the stream delivers the records again.
    fn default() -> Self {
        Self {
            attempts: 5,
            first_delay: Duration::from_millis(100),
        }
    }
}

impl Retry {
    /// The pause before try `attempt` (0 is the first try, which does not wait).
    pub fn delay(&self, attempt: u32) -> Duration {
        match attempt {
            0 => Duration::ZERO,
            n => self.first_delay.saturating_mul(1 << (n - 1).min(10)),
        }
    }
}

/// Where events go, and where records go that can never be published.
#[derive(Clone, Debug)]
pub struct EventsConfig {
    pub bus_name: String,
    /// An SQS queue for stream records that are not well-formed event records, so that none is
    /// dropped silently. The event source mapping sends what it gives up on to the same queue.
    pub dead_letter_queue_url: String,
}

impl EventsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        Ok(Self {
            bus_name: var("ORGS_EVENT_BUS_NAME")?,
            dead_letter_queue_url: var("ORGS_EVENTS_DLQ_URL")?,
        })
    }
}

/// Splits entries, in stream order, into consecutive groups for `PutEvents`: at most
/// [`MAX_ENTRIES`] each, and never two entries of the same stream in one group. EventBridge
/// does not order the entries of one call, and a failed entry is retried after its neighbours
/// succeeded; so a later event of an organization is only sent once the earlier one is in.
pub fn groups(entries: &[Outgoing]) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    for (i, entry) in entries.iter().enumerate() {
        let current = &entries[start..i];
        if current.len() == MAX_ENTRIES || current.iter().any(|e| e.stream == entry.stream) {
            groups.push(start..i);
            start = i;
        }
    }
    if start < entries.len() {
        groups.push(start..entries.len());
    }
    groups
}

/// Of the entries just sent (`sent`, positions in the group), those EventBridge did not accept,
/// and the first refusal. Results come back in the order of the request's entries.
fn refused(
    sent: &[usize],
    results: &[PutEventsResultEntry],
) -> Result<(Vec<usize>, Option<PublishError>), PublishError> {
    if results.len() != sent.len() {
        return Err(PublishError::Mismatch {
            sent: sent.len(),
            answered: results.len(),
        });
    }
    let mut failed = Vec::new();
    let mut first = None;
    for (position, result) in sent.iter().zip(results) {
        if let Some(code) = result.error_code() {
            failed.push(*position);
            first.get_or_insert_with(|| PublishError::Refused {
                code: code.to_owned(),
                message: result.error_message().unwrap_or_default().to_owned(),
            });
        }
    }
    Ok((failed, first))
}

#[derive(Clone, Debug)]
pub struct Publisher {
    events: aws_sdk_eventbridge::Client,
    sqs: aws_sdk_sqs::Client,
    config: EventsConfig,
    retry: Retry,
}

impl Publisher {
    pub fn new(
        events: aws_sdk_eventbridge::Client,
        sqs: aws_sdk_sqs::Client,
        config: EventsConfig,
    ) -> Self {
        Self {
            events,
            sqs,
            config,
            retry: Retry::default(),
        }
    }

    pub fn from_sdk(sdk: &SdkConfig, config: EventsConfig) -> Self {
        Self::new(
            aws_sdk_eventbridge::Client::new(sdk),
            aws_sdk_sqs::Client::new(sdk),
            config,
        )
    }

    pub fn with_retry(self, retry: Retry) -> Self {
        Self { retry, ..self }
    }

    pub fn bus_name(&self) -> &str {
        &self.config.bus_name
    }

    fn entry(&self, event: &Outgoing) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.config.bus_name)
            .source(SOURCE)
            .detail_type(&event.detail_type)
            .detail(&event.detail)
            .time(DateTime::from_millis(event.occurred_at.unix_millis()))
            .build()
    }

    /// Publishes `entries` in order, group by group (see [`groups`]). Stops at the first group
    /// that still has a failed entry after the retries, and names that entry.
    pub async fn publish(&self, entries: &[Outgoing]) -> Result<(), Unpublished> {
        for range in groups(entries) {
            self.put_group(&entries[range.clone()])
                .await
                .map_err(|u| Unpublished {
                    first: range.start + u.first,
                    error: u.error,
                })?;
        }
        Ok(())
    }

    /// One `PutEvents` call, then again for only the entries that failed, with backoff.
    async fn put_group(&self, group: &[Outgoing]) -> Result<(), Unpublished> {
        let mut pending: Vec<usize> = (0..group.len()).collect();
        let mut last_error = None;
        for attempt in 0..self.retry.attempts.max(1) {
            if pending.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(self.retry.delay(attempt)).await;
            let entries = pending.iter().map(|&i| self.entry(&group[i])).collect();
            let answer = self
                .events
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await;
            let error = match answer {
                Err(err) => PublishError::Unavailable(Box::new(err)),
                Ok(out) => match refused(&pending, out.entries()) {
                    Ok((failed, error)) => {
                        pending = failed;
                        match error {
                            None => return Ok(()),
                            Some(error) => error,
                        }
                    }
                    Err(error) => error,
                },
            };
            tracing::warn!(
                attempt,
                pending = pending.len(),
                first_event_id = %group[pending[0]].event_id,
                error = %error,
                "PutEvents did not take every entry; trying those again"
            );
            last_error = Some(error);
        }
        match (pending.first(), last_error) {
            (Some(&first), Some(error)) => Err(Unpublished { first, error }),
            _ => Ok(()),
        }
    }

    /// Keeps a record that can never be published in the dead-letter queue, for a person to
    /// look at. `body` must hold no secret; event records never do.
    pub async fn dead_letter(&self, body: String) -> Result<(), PublishError> {
        self.sqs
            .send_message()
            .queue_url(&self.config.dead_letter_queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| PublishError::DeadLetter(Box::new(e)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(stream: &str, n: usize) -> Outgoing {
        Outgoing {
            stream: stream.to_owned(),
            event_id: format!("evt_{n}"),
            detail_type: "OrganizationUpdated".to_owned(),
            detail: "{}".to_owned(),
            occurred_at: Timestamp::from_unix_millis(0).unwrap(),
        }
    }

    #[test]
    fn groups_hold_at_most_ten_in_stream_order() {
        let entries: Vec<_> = (0..23).map(|n| event(&format!("s{n}"), n)).collect();
        assert_eq!(groups(&entries), vec![0..10, 10..20, 20..23]);
        assert!(groups(&[]).is_empty());
    }

    #[test]
    fn a_group_never_holds_two_events_of_one_stream() {
        let entries = vec![
            event("a", 0),
            event("b", 1),
            event("a", 2),
            event("c", 3),
            event("a", 4),
        ];
        assert_eq!(groups(&entries), vec![0..2, 2..4, 4..5]);
    }

    #[test]
    fn only_refused_entries_are_sent_again() {
        let ok = PutEventsResultEntry::builder().event_id("e").build();
        let throttled = PutEventsResultEntry::builder()
            .error_code("ThrottlingException")
            .error_message("slow down")
            .build();
        let (failed, error) =
            refused(&[0, 2, 5], &[ok.clone(), throttled.clone(), throttled]).unwrap();
        assert_eq!(failed, [2, 5]);
        assert!(
            matches!(error, Some(PublishError::Refused { code, .. }) if code == "ThrottlingException")
        );
        let (failed, error) = refused(&[1], &[ok]).unwrap();
        assert!(failed.is_empty() && error.is_none());
        assert!(matches!(
            refused(&[0, 1], &[]),
            Err(PublishError::Mismatch {
                sent: 2,
                answered: 0
            })
        ));
    }

    #[test]
    fn backoff_doubles_from_the_second_try() {
        let retry = Retry {
            attempts: 4,
            first_delay: Duration::from_millis(100),
        };
        let delays: Vec<_> = (0..4).map(|a| retry.delay(a).as_millis()).collect();
        assert_eq!(delays, [0, 100, 200, 400]);
    }
}
