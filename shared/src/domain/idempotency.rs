//! `Idempotency-Key`: what a valid key is, what makes two requests the same, and what a repeat
//! gets, given the record the first one left. Time is passed in; the store keeps the record and
//! `http::idempotency` answers with the decision.

use sha2::{Digest, Sha256};

/// How long a key's record lasts: a repeat within this gets the first outcome.
pub const KEY_LIFETIME_SECONDS: i64 = 24 * 60 * 60;

/// The longest key accepted, in characters.
pub const MAX_KEY_LEN: usize = 255;

/// A key as the client sent it: 1 to 255 visible ASCII characters (no spaces, no controls).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an Idempotency-Key is 1 to {MAX_KEY_LEN} visible ASCII characters")]
pub struct InvalidKey;

impl IdempotencyKey {
    pub fn parse(raw: &[u8]) -> Result<Self, InvalidKey> {
        let visible = |b: &u8| b.is_ascii_graphic();
        if raw.is_empty() || raw.len() > MAX_KEY_LEN || !raw.iter().all(visible) {
            return Err(InvalidKey);
        }
        // All visible ASCII, so valid UTF-8.
        String::from_utf8(raw.to_vec())
            .map(Self)
            .map_err(|_| InvalidKey)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What makes a repeat the same request: the method, the path with its query, and the body,
/// as JSON with its keys in order and no spacing (so `{"a":1, "b":2}` and `{"b":2,"a":1}` are
/// one body); a body that is not JSON counts byte for byte. SHA-256, in hex.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let normalized = match serde_json::from_slice::<serde_json::Value>(body) {
        // serde_json's maps are ordered by key.
        Ok(value) => serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec()),
        Err(_) => body.to_vec(),
    };
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), path_and_query.as_bytes()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.update(&normalized);
    format!("{:x}", hash.finalize())
}

/// Where a key's first request stands, as its record says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Still running, until its lease ends (epoch milliseconds); nothing is committed yet.
    Running { lease_until_ms: i64 },
    /// Its write is committed; the answer it stored then, if it could build one before.
    Committed { answered: bool },
    /// Answered, and the answer stored.
    Completed,
}

/// A key's record: the first request's fingerprint, stage and when it lapses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    pub fingerprint: String,
    pub stage: Stage,
    /// Epoch seconds after which the record no longer counts (DynamoDB's TTL sheds it later).
    pub expire_at: i64,
}

/// What a request with a key does, given the record its key already has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No record that counts: run, under a new lease.
    Proceed,
    /// The first request's stored answer, again.
    Replay,
    /// The same key with another request: 422.
    Mismatch,
    /// The first request is still running: 409, to try again after this many seconds.
    InProgress { retry_after_seconds: u32 },
    /// The first request's write is committed, but its answer was lost before it was stored.
    AnswerLost,
}

/// The decision for a request with `fingerprint` whose key has `record`, at `now_ms`.
pub fn decide(record: Option<&KeyRecord>, fingerprint: &str, now_ms: i64) -> Decision {
    let Some(record) = record.filter(|r| r.expire_at * 1000 > now_ms) else {
        return Decision::Proceed;
    };
    if let Stage::Running { lease_until_ms } = record.stage
        && lease_until_ms <= now_ms
    {
        // The first request died or gave up without committing: its lease is over.
        return Decision::Proceed;
    }
    if record.fingerprint != fingerprint {
        return Decision::Mismatch;
    }
    match record.stage {
        Stage::Running { lease_until_ms } => {
            let seconds = (lease_until_ms - now_ms + 999) / 1000;
            Decision::InProgress {
                retry_after_seconds: u32::try_from(seconds.max(1)).unwrap_or(u32::MAX),
            }
        }
        Stage::Committed { answered: false } => Decision::AnswerLost,
        Stage::Committed { answered: true } | Stage::Completed => Decision::Replay,
    }
}

/// Whether an answer with this status is kept for repeats. A refusal that a later try may not
/// meet (a conflict with a request in flight, a limit that resets, a fault) is not: the repeat
/// runs again, as the first changed nothing.
pub fn keeps_answer(status: u16) -> bool {
    status < 500 && status != 409 && status != 429
}

/// The field of an answer that carries a one-time secret (an invitation's accept link).
pub const SECRET_FIELD: &str = "invite_url";
/// What replaces it in the stored answer.
pub const WITHHELD_FIELD: &str = "link_withheld";
pub const WITHHELD_NOTE: &str = "An accept link is shown only in the first answer and is not \
    stored. For a new link, resend the invitation (POST /orgs/{org_id}/invitations/{invitation_id}/resend).";

