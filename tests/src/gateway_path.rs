//! How an API Gateway HTTP API reads a request path. AWS documents that it "decodes URL-encoded
//! request parameters before passing them to your backend integration"; what it does in detail
//! is what people have observed of it:
//! - the whole path is percent-decoded once, and the routes are matched against that: an
//!   encoded slash (`%2F`) becomes a segment boundary, so `/orgs/o/members/a%2Fb` matches no
//!   route (404);
//! - `rawPath` (and `requestContext.http.path`) is that decoded path;
//! - each path parameter is its decoded segment, decoded once more: `a%252Fb` reaches the
//!   function as `a/b`. An identifier holding `/` (or a literal `%`) is addressed by encoding
//!   that character twice.
//!
//! A decoding that is not UTF-8 matches no route.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;

/// The path API Gateway routes on and hands on as `rawPath`; `None` when it is not UTF-8.
pub fn decode_path(wire_path: &str) -> Option<String> {
    percent_decode_str(wire_path)
        .decode_utf8()
        .ok()
        .map(|p| p.into_owned())
}

/// The path parameters as the function receives them: each matched segment decoded again.
/// `None` when one of them is not UTF-8 once decoded.
pub fn decode_params(matched: HashMap<String, String>) -> Option<HashMap<String, String>> {
    matched
        .into_iter()
        .map(|(name, segment)| decode_path(&segment).map(|value| (name, value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_path_once_so_an_encoded_slash_separates_segments() {
        assert_eq!(
            decode_path("/orgs/o/members/auth0%7Cabc").as_deref(),
            Some("/orgs/o/members/auth0|abc")
        );
        assert_eq!(
            decode_path("/orgs/o/members/a%2Fb").as_deref(),
            Some("/orgs/o/members/a/b")
        );
        // `+` is a plus sign in a path, not a space.
        assert_eq!(decode_path("/a+b").as_deref(), Some("/a+b"));
        assert_eq!(decode_path("/a%FFb"), None);
    }

    #[test]
    fn parameters_are_decoded_once_more() {
        let once = decode_path("/orgs/o/members/a%252Fb%2540c").unwrap();
        let segment = once.rsplit('/').next().unwrap().to_owned();
        let params = decode_params(HashMap::from([("user_id".into(), segment)])).unwrap();
        assert_eq!(params["user_id"], "a/b@c");
        let broken = HashMap::from([("user_id".into(), "a%FF".into())]);
        assert_eq!(decode_params(broken), None);
        // A `%` that starts no escape stays as it is.
        let plain = HashMap::from([("user_id".into(), "100%".into())]);
        assert_eq!(decode_params(plain).unwrap()["user_id"], "100%");
    }
}
