//! The invitation item, and its pending marker (at most one pending invitation per address in an
//! organization).

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::entities::resend_day;
use crate::domain::{
    DeliveryStatus, Invitation, InvitationId, InvitationStatus, OrgId, Role, TeamAssignment,
    TeamId, TeamRole, Timestamp, TokenHash, UserId,
};

use crate::domain::RoleKey;
use crate::store::error::StoreResult;
use crate::store::item::{Item, ItemBuilder, Reader};
use crate::store::keys;

/// The team roles other than `member` an invitation gives, as a string set of
/// `{team_id}={role}`; absent when every team named is joined as a `member` (and on
/// invitations older than team roles).
const TEAM_ROLES: &str = "team_roles";

fn team_roles_attribute(roles: &[TeamAssignment]) -> impl Iterator<Item = String> + '_ {
    roles
        .iter()
        .filter(|a| a.role != TeamRole::Member)
        .map(|a| format!("{}={}", a.team_id, a.role.as_str()))
}

fn parse_team_role(stored: &str) -> Option<TeamAssignment> {
    let (team, role) = stored.split_once('=')?;
    Some(TeamAssignment {
        team_id: TeamId::parse(team)?,
        role: TeamRole::parse(role)?,
    })
}

/// Resends are counted per UTC day, each day in an attribute of its own.
const RESENDS: &str = "resends_";

/// The attribute that counts an invitation's resends on the UTC day of `at`.
pub(in crate::store) fn resend_attribute(at: Timestamp) -> String {
    format!("{RESENDS}{}", resend_day(at))
}

/// The attributes of the delivery status: its name, its rank (which a later report's
/// condition compares), a bounce's type and subtype, and when SES reported it.
pub(in crate::store) const DELIVERY_STATUS: &str = "delivery_status";
pub(in crate::store) const DELIVERY_RANK: &str = "delivery_rank";
pub(in crate::store) const BOUNCE_TYPE: &str = "bounce_type";
pub(in crate::store) const BOUNCE_SUB_TYPE: &str = "bounce_sub_type";
pub(in crate::store) const DELIVERY_AT: &str = "delivery_at";

/// The stored form of a delivery status.
pub(in crate::store) fn delivery_attributes(
    status: &DeliveryStatus,
    at: Timestamp,
) -> Vec<(&'static str, AttributeValue)> {
    let mut attributes = vec![
        (
            DELIVERY_STATUS,
            AttributeValue::S(status.as_str().to_owned()),
        ),
        (DELIVERY_RANK, AttributeValue::N(status.rank().to_string())),
        (DELIVERY_AT, AttributeValue::S(at.to_rfc3339())),
    ];
    if let DeliveryStatus::Bounced {
        bounce_type,
        sub_type,
    } = status
    {
        attributes.push((BOUNCE_TYPE, AttributeValue::S(bounce_type.clone())));
        attributes.push((BOUNCE_SUB_TYPE, AttributeValue::S(sub_type.clone())));
    }
    attributes
}

