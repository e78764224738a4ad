//! Which EventBridge refusals are worth trying again, and how big an entry is as EventBridge
//! counts it. An event EventBridge will never take as it is goes to the dead-letter queue at
//! once, for a person to look at; anything that may pass later is retried, in order.

/// What a refusal of a `PutEvents` call, or of one of its entries, means for the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublishFailure {
    /// Throttling, a failure inside EventBridge, no answer: the same entry may pass later.
    Transient,
    /// Our permissions or the entry itself: no retry changes the answer.
    Permanent,
}

/// The error codes EventBridge documents as not retryable for an entry
/// (`PutEventsResultEntry.ErrorCode`), and the whole-call errors that say the same of every
/// entry of the call: access denied, or a request that does not validate.
const PERMANENT_CODES: &[&str] = &[
    "AccessDeniedException",
    "InvalidAccountIdException",
    "InvalidArgument",
    "MalformedDetail",
    "RedactionFailure",
    "NotAuthorizedForSourceException",
    "NotAuthorizedForDetailTypeException",
    "ValidationException",
];

/// Classifies a refusal by its error code and, for a whole call, the HTTP status it came with.
/// Anything not known to be permanent (an unknown code, a 5xx, no answer at all) is transient:
/// retrying keeps the order and loses nothing, and the stream gives up after its own limit.
pub fn publish_failure(code: Option<&str>, http_status: Option<u16>) -> PublishFailure {
    let permanent_code = code.is_some_and(|code| PERMANENT_CODES.contains(&code));
    // 413: the request was larger than EventBridge takes.
    if permanent_code || http_status == Some(413) {
        PublishFailure::Permanent
    } else {
        PublishFailure::Transient
    }
}

/// `PutEvents` takes at most this many bytes of entries in one call, and so one entry can be
/// at most this big.
pub const MAX_PUT_EVENTS_BYTES: usize = 256 * 1024;

/// An entry's size as EventBridge counts it against [`MAX_PUT_EVENTS_BYTES`]: 14 bytes for its
/// time, and the UTF-8 bytes of its source, detail type and detail (it has no resources).
pub fn entry_size(source: &str, detail_type: &str, detail: &str) -> usize {
    14 + source.len() + detail_type.len() + detail.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_and_malformed_entries_are_permanent() {
        for code in [
            "AccessDeniedException",
            "MalformedDetail",
            "InvalidArgument",
            "NotAuthorizedForDetailTypeException",
            "ValidationException",
        ] {
            assert_eq!(
                publish_failure(Some(code), Some(400)),
                PublishFailure::Permanent,
                "{code}"
            );
            // Per entry, there is no status of its own.
            assert_eq!(
                publish_failure(Some(code), None),
                PublishFailure::Permanent,
                "{code}"
            );
        }
        assert_eq!(publish_failure(None, Some(413)), PublishFailure::Permanent);
    }

    #[test]
    fn throttling_failures_and_silence_are_transient() {
        for (code, status) in [
            (Some("ThrottlingException"), Some(400)),
            (Some("ThrottlingException"), None),
            (Some("InternalFailure"), None),
            (Some("InternalException"), Some(500)),
            (None, Some(503)),
            // No answer: a timeout or a refused connection.
            (None, None),
            // A code we do not know is retried, not thrown away.
            (Some("SomethingNew"), Some(400)),
        ] {
            assert_eq!(
                publish_failure(code, status),
                PublishFailure::Transient,
                "{code:?} {status:?}"
            );
        }
    }

    #[test]
    fn an_entry_counts_its_time_and_its_text_in_utf8_bytes() {
        assert_eq!(entry_size("orgs", "OrgCreated", "{}"), 14 + 4 + 10 + 2);
        // "é" is two bytes.
        assert_eq!(entry_size("", "", "\"é\""), 14 + 4);
    }
}
