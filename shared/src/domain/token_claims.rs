//! What the `token-claims` function (Cognito's pre-token-generation trigger) adds to a person's
//! tokens, so that another service can tell from the token alone which organizations the
//! person is in, and with which role.
//!
//! - `orgs`: a JSON object keyed by organization id, each value `{"handle", "role"}`, for the
//!   person's active memberships, the most recently joined first, at most `ORGS_TOKEN_MAX_ORGS`.
//!   A person in no organization gets no `orgs` claim at all.
//! - `orgs_truncated`: `true`, only when active memberships were left out for the cap.
//! - In the access token only: `email` and `email_verified`, which Cognito puts in the ID token
//!   alone, so that access tokens serve the email flows of `orgs` too.
//!
//! The claims are as fresh as the token. `orgs` itself never authorizes from them.

use serde_json::{Map, Value, json};

use super::sso::ProviderName;
use super::{EmailClaims, OrgId, Role, RoleName, Timestamp};

pub const ORGS_CLAIM: &str = "orgs";
pub const ORGS_TRUNCATED_CLAIM: &str = "orgs_truncated";
/// The organization's identity provider a sign-in went through (single sign-on). Only the
/// token-claims trigger sets it, so a verified token's value is Cognito's word.
pub const SSO_PROVIDER_CLAIM: &str = "sso_provider";

/// How many organizations the `orgs` claim holds at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxTokenOrgs(usize);

impl MaxTokenOrgs {
    /// At most 2.2 KB of claims, 2.9 KB once base64-encoded in the token (see the size test).
    pub const DEFAULT: Self = Self(20);
    /// At most 4.4 KB of claims, 5.8 KB in the token: a token travels in a request header, and
    /// API Gateway's HTTP API takes 10 KB of request line and headers at most.
    pub const MOST: usize = 40;

    pub fn new(max: usize) -> Option<Self> {
        (1..=Self::MOST).contains(&max).then_some(Self(max))
    }

    pub fn get(self) -> usize {
        self.0
    }
}

impl Default for MaxTokenOrgs {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// An active membership, as the person's listing of memberships holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedMembership {
    pub org_id: OrgId,
    pub role: Role,
    pub joined_at: Timestamp,
}

impl ListedMembership {
    /// A membership made during this sign-in (single sign-on's), which the listing may not
    /// show yet; its role is read with the organization.
    pub fn just_joined(org_id: OrgId) -> Self {
        ListedMembership {
            org_id,
            role: Role::Member,
            joined_at: Timestamp::now(),
        }
    }
}

/// The memberships the claim names: the most recently joined first (then by organization id,
/// so the choice is the same at every refresh), at most `max`; and whether any were left out.
pub fn pick_memberships(
    mut listed: Vec<ListedMembership>,
    max: MaxTokenOrgs,
) -> (Vec<ListedMembership>, bool) {
    listed.sort_by(|a, b| {
        b.joined_at
            .cmp(&a.joined_at)
            .then_with(|| a.org_id.cmp(&b.org_id))
    });
    let truncated = listed.len() > max.get();
    listed.truncate(max.get());
    (listed, truncated)
}

/// One organization in the `orgs` claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgClaim {
    pub org_id: OrgId,
    pub handle: String,
    /// A system role's or a custom role's key.
    pub role: RoleName,
}

/// Everything the trigger adds to one person's tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenClaims {
    /// In the order picked: the most recently joined first.
    pub orgs: Vec<OrgClaim>,
    pub truncated: bool,
    pub email: EmailClaims,
    /// The organization's identity provider this sign-in went through (single sign-on), which
    /// `sso_required` asks for; `None` for any other sign-in.
    pub sso_provider: Option<ProviderName>,
}

