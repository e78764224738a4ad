//! Bulk fixtures for benchmarks, compiled only with the `fixtures` feature (the deployed
//! functions never enable it): the items the store's own transactions write, of exactly their
//! shape, put straight into the table without those transactions' checks, audit entries or
//! events.

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

use crate::domain::OrgId;

use super::Store;
use super::error::{StoreError, StoreResult};
use super::history::Op;
use super::invitations::{Invitation, NewInvitation, pending_invitation_items};
use super::item::n;
use super::orgs::Organization;

impl Store {
    /// Puts pending invitations into the organization as `create_invitation` leaves them (the
    /// invitation, its pending marker, its token) and adds them to its pending count.
    pub async fn seed_pending_invitations(
        &self,
        org: &OrgId,
        new: &[NewInvitation<'_>],
        op: &Op,
    ) -> StoreResult<Vec<Invitation>> {
        const CONTEXT: &str = "seed pending invitations";
        let mut invitations = Vec::with_capacity(new.len());
        let mut requests = Vec::with_capacity(new.len() * 3);
        for one in new {
            let (invitation, items) = pending_invitation_items(org, one, op);
            invitations.push(invitation);
            for item in items {
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| StoreError::Dynamo {
                        context: CONTEXT,
                        source: Box::new(e),
                    })?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
        }
        self.batch_write(requests, CONTEXT).await?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Organization::key(org)))
            .update_expression("ADD pending_count :added")
            .expression_attribute_values(":added", n(new.len()))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk(CONTEXT, e))?;
        Ok(invitations)
    }
}
