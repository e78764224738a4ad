//! Organizations: what one is made of, and what may change about it.

use super::{DisplayName, Email, FieldErrors, Handle, HttpsUrl, ValidationError};

/// Where an organization's data lives; chosen at creation and fixed for life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Region {
    Us,
    Eu,
}

impl Region {
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        match input {
            "us" => Ok(Region::Us),
            "eu" => Ok(Region::Eu),
            _ => Err(ValidationError::new(
                "region",
                "invalid_region",
                "Region is \"us\" or \"eu\".",
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Us => "us",
            Region::Eu => "eu",
        }
    }
}

/// `Deleting` hides the organization from everyone while its items are removed in steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrgStatus {
    Active,
    Deleting,
}

impl OrgStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgStatus::Active => "active",
            OrgStatus::Deleting => "deleting",
        }
    }
    pub fn parse(input: &str) -> Option<Self> {
        match input {
            "active" => Some(OrgStatus::Active),
            "deleting" => Some(OrgStatus::Deleting),
            _ => None,
        }
    }
}

/// A valid request to create an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrganization {
    pub handle: Handle,
    pub display_name: DisplayName,
    pub region: Region,
    pub avatar_url: Option<HttpsUrl>,
    pub url: Option<HttpsUrl>,
}

impl NewOrganization {
    pub fn parse(
        handle: &str,
        display_name: &str,
        region: &str,
        avatar_url: Option<&str>,
        url: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let handle = errors.take(Handle::parse(handle));
        let display_name = errors.take(DisplayName::parse("display_name", display_name));
        let region = errors.take(Region::parse(region));
        let avatar_url = avatar_url.and_then(|u| errors.take(HttpsUrl::parse("avatar_url", u)));
        let url = url.and_then(|u| errors.take(HttpsUrl::parse("url", u)));
        match (handle, display_name, region) {
            (Some(handle), Some(display_name), Some(region)) if errors.is_empty() => Ok(Self {
                handle,
                display_name,
                region,
                avatar_url,
                url,
            }),
            _ => Err(errors),
        }
    }
}

/// A change to an organization's profile. `None` leaves a field alone; `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgProfilePatch {
    pub display_name: Option<DisplayName>,
    pub avatar_url: Option<Option<HttpsUrl>>,
    pub url: Option<Option<HttpsUrl>>,
    pub billing_email: Option<Option<Email>>,
}

impl OrgProfilePatch {
    pub fn is_empty(&self) -> bool {
        self.display_name.is_none()
            && self.avatar_url.is_none()
            && self.url.is_none()
            && self.billing_email.is_none()
    }

    /// The names of the fields this patch sets, for the audit entry and the event.
    pub fn field_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.display_name.is_some() {
            names.push("display_name");
        }
        if self.avatar_url.is_some() {
            names.push("avatar_url");
        }
        if self.url.is_some() {
            names.push("url");
        }
        if self.billing_email.is_some() {
            names.push("billing_email");
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_complete_organization() {
        let org = NewOrganization::parse(
            "Acme",
            "Acme Inc",
            "eu",
            Some("https://a.example/x.png"),
            None,
        )
        .unwrap();
        assert_eq!(org.handle.as_str(), "acme");
        assert_eq!(org.region, Region::Eu);
        assert!(org.url.is_none());
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let errors =
            NewOrganization::parse("a", "", "mars", Some("http://x.example"), Some("nope"))
                .unwrap_err()
                .into_vec();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["handle", "display_name", "region", "avatar_url", "url"]
        );
    }

    #[test]
    fn patch_lists_the_fields_it_sets() {
        let patch = OrgProfilePatch {
            url: Some(None),
            ..Default::default()
        };
        assert_eq!(patch.field_names(), ["url"]);
        assert!(OrgProfilePatch::default().is_empty());
    }
}
