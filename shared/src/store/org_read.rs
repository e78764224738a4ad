//! The read every route inside an organization starts with: the organization and the caller's
//! membership, plus whatever other items of known key the route needs (an invitation, a target
//! membership, a team, a profile, the email counters), all in one consistent BatchGetItem.

use crate::domain::{CustomRole, JoinRequest, Membership, Organization, RoleKey, Team, TeamMember};
use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{EmailDomain, EmailsSent, InvitationId, OrgId, TeamId, Timestamp, UserId};

use super::error::StoreResult;
use super::invitations::{EmailCounter, FirstDayEmailCounter, PersonEmailCounter};
use super::item::Item;
use super::keys;
use super::known_addresses::KnownAddress;
use super::tallies::Tally;
use super::{Read, Store};
use crate::domain::Domain;
use crate::domain::Invitation;
use crate::domain::User;
use crate::domain::sso::{OrgSso, SsoConnection};

/// An item to read along with the organization and the caller's membership.
#[derive(Clone, Copy, Debug)]
pub enum ItemKey<'a> {
    /// A membership in the organization (the caller's own is always read).
    Membership(&'a UserId),
    /// A user's profile.
    Profile(&'a UserId),
    Invitation(&'a InvitationId),
    Team(&'a TeamId),
    /// A team's row for one of its members.
    TeamMember(&'a TeamId, &'a UserId),
    /// The organization's invitation emails on the UTC day of this time.
    EmailCounter(Timestamp),
    /// One of the organization's email domains.
    Domain(&'a EmailDomain),
    /// A new organization's invitation emails in its first day.
    FirstDayEmailCounter,
    /// The invitation emails a person caused on the UTC day of this time.
    PersonEmailCounter(&'a UserId, Timestamp),
    /// A person's request to join the organization.
    JoinRequest(&'a UserId),
    /// Whether anyone holds this verified address (`known_addresses.rs`).
    KnownAddress(&'a str),
    /// One of the organization's custom roles.
    Role(&'a RoleKey),
    /// Its single sign-on connection.
    Sso,
}

impl<'a> ItemKey<'a> {
    /// Every counter a new invitation email of `person`'s at `at` counts against.
    pub fn email_counters(person: &'a UserId, at: Timestamp) -> [ItemKey<'a>; 3] {
        [
            ItemKey::EmailCounter(at),
            ItemKey::FirstDayEmailCounter,
            ItemKey::PersonEmailCounter(person, at),
        ]
    }
}

/// `(pk, sk)` of an item, to find it among those a BatchGetItem returned in any order.
type KeyText = (String, String);

fn key_text(key: &Item) -> KeyText {
    let text = |name: &str| match key.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        _ => String::new(),
    };
    (text(keys::PK), text(keys::SK))
}

fn item_key(org: &OrgId, wanted: ItemKey<'_>) -> Item {
    match wanted {
        ItemKey::Membership(user) => Membership::key(org, user),
        ItemKey::Profile(user) => User::key(user),
        ItemKey::Invitation(id) => Invitation::key(org, id),
        ItemKey::Team(team) => Team::key(org, team),
        ItemKey::TeamMember(team, user) => TeamMember::key(org, team, user),
        ItemKey::EmailCounter(at) => EmailCounter::key(org, at),
        ItemKey::Domain(domain) => Domain::key(org, domain),
        ItemKey::FirstDayEmailCounter => FirstDayEmailCounter::key(org),
        ItemKey::PersonEmailCounter(user, at) => PersonEmailCounter::key(user, at),
        ItemKey::JoinRequest(user) => JoinRequest::key(org, user),
        ItemKey::KnownAddress(email) => KnownAddress::key(email),
        ItemKey::Role(role) => CustomRole::key(org, role),
        ItemKey::Sso => SsoConnection::key(org),
    }
}

/// The organization, the caller's membership and the other items asked for, as read together.
#[derive(Clone, Debug)]
pub struct OrgRead {
    pub org: Organization,
    /// `None` for a stranger.
    pub caller: Option<Membership>,
    pub items: ReadItems,
}

/// What `Store::read_org_uncounted` found: whether the organization is live (not whether it
/// exists: `None` says that), the caller's membership and the other items read.
pub struct UncountedRead {
    pub live: bool,
    /// Its single sign-on, which `sso_required` enforces on every request.
    pub sso: OrgSso,
    /// `None` for a stranger.
    pub caller: Option<Membership>,
    pub items: ReadItems,
}

/// The items read besides the organization and the caller's membership, decoded on demand.
#[derive(Clone, Debug)]
pub struct ReadItems {
    org_id: OrgId,
    asked: HashSet<KeyText>,
    found: HashMap<KeyText, Item>,
}

impl ReadItems {
    /// The stored item under `wanted`'s key, if there is one. Asking for an item that was not
    /// part of the read is a mistake in the caller, not an absent item.
    fn get(&self, wanted: ItemKey<'_>) -> Option<&Item> {
        let key = key_text(&item_key(&self.org_id, wanted));
        debug_assert!(
            self.asked.contains(&key),
            "{wanted:?} was not part of the read"
        );
        self.found.get(&key)
    }

    pub fn membership(&self, user: &UserId) -> StoreResult<Option<Membership>> {
        self.get(ItemKey::Membership(user))
            .map(Membership::from_item)
            .transpose()
    }

    pub fn profile(&self, user: &UserId) -> StoreResult<Option<User>> {
        self.get(ItemKey::Profile(user))
            .map(User::from_item)
            .transpose()
    }

    pub fn invitation(&self, id: &InvitationId) -> StoreResult<Option<Invitation>> {
        self.get(ItemKey::Invitation(id))
            .map(Invitation::from_item)
            .transpose()
    }

    /// The team, live or being deleted.
    pub fn role(&self, role: &RoleKey) -> StoreResult<Option<CustomRole>> {
        self.get(ItemKey::Role(role))
            .map(CustomRole::from_item)
            .transpose()
    }

    pub fn sso(&self) -> StoreResult<Option<SsoConnection>> {
        self.get(ItemKey::Sso)
            .map(SsoConnection::from_item)
            .transpose()
    }

    pub fn team(&self, team: &TeamId) -> StoreResult<Option<Team>> {
        self.get(ItemKey::Team(team))
            .map(Team::from_item)
            .transpose()
    }

    pub fn team_member(&self, team: &TeamId, user: &UserId) -> StoreResult<Option<TeamMember>> {
        self.get(ItemKey::TeamMember(team, user))
            .map(TeamMember::from_item)
            .transpose()
    }

    pub fn domain(&self, domain: &EmailDomain) -> StoreResult<Option<Domain>> {
        self.get(ItemKey::Domain(domain))
            .map(Domain::from_item)
            .transpose()
    }

    /// Whether someone holds `email` as their verified address.
    pub fn known_address(&self, email: &str) -> bool {
        self.get(ItemKey::KnownAddress(email))
            .is_some_and(KnownAddress::has_users)
    }

    pub fn join_request(&self, user: &UserId) -> StoreResult<Option<JoinRequest>> {
        self.get(ItemKey::JoinRequest(user))
            .map(JoinRequest::from_item)
            .transpose()
    }

    /// The invitation emails counted against each allowance a new email of `person`'s at `at`
    /// meets, in an organization created at `created_at` (read with `ItemKey::email_counters`).
    pub fn emails_sent(
        &self,
        created_at: Timestamp,
        person: &UserId,
        at: Timestamp,
    ) -> StoreResult<EmailsSent> {
        let sent = |key| -> StoreResult<i64> {
            Ok(self
                .get(key)
                .map(EmailCounter::sent_from_item)
                .transpose()?
                .unwrap_or(0))
        };
        Ok(EmailsSent {
            org_today: sent(ItemKey::EmailCounter(at))?,
            person_today: sent(ItemKey::PersonEmailCounter(person, at))?,
            first_day: FirstDayEmailCounter::first_day(
                self.get(ItemKey::FirstDayEmailCounter),
                created_at,
                at,
            )?,
        })
    }
}

impl Store {
    /// The organization, the caller's membership and the items of `also`, read consistently in
    /// one BatchGetItem (more only past DynamoDB's 100 keys); `None` if there is no such
    /// organization.
    pub async fn read_org(
        &self,
        org_id: &OrgId,
        caller: &UserId,
        also: &[ItemKey<'_>],
    ) -> StoreResult<Option<OrgRead>> {
        Ok(self
            .read_org_items(org_id, caller, also, Counts::Whole)
            .await?
            .map(|(org, caller, items)| OrgRead { org, caller, items }))
    }

    /// `read_org` for a route that needs nothing of the organization but whether it is live:
    /// its 8 tallies, which only complete its counts, are left out of the read (each costs a
    /// read unit), and so is the organization itself from the answer, so that no count short
    /// of its tallies can be used.
    pub async fn read_org_uncounted(
        &self,
        org_id: &OrgId,
        caller: &UserId,
        also: &[ItemKey<'_>],
    ) -> StoreResult<Option<UncountedRead>> {
        Ok(self
            .read_org_items(org_id, caller, also, Counts::Left)
            .await?
            .map(|(org, caller, items)| UncountedRead {
                live: org.is_live(),
                sso: org.sso,
                caller,
                items,
            }))
    }

    async fn read_org_items(
        &self,
        org_id: &OrgId,
        caller: &UserId,
        also: &[ItemKey<'_>],
        counts: Counts,
    ) -> StoreResult<Option<(Organization, Option<Membership>, ReadItems)>> {
        let org = Organization::key(org_id);
        let mine = Membership::key(org_id, caller);
        let (org_text, mine_text) = (key_text(&org), key_text(&mine));
        // BatchGetItem refuses a key twice (the caller may also be the target).
        let mut asked = HashSet::new();
        let mut batch = Vec::new();
        // The tallies come along where the counts are wanted, so that they are whole.
        let tallies = (counts == Counts::Whole)
            .then(|| Tally::keys(org_id))
            .into_iter()
            .flatten();
        for key in [org, mine]
            .into_iter()
            .chain(tallies)
            .chain(also.iter().map(|wanted| item_key(org_id, *wanted)))
        {
            if asked.insert(key_text(&key)) {
                batch.push(key);
            }
        }
        let mut found: HashMap<_, Item> = self
            .batch_get(
                batch,
                Read::Consistent,
                "read an organization and the caller's membership",
            )
            .await?
            .into_iter()
            .map(|item| (key_text(&item), item))
            .collect();
        let Some(org) = found.remove(&org_text) else {
            return Ok(None);
        };
        let mut org = Organization::from_item(&org)?;
        if counts == Counts::Whole {
            Tally::fold(&mut org, found.values())?;
        }
        let caller = found
            .get(&mine_text)
            .map(Membership::from_item)
            .transpose()?;
        let items = ReadItems {
            org_id: org_id.clone(),
            asked,
            found,
        };
        Ok(Some((org, caller, items)))
    }
}

/// Whether a read of an organization brings its tallies along.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counts {
    Whole,
    Left,
}
