//! `record-delivery`: SES publishes the events of every invitation email (sent, delivered,
//! delayed, bounced, complained, rejected) to EventBridge's default bus through the
//! configuration set, and a rule there invokes this function with each one. It records on the
//! invitation what happened to its email (`domain::delivery`); a bounce or a complaint is also
//! an audit entry and an `InvitationBounced`/`InvitationComplained` event.
//!
//! An event that is not about one of our emails, or of a kind not recorded, is logged and
//! dropped: retrying could never make it one. A DynamoDB failure fails the invocation, and
//! EventBridge's retries deliver the event again; recording is idempotent.

use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;

use orgs_shared::domain::delivery::{NotAReport, read_report};
use orgs_shared::domain::{Timestamp, UserId};
use orgs_shared::logs::error_chain;
use orgs_shared::store::{Op, Recorded, Store, StoreError};

/// The job name in the actor of every change it records: `system:ses`.
pub const ACTOR_JOB: &str = "ses";

/// What one event came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Recorded,
    /// Stale: the invitation has a later status, was sent again, or is gone.
    Skipped,
    /// Not a report on an invitation's email.
    Ignored,
}

/// Records the SES event `event` (the whole EventBridge event, as a rule's target receives it).
pub async fn record_delivery(store: &Store, event: &Value) -> Result<Outcome, StoreError> {
    let report = match read_report(&event["detail"]) {
        Ok(report) => report,
        Err(NotAReport::Ignored(kind)) => {
            tracing::debug!(kind, "SES event not recorded");
            return Ok(Outcome::Ignored);
        }
        Err(why) => {
            tracing::warn!(
                event_id = event["id"].as_str().unwrap_or_default(),
                reason = %why,
                "an SES event that is not about an invitation email"
            );
            return Ok(Outcome::Ignored);
        }
    };
    let Some(invitation) = store
        .get_invitation(&report.org_id, &report.invitation_id)
        .await?
    else {
        return Ok(Outcome::Skipped);
    };
    let current = invitation.delivery.as_ref().map(|(status, _)| status);
    if !report.applies_to(invitation.sent_at, current) {
        return Ok(Outcome::Skipped);
    }
    let op = Op {
        actor: UserId::system(ACTOR_JOB),
        request_id: report.message_id.clone(),
        at: Timestamp::now(),
        acting_as: None,
    };
    let recorded = store.record_delivery(&invitation, &report, &op).await?;
    tracing::info!(
        invitation_id = %report.invitation_id,
        status = report.status.as_str(),
        recorded = recorded == Recorded::Recorded,
        "SES delivery event"
    );
    Ok(match recorded {
        Recorded::Recorded => Outcome::Recorded,
        Recorded::Skipped => Outcome::Skipped,
    })
}

/// The whole `main` of `record-delivery`.
pub async fn serve() -> Result<(), lambda_runtime::Error> {
    orgs_shared::logs::init_tracing();
    let sdk = crate::runtime::sdk_config()?;
    let config = orgs_shared::app::Config::from_env()?;
    let store: &'static Store = Box::leak(Box::new(Store::from_sdk(
        &sdk,
        config.table_name,
        config.retention,
    )));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        record_delivery(store, &event.payload).await.map_err(|e| {
            let chain = error_chain(&e);
            tracing::error!("recording an SES event failed: {chain}");
            lambda_runtime::Error::from(chain)
        })
    }))
    .await
}