impl TokenClaims {
    /// `orgs` and `orgs_truncated`, as both tokens carry them; nothing for no organization.
    fn org_claims(&self) -> Map<String, Value> {
        let mut claims = Map::new();
        if !self.orgs.is_empty() {
            let orgs: Map<String, Value> = self
                .orgs
                .iter()
                .map(|org| {
                    let value = json!({ "handle": org.handle, "role": org.role.as_str() });
                    (org.org_id.to_string(), value)
                })
                .collect();
            claims.insert(ORGS_CLAIM.into(), Value::Object(orgs));
        }
        if self.truncated {
            claims.insert(ORGS_TRUNCATED_CLAIM.into(), Value::Bool(true));
        }
        if let Some(provider) = &self.sso_provider {
            claims.insert(
                SSO_PROVIDER_CLAIM.into(),
                Value::String(provider.to_string()),
            );
        }
        claims
    }

    /// What the ID token gets: it carries the email claims already.
    pub fn id_token(&self) -> Map<String, Value> {
        self.org_claims()
    }

    /// What the access token gets: the organizations, and the email claims.
    pub fn access_token(&self) -> Map<String, Value> {
        let mut claims = self.org_claims();
        if let EmailClaims::Stated { email, verified } = &self.email {
            claims.insert("email".into(), Value::String(email.clone()));
            claims.insert("email_verified".into(), Value::Bool(*verified));
        }
        claims
    }

