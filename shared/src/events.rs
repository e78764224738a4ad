//! Publishing domain events to EventBridge.
//!
//! Every change writes an event record in its own transaction (`store/history.rs`); the table's
//! stream carries those records to the `publish-events` function, which hands them to
//! [`Publisher::publish`]. That calls `PutEvents` with at most 10 entries, retries only the
//! entries that failed for a reason that may pass (throttling, a failure inside EventBridge, no
//! answer), with backoff, and says which entry was the first it could not publish, so that the
//! caller can have the stream deliver again from exactly there. An entry EventBridge refuses
//! for good (access denied, a malformed or too large entry; `domain::publishing`) is not retried:
//! the caller sends its record to the dead-letter queue and the stream moves on.

use std::ops::Range;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::{PutEventsRequestEntry, PutEventsResultEntry};

use aws_sdk_eventbridge::error::ProvideErrorMetadata;

use crate::app::ConfigError;
use crate::domain::publishing::MAX_PUT_EVENTS_BYTES;
use crate::domain::{PublishFailure, Timestamp, entry_size, publish_failure};

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

impl Outgoing {
    /// Its size as EventBridge counts it (see `domain::publishing`).
    pub fn size(&self) -> usize {
        entry_size(SOURCE, &self.detail_type, &self.detail)
    }
}

/// An entry EventBridge will never take as it is; its record belongs in the dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("EventBridge refused the entry for good: {code}: {message}")]
pub struct Rejected {
    /// The entry's position in the slice given to [`Publisher::publish`].
    pub position: usize,
    pub code: String,
    pub message: String,
}

