//! Teams: "My Team" from the start; admins and owners create, rename and delete teams and move
//! members in and out; members read them.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use orgs_local::faults::{Fault, Rule, When};
use orgs_shared::domain::{InvitationToken, OrgId, TeamId, Timestamp, UserId};
use orgs_shared::store::{Item, ItemKey, Joiner, Op, Refusal, StoreError, Stored, Team};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Options, Person, Stack, assert_problem};
use crate::invitations::token_of;
use crate::races::TeamsSeen;

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["user_id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn teams_are_created_renamed_filled_emptied_and_deleted() {
    let stack = Stack::start().await;
    let (olivia, ada, bo) = (
        stack.person("olivia"),
        stack.person("ada"),
        stack.person("bo"),
    );
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &ada, "admin").await;
    stack.join(&org, &olivia, &bo, "member").await;
    let teams = format!("/orgs/{org}/teams");

    let (status, page) = stack.get(&bo, &teams).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"][0]["name"], "My Team");
    assert_eq!(page["items"][0]["member_count"], 1, "the creator is in it");

    let before = stack.snapshot().await;
    let (status, body) = stack.post(&bo, &teams, json!({ "name": "Ops" })).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack.post(&ada, &teams, json!({ "name": "my team" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "name-taken");
    let (status, body) = stack.post(&ada, &teams, json!({ "name": " " })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    assert_eq!(stack.snapshot().await, before);

    let (status, ops) = stack.post(&ada, &teams, json!({ "name": "Ops" })).await;
    assert_eq!(status, StatusCode::CREATED, "{ops}");
    let ops_path = format!("{teams}/{}", ops["team_id"].as_str().unwrap());
    let (status, renamed) = stack.patch(&ada, &ops_path, json!({ "name": "SRE" })).await;
    assert_eq!((status, &renamed["name"]), (StatusCode::OK, &json!("SRE")));
    // The old name is free again; the new one is taken.
    let (status, _) = stack.post(&ada, &teams, json!({ "name": "ops" })).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = stack.post(&ada, &teams, json!({ "name": "sre" })).await;
    assert_eq!(status, StatusCode::CONFLICT);

    for user in ["bo", "ada", "bo"] {
        let (status, body) = stack
            .put(&ada, format!("{ops_path}/members/{user}"), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let (status, _) = stack
        .put(&ada, format!("{ops_path}/members/stranger"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, members) = stack.get(&bo, format!("{ops_path}/members")).await;
    assert_eq!(ids(&members), ["ada", "bo"]);
    let (_, team) = stack.get(&bo, &ops_path).await;
    assert_eq!(team["member_count"], 2);
    let (_, bo_view) = stack.get(&bo, format!("/orgs/{org}/members/bo")).await;
    assert_eq!(bo_view["team_ids"], json!([ops["team_id"]]));

    let (status, _) = stack.delete(&ada, format!("{ops_path}/members/bo")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack.delete(&ada, format!("{ops_path}/members/bo")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = stack.delete(&ada, &ops_path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack.get(&bo, &ops_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, ada_view) = stack.get(&ada, format!("/orgs/{org}/members/ada")).await;
    assert_eq!(
        ada_view["team_ids"],
        json!([]),
        "deleting a team takes its members out of it"
    );
    let team_id = ops["team_id"].as_str().unwrap();
    assert!(
        !stack
            .org_items(&org)
            .await
            .iter()
            .any(|what| what.names(team_id))
    );
    let (_, page) = stack.get(&bo, &teams).await;
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"My Team") && names.contains(&"ops"));
}

#[tokio::test]
async fn removing_a_member_takes_them_out_of_every_team() {
    let stack = Stack::start().await;
    let (olivia, bo) = (stack.person("olivia"), stack.person("bo"));
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &bo, "member").await;
    let teams = format!("/orgs/{org}/teams");
    let mut paths = Vec::new();
    for name in ["One", "Two", "Three"] {
        let (_, team) = stack.post(&olivia, &teams, json!({ "name": name })).await;
        let path = format!("{teams}/{}", team["team_id"].as_str().unwrap());
        stack.put(&olivia, format!("{path}/members/bo"), None).await;
        paths.push(path);
    }
    let (status, _) = stack
        .delete(&olivia, format!("/orgs/{org}/members/bo"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for path in paths {
        let (_, team) = stack.get(&olivia, &path).await;
        assert_eq!(team["member_count"], 0, "{team}");
        let (_, members) = stack.get(&olivia, format!("{path}/members")).await;
        assert_eq!(members["items"], json!([]));
    }
}

#[tokio::test]
async fn a_team_read_empty_but_joined_since_is_still_deleted_with_its_member() {
    let stack = Stack::start().await;
    let (olivia, bo) = (stack.person("olivia"), stack.person("bo"));
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &bo, "member").await;
    let (_, team) = stack
        .post(
            &olivia,
            format!("/orgs/{org}/teams"),
            json!({ "name": "Ops" }),
        )
        .await;
    let team_id = TeamId::parse(team["team_id"].as_str().unwrap()).unwrap();
    let path = format!("/orgs/{org}/teams/{team_id}");
    // The deletion read the team while it was empty; bo joins before its transaction.
    let read = stack
        .app
        .store
        .read_org(
            &OrgId::parse(&org).unwrap(),
            &UserId::parse("olivia").unwrap(),
            &[ItemKey::Team(&team_id)],
        )
        .await
        .unwrap()
        .unwrap();
    let stale = read.items.team(&team_id).unwrap().unwrap();
    assert_eq!(stale.member_count, 0);
    let (status, _) = stack.put(&olivia, format!("{path}/members/bo"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let op = Op {
        actor: UserId::parse("olivia").unwrap(),
        request_id: "stale-delete".into(),
        at: Timestamp::now(),
        acting_as: None,
    };
    stack.app.store.delete_team(&stale, &op).await.unwrap();
    let (status, _) = stack.get(&olivia, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        !stack
            .org_items(&org)
            .await
            .iter()
            .any(|what| what.names(team_id.as_str())),
        "no team item or member row is left"
    );
    let (_, bo_view) = stack.get(&olivia, format!("/orgs/{org}/members/bo")).await;
    assert_eq!(bo_view["team_ids"], json!([]), "bo is out of it too");
}

/// Invites `email` into `org` as `by`, naming `teams`; the invitation's id.
async fn invite(stack: &Stack, by: &Person, org: &str, email: &str, teams: &[&str]) -> String {
    let body = json!({ "invitations": [{ "email": email, "teams": teams }] });
    let path = format!("/orgs/{org}/invitations");
    let (status, created) = stack.post(by, &path, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["results"][0]["invitation"]["invitation_id"]
        .as_str()
        .expect("an invitation id")
        .to_owned()
}

/// The invitation ids of every page of `path`, one invitation a page, following the cursors.
async fn invitation_ids_by_page(stack: &Stack, who: &Person, path: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            Some(cursor) => format!("{path}?limit=1&cursor={cursor}"),
            None => format!("{path}?limit=1"),
        };
        let (status, page) = stack.get(who, &page_path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 1, "{page}");
        for item in items {
            assert_eq!(item["status"], "pending", "{item}");
            ids.push(item["invitation_id"].as_str().expect("id").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
}

/// A team's invitations are the pending ones that name it: not those naming only other teams
/// or none, nor revoked or lapsed ones; for admins and owners, page by page; a team the
/// organization does not have is not found.
#[tokio::test]
async fn a_team_lists_the_pending_invitations_that_name_it() {
    let stack = Stack::start().await;
    let (olivia, ada, bo) = (
        stack.person("olivia"),
        stack.person("ada"),
        stack.person("bo"),
    );
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &ada, "admin").await;
    stack.join(&org, &olivia, &bo, "member").await;
    let teams = format!("/orgs/{org}/teams");
    let (_, page) = stack.get(&ada, &teams).await;
    let my_team = page["items"][0]["team_id"].as_str().unwrap().to_owned();
    let (status, ops) = stack.post(&ada, &teams, json!({ "name": "Ops" })).await;
    assert_eq!(status, StatusCode::CREATED, "{ops}");
    let ops = ops["team_id"].as_str().unwrap().to_owned();

    let both = invite(&stack, &olivia, &org, "both@example.com", &[&ops, &my_team]).await;
    let ops_only = invite(&stack, &ada, &org, "ops@example.com", &[&ops]).await;
    invite(&stack, &olivia, &org, "none@example.com", &[]).await;
    let revoked = invite(&stack, &olivia, &org, "gone@example.com", &[&ops]).await;
    let path = format!("/orgs/{org}/invitations/{revoked}");
    let (status, _) = stack.delete(&olivia, &path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Past its deadline, an invitation is no longer pending, before the expiry job runs.
    let lapsing = Stack::start_with(Options {
        table: Some(stack.table.clone()),
        invitation_ttl_seconds: Some(-60),
        ..Options::default()
    })
    .await;
    invite(&lapsing, &olivia, &org, "late@example.com", &[&ops]).await;

    let ops_invitations = format!("{teams}/{ops}/invitations");
    let mut expected = vec![both.clone(), ops_only];
    expected.sort();
    let (status, page) = stack.get(&ada, &ops_invitations).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let listed: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["invitation_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, expected, "by invitation id");
    assert_eq!(page["next_cursor"], Value::Null);
    assert_eq!(
        invitation_ids_by_page(&stack, &olivia, &ops_invitations).await,
        expected
    );
    let my_team_invitations = format!("{teams}/{my_team}/invitations");
    assert_eq!(
        invitation_ids_by_page(&stack, &ada, &my_team_invitations).await,
        [both]
    );

    let (status, body) = stack.get(&bo, &ops_invitations).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let other = stack.create_org(&olivia, "other").await;
    let (_, page) = stack.get(&olivia, &format!("/orgs/{other}/teams")).await;
    let elsewhere = page["items"][0]["team_id"].as_str().unwrap();
    for team in [
        elsewhere.to_owned(),
        TeamId::generate().to_string(),
        "nope".into(),
    ] {
        let path = format!("{teams}/{team}/invitations");
        let (status, body) = stack.get(&ada, &path).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    }
}

/// Holds `key`'s item through the conflict proxy until `release_all`; later transactions hold
/// theirs for no time.
async fn hold_item(stack: &Stack, key: Item) -> tokio::task::JoinHandle<()> {
    let holder = crate::contention::hold_item(stack, key).await;
    stack.conflicts().set_window(Duration::ZERO);
    holder
}

/// What the table says of the organization's teams now.
async fn teams_seen(stack: &Stack, org: &str) -> TeamsSeen {
    TeamsSeen::of(org, &stack.stored().await)
}

/// A team whose deletion has begun takes nobody in: an invitation naming it is accepted
/// without it, adding a member to it finds no team, and no new invitation may name it. And
/// should a member land in it anyway after the deletion's last read of its members (a write
/// that did not require a live team, as older code made), the team item is not dropped from
/// under them: the deletion takes them out first.
#[tokio::test]
async fn nobody_joins_a_team_being_deleted_and_no_member_outlives_its_team() {
    let stack = Stack::start_with(Options {
        faulty_dynamodb: true,
        conflict_window: Some(Duration::ZERO),
        ..Options::default()
    })
    .await;
    let olivia = stack.person("olivia");
    let org = stack.create_org(&olivia, "acme").await;
    let teams = format!("/orgs/{org}/teams");
    let (_, ops) = stack.post(&olivia, &teams, json!({ "name": "Ops" })).await;
    let ops = ops["team_id"].as_str().unwrap().to_owned();
    let ops_path = format!("{teams}/{ops}");
    let (bo, cy, dee, eve) = (
        stack.person("bo"),
        stack.person("cy"),
        stack.person("dee"),
        stack.person("eve"),
    );
    stack.add_team_members(&org, &ops, &[&bo]).await;
    stack.add_member(&org, &cy, "member", "active").await;
    let body = json!({ "invitations": [{ "email": dee.email, "teams": [ops] }] });
    let invitations = format!("/orgs/{org}/invitations");
    let (status, created) = stack.post(&olivia, &invitations, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = token_of(created["results"][0]["invite_url"].as_str().unwrap());

    // The deletion stops after taking bo out (its third transaction, the drop, fails).
    stack
        .faults()
        .inject(Rule::new(Fault::InternalServerError, When::From(3)).on("TransactWriteItems"));
    let (status, _) = stack.delete(&olivia, &ops_path).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    stack.faults().clear();
    assert!(teams_seen(&stack, &org).await.teams.contains_key(&ops));
    let (status, _) = stack.get(&olivia, &ops_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An accept that read the team while it was live is refused by the team, and changes
    // nothing; the invitee's request reads again and joins without it.
    let found = stack
        .app
        .store
        .invitation_by_token(&InvitationToken::parse(&token).unwrap().hash())
        .await
        .unwrap()
        .unwrap();
    let dee_id = UserId::parse("dee").unwrap();
    let joiner = Joiner {
        user_id: &dee_id,
        verified_email: Some(&dee.email),
    };
    let op = Op {
        actor: dee_id.clone(),
        request_id: "stale-accept".into(),
        at: Timestamp::now(),
        acting_as: None,
    };
    let before = stack.snapshot().await;
    let stale = [TeamId::parse(&ops).unwrap()];
    let refused = stack
        .app
        .store
        .accept_invitation(&found.invitation, &joiner, &stale, &op)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Refused(Refusal::Gone))),
        "{refused:?}"
    );
    assert_eq!(stack.snapshot().await, before);
    let (status, body) = stack
        .post(&dee, "/invitations/accept", json!({ "token": token }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = stack
        .put(&olivia, format!("{ops_path}/members/cy"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let body = json!({ "invitations": [{ "email": "fay@example.com", "teams": [ops] }] });
    let (status, body) = stack.post(&olivia, &invitations, body).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
    let seen = teams_seen(&stack, &org).await;
    seen.assert_nothing_orphaned();
    assert_eq!(
        seen.member_teams["dee"],
        BTreeSet::new(),
        "dee joined no team"
    );

    // The repeated deletion finds no member left and goes to drop the team item, which is
    // held; meanwhile eve lands in the team.
    let holder = hold_item(
        &stack,
        Team::key_of(&OrgId::parse(&org).unwrap(), &TeamId::parse(&ops).unwrap()),
    )
    .await;
    let deletion = stack.delete(&olivia, &ops_path);
    let late_joiner = async {
        while stack.conflicts().counts().cancelled < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        stack.add_team_members(&org, &ops, &[&eve]).await;
        stack.conflicts().release_all();
    };
    let ((status, body), ()) = tokio::join!(deletion, late_joiner);
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    holder.await.expect("holder");
    let seen = teams_seen(&stack, &org).await;
    seen.assert_nothing_orphaned();
    seen.assert_counts_exact();
    assert!(!seen.teams.contains_key(&ops));
    for person in [&bo, &cy, &dee, &eve] {
        let path = format!("/orgs/{org}/members/{}", person.sub);
        let (status, body) = stack.delete(&olivia, &path).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{}: {body}", person.sub);
    }
}

/// Deletes an item as data from before the store's present rules could lack it.
async fn drop_item(stack: &Stack, key: Item) {
    stack
        .dynamo
        .delete_item()
        .table_name(&stack.table)
        .set_key(Some(key))
        .send()
        .await
        .expect("delete an item");
}

/// Data older than the rules that keep every member's teams alive: a member whose team item is
/// gone can still be removed; a team whose count is off its member rows, one of which has no
/// membership, can still be deleted; nothing is left behind.
#[tokio::test]
async fn members_and_teams_left_inconsistent_by_older_code_can_still_go() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let org = stack.create_org(&olivia, "acme").await;
    let org_id = OrgId::parse(&org).unwrap();
    let teams = format!("/orgs/{org}/teams");
    let mut ids = Vec::new();
    for name in ["Ops", "Dev"] {
        let (_, team) = stack.post(&olivia, &teams, json!({ "name": name })).await;
        ids.push(team["team_id"].as_str().unwrap().to_owned());
    }
    let (ops, dev) = (&ids[0], &ids[1]);
    let (bo, cy, dee) = (stack.person("bo"), stack.person("cy"), stack.person("dee"));
    stack.add_team_members(&org, ops, &[&bo, &cy]).await;
    stack.add_team_members(&org, dev, &[&dee]).await;

    // Dev's item is gone with dee still in it.
    drop_item(&stack, Team::key_of(&org_id, &TeamId::parse(dev).unwrap())).await;
    let (status, body) = stack
        .delete(&olivia, format!("/orgs/{org}/members/dee"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Ops counts 3 more than its rows, and cy's row outlived cy's membership.
    stack
        .dynamo
        .update_item()
        .table_name(&stack.table)
        .set_key(Some(Team::key_of(&org_id, &TeamId::parse(ops).unwrap())))
        .update_expression("ADD member_count :three")
        .expression_attribute_values(":three", AttributeValue::N("3".into()))
        .send()
        .await
        .expect("miscount");
    let cy_membership = Stored::Member {
        org: org.clone(),
        user: "cy".into(),
    };
    let item = stack
        .stored_item(&cy_membership)
        .await
        .expect("cy's membership");
    let key = ["pk", "sk"].map(|name| (name.to_owned(), item[name].clone()));
    drop_item(&stack, key.into_iter().collect()).await;
    let (status, body) = stack.delete(&olivia, format!("{teams}/{ops}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let seen = teams_seen(&stack, &org).await;
    seen.assert_nothing_orphaned();
    seen.assert_counts_exact();
    assert_eq!(seen.teams.len(), 1, "only My Team is left: {seen:?}");
    assert_eq!(seen.member_teams["bo"], BTreeSet::new());
    let (status, body) = stack
        .delete(&olivia, format!("/orgs/{org}/members/bo"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}
