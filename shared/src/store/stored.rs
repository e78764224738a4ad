//! What the table holds, told from each item's key, for tests that look at the table without
//! knowing its layout. Compiled only with the `fixtures` feature.

use super::Store;
use super::error::{StoreError, StoreResult};
use super::item::Item;
use super::keys;

/// What the table's partition keys start with: text no answer may show.
pub const PARTITION_PREFIXES: &[&str] = &[
    "USER#",
    "HANDLE#",
    "ORG#",
    "AUDIT#",
    "EVENT#",
    "INVTOKEN#",
    "INVITEE#",
    "EXPIRY#",
    "DOMAINCLAIM#",
    "ADDRESS#",
    "IDEM#",
];

/// Whose history an audit entry or event record belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Of {
    Org(String),
    User(String),
}

/// What a stored item is, told from its key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stored {
    Profile {
        user: String,
    },
    Handle {
        handle: String,
    },
    Organization {
        org: String,
    },
    Member {
        org: String,
        user: String,
    },
    MemberEmail {
        org: String,
        email: String,
    },
    Team {
        org: String,
        team: String,
    },
    TeamName {
        org: String,
        name: String,
    },
    TeamMember {
        org: String,
        team: String,
        user: String,
    },
    Invitation {
        org: String,
        invitation: String,
    },
    PendingInvitation {
        org: String,
        email: String,
    },
    MailCounter {
        org: String,
        day: String,
    },
    /// A new organization's emails in its first day.
    FirstDayMailCounter {
        org: String,
    },
    /// The emails one person caused on a day.
    PersonMailCounter {
        user: String,
        day: String,
    },
    /// The organizations one person owns.
    OwnedOrgs {
        user: String,
    },
    /// The marker of the organization made for a person at sign-up.
    FirstOrg {
        user: String,
    },
    /// The users who hold a verified address.
    KnownAddress {
        email: String,
    },
    /// One of the organization's count shards (`tallies.rs`).
    Tally {
        org: String,
        shard: String,
    },
    /// One of the organization's custom roles (`roles.rs`).
    Role {
        org: String,
        role: String,
    },
    /// An email domain the organization added (`domains.rs`).
    Domain {
        org: String,
        domain: String,
    },
    /// The marker that gives a verified domain to one organization.
    DomainClaim {
        domain: String,
    },
    InvitationToken {
        hash: String,
    },
    /// The record of one `Idempotency-Key` of one person.
    IdempotencyKey {
        user: String,
        key: String,
    },
    Audit {
        of: Of,
        at: String,
        id: String,
    },
    Event {
        of: Of,
        at: String,
        id: String,
    },
    /// A key no part of the store writes.
    Unknown {
        pk: String,
        sk: String,
    },
}

impl Stored {
    /// What the item with this key is.
    pub fn of(pk: &str, sk: &str) -> Self {
        let unknown = || Stored::Unknown {
            pk: pk.to_owned(),
            sk: sk.to_owned(),
        };
        let owned = |v: &str| v.to_owned();
        let (kind, id) = pk.split_once('#').unwrap_or((pk, ""));
        match kind {
            "USER" if sk == keys::PROFILE_SK => Stored::Profile { user: owned(id) },
            "USER" if sk == keys::OWNED_ORGS_COUNTER_SK => Stored::OwnedOrgs { user: owned(id) },
            "USER" if sk == keys::FIRST_ORG_SK => Stored::FirstOrg { user: owned(id) },
            "ADDRESS" if sk == keys::KNOWN_ADDRESS_SK => Stored::KnownAddress { email: owned(id) },
            "USER" => match sk.strip_prefix("COUNTER#MAIL#") {
                Some(day) => Stored::PersonMailCounter {
                    user: owned(id),
                    day: day.to_owned(),
                },
                None => unknown(),
            },
            "HANDLE" if sk == keys::HANDLE_SK => Stored::Handle { handle: owned(id) },
            "DOMAINCLAIM" if sk == keys::DOMAIN_CLAIM_SK => {
                Stored::DomainClaim { domain: owned(id) }
            }
            "INVTOKEN" if sk == keys::INVITATION_TOKEN_SK => {
                Stored::InvitationToken { hash: owned(id) }
            }
            "IDEM" => match sk.strip_prefix("KEY#") {
                Some(key) => Stored::IdempotencyKey {
                    user: owned(id),
                    key: key.to_owned(),
                },
                None => unknown(),
            },
            "AUDIT" | "EVENT" => {
                let of = match id.split_once('#') {
                    Some(("ORG", org)) => Of::Org(owned(org)),
                    Some(("USER", user)) => Of::User(owned(user)),
                    _ => return unknown(),
                };
                let Some((at, id)) = sk.split_once('#') else {
                    return unknown();
                };
                let (at, id) = (owned(at), owned(id));
                if kind == "AUDIT" {
                    Stored::Audit { of, at, id }
                } else {
                    Stored::Event { of, at, id }
                }
            }
            "ORG" => Self::in_org(owned(id), sk).unwrap_or_else(unknown),
            _ => unknown(),
        }
    }