/// What became of the entries given to [`Publisher::publish`].
#[derive(Debug, Default)]
pub struct Outcome {
    /// Entries refused for good, in order; only those before `unpublished.first`, if set.
    pub rejected: Vec<Rejected>,
    /// Set when an entry could not be published yet, after the retries.
    pub unpublished: Option<Unpublished>,
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
/// [`MAX_ENTRIES`] and [`MAX_PUT_EVENTS_BYTES`] each (an entry larger than that alone), and
/// never two entries of the same stream in one group. EventBridge does not order the entries
/// of one call, and a failed entry is retried after its neighbours succeeded; so a later event
/// of an organization is only sent once the earlier one is in.
pub fn groups(entries: &[Outgoing]) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, entry) in entries.iter().enumerate() {
        let current = &entries[start..i];
        let size = entry.size();
        let too_big = !current.is_empty() && bytes + size > MAX_PUT_EVENTS_BYTES;
        if current.len() == MAX_ENTRIES
            || too_big
            || current.iter().any(|e| e.stream == entry.stream)
        {
            groups.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < entries.len() {
        groups.push(start..entries.len());
    }
    groups
}

/// What one `PutEvents` answer says of the entries just sent (`sent`, positions in the group).
#[derive(Debug, Default)]
struct Refusals {
    /// Refused for a reason that may pass: sent again.
    retry: Vec<usize>,
    /// The first of those refusals.
    first: Option<PublishError>,
    /// Refused for good.
    rejected: Vec<Rejected>,
}

/// Sorts the entries EventBridge did not accept by whether a retry may help. Results come back
/// in the order of the request's entries.
fn refused(sent: &[usize], results: &[PutEventsResultEntry]) -> Result<Refusals, PublishError> {
    if results.len() != sent.len() {
        return Err(PublishError::Mismatch {
            sent: sent.len(),
            answered: results.len(),
        });
    }
    let mut refusals = Refusals::default();
    for (&position, result) in sent.iter().zip(results) {
        let Some(code) = result.error_code() else {
            continue;
        };
        let message = result.error_message().unwrap_or_default().to_owned();
        match publish_failure(Some(code), None) {
            PublishFailure::Permanent => refusals.rejected.push(Rejected {
                position,
                code: code.to_owned(),
                message,
            }),
            PublishFailure::Transient => {
                refusals.retry.push(position);
                refusals.first.get_or_insert_with(|| PublishError::Refused {
                    code: code.to_owned(),
                    message,
                });
            }
        }
    }
    Ok(refusals)
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
    /// that still has an entry that may pass after the retries, and names that entry. Entries
    /// refused for good are named in [`Outcome::rejected`] and not retried.
    pub async fn publish(&self, entries: &[Outgoing]) -> Outcome {
        let mut outcome = Outcome::default();
        for range in groups(entries) {
            let (rejected, unpublished) = self.put_group(&entries[range.clone()]).await;
            outcome
                .rejected
                .extend(rejected.into_iter().map(|r| Rejected {
                    position: range.start + r.position,
                    ..r
                }));
            if let Some(unpublished) = unpublished {
                let first = range.start + unpublished.first;
                // The stream delivers those after `first` again; they are judged then.
                outcome.rejected.retain(|r| r.position < first);
                outcome.unpublished = Some(Unpublished {
                    first,
                    error: unpublished.error,
                });
                break;
            }
        }
        outcome
    }

    /// One `PutEvents` call, then again for only the entries that failed for a reason that may
    /// pass, with backoff. Returns the entries refused for good, in order, and the first entry
    /// still unpublished after the retries.
    async fn put_group(&self, group: &[Outgoing]) -> (Vec<Rejected>, Option<Unpublished>) {
        let mut rejected = Vec::new();
        let mut pending: Vec<usize> = Vec::new();
        for (i, event) in group.iter().enumerate() {
            // EventBridge would refuse the whole call; no need to ask.
            if event.size() > MAX_PUT_EVENTS_BYTES {
                rejected.push(Rejected {
                    position: i,
                    code: "EntryTooLarge".to_owned(),
                    message: format!(
                        "{} bytes, over the {MAX_PUT_EVENTS_BYTES} PutEvents takes",
                        event.size()
                    ),
                });
            } else {
                pending.push(i);
            }
        }
        let mut last_error = None;
        for attempt in 0..self.retry.attempts.max(1) {
            if pending.is_empty() {
                break;
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
                Err(err) => {
                    let status = err.raw_response().map(|r| r.status().as_u16());
                    match publish_failure(err.code(), status) {
                        PublishFailure::Transient => PublishError::Unavailable(Box::new(err)),
                        // Access denied, or a request that never validates: the same for
                        // every entry of the call, however often it is sent.
                        PublishFailure::Permanent => {
                            let code = err.code().unwrap_or("unknown").to_owned();
                            let message = crate::logs::error_chain(&err);
                            rejected.extend(pending.drain(..).map(|position| Rejected {
                                position,
                                code: code.clone(),
                                message: message.clone(),
                            }));
                            break;
                        }
                    }
                }
                Ok(out) => match refused(&pending, out.entries()) {
                    Ok(refusals) => {
                        rejected.extend(refusals.rejected);
                        pending = refusals.retry;
                        match refusals.first {
                            None => break,
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
        rejected.sort_by_key(|r| r.position);
        let unpublished = match (pending.first(), last_error) {
            (Some(&first), Some(error)) => Some(Unpublished { first, error }),
            _ => None,
        };
        (rejected, unpublished)
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
    fn only_entries_refused_for_a_passing_reason_are_sent_again() {
        let ok = PutEventsResultEntry::builder().event_id("e").build();
        let throttled = PutEventsResultEntry::builder()
            .error_code("ThrottlingException")
            .error_message("slow down")
            .build();
        let malformed = PutEventsResultEntry::builder()
            .error_code("MalformedDetail")
            .error_message("Detail is malformed.")
            .build();
        let refusals = refused(
            &[0, 2, 5, 7],
            &[ok.clone(), throttled.clone(), malformed, throttled],
        )
        .unwrap();
        assert_eq!(refusals.retry, [2, 7]);
        assert!(
            matches!(refusals.first, Some(PublishError::Refused { code, .. }) if code == "ThrottlingException")
        );
        assert_eq!(
            refusals.rejected,
            [Rejected {
                position: 5,
                code: "MalformedDetail".into(),
                message: "Detail is malformed.".into()
            }]
        );
        let refusals = refused(&[1], &[ok]).unwrap();
        assert!(refusals.retry.is_empty() && refusals.first.is_none());
        assert!(refusals.rejected.is_empty());
        assert!(matches!(
            refused(&[0, 1], &[]),
            Err(PublishError::Mismatch {
                sent: 2,
                answered: 0
            })
        ));
    }

    #[test]
    fn a_group_holds_at_most_what_one_call_takes_and_a_too_large_entry_stands_alone() {
        let sized = |stream: &str, n: usize, bytes: usize| Outgoing {
            detail: "x".repeat(bytes),
            ..event(stream, n)
        };
        let third = MAX_PUT_EVENTS_BYTES / 3;
        let entries = vec![
            sized("a", 0, third),
            sized("b", 1, third),
            // Would make the group larger than one call takes.
            sized("c", 2, third),
            sized("d", 3, MAX_PUT_EVENTS_BYTES + 1),
            sized("e", 4, 10),
        ];
        assert_eq!(groups(&entries), vec![0..2, 2..3, 3..4, 4..5]);
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
