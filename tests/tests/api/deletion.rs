//! `DELETE /orgs/{org_id}?confirm={handle}`: owners only, everything goes, however much.

use orgs_shared::domain::{InvitationToken, OrgId, Role, RoleName, Timestamp, UserId};
use orgs_shared::store::{NewInvitation, Of, Op};
use reqwest::StatusCode;

use crate::common::{Stack, assert_problem};

/// Fills the organization's partition with `count` extra items of the kinds later features
/// write: a third members, a third pending invitations with their token items, a third teams.
async fn fill(stack: &Stack, org_id: &str, count: usize) {
    let third = count / 3;
    let people: Vec<_> = (0..third)
        .map(|i| stack.person(&format!("member-{i}")))
        .collect();
    let members: Vec<_> = people.iter().map(|p| (p, "member", "active")).collect();
    stack.add_members(org_id, &members).await;
    let org = OrgId::parse(org_id).unwrap();
    let op = Op {
        actor: UserId::parse("alice").unwrap(),
        request_id: "fill".into(),
        at: Timestamp::now(),
        acting_as: None,
    };
    let emails: Vec<String> = (0..third).map(|i| format!("i{i}@example.com")).collect();
    let hashes: Vec<_> = (0..third)
        .map(|_| InvitationToken::generate().unwrap().hash())
        .collect();
    let invitations: Vec<NewInvitation<'_>> = emails
        .iter()
        .zip(&hashes)
        .map(|(email, token_hash)| NewInvitation {
            email,
            invitee_user_id: None,
            role: &RoleName::System(Role::Member),
            name: None,
            note: None,
            team_ids: &[],
            team_roles: &[],
            token_hash,
            expires_at: op.at.plus_seconds(86_400),
            expires_in_days: None,
            redirect_url: None,
        })
        .collect();
    let store = &stack.fixtures;
    store
        .seed_pending_invitations(&org, &invitations, &op)
        .await
        .unwrap();
    let names: Vec<String> = (0..third).map(|i| format!("Team {i}")).collect();
    store.seed_teams(&org, &names, op.at).await.unwrap();
}

#[tokio::test]
async fn deleting_needs_the_current_handle_and_an_owner() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let before = stack.snapshot().await;
    for (query, field_code) in [
        ("", "required"),
        ("?confirm=acme-inc", "confirmation_mismatch"),
    ] {
        let (status, problem) = stack.delete(&alice, format!("/orgs/{org_id}{query}")).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(problem["errors"][0]["field"], "confirm");
        assert_eq!(problem["errors"][0]["code"], field_code);
    }
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn deleting_a_large_organization_leaves_nothing_of_it_behind() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let other = stack.create_org(&alice, "other").await;
    fill(&stack, &org_id, 360).await;
    assert!(stack.org_items(&org_id).await.len() > 300);

    let (status, body) = stack
        .delete(&alice, format!("/orgs/{org_id}?confirm=ACME"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(stack.org_items(&org_id).await.is_empty());
    assert!(!stack.has_invitation_tokens().await);
    assert!(!stack.handles().await.contains(&"acme".to_owned()));
    // The audit trail and the event record of the deletion remain (until their TTL).
    let audit = stack.audit_entries(&Of::Org(org_id.clone())).await;
    assert_eq!(audit.len(), 2);
    // The other organization is untouched (its six items and eight tallies), and the handle is
    // free again.
    assert_eq!(stack.org_items(&other).await.len(), 6 + 8);
    let (status, _) = stack.get(&alice, format!("/orgs/{org_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = stack.get(&alice, "/orgs").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    stack.create_org(&stack.person("bob"), "acme").await;
}

#[tokio::test]
async fn a_deletion_stopped_after_its_first_step_is_finished_by_repeating_the_request() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let member = stack.person("mia");
    let org_id = stack.create_org(&alice, "acme").await;
    fill(&stack, &org_id, 60).await;
    stack.add_member(&org_id, &member, "member", "active").await;

    // The function dies right after step 1: the organization is marked, nothing else removed.
    let id = OrgId::parse(&org_id).unwrap();
    let (org, _) = stack
        .app
        .store
        .org_with_membership(&id, &UserId::parse("alice").unwrap())
        .await
        .unwrap()
        .unwrap();
    let op = Op {
        actor: UserId::parse("alice").unwrap(),
        request_id: "killed".into(),
        at: Timestamp::now(),
        acting_as: None,
    };
    stack.app.store.begin_org_deletion(&org, &op).await.unwrap();

    // Hidden from everyone meanwhile, and no write gets in.
    let path = format!("/orgs/{org_id}");
    let (status, _) = stack.get(&member, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stack.get(&alice, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stack.delete(&member, format!("{path}?confirm=acme")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(stack.org_items(&org_id).await.len() > 60);

    // The owner repeats the request; the retry finishes the work.
    let (status, body) = stack.delete(&alice, format!("{path}?confirm=acme")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(stack.org_items(&org_id).await.is_empty());
    assert!(!stack.has_invitation_tokens().await);
    // Exactly one OrganizationDeleted record: the retry did not record the deletion twice.
    let events = stack.stored_event_ids(Some(&Of::Org(org_id.clone()))).await;
    assert_eq!(events.len(), 2, "created + deleted: {events:?}");
}