    fn in_org(org: String, sk: &str) -> Option<Self> {
        if sk == keys::ORG_SK {
            return Some(Stored::Organization { org });
        }
        let (kind, rest) = sk.split_once('#')?;
        let rest = rest.to_owned();
        Some(match kind {
            "MEMBER" => Stored::Member { org, user: rest },
            "MEMBEREMAIL" => Stored::MemberEmail { org, email: rest },
            "TEAM" => Stored::Team { org, team: rest },
            "TEAMNAME" => Stored::TeamName { org, name: rest },
            "TEAMMEMBER" => {
                let (team, user) = rest.split_once('#')?;
                Stored::TeamMember {
                    org,
                    team: team.to_owned(),
                    user: user.to_owned(),
                }
            }
            "INV" => Stored::Invitation {
                org,
                invitation: rest,
            },
            "PENDING" => Stored::PendingInvitation { org, email: rest },
            "TALLY" => Stored::Tally { org, shard: rest },
            "DOMAIN" => Stored::Domain { org, domain: rest },
            "ROLE" => Stored::Role { org, role: rest },
            "COUNTER" if sk == keys::FIRST_DAY_MAIL_COUNTER_SK => {
                Stored::FirstDayMailCounter { org }
            }
            "COUNTER" => Stored::MailCounter {
                org,
                day: rest.strip_prefix("MAIL#")?.to_owned(),
            },
            _ => return None,
        })
    }

    /// The organization whose partition holds the item.
    pub fn org(&self) -> Option<&str> {
        match self {
            Stored::Organization { org }
            | Stored::Member { org, .. }
            | Stored::MemberEmail { org, .. }
            | Stored::Team { org, .. }
            | Stored::TeamName { org, .. }
            | Stored::TeamMember { org, .. }
            | Stored::Invitation { org, .. }
            | Stored::PendingInvitation { org, .. }
            | Stored::MailCounter { org, .. }
            | Stored::FirstDayMailCounter { org }
            | Stored::Tally { org, .. }
            | Stored::Domain { org, .. }
            | Stored::Role { org, .. } => Some(org),
            _ => None,
        }
    }

    /// Whether the item's key names `id`: a user, team, invitation, email, team name or handle.
    pub fn names(&self, id: &str) -> bool {
        match self {
            Stored::Profile { user }
            | Stored::Member { user, .. }
            | Stored::PersonMailCounter { user, .. }
            | Stored::OwnedOrgs { user }
            | Stored::FirstOrg { user } => user == id,
            Stored::Handle { handle } => handle == id,
            Stored::MemberEmail { email, .. }
            | Stored::PendingInvitation { email, .. }
            | Stored::KnownAddress { email } => email == id,
            Stored::Team { team, .. } => team == id,
            Stored::TeamName { name, .. } => name == id,
            Stored::TeamMember { team, user, .. } => team == id || user == id,
            Stored::Invitation { invitation, .. } => invitation == id,
            Stored::Domain { domain, .. } | Stored::DomainClaim { domain } => domain == id,
            _ => false,
        }
    }

    /// What kind of item it is, as `docs/data-model.md` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Stored::Profile { .. } => "user profile",
            Stored::Handle { .. } => "handle marker",
            Stored::Organization { .. } => "organization",
            Stored::Member { .. } => "membership",
            Stored::MemberEmail { .. } => "member email marker",
            Stored::Team { .. } => "team",
            Stored::TeamName { .. } => "team name marker",
            Stored::TeamMember { .. } => "team member",
            Stored::Invitation { .. } => "invitation",
            Stored::PendingInvitation { .. } => "pending marker",
            Stored::MailCounter { .. } => "email counter",
            Stored::FirstDayMailCounter { .. } => "first-day email counter",
            Stored::PersonMailCounter { .. } => "person's email counter",
            Stored::OwnedOrgs { .. } => "owned organizations counter",
            Stored::FirstOrg { .. } => "first organization marker",
            Stored::KnownAddress { .. } => "known address",
            Stored::Tally { .. } => "count shard",
            Stored::Domain { .. } => "domain",
            Stored::Role { .. } => "custom role",
            Stored::DomainClaim { .. } => "domain claim marker",
            Stored::InvitationToken { .. } => "invitation token",
            Stored::IdempotencyKey { .. } => "idempotency key record",
            Stored::Audit { .. } => "audit entry",
            Stored::Event { .. } => "event record",
            Stored::Unknown { .. } => "unknown",
        }
    }
}