impl Invitation {
    pub(in crate::store) fn key(org: &OrgId, invitation: &InvitationId) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::invitation_sk(invitation)).build()
    }

    /// The key in index `gsi1`, where a listing of an address's invitations resumes.
    pub(in crate::store) fn by_invitee_key(
        email: &str,
        org: &OrgId,
        invitation: &InvitationId,
    ) -> Item {
        let (pk, sk) = keys::invitee_gsi1(email, org, invitation);
        ItemBuilder::key(keys::org_pk(org), keys::invitation_sk(invitation))
            .s(keys::GSI1PK, pk)
            .s(keys::GSI1SK, sk)
            .build()
    }

    /// While pending, it is listed under its invitee (`gsi1`) and by its deadline (`gsi2`).
    pub(in crate::store) fn to_item(&self) -> Item {
        let (org, id) = (&self.org_id, &self.invitation_id);
        let mut builder = ItemBuilder::key(keys::org_pk(org), keys::invitation_sk(id))
            .s("entity", "invitation")
            .s("org_id", org.as_str())
            .s("invitation_id", id.as_str())
            .s("email", &self.email)
            .opt_s(
                "invitee_user_id",
                self.invitee_user_id.as_ref().map(UserId::as_str),
            )
            .s("role", self.role.as_str())
            .opt_s(
                "custom_role",
                self.custom_role.as_ref().map(RoleKey::as_str),
            )
            .opt_s("name", self.name.clone())
            .opt_s("note", self.note.clone())
            .s("status", self.status.as_str())
            .s("token_hash", self.token_hash.as_str())
            .s("expires_at", self.expires_at.to_rfc3339())
            .s("invited_by", self.invited_by.as_str())
            .s("created_at", self.created_at.to_rfc3339())
            .s("sent_at", self.sent_at.to_rfc3339())
            .s("updated_at", self.updated_at.to_rfc3339())
            .opt_s("redirect_url", self.redirect_url.clone())
            .string_set("team_ids", self.team_ids.iter().map(ToString::to_string))
            .string_set(TEAM_ROLES, team_roles_attribute(&self.team_roles));
        if let Some(days) = self.expires_in_days {
            builder = builder.n("expires_in_days", days);
        }
        for (day, count) in &self.resends {
            builder = builder.n(&format!("{RESENDS}{day}"), count);
        }
        if let Some((status, at)) = &self.delivery {
            for (name, value) in delivery_attributes(status, *at) {
                builder = match value {
                    AttributeValue::N(n) => builder.n(name, n),
                    AttributeValue::S(s) => builder.s(name, s),
                    _ => builder,
                };
            }
        }
        if self.status == InvitationStatus::Pending {
            let (gsi1pk, gsi1sk) = keys::invitee_gsi1(&self.email, org, id);
            let (gsi2pk, gsi2sk) = keys::expiry_gsi2(org, id, self.expires_at);
            builder = builder
                .s(keys::GSI1PK, gsi1pk)
                .s(keys::GSI1SK, gsi1sk)
                .s(keys::GSI2PK, gsi2pk)
                .s(keys::GSI2SK, gsi2sk);
        }
        builder.build()
    }

    pub(in crate::store) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        let mut resends = Vec::new();
        for (name, value) in item {
            if let (Some(day), AttributeValue::N(n)) = (name.strip_prefix(RESENDS), value) {
                resends.push((day.to_owned(), n.parse().unwrap_or(0)));
            }
        }
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            invitation_id: r.parsed("invitation_id", InvitationId::parse)?,
            email: r.s("email")?,
            invitee_user_id: r.opt_s("invitee_user_id")?.and_then(|u| UserId::parse(&u)),
            role: r.parsed("role", Role::parse)?,
            custom_role: r.opt_parsed("custom_role", |key| RoleKey::parse(key).ok())?,
            name: r.opt_s("name")?,
            note: r.opt_s("note")?,
            team_ids: r.string_set("team_ids", TeamId::parse),
            team_roles: r.string_set(TEAM_ROLES, parse_team_role),
            status: r.parsed("status", InvitationStatus::parse)?,
            token_hash: TokenHash::from_stored(r.s("token_hash")?),
            expires_at: r.time("expires_at")?,
            invited_by: r.parsed("invited_by", UserId::parse)?,
            created_at: r.time("created_at")?,
            sent_at: r.time("sent_at")?,
            updated_at: r.time("updated_at")?,
            resends,
            expires_in_days: r.opt_n("expires_in_days")?,
            redirect_url: r.opt_s("redirect_url")?,
            delivery: match (r.opt_s(DELIVERY_STATUS)?, r.opt_s(DELIVERY_AT)?) {
                (Some(name), Some(at)) => DeliveryStatus::from_stored(
                    &name,
                    r.opt_s(BOUNCE_TYPE)?.as_deref(),
                    r.opt_s(BOUNCE_SUB_TYPE)?.as_deref(),
                )
                .zip(Timestamp::parse(&at)),
                _ => None,
            },
        })
    }

    /// The key of the marker that holds the address while an invitation to it is pending.
    pub(in crate::store) fn pending_key(org: &OrgId, email: &str) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::pending_sk(email)).build()
    }

    pub(in crate::store) fn pending_marker(&self) -> Item {
        ItemBuilder::key(keys::org_pk(&self.org_id), keys::pending_sk(&self.email))
            .s("entity", "pending_invitation")
            .s("invitation_id", self.invitation_id.as_str())
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Invitation {
        let at = Timestamp::parse("2026-11-22T14:27:00.000Z").unwrap();
        let maintained = TeamId::generate();
        Invitation {
            org_id: OrgId::generate(),
            invitation_id: InvitationId::generate(),
            email: "bob@example.com".into(),
            invitee_user_id: UserId::parse("bob"),
            role: Role::Member,
            custom_role: None,
            name: Some("Bob".into()),
            note: None,
            team_ids: vec![TeamId::generate(), maintained.clone()],
            team_roles: vec![TeamAssignment {
                team_id: maintained,
                role: TeamRole::Maintainer,
            }],
            status: InvitationStatus::Pending,
            token_hash: TokenHash::from_stored("hash".into()),
            expires_at: at.plus_seconds(7 * 86_400),
            invited_by: UserId::parse("alice").unwrap(),
            created_at: at,
            sent_at: at,
            updated_at: at,
            resends: vec![("20261122".into(), 2)],
            expires_in_days: Some(30),
            redirect_url: Some("https://app.example.com/join".into()),
            delivery: Some((
                DeliveryStatus::Bounced {
                    bounce_type: "Permanent".into(),
                    sub_type: "General".into(),
                },
                at,
            )),
        }
    }

    #[test]
    fn an_invitation_reads_back_as_written() {
        let invitation = pending();
        let item = invitation.to_item();
        assert_eq!(Invitation::from_item(&item).unwrap(), invitation);
        assert!(item.contains_key(keys::GSI1PK) && item.contains_key(keys::GSI2PK));
        let at = invitation.created_at;
        assert_eq!(invitation.resends_on(at), 2);
        assert_eq!(invitation.resends_on(at.plus_seconds(86_400)), 0);
    }

    #[test]
    fn only_team_roles_other_than_member_are_stored() {
        let member_everywhere = Invitation {
            team_roles: vec![TeamAssignment {
                team_id: TeamId::generate(),
                role: TeamRole::Member,
            }],
            ..pending()
        };
        let item = member_everywhere.to_item();
        assert!(!item.contains_key(TEAM_ROLES));
        assert!(Invitation::from_item(&item).unwrap().team_roles.is_empty());
    }

    #[test]
    fn only_a_pending_invitation_is_in_the_indexes() {
        let ended = Invitation {
            status: InvitationStatus::Accepted,
            ..pending()
        };
        let item = ended.to_item();
        assert!(!item.contains_key(keys::GSI1PK) && !item.contains_key(keys::GSI2PK));
    }
}
