//! Email domains an organization claims: the name itself, the ones nobody may claim, and the
//! DNS TXT record that proves a claim.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{NoRandomness, ValidationError};

/// The longest domain name DNS carries (in its text form, without the root's dot).
const NAME_MAX: usize = 253;
const LABEL_MAX: usize = 63;

/// A domain name as email uses it: ASCII labels of `a-z`, `0-9` and inner hyphens, at least
/// two of them, lowercased. Internationalized names are given in their `xn--` form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailDomain(String);

impl EmailDomain {
    pub fn parse(field: &str, input: &str) -> Result<Self, ValidationError> {
        let invalid = |message: &str| ValidationError::new(field, "invalid_domain", message);
        let name = input.to_ascii_lowercase();
        if name.is_empty() || name.len() > NAME_MAX {
            return Err(invalid(
                "A domain is 1 to 253 characters, such as acme.com.",
            ));
        }
        let labels: Vec<&str> = name.split('.').collect();
        if labels.len() < 2 {
            return Err(invalid(
                "A domain needs at least one dot, such as acme.com.",
            ));
        }
        for label in &labels {
            let ok = (1..=LABEL_MAX).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !ok {
                return Err(invalid(
                    "Each part of a domain is 1 to 63 characters of a-z, 0-9 and inner hyphens (internationalized names in their xn-- form).",
                ));
            }
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid(
                "A domain ends in a name, not a number (no IP addresses).",
            ));
        }
        Ok(Self(name))
    }

    /// The domain of an address (`local@domain`), if it is a valid domain.
    pub fn of_email(email: &str) -> Option<Self> {
        let (_, domain) = email.rsplit_once('@')?;
        Self::parse("email", domain).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is `other` or a name under it (`mail.gmail.com` is under `gmail.com`).
    pub fn is_within(&self, other: &EmailDomain) -> bool {
        self.0 == other.0
            || self
                .0
                .strip_suffix(other.as_str())
                .is_some_and(|head| head.ends_with('.'))
    }

    /// The name of the TXT record that proves the claim.
    pub fn record_name(&self) -> String {
        format!("{RECORD_PREFIX}.{}", self.0)
    }
}

impl fmt::Display for EmailDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The label under the domain that holds the verification record.
pub const RECORD_PREFIX: &str = "_orgs-verification";

/// Free email providers: their users share a domain with millions of strangers, so nobody may
/// claim one. `ORGS_PUBLIC_EMAIL_DOMAINS` replaces this list.
pub const PUBLIC_EMAIL_PROVIDERS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "zoho.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
    "126.com",
    "fastmail.com",
    "hey.com",
    "tutanota.com",
];

/// Why a domain cannot be claimed at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unclaimable {
    #[error("the domain belongs to a public email provider")]
    PublicProvider,
    #[error("the domain is this service's own")]
    ServiceDomain,
}

impl Unclaimable {
    pub fn detail(self) -> &'static str {
        match self {
            Unclaimable::PublicProvider => {
                "This domain belongs to a public email provider: its addresses are not one organization's, so it cannot be claimed."
            }
            Unclaimable::ServiceDomain => "This domain is the service's own and cannot be claimed.",
        }
    }
}

/// The domains nobody may claim: public providers and the service's own (with every name
/// under each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRules {
    pub public_providers: Vec<EmailDomain>,
    pub service_domains: Vec<EmailDomain>,
}

impl Default for ClaimRules {
    fn default() -> Self {
        Self {
            public_providers: PUBLIC_EMAIL_PROVIDERS
                .iter()
                .filter_map(|d| EmailDomain::parse("", d).ok())
                .collect(),
            service_domains: Vec::new(),
        }
    }
}

impl ClaimRules {
    /// A comma-separated list of domains, as the configuration gives one; names what is wrong.
    pub fn parse_list(list: &str) -> Result<Vec<EmailDomain>, ValidationError> {
        list.split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| EmailDomain::parse(d, d))
            .collect()
    }

    pub fn may_claim(&self, domain: &EmailDomain) -> Result<(), Unclaimable> {
        if self.service_domains.iter().any(|d| domain.is_within(d)) {
            return Err(Unclaimable::ServiceDomain);
        }
        if self.public_providers.iter().any(|d| domain.is_within(d)) {
            return Err(Unclaimable::PublicProvider);
        }
        Ok(())
    }
}

const CHALLENGE_BYTES: usize = 32;
/// What the record's value starts with, so that an owner can tell it among other TXT records.
pub const CHALLENGE_PREFIX: &str = "orgs-verification=";

/// The value to publish: 256 random bits, so nobody can guess another organization's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge(String);

impl Challenge {
    pub fn generate() -> Result<Self, NoRandomness> {
        let mut bytes = [0u8; CHALLENGE_BYTES];
        getrandom::fill(&mut bytes).map_err(NoRandomness)?;
        Ok(Self(format!(
            "{CHALLENGE_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(bytes)
        )))
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether one of the TXT strings found is this value (spaces around it aside).
    pub fn found_in<'a>(&self, found: impl IntoIterator<Item = &'a str>) -> bool {
        found.into_iter().any(|value| value.trim() == self.0)
    }
}

/// What a DNS lookup of the record's name answered, when it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxtAnswer {
    /// The TXT strings found (each record's strings joined, as RFC 7208 reads them).
    Values(Vec<String>),
    /// NXDOMAIN: no such name.
    NoSuchName,
    /// The name exists, with no TXT record.
    NoRecords,
}

