//! Organizations: what one is made of, and what may change about it.

use super::{
    Access, DisplayName, Email, FieldErrors, Handle, HttpsUrl, MemberStatus, Permission,
    PermissionSet, Role, Standing, ValidationError, access,
};

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
    /// Checks each field of a PATCH body: `None` when left out, `Some(None)` when `null`.
    /// Every field but `display_name` may be cleared: an organization always has a name.
    pub fn parse(
        display_name: Option<Option<&str>>,
        avatar_url: Option<Option<&str>>,
        url: Option<Option<&str>>,
        billing_email: Option<Option<&str>>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let display_name = match display_name {
            None => None,
            Some(None) => {
                errors.push(ValidationError::new(
                    "display_name",
                    "required",
                    "An organization always has a display name.",
                ));
                None
            }
            Some(Some(name)) => errors.take(DisplayName::parse("display_name", name)),
        };
        let mut url_field = |field: &str, value: Option<Option<&str>>| {
            value.map(|v| v.and_then(|u| errors.take(HttpsUrl::parse(field, u))))
        };
        let avatar_url = url_field("avatar_url", avatar_url);
        let url = url_field("url", url);
        let billing_email =
            billing_email.map(|v| v.and_then(|e| errors.take(Email::parse("billing_email", e))));
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            display_name,
            avatar_url,
            url,
            billing_email,
        })
    }

    /// Whether permissions `held` allow every field it sets; else the first one missing. The
    /// billing address takes `org:billing:update`; the rest of the profile `org:update`.
    pub fn may_apply(&self, held: PermissionSet) -> Result<(), Permission> {
        let profile =
            self.display_name.is_some() || self.avatar_url.is_some() || self.url.is_some();
        if profile && !held.holds(Permission::OrgUpdate) {
            return Err(Permission::OrgUpdate);
        }
        if self.billing_email.is_some() && !held.holds(Permission::BillingUpdate) {
            return Err(Permission::BillingUpdate);
        }
        Ok(())
    }

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

/// The billing address is shown to those whose role holds `org:billing:read` (admins and
/// owners, and custom roles that grant it), by the role of the membership the answer is for.
pub fn visible_billing_email(
    billing_email: Option<&str>,
    viewer: impl super::Holds,
) -> Option<&str> {
    billing_email.filter(|_| viewer.holds(Permission::BillingRead))
}

/// Who may delete an organization. Deletion runs in steps, and the organization is hidden
/// from everyone once it starts; an active owner who repeats the request finishes it. While it
/// is live, deleting takes `permission` (the route's).
pub fn deletion_access(
    status: OrgStatus,
    caller: Option<Standing>,
    permission: Permission,
) -> Access {
    match (status, caller) {
        (OrgStatus::Active, caller) => access(caller, permission),
        (
            OrgStatus::Deleting,
            Some(Standing {
                role: Role::Owner,
                status: MemberStatus::Active,
                ..
            }),
        ) => Access::Granted,
        (OrgStatus::Deleting, _) => Access::Hidden,
    }
}

