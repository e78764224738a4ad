//! `limit` and an opaque `cursor`. A cursor carries only a position inside the caller's own
//! listing; the store rebuilds the full key itself, so a forged cursor cannot reach elsewhere.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::{Request, RequestExt};

use crate::domain::ValidationError;

use super::ApiError;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    /// The decoded position to resume after; its meaning belongs to the listing.
    pub after: Option<String>,
}

pub fn encode_cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{position}"))
}

fn decode_cursor(raw: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("v1:")
        .map(str::to_owned)
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::Invalid(vec![ValidationError::new(field, "invalid_query", message)])
}

impl PageRequest {
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let query = req.query_string_parameters();
        let limit = match query.first("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| invalid("limit", "limit is a whole number from 1 to 100."))?,
        };
        let after = match query.first("cursor") {
            None => None,
            Some(raw) => Some(decode_cursor(raw).ok_or_else(|| {
                invalid("cursor", "This cursor is not one this listing gave out.")
            })?),
        };
        Ok(Self { limit, after })
    }

    /// The position parsed as the listing's own type, or a 400.
    pub fn after_as<T>(&self, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
        self.after
            .as_deref()
            .map(|raw| {
                parse(raw).ok_or_else(|| {
                    invalid("cursor", "This cursor is not one this listing gave out.")
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let cursor = encode_cursor("org_1");
        assert_eq!(decode_cursor(&cursor).as_deref(), Some("org_1"));
        assert_eq!(decode_cursor("not base64!"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("org_1")), None);
    }
}
