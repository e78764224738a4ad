//! What the store reads back: plain records, already checked for shape.

use crate::domain::{
    InvitationId, InvitationStatus, MemberStatus, OrgId, OrgStatus, Region, Role, TeamId,
    Timestamp, TokenHash, UserId,
};

use super::error::StoreResult;
use super::item::{Item, Reader};

/// Who is making a change, for which request, and when: stamped on every audit entry.
#[derive(Clone, Debug)]
pub struct Op {
    pub actor: UserId,
    pub request_id: String,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub user_id: UserId,
    pub email: Option<String>,
    pub email_verified: bool,
    pub handle: Option<String>,
    pub display_name: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Organization {
    pub org_id: OrgId,
    pub handle: String,
    pub display_name: String,
    pub region: Region,
    pub avatar_url: Option<String>,
    pub url: Option<String>,
    pub billing_email: Option<String>,
    pub status: OrgStatus,
    pub member_count: i64,
    pub owner_count: i64,
    pub pending_invitations: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Membership {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: Role,
    pub status: MemberStatus,
    pub email: Option<String>,
    /// The teams of the organization this member is in.
    pub team_ids: Vec<TeamId>,
    pub joined_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One page of a listing and where the next one starts, if there is one.
#[derive(Clone, Debug)]
pub struct Page<T, P> {
    pub items: Vec<T>,
    pub next: Option<P>,
}

/// A string set of team ids (absent when empty: DynamoDB has no empty sets).
fn team_ids(item: &Item) -> Vec<TeamId> {
    match item.get("team_ids") {
        Some(aws_sdk_dynamodb::types::AttributeValue::Ss(ids)) => {
            ids.iter().filter_map(|id| TeamId::parse(id)).collect()
        }
        _ => Vec::new(),
    }
}

fn time(r: &Reader, name: &str) -> StoreResult<Timestamp> {
    r.parsed(name, Timestamp::parse)
}

impl User {
    pub(crate) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        Ok(Self {
            user_id: r.parsed("user_id", UserId::parse)?,
            email: r.opt_s("email")?,
            email_verified: r.bool("email_verified")?,
            handle: r.opt_s("handle")?,
            display_name: r.opt_s("display_name")?,
            created_at: time(&r, "created_at")?,
            updated_at: time(&r, "updated_at")?,
        })
    }
}

impl Organization {
    pub(crate) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            handle: r.s("handle")?,
            display_name: r.s("display_name")?,
            region: r.parsed("region", |s| Region::parse(s).ok())?,
            avatar_url: r.opt_s("avatar_url")?,
            url: r.opt_s("url")?,
            billing_email: r.opt_s("billing_email")?,
            status: r.parsed("status", OrgStatus::parse)?,
            member_count: r.n("member_count")?,
            owner_count: r.n("owner_count")?,
            pending_invitations: r.opt_n("pending_count")?.unwrap_or(0),
            created_at: time(&r, "created_at")?,
            updated_at: time(&r, "updated_at")?,
        })
    }
}

impl Membership {
    pub(crate) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            user_id: r.parsed("user_id", UserId::parse)?,
            role: r.parsed("role", Role::parse)?,
            status: r.parsed("status", MemberStatus::parse)?,
            email: r.opt_s("email")?,
            team_ids: team_ids(item),
            joined_at: time(&r, "joined_at")?,
            updated_at: time(&r, "updated_at")?,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Invitation {
    pub org_id: OrgId,
    pub invitation_id: InvitationId,
    /// Lowercase. For a handle invitation, the invited user's address when it was sent.
    pub email: String,
    /// Set for an invitation by handle: only this user may accept it.
    pub invitee_user_id: Option<UserId>,
    pub role: Role,
    pub name: Option<String>,
    pub note: Option<String>,
    pub team_ids: Vec<TeamId>,
    /// As stored; see `InvitationStatus::effective` for what to show.
    pub status: InvitationStatus,
    pub token_hash: TokenHash,
    pub expires_at: Timestamp,
    pub invited_by: UserId,
    pub created_at: Timestamp,
    pub sent_at: Timestamp,
    pub updated_at: Timestamp,
    /// `(YYYYMMDD, count)` of resends per UTC day.
    pub resends: Vec<(String, i64)>,
}

/// The attribute that counts an invitation's resends on one UTC day.
pub(crate) fn resend_attribute(at: Timestamp) -> String {
    format!("resends_{}", at.to_rfc3339()[..10].replace('-', ""))
}

impl Invitation {
    pub fn resends_on(&self, at: Timestamp) -> i64 {
        let day = resend_attribute(at);
        let day = &day["resends_".len()..];
        self.resends
            .iter()
            .find(|(d, _)| d == day)
            .map_or(0, |(_, n)| *n)
    }

    pub(crate) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        let team_ids = team_ids(item);
        let mut resends = Vec::new();
        for (name, value) in item {
            if let (Some(day), aws_sdk_dynamodb::types::AttributeValue::N(n)) =
                (name.strip_prefix("resends_"), value)
            {
                resends.push((day.to_owned(), n.parse().unwrap_or(0)));
            }
        }
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            invitation_id: r.parsed("invitation_id", InvitationId::parse)?,
            email: r.s("email")?,
            invitee_user_id: r.opt_s("invitee_user_id")?.and_then(|u| UserId::parse(&u)),
            role: r.parsed("role", Role::parse)?,
            name: r.opt_s("name")?,
            note: r.opt_s("note")?,
            team_ids,
            status: r.parsed("status", InvitationStatus::parse)?,
            token_hash: TokenHash::from_stored(r.s("token_hash")?),
            expires_at: time(&r, "expires_at")?,
            invited_by: r.parsed("invited_by", UserId::parse)?,
            created_at: time(&r, "created_at")?,
            sent_at: time(&r, "sent_at")?,
            updated_at: time(&r, "updated_at")?,
            resends,
        })
    }
}
