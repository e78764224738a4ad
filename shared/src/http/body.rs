//! JSON request bodies: size first, then shape, with the path of any field that is wrong.

use lambda_http::Request;
use serde::de::{Deserialize, DeserializeOwned, Deserializer};

use crate::domain::ValidationError;

use super::ApiError;
use super::strict::{Strict, Unique};

/// A field of a PATCH body: left out, set to `null` (clear it), or given a value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|v| v.map_or(Patch::Null, Patch::Value))
    }
}

impl<T> Patch<T> {
    /// `None` when absent, `Some(None)` when null, `Some(Some(v))` when set.
    pub fn into_option(self) -> Option<Option<T>> {
        match self {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(v) => Some(Some(v)),
        }
    }
}

/// For an optional field that is a value when present: with
/// `#[serde(default, deserialize_with = "present")]` on an `Option<T>`, a missing field is
/// `None` and `null` is refused as the wrong type. (`Option<T>` alone reads `null` as missing,
/// where the document says the field, if sent, is a string.)
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// As `present`, for a whole number: JSON does not tell `3` from `3.0`, and neither does the
/// OpenAPI document's `integer`, so both are read; `3.5` is refused as the wrong type.
pub fn present_integer<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    let whole = number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    });
    whole.map(Some).ok_or_else(|| {
        serde::de::Error::invalid_type(serde::de::Unexpected::Other("a fraction"), &"an integer")
    })
}

fn bytes(req: &Request) -> &[u8] {
    // `Body` derefs to its bytes, whichever form it has.
    req.body().as_ref()
}

/// Names the field a serde data error is about. serde reports a missing or unknown field on
/// its parent, with the field's name in backquotes.
fn field_error(path: &str, message: String) -> ValidationError {
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
    };
    let child = |name: &str| {
        if path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let (field, code) = if let Some(name) = named("missing field `") {
        (child(name), "required")
    } else if let Some(name) = named("duplicate field `") {
        (child(name), "duplicate_field")
    } else if named("unknown field `").is_some() {
        // Here the path already ends with the unknown field.
        (path.to_owned(), "unknown_field")
    } else if path == "." {
        ("body".to_owned(), "invalid_type")
    } else {
        (path.to_owned(), "invalid_type")
    };
    // serde's own words, without the position, which means nothing to a person.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_owned();
    ValidationError {
        field,
        code,
        message,
    }
}

/// Parses the body as `T`, refusing anything over `limit` bytes before reading it. Stricter than
/// serde_json alone (see `strict`): a struct comes only from an object, and no object names a
/// member twice.
/// `json_body` for a route whose body may be left out: no body (or only whitespace) is
/// `T::default()`, so a request without one keeps working as it did before the body existed.
pub fn optional_json_body<T: DeserializeOwned + Default>(
    req: &Request,
    limit: usize,
) -> Result<T, ApiError> {
    if bytes(req).iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json_body(req, limit)
}