/// Why a lookup did not prove the domain: what was found instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotVerified {
    #[error("the record's name does not exist (NXDOMAIN)")]
    NoSuchName { name: String },
    #[error("the record's name has no TXT record")]
    NoRecord { name: String },
    #[error("the TXT records found do not carry the expected value")]
    WrongValue { name: String, found: Vec<String> },
}

impl NotVerified {
    /// A stable word for the problem's `reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            NotVerified::NoSuchName { .. } => "nxdomain",
            NotVerified::NoRecord { .. } => "no_txt_record",
            NotVerified::WrongValue { .. } => "wrong_value",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            NotVerified::NoSuchName { name } => format!(
                "DNS says {name} does not exist (NXDOMAIN). Publish the TXT record, wait for it to propagate, and verify again."
            ),
            NotVerified::NoRecord { name } => format!(
                "{name} exists but has no TXT record. Publish the TXT record and verify again."
            ),
            NotVerified::WrongValue { name, found } => format!(
                "The TXT records of {name} ({}) do not include the expected value. Publish the value from the domain's record and verify again.",
                found.join(", ")
            ),
        }
    }

    /// The TXT values found instead, for the answer.
    pub fn found(&self) -> &[String] {
        match self {
            NotVerified::WrongValue { found, .. } => found,
            _ => &[],
        }
    }
}

impl Challenge {
    /// Whether `answer`, the lookup of `domain`'s record, proves the claim.
    pub fn judge(&self, domain: &EmailDomain, answer: &TxtAnswer) -> Result<(), NotVerified> {
        let name = domain.record_name();
        match answer {
            TxtAnswer::Values(found) if self.found_in(found.iter().map(String::as_str)) => Ok(()),
            TxtAnswer::Values(found) => Err(NotVerified::WrongValue {
                name,
                found: found.clone(),
            }),
            TxtAnswer::NoSuchName => Err(NotVerified::NoSuchName { name }),
            TxtAnswer::NoRecords => Err(NotVerified::NoRecord { name }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(raw: &str) -> EmailDomain {
        EmailDomain::parse("domain", raw).unwrap()
    }

    #[test]
    fn lowercases() {
        assert_eq!(domain("Acme.COM").as_str(), "acme.com");
        assert_eq!(domain("mail.eu.acme.co.uk").as_str(), "mail.eu.acme.co.uk");
        assert_eq!(
            domain("xn--bcher-kva.example").as_str(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn refuses_what_is_no_domain() {
        for bad in [
            "",
            "acme",
            ".acme.com",
            "acme..com",
            "-acme.com",
            "acme-.com",
            "ac me.com",
            "acme_corp.com",
            "bücher.de",
            "acme.com/x",
            "a@acme.com",
            "10.0.0.1",
            "*.acme.com",
        ] {
            let err = EmailDomain::parse("domain", bad).unwrap_err();
            assert_eq!(
                (err.field.as_str(), err.code),
                ("domain", "invalid_domain"),
                "{bad}"
            );
        }
    }

    #[test]
    fn holds_dns_length_limits() {
        let label = "a".repeat(63);
        assert!(EmailDomain::parse("d", &format!("{label}.com")).is_ok());
        assert!(EmailDomain::parse("d", &format!("a{label}.com")).is_err());
        // 4 labels of 63 and the dots: 255 characters, over 253.
        let long = [label.as_str(); 4].join(".");
        assert!(EmailDomain::parse("d", &long).is_err());
        let fits = format!("{}.{}", [label.as_str(); 3].join("."), "a".repeat(61));
        assert_eq!(fits.len(), 253);
        assert!(EmailDomain::parse("d", &fits).is_ok());
    }

    #[test]
    fn finds_the_domain_of_an_address() {
        assert_eq!(
            EmailDomain::of_email("bob@Acme.com"),
            Some(domain("acme.com"))
        );
        assert_eq!(EmailDomain::of_email("bob"), None);
    }

    #[test]
    fn public_providers_and_names_under_them_are_unclaimable() {
        let rules = ClaimRules::default();
        assert_eq!(
            rules.may_claim(&domain("gmail.com")),
            Err(Unclaimable::PublicProvider)
        );
        assert_eq!(
            rules.may_claim(&domain("eu.outlook.com")),
            Err(Unclaimable::PublicProvider)
        );
        assert_eq!(rules.may_claim(&domain("notgmail.com")), Ok(()));
        assert_eq!(rules.may_claim(&domain("acme.com")), Ok(()));
    }

    #[test]
    fn the_service_domains_are_unclaimable() {
        let rules = ClaimRules {
            service_domains: ClaimRules::parse_list("orgs.example, mail.example.net").unwrap(),
            ..ClaimRules::default()
        };
        assert_eq!(
            rules.may_claim(&domain("orgs.example")),
            Err(Unclaimable::ServiceDomain)
        );
        assert_eq!(
            rules.may_claim(&domain("app.orgs.example")),
            Err(Unclaimable::ServiceDomain)
        );
        assert_eq!(rules.may_claim(&domain("example.net")), Ok(()));
        assert!(ClaimRules::parse_list("ok.com,not a domain").is_err());
    }

    #[test]
    fn a_challenge_carries_256_random_bits() {
        let a = Challenge::generate().unwrap();
        let b = Challenge::generate().unwrap();
        assert_ne!(a, b);
        let random = a.as_str().strip_prefix(CHALLENGE_PREFIX).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(random).unwrap().len(), 32);
        assert!(a.found_in(["v=spf1 -all", &format!(" {} ", a.as_str())]));
        assert!(!a.found_in([b.as_str()]));
        assert_eq!(
            domain("acme.com").record_name(),
            "_orgs-verification.acme.com"
        );
    }
}
