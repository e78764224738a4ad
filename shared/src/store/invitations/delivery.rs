//! What SES reported about an invitation's email, recorded on the invitation. A report only
//! lands on the sending it is about (`sent_at` as the email's tag gave it) and over a status
//! of a lower rank (`DeliveryStatus::replaces`), both checked by the write's condition, so
//! reports arriving late, twice or about an email a resend replaced change nothing. A bounce
//! or a complaint is also an audit entry and an event, in the same transaction.

use crate::domain::Op;
use crate::domain::payloads::{Bounce, InvitationDelivery, InvitationFacts};

use crate::domain::{ChangeKind, DeliveryReport, DeliveryStatus};

use super::endings::change;
use super::invitation::{DELIVERY_RANK, delivery_attributes};
use crate::domain::Invitation;
use crate::store::Store;
use crate::store::error::{Refusal, StoreError, StoreResult};
use crate::store::history;
use crate::store::item::{n, s};
use crate::store::tx::{Condition, Expr, Tx};

/// What became of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    Recorded,
    /// The invitation is gone, was sent again since, or already has a later status.
    Skipped,
}

impl Store {
    /// Records `report` on `invitation` (as read) unless the stored status or sending says it
    /// is stale.
    pub async fn record_delivery(
        &self,
        invitation: &Invitation,
        report: &DeliveryReport,
        op: &Op,
    ) -> StoreResult<Recorded> {
        let mut set = Vec::new();
        let mut update = Expr::new("");
        for (i, (name, value)) in delivery_attributes(&report.status, report.at)
            .into_iter()
            .enumerate()
        {
            set.push(format!("#d{i} = :d{i}"));
            update = update
                .name(&format!("#d{i}"), name)
                .value(&format!(":d{i}"), value);
        }
        let mut text = format!("SET {}", set.join(", "));
        if !matches!(report.status, DeliveryStatus::Bounced { .. }) {
            text.push_str(" REMOVE bounce_type, bounce_sub_type");
        }
        update.text = text;
        let fresh = Condition::new(
            Expr::new("sent_at = :sent AND (attribute_not_exists(#rank) OR #rank < :rank)")
                .name("#rank", DELIVERY_RANK)
                .value(":sent", s(report.sent_at.to_rfc3339()))
                .value(":rank", n(report.status.rank())),
            Refusal::Changed,
        );
        let mut tx = Tx::new(self);
        tx.update(
            Invitation::key(&invitation.org_id, &invitation.invitation_id),
            update,
            Some(fresh),
        )?;
        let kind = match &report.status {
            DeliveryStatus::Bounced { .. } => Some(ChangeKind::InvitationBounced),
            DeliveryStatus::Complained => Some(ChangeKind::InvitationComplained),
            _ => None,
        };
        if let Some(kind) = kind {
            let bounce = match &report.status {
                DeliveryStatus::Bounced {
                    bounce_type,
                    sub_type,
                } => Some(Bounce {
                    bounce_type: bounce_type.clone(),
                    bounce_sub_type: sub_type.clone(),
                }),
                _ => None,
            };
            let data = InvitationDelivery {
                invitation: InvitationFacts::of(invitation),
                reported_at: report.at,
                bounce,
            };
            history::record(&mut tx, &change(kind, invitation, data), op, self.retention)?;
        }
        match tx.commit("record an email's delivery").await {
            Ok(()) => Ok(Recorded::Recorded),
            Err(StoreError::Refused(_)) => Ok(Recorded::Skipped),
            Err(err) => Err(err),
        }
    }
}
