//! `GET /orgs/{org_id}/audit-log`: the organization's audit log, newest first, for admins and
//! owners; `?action=` and `?actor=` narrow it.

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};

use orgs_shared::app::App;
use orgs_shared::domain::{ChangeKind, FieldErrors, UserId, ValidationError};
use orgs_shared::http::{ApiError, PageRequest, caller, encode_cursor, json};
use orgs_shared::store::{AuditFilter, AuditPosition};

use crate::access::Gate;
use crate::views::{AuditEntryView, PageView};

fn filter(req: &Request) -> Result<AuditFilter, ApiError> {
    let query = req.query_string_parameters();
    let mut errors = FieldErrors::default();
    let action = query.first("action").and_then(|raw| {
        let kind = ChangeKind::from_action(raw).ok_or_else(|| {
            ValidationError::new(
                "action",
                "invalid_query",
                "Not an action this log records, such as organization.updated.",
            )
        });
        errors.take(kind)
    });
    let actor = query.first("actor").and_then(|raw| {
        let user = UserId::parse(raw)
            .ok_or_else(|| ValidationError::new("actor", "invalid_query", "Not a user id."));
        errors.take(user)
    });
    if !errors.is_empty() {
        return Err(errors.into_vec().into());
    }
    Ok(AuditFilter { action, actor })
}

pub async fn list_audit_log(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let page = PageRequest::from_request(&req)?;
    let after = page.after_as(AuditPosition::parse)?;
    let filter = filter(&req)?;
    let (org_id, _) = gate.open_uncounted(app, &caller, &req).await?;
    let found = app
        .store
        .list_org_audit(&org_id, &filter, page.limit, after.as_ref())
        .await?;
    let items = found.items.iter().map(AuditEntryView::from).collect();
    let next_cursor = found.next.map(|p| encode_cursor(&p.to_sort_key()));
    Ok(json(StatusCode::OK, &PageView { items, next_cursor }))
}