/// The answer body as it may be stored: every one-time secret taken out and a note in its place
/// saying how to get a new one. `None` if it held none (or is not JSON).
pub fn without_secrets(body: &str) -> Option<String> {
    fn strip(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::Object(map) => {
                let mut found = map.remove(SECRET_FIELD).is_some();
                if found {
                    map.insert(WITHHELD_FIELD.to_owned(), WITHHELD_NOTE.into());
                }
                for inner in map.values_mut() {
                    found |= strip(inner);
                }
                found
            }
            serde_json::Value::Array(items) => items.iter_mut().fold(false, |f, i| strip(i) | f),
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_str(body).ok()?;
    strip(&mut value).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn record(fingerprint: &str, stage: Stage) -> KeyRecord {
        KeyRecord {
            fingerprint: fingerprint.to_owned(),
            stage,
            expire_at: NOW / 1000 + 100,
        }
    }

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert!(IdempotencyKey::parse(b"a").is_ok());
        assert!(IdempotencyKey::parse(b"8e03978e-40d5-43e8-bc93-6894a57f9324").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        assert_eq!(IdempotencyKey::parse(&[b'k'; 256]), Err(InvalidKey));
        assert_eq!(IdempotencyKey::parse(b""), Err(InvalidKey));
        assert_eq!(IdempotencyKey::parse(b"two words"), Err(InvalidKey));
        assert_eq!(IdempotencyKey::parse(b"tab\t"), Err(InvalidKey));
        assert_eq!(IdempotencyKey::parse("clé".as_bytes()), Err(InvalidKey));
    }

    #[test]
    fn the_fingerprint_ignores_key_order_and_spacing_but_not_values_paths_or_methods() {
        let a = fingerprint("POST", "/orgs", br#"{"handle": "acme", "region": "eu"}"#);
        assert_eq!(
            a,
            fingerprint("POST", "/orgs", br#"{"region":"eu","handle":"acme"}"#)
        );
        assert_ne!(
            a,
            fingerprint("POST", "/orgs", br#"{"handle":"acme","region":"us"}"#)
        );
        assert_ne!(
            a,
            fingerprint("PUT", "/orgs", br#"{"handle":"acme","region":"eu"}"#)
        );
        assert_ne!(
            a,
            fingerprint("POST", "/orgz", br#"{"handle":"acme","region":"eu"}"#)
        );
        assert_eq!(
            fingerprint("DELETE", "/x?confirm=a", b""),
            fingerprint("DELETE", "/x?confirm=a", b"")
        );
        assert_ne!(
            fingerprint("DELETE", "/x?confirm=a", b""),
            fingerprint("DELETE", "/x?confirm=b", b"")
        );
        // The parts are length-prefixed: moving bytes between them changes the fingerprint.
        assert_ne!(
            fingerprint("POST", "/a", b"b"),
            fingerprint("POST", "/ab", b"")
        );
    }

    #[test]
    fn no_record_or_a_lapsed_one_proceeds() {
        assert_eq!(decide(None, "f", NOW), Decision::Proceed);
        let mut lapsed = record("f", Stage::Completed);
        lapsed.expire_at = NOW / 1000;
        assert_eq!(decide(Some(&lapsed), "f", NOW), Decision::Proceed);
        let lease_over = record(
            "f",
            Stage::Running {
                lease_until_ms: NOW,
            },
        );
        assert_eq!(decide(Some(&lease_over), "other", NOW), Decision::Proceed);
    }

    #[test]
    fn the_same_request_gets_the_stored_answer_and_another_one_a_mismatch() {
        let done = record("f", Stage::Completed);
        assert_eq!(decide(Some(&done), "f", NOW), Decision::Replay);
        assert_eq!(decide(Some(&done), "g", NOW), Decision::Mismatch);
        let committed = record("f", Stage::Committed { answered: true });
        assert_eq!(decide(Some(&committed), "f", NOW), Decision::Replay);
        let running = record(
            "f",
            Stage::Running {
                lease_until_ms: NOW + 5,
            },
        );
        assert_eq!(decide(Some(&running), "g", NOW), Decision::Mismatch);
    }

    #[test]
    fn a_repeat_while_the_first_runs_waits_for_its_lease() {
        let running = record(
            "f",
            Stage::Running {
                lease_until_ms: NOW + 2_500,
            },
        );
        assert_eq!(
            decide(Some(&running), "f", NOW),
            Decision::InProgress {
                retry_after_seconds: 3
            }
        );
        let nearly = record(
            "f",
            Stage::Running {
                lease_until_ms: NOW + 1,
            },
        );
        assert_eq!(
            decide(Some(&nearly), "f", NOW),
            Decision::InProgress {
                retry_after_seconds: 1
            }
        );
    }

    #[test]
    fn a_write_committed_without_its_answer_says_so() {
        let lost = record("f", Stage::Committed { answered: false });
        assert_eq!(decide(Some(&lost), "f", NOW), Decision::AnswerLost);
    }

    #[test]
    fn refusals_that_may_pass_later_are_not_kept() {
        for kept in [200, 201, 204, 207, 400, 403, 404, 410, 422] {
            assert!(keeps_answer(kept), "{kept}");
        }
        for not in [409, 429, 500, 503] {
            assert!(!keeps_answer(not), "{not}");
        }
    }

    #[test]
    fn links_are_taken_out_of_stored_answers_with_a_note_in_their_place() {
        let body = r#"{"results":[{"status":201,"invite_url":"https://x/invite?token=s3cret","email_sent":true},{"status":409,"problem":{}}]}"#;
        let stored = without_secrets(body).unwrap();
        assert!(!stored.contains("s3cret"), "{stored}");
        let value: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(value["results"][0][WITHHELD_FIELD], WITHHELD_NOTE);
        assert_eq!(value["results"][0]["email_sent"], true);
        assert!(value["results"][1].get(WITHHELD_FIELD).is_none());
        assert_eq!(without_secrets(r#"{"org_id":"o"}"#), None);
        assert_eq!(without_secrets("not json"), None);
    }
}
