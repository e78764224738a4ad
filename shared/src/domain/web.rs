//! Addresses people give us: https links and email addresses.

use std::fmt;

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

/// A bare mailbox, `local@domain`, lowercase: what is stored, keyed and compared. Nothing else
/// an address header could carry is accepted: no display name (`Eve <bob@example.com>`), no
/// comment, no quoting, no whitespace or control character anywhere (so no header can be
/// injected), and only ASCII.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// RFC 5321's limit on a forward path, less the angle brackets.
    pub const MAX_LEN: usize = 254;
    pub const LOCAL_MAX_LEN: usize = 64;

    pub fn parse(field: &str, input: &str) -> Result<Self, ValidationError> {
        if bare_mailbox(input) {
            Ok(Self(input.to_ascii_lowercase()))
        } else {
            Err(ValidationError::new(
                field,
                "invalid_email",
                "Not a valid email address: give the bare address (name@example.com), at most \
                 254 ASCII characters, with no name, comment, quotes or spaces.",
            ))
        }
    }
    /// The lowercase form used for every comparison and key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// RFC 5322's `atext`, ASCII only: what an unquoted local part is made of, besides its dots.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c)
}

/// `email_address` checks the dot-atom syntax and the lengths of the parts and labels; on top
/// of it, only these characters at all (which rules out quoting, display names, comments,
/// whitespace, control characters and anything not ASCII), and a domain of at least two
/// letter-digit-hyphen labels (no domain literal).
fn bare_mailbox(input: &str) -> bool {
    let options = email_address::Options::default()
        .without_display_text()
        .without_domain_literal()
        .with_minimum_sub_domains(2);
    let Some((local, domain)) = input.rsplit_once('@') else {
        return false;
    };
    input.len() <= Email::MAX_LEN
        && local.len() <= Email::LOCAL_MAX_LEN
        && local.chars().all(|c| is_atext(c) || c == '.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && email_address::EmailAddress::parse_with_options(input, options).is_ok()
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
    fn an_email_is_the_bare_mailbox_lowercased() {
        assert_eq!(
            Email::parse("email", "Ada.Lovelace+orgs@Example.COM")
                .unwrap()
                .as_str(),
            "ada.lovelace+orgs@example.com"
        );
        assert!(Email::parse("email", "o'neil@mail.example.co.uk").is_ok());
        assert!(Email::parse("email", "a@b-c.d").is_ok());
    }

    #[test]
    fn anything_but_a_bare_mailbox_is_refused() {
        for bad in [
            "Eve <bob@example.com>",
            "<bob@example.com>",
            "\"Bob\" <bob@example.com>",
            "\"bob\"@example.com",
            "\"b o b\"@example.com",
            "bob@example.com (comment)",
            "bob(comment)@example.com",
            "bob@example.com\r\nBcc: x@y.z",
            "bob@example.com\n",
            "bob@exa\tmple.com",
            " bob@example.com",
            "bob@example.com ",
            "b ob@example.com",
            "bob\u{0}@example.com",
            "bob\u{7f}@example.com",
            "bøb@example.com",
            "bob@exämple.com",
            "bob@localhost",
            "bob@[127.0.0.1]",
            "bob@example..com",
            "bob@-example.com",
            "bob@example_x.com",
            ".bob@example.com",
            "bob.@example.com",
            "bob@",
            "@example.com",
            "bob",
            "bob@@example.com",
            "bob@x@example.com",
            "bob,eve@example.com",
            "bob@example.com,eve@example.com",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_email_is_at_most_254_characters_with_a_local_part_of_64() {
        let of_length = |local: usize, total: usize| {
            let domain_len = total - local - 1;
            // Labels of at most 63 characters: `x…x.x…x.com`.
            let mut domain = String::new();
            while domain.len() + 4 < domain_len {
                let label = (domain_len - 4 - domain.len()).min(62);
                domain.push_str(&"d".repeat(label));
                domain.push('.');
            }
            domain.push_str(&"c".repeat(domain_len - domain.len()));
            format!("{}@{domain}", "l".repeat(local))
        };
        let longest = of_length(64, 254);
        assert_eq!(longest.len(), 254);
        assert!(Email::parse("email", &longest).is_ok(), "{longest}");
        let too_long = of_length(64, 255);
        assert_eq!(too_long.len(), 255);
        assert!(Email::parse("email", &too_long).is_err());
        assert!(Email::parse("email", &of_length(65, 100)).is_err());
        assert!(Email::parse("email", &of_length(64, 100)).is_ok());
    }
}
