//! What the store reads back: plain records, already checked for shape.

use crate::domain::{MemberStatus, OrgId, OrgStatus, Region, Role, Timestamp, UserId};

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
    pub joined_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One page of a listing and where the next one starts, if there is one.
#[derive(Clone, Debug)]
pub struct Page<T, P> {
    pub items: Vec<T>,
    pub next: Option<P>,
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
            joined_at: time(&r, "joined_at")?,
            updated_at: time(&r, "updated_at")?,
        })
    }
}