    /// The ID token's claims for a version 1 trigger event (a Lite tier user pool), which
    /// takes only strings: the `orgs` object as its JSON text, `orgs_truncated` as `"true"`.
    pub fn id_token_as_strings(&self) -> Map<String, Value> {
        self.id_token()
            .into_iter()
            .map(|(name, value)| {
                let text = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                (name, Value::String(text))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_750_000_000_000 + seconds * 1000).unwrap()
    }

    fn listed(n: usize, joined: i64) -> ListedMembership {
        ListedMembership {
            org_id: OrgId::parse(&format!("org_{n:032x}")).unwrap(),
            role: Role::Member,
            joined_at: at(joined),
        }
    }

    fn claims(orgs: Vec<OrgClaim>, truncated: bool, email: EmailClaims) -> TokenClaims {
        TokenClaims {
            sso_provider: None,
            orgs,
            truncated,
            email,
        }
    }

    fn org(n: usize, handle: &str, role: Role) -> OrgClaim {
        OrgClaim {
            org_id: OrgId::parse(&format!("org_{n:032x}")).unwrap(),
            handle: handle.into(),
            role: RoleName::System(role),
        }
    }

    #[test]
    fn the_cap_is_between_one_and_forty() {
        assert_eq!(MaxTokenOrgs::new(0), None);
        assert_eq!(MaxTokenOrgs::new(1).map(MaxTokenOrgs::get), Some(1));
        assert_eq!(MaxTokenOrgs::new(40).map(MaxTokenOrgs::get), Some(40));
        assert_eq!(MaxTokenOrgs::new(41), None);
        assert_eq!(MaxTokenOrgs::default().get(), 20);
    }

    #[test]
    fn picks_the_most_recently_joined_up_to_the_cap_and_says_so() {
        let all = vec![listed(1, 10), listed(2, 30), listed(3, 20), listed(4, 30)];
        let (picked, truncated) = pick_memberships(all.clone(), MaxTokenOrgs::new(3).unwrap());
        let ids: Vec<_> = picked.iter().map(|m| m.org_id.clone()).collect();
        // 2 and 4 joined at the same instant: by id, so every refresh picks the same ones.
        assert_eq!(
            ids,
            [&all[1], &all[3], &all[2]]
                .map(|m| m.org_id.clone())
                .to_vec()
        );
        assert!(truncated);

        let (picked, truncated) = pick_memberships(all.clone(), MaxTokenOrgs::new(4).unwrap());
        assert_eq!(picked.len(), 4);
        assert!(!truncated, "exactly the cap leaves nothing out");
        assert_eq!(
            pick_memberships(Vec::new(), MaxTokenOrgs::default()),
            (Vec::new(), false)
        );
    }

    #[test]
    fn orgs_is_an_object_keyed_by_organization_id_in_both_tokens() {
        let email = EmailClaims::Stated {
            email: "bob@example.com".into(),
            verified: true,
        };
        let c = claims(
            vec![org(1, "acme", Role::Admin), org(2, "beta", Role::Member)],
            false,
            email,
        );
        let expected = json!({
            "org_00000000000000000000000000000001": { "handle": "acme", "role": "admin" },
            "org_00000000000000000000000000000002": { "handle": "beta", "role": "member" },
        });
        assert_eq!(Value::Object(c.id_token()), json!({ "orgs": expected }));
        assert_eq!(
            Value::Object(c.access_token()),
            json!({ "orgs": expected, "email": "bob@example.com", "email_verified": true })
        );
    }

    #[test]
    fn the_flag_appears_only_when_some_were_left_out() {
        let c = claims(vec![org(1, "acme", Role::Owner)], true, EmailClaims::Absent);
        assert_eq!(c.id_token()["orgs_truncated"], json!(true));
        let c = claims(
            vec![org(1, "acme", Role::Owner)],
            false,
            EmailClaims::Absent,
        );
        assert!(!c.id_token().contains_key("orgs_truncated"));
    }

    #[test]
    fn a_person_in_no_organization_gets_no_org_claims() {
        let c = claims(Vec::new(), false, EmailClaims::Absent);
        assert!(c.id_token().is_empty());
        assert!(
            c.access_token().is_empty(),
            "no email known, nothing at all"
        );
        let unverified = EmailClaims::Stated {
            email: "eve@example.com".into(),
            verified: false,
        };
        let c = claims(Vec::new(), false, unverified);
        assert_eq!(
            Value::Object(c.access_token()),
            json!({ "email": "eve@example.com", "email_verified": false })
        );
    }

    #[test]
    fn version_one_claims_are_strings() {
        let c = claims(vec![org(1, "acme", Role::Owner)], true, EmailClaims::Absent);
        let strings = c.id_token_as_strings();
        assert_eq!(strings["orgs_truncated"], json!("true"));
        let orgs: Value = serde_json::from_str(strings["orgs"].as_str().unwrap()).unwrap();
        assert_eq!(orgs, Value::Object(c.id_token())["orgs"]);
    }

    /// The largest claims a cap allows: every handle as long as handles go (39 characters), every
    /// role the longest name, and the flag. docs/api.md quotes these bounds.
    #[test]
    fn the_claim_stays_small_at_the_cap() {
        let size = |max: usize| {
            let orgs = (0..max)
                .map(|n| org(n, &"a".repeat(crate::domain::handle::MAX_LEN), Role::Member))
                .collect();
            serde_json::to_string(&claims(orgs, true, EmailClaims::Absent).id_token())
                .unwrap()
                .len()
        };
        assert_eq!(size(MaxTokenOrgs::DEFAULT.get()), 2_192);
        assert_eq!(size(MaxTokenOrgs::MOST), 4_352);
    }

    /// With custom roles, whose keys go up to 40 characters: the largest claims a cap allows,
    /// and those of a typical person (10-character handles, 15-character role keys). The README
    /// and docs/api.md quote these sizes.
    #[test]
    fn the_claim_with_custom_roles_at_the_cap() {
        let size = |max: usize, handle: usize, key: usize| {
            let role = RoleName::parse("role", &format!("r{}", "x".repeat(key - 1))).unwrap();
            let orgs = (0..max)
                .map(|n| OrgClaim {
                    role: role.clone(),
                    ..org(n, &"a".repeat(handle), Role::Member)
                })
                .collect();
            serde_json::to_string(&claims(orgs, true, EmailClaims::Absent).id_token())
                .unwrap()
                .len()
        };
        let longest = crate::domain::handle::MAX_LEN;
        assert_eq!(size(MaxTokenOrgs::DEFAULT.get(), longest, 40), 2_872);
        assert_eq!(size(MaxTokenOrgs::MOST, longest, 40), 5_712);
        assert_eq!(size(MaxTokenOrgs::DEFAULT.get(), 10, 15), 1_792);
        assert_eq!(size(12, longest, 40), 1_736);
    }
}
