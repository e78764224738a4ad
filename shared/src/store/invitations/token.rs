//! The invitation token item: found from the hash of a token (with a strongly consistent read),
//! it leads to its invitation, and says why a dead token is dead.

use crate::domain::{InvitationId, OrgId, Timestamp, TokenHash};

use crate::store::error::StoreResult;
use crate::store::item::{Item, ItemBuilder, Reader};
use crate::store::keys;

/// What a token item says.
pub(in crate::store) struct TokenRecord {
    pub org_id: OrgId,
    pub invitation_id: InvitationId,
    /// A resend gave the invitation a newer token.
    pub replaced: bool,
}

impl TokenRecord {
    pub(in crate::store) fn key(hash: &TokenHash) -> Item {
        ItemBuilder::key(
            keys::invitation_token_pk(hash.as_str()),
            keys::INVITATION_TOKEN_SK,
        )
        .build()
    }

    /// A new token item for `invitation`, made at `at`.
    pub(in crate::store) fn to_item(
        hash: &TokenHash,
        org: &OrgId,
        invitation: &InvitationId,
        at: Timestamp,
    ) -> Item {
        ItemBuilder::key(
            keys::invitation_token_pk(hash.as_str()),
            keys::INVITATION_TOKEN_SK,
        )
        .s("entity", "invitation_token")
        .s("org_id", org.as_str())
        .s("invitation_id", invitation.as_str())
        .s("created_at", at.to_rfc3339())
        .build()
    }

    pub(in crate::store) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            invitation_id: r.parsed("invitation_id", InvitationId::parse)?,
            replaced: r.opt_s("replaced_at")?.is_some(),
        })
    }
}