/// Deleting takes the organization's current handle, repeated in `?confirm=` (any case).
pub fn confirm_deletion(confirm: Option<&str>, handle: &str) -> Result<(), ValidationError> {
    let confirm = confirm.ok_or_else(|| {
        ValidationError::new(
            "confirm",
            "required",
            "Repeat the organization's handle in ?confirm= to delete it.",
        )
    })?;
    if confirm.to_ascii_lowercase() != handle {
        return Err(ValidationError::new(
            "confirm",
            "confirmation_mismatch",
            "This is not the organization's current handle; nothing was deleted.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_billing_address_takes_its_own_permission_and_the_profile_org_update() {
        let billing =
            OrgProfilePatch::parse(None, None, None, Some(Some("pay@acme.test"))).unwrap();
        let name = OrgProfilePatch::parse(Some(Some("Acme")), None, None, None).unwrap();
        let both = OrgProfilePatch::parse(Some(Some("Acme")), None, None, Some(None)).unwrap();
        let manager: PermissionSet = [Permission::OrgRead, Permission::BillingUpdate]
            .into_iter()
            .collect();
        assert_eq!(billing.may_apply(manager), Ok(()));
        assert_eq!(name.may_apply(manager), Err(Permission::OrgUpdate));
        assert_eq!(both.may_apply(manager), Err(Permission::OrgUpdate));
        let editor: PermissionSet = [Permission::OrgUpdate].into_iter().collect();
        assert_eq!(billing.may_apply(editor), Err(Permission::BillingUpdate));
        assert_eq!(both.may_apply(PermissionSet::of_role(Role::Admin)), Ok(()));
    }

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

    #[test]
    fn a_patch_may_clear_every_field_but_the_display_name() {
        let patch = OrgProfilePatch::parse(None, Some(None), Some(None), Some(None)).unwrap();
        assert_eq!(patch.field_names(), ["avatar_url", "url", "billing_email"]);
        let errors = OrgProfilePatch::parse(Some(None), None, None, None)
            .unwrap_err()
            .into_vec();
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("display_name", "required")
        );
    }

    #[test]
    fn a_patch_reports_every_bad_field_at_once() {
        let errors = OrgProfilePatch::parse(
            Some(Some("")),
            Some(Some("http://a.example")),
            Some(Some("nope")),
            Some(Some("not-an-address")),
        )
        .unwrap_err()
        .into_vec();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["display_name", "avatar_url", "url", "billing_email"]
        );
        let patch =
            OrgProfilePatch::parse(Some(Some("Acme")), None, None, Some(Some("B@Acme.example")))
                .unwrap();
        assert_eq!(
            patch.billing_email,
            Some(Some(Email::parse("e", "b@acme.example").unwrap()))
        );
    }

    #[test]
    fn only_admins_and_owners_see_the_billing_email() {
        let billing = Some("billing@acme.example");
        assert_eq!(visible_billing_email(billing, Role::Member), None);
        assert_eq!(visible_billing_email(billing, Role::Admin), billing);
        assert_eq!(visible_billing_email(billing, Role::Owner), billing);
        assert_eq!(visible_billing_email(None, Role::Owner), None);
    }

    fn standing(role: Role, status: MemberStatus) -> Option<Standing> {
        Some(Standing::of(role, status))
    }

    #[test]
    fn owners_delete_a_live_organization_and_admins_are_told_they_cannot() {
        let active = OrgStatus::Active;
        assert_eq!(
            deletion_access(
                active,
                standing(Role::Owner, MemberStatus::Active),
                Permission::OrgDelete
            ),
            Access::Granted
        );
        assert_eq!(
            deletion_access(
                active,
                standing(Role::Admin, MemberStatus::Active),
                Permission::OrgDelete
            ),
            Access::Forbidden
        );
        assert_eq!(
            deletion_access(active, None, Permission::OrgDelete),
            Access::Hidden
        );
    }

    #[test]
    fn only_an_active_owner_finishes_a_deletion_and_everyone_else_sees_nothing() {
        let deleting = OrgStatus::Deleting;
        assert_eq!(
            deletion_access(
                deleting,
                standing(Role::Owner, MemberStatus::Active),
                Permission::OrgDelete
            ),
            Access::Granted
        );
        for other in [
            standing(Role::Admin, MemberStatus::Active),
            standing(Role::Owner, MemberStatus::Deactivated),
            None,
        ] {
            assert_eq!(
                deletion_access(deleting, other, Permission::OrgDelete),
                Access::Hidden
            );
        }
    }

    #[test]
    fn deleting_takes_the_current_handle_in_any_case() {
        assert_eq!(confirm_deletion(Some("Acme-Labs"), "acme-labs"), Ok(()));
        assert_eq!(confirm_deletion(None, "acme").unwrap_err().code, "required");
        assert_eq!(
            confirm_deletion(Some("acme-old"), "acme").unwrap_err().code,
            "confirmation_mismatch"
        );
    }
}