pub fn json_body<T: DeserializeOwned>(req: &Request, limit: usize) -> Result<T, ApiError> {
    let raw = bytes(req);
    if raw.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest {
            code: "body-required",
            detail: "This request needs a JSON body.".into(),
        });
    }
    let invalid = |err: serde_path_to_error::Error<serde_json::Error>| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            ApiError::Invalid(vec![field_error(&path, inner.to_string())])
        } else {
            ApiError::BadRequest {
                code: "malformed-json",
                detail: format!("The body is not valid JSON: {inner}."),
            }
        }
    };
    let mut de = serde_json::Deserializer::from_slice(raw);
    let Unique(json) = serde_path_to_error::deserialize(&mut de).map_err(invalid)?;
    de.end().map_err(|_| ApiError::BadRequest {
        code: "malformed-json",
        detail: "The body has content after its JSON value.".into(),
    })?;
    serde_path_to_error::deserialize(Strict(&json)).map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_number_is_read_as_an_integer_in_either_form_and_a_fraction_is_refused() {
        #[derive(serde::Deserialize)]
        struct Days {
            #[serde(default, deserialize_with = "present_integer")]
            days: Option<i64>,
        }
        let read = |text: &str| serde_json::from_str::<Days>(text).map(|d| d.days);
        assert_eq!(read(r#"{"days": 3}"#).unwrap(), Some(3));
        assert_eq!(read(r#"{"days": 3.0}"#).unwrap(), Some(3));
        assert_eq!(read("{}").unwrap(), None);
        assert!(read(r#"{"days": 3.5}"#).is_err());
        assert!(read(r#"{"days": null}"#).is_err());
    }
    use lambda_http::Body;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Input {
        #[allow(dead_code)]
        name: String,
        #[serde(default)]
        url: Patch<String>,
    }

    fn request(body: &str) -> Request {
        http::Request::new(Body::Text(body.to_owned()))
    }

    #[test]
    fn an_optional_body_may_be_left_out() {
        #[derive(Debug, Default, Deserialize, PartialEq)]
        struct Optional {
            role: Option<String>,
        }
        let absent: Optional = optional_json_body(&request(""), 100).unwrap();
        assert_eq!(absent, Optional::default());
        let given: Optional = optional_json_body(&request(r#"{"role":"x"}"#), 100).unwrap();
        assert_eq!(given.role.as_deref(), Some("x"));
        assert!(optional_json_body::<Optional>(&request("{"), 100).is_err());
    }

    #[test]
    fn distinguishes_absent_null_and_value() {
        let absent: Input = json_body(&request(r#"{"name":"a"}"#), 100).unwrap();
        let null: Input = json_body(&request(r#"{"name":"a","url":null}"#), 100).unwrap();
        let set: Input = json_body(&request(r#"{"name":"a","url":"u"}"#), 100).unwrap();
        assert_eq!(absent.url, Patch::Absent);
        assert_eq!(null.url, Patch::Null);
        assert_eq!(set.url, Patch::Value("u".into()));
    }

    #[test]
    fn refuses_oversized_bodies_before_parsing() {
        let err = json_body::<Input>(&request(&"x".repeat(101)), 100).unwrap_err();
        assert!(matches!(err, ApiError::PayloadTooLarge { limit: 100 }));
    }

    #[test]
    fn names_the_field_with_the_wrong_type_or_unknown_field() {
        let ApiError::Invalid(errors) =
            json_body::<Input>(&request(r#"{"name":1}"#), 100).unwrap_err()
        else {
            panic!("expected a validation error")
        };
        assert_eq!(errors[0].field, "name");
        let ApiError::Invalid(errors) =
            json_body::<Input>(&request(r#"{"name":"a","extra":1}"#), 100).unwrap_err()
        else {
            panic!("expected a validation error")
        };
        assert!(
            errors[0].message.contains("unknown field `extra`"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn refuses_an_array_for_an_object_and_a_field_given_twice() {
        let ApiError::Invalid(errors) =
            json_body::<Input>(&request(r#"["a", null]"#), 100).unwrap_err()
        else {
            panic!("expected a validation error")
        };
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("body", "invalid_type")
        );
        let ApiError::Invalid(errors) =
            json_body::<Input>(&request(r#"{"name":"a","name":"b"}"#), 100).unwrap_err()
        else {
            panic!("expected a validation error")
        };
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("name", "duplicate_field")
        );
    }

    #[test]
    fn a_present_field_may_be_left_out_but_not_null() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Optional {
            #[serde(default, deserialize_with = "present")]
            role: Option<String>,
        }
        let absent: Optional = json_body(&request("{}"), 100).unwrap();
        assert_eq!(absent.role, None);
        let set: Optional = json_body(&request(r#"{"role":"admin"}"#), 100).unwrap();
        assert_eq!(set.role.as_deref(), Some("admin"));
        let ApiError::Invalid(errors) =
            json_body::<Optional>(&request(r#"{"role":null}"#), 100).unwrap_err()
        else {
            panic!("expected a validation error")
        };
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("role", "invalid_type")
        );
    }

    #[test]
    fn malformed_and_empty_bodies_are_bad_requests() {
        for body in ["{", "", "  ", r#"{"name":"a"} x"#] {
            assert!(
                matches!(
                    json_body::<Input>(&request(body), 100),
                    Err(ApiError::BadRequest { .. })
                ),
                "{body:?}"
            );
        }
    }
}
