//! Addresses people give us: https links and email addresses.

use std::fmt;
use std::str::FromStr;

use super::ValidationError;

pub const URL_MAX: usize = 2048;

/// An absolute `https://` URL with a host and no credentials in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpsUrl(String);

impl HttpsUrl {
    pub fn parse(field: &str, input: &str) -> Result<Self, ValidationError> {
        let invalid = |message: &str| ValidationError::new(field, "invalid_url", message);
        if input.len() > URL_MAX {
            return Err(invalid("A URL is at most 2048 characters."));
        }
        let url = url::Url::parse(input.trim()).map_err(|_| invalid("Not a valid URL."))?;
        if url.scheme() != "https" {
            return Err(invalid("Only https:// URLs are accepted."));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("The URL needs a host."));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("A URL cannot carry a user name or password."));
        }
        Ok(Self(url.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, kept as typed for display but compared in lowercase.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, input: &str) -> Result<Self, ValidationError> {
        let trimmed = input.trim();
        let valid = trimmed.len() <= 254
            && trimmed.is_ascii()
            && email_address::EmailAddress::from_str(trimmed)
                .is_ok_and(|a| a.domain().contains('.') && !a.domain().starts_with('['));
        if !valid {
            return Err(ValidationError::new(
                field,
                "invalid_email",
                "Not a valid email address.",
            ));
        }
        Ok(Self(trimmed.to_ascii_lowercase()))
    }
    /// The lowercase form used for every comparison and key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_with_a_host() {
        assert!(HttpsUrl::parse("url", "https://acme.example/logo.png").is_ok());
        for bad in [
            "http://acme.example",
            "javascript:alert(1)",
            "https://",
            "ftp://x.y",
            "acme.example",
            "https://user:pw@acme.example/",
        ] {
            assert!(HttpsUrl::parse("url", bad).is_err(), "{bad}");
        }
        assert!(HttpsUrl::parse("url", &format!("https://a.b/{}", "x".repeat(2100))).is_err());
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            Email::parse("email", " Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "ädа@example.com",
            "a b@c.d",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }
}