impl Store {
    /// Every item in the table with what it is, in key order (a strongly consistent Scan).
    pub async fn stored_items(&self) -> StoreResult<Vec<(Stored, Item)>> {
        const CONTEXT: &str = "scan the table";
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| StoreError::from_sdk(CONTEXT, e))?;
            for item in page.items() {
                let text = |name| item.get(name).and_then(|v| v.as_s().ok());
                let (pk, sk) = (text(keys::PK), text(keys::SK));
                let key = (
                    pk.cloned().unwrap_or_default(),
                    sk.cloned().unwrap_or_default(),
                );
                items.push((key, item.clone()));
            }
            match page.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => break,
            }
        }
        items.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(items
            .into_iter()
            .map(|((pk, sk), item)| (Stored::of(&pk, &sk), item))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Handle, InvitationId, OrgId, Subject, TeamId, Timestamp, UserId};

    /// Every key `keys.rs` builds reads back as what it is.
    #[test]
    fn every_key_reads_back_as_its_item() {
        let org = OrgId::generate();
        let user = UserId::parse("bo").unwrap();
        let team = TeamId::generate();
        let invitation = InvitationId::generate();
        let at = Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap();
        let (o, t, i) = (org.to_string(), team.to_string(), invitation.to_string());
        let u = || "bo".to_owned();
        let org_pk = keys::org_pk(&org);
        let cases = [
            (
                keys::user_pk(&user),
                keys::PROFILE_SK.to_owned(),
                Stored::Profile { user: u() },
            ),
            (
                keys::handle_pk(&Handle::parse("acme").unwrap()),
                keys::HANDLE_SK.to_owned(),
                Stored::Handle {
                    handle: "acme".into(),
                },
            ),
            (
                org_pk.clone(),
                keys::ORG_SK.to_owned(),
                Stored::Organization { org: o.clone() },
            ),
            (
                org_pk.clone(),
                keys::member_sk(&user),
                Stored::Member {
                    org: o.clone(),
                    user: u(),
                },
            ),
            (
                org_pk.clone(),
                keys::member_email_sk("bo@example.com"),
                Stored::MemberEmail {
                    org: o.clone(),
                    email: "bo@example.com".into(),
                },
            ),
            (
                org_pk.clone(),
                keys::team_sk(&team),
                Stored::Team {
                    org: o.clone(),
                    team: t.clone(),
                },
            ),
            (
                org_pk.clone(),
                keys::team_name_sk("Ops"),
                Stored::TeamName {
                    org: o.clone(),
                    name: "ops".into(),
                },
            ),
            (
                org_pk.clone(),
                keys::team_member_sk(&team, &user),
                Stored::TeamMember {
                    org: o.clone(),
                    team: t.clone(),
                    user: u(),
                },
            ),
            (
                org_pk.clone(),
                keys::invitation_sk(&invitation),
                Stored::Invitation {
                    org: o.clone(),
                    invitation: i.clone(),
                },
            ),
            (
                org_pk.clone(),
                keys::pending_sk("bo@example.com"),
                Stored::PendingInvitation {
                    org: o.clone(),
                    email: "bo@example.com".into(),
                },
            ),
            (
                org_pk.clone(),
                keys::mail_counter_sk(at),
                Stored::MailCounter {
                    org: o.clone(),
                    day: "2026-01-01".into(),
                },
            ),
            (
                org_pk.clone(),
                keys::FIRST_DAY_MAIL_COUNTER_SK.to_owned(),
                Stored::FirstDayMailCounter { org: o.clone() },
            ),
            (
                keys::user_pk(&user),
                keys::person_mail_counter_sk(at),
                Stored::PersonMailCounter {
                    user: u(),
                    day: "2026-01-01".into(),
                },
            ),
            (
                keys::user_pk(&user),
                keys::OWNED_ORGS_COUNTER_SK.to_owned(),
                Stored::OwnedOrgs { user: u() },
            ),
            (
                keys::user_pk(&user),
                keys::FIRST_ORG_SK.to_owned(),
                Stored::FirstOrg { user: u() },
            ),
            (
                keys::known_address_pk("bo@example.com"),
                keys::KNOWN_ADDRESS_SK.to_owned(),
                Stored::KnownAddress {
                    email: "bo@example.com".into(),
                },
            ),
            (
                org_pk.clone(),
                keys::tally_sk(3),
                Stored::Tally {
                    org: o.clone(),
                    shard: "3".into(),
                },
            ),
            (
                keys::invitation_token_pk("abc"),
                keys::INVITATION_TOKEN_SK.to_owned(),
                Stored::InvitationToken { hash: "abc".into() },
            ),
            (
                keys::audit_pk(&Subject::Org(org.clone())),
                keys::timeline_sk(at, "aud_1"),
                Stored::Audit {
                    of: Of::Org(o.clone()),
                    at: at.to_rfc3339(),
                    id: "aud_1".into(),
                },
            ),
            (
                keys::event_pk(&Subject::User(user.clone())),
                keys::timeline_sk(at, "evt_1"),
                Stored::Event {
                    of: Of::User(u()),
                    at: at.to_rfc3339(),
                    id: "evt_1".into(),
                },
            ),
        ];
        for (pk, sk, expected) in cases {
            let read = Stored::of(&pk, &sk);
            assert_eq!(read, expected, "{pk} {sk}");
            assert!(PARTITION_PREFIXES.iter().any(|p| pk.starts_with(p)), "{pk}");
        }
        assert!(matches!(Stored::of("X#1", "Y"), Stored::Unknown { .. }));
    }
}
