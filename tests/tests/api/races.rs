//! Races, against a moto that serves one request at a time (so each transaction is atomic, as
//! in DynamoDB): the outcome must hold whatever order the requests land in.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::future::join_all;
use orgs_shared::domain::OrgId;
use orgs_shared::store::{Item, Organization, Stored};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Options, Person, Stack};
use crate::invitations::token_of;

#[tokio::test]
async fn twenty_concurrent_creations_of_one_handle_give_one_organization() {
    let stack = Stack::start().await;
    let people: Vec<_> = (0..20)
        .map(|i| stack.person(&format!("racer-{i}")))
        .collect();
    let body = json!({ "handle": "contested", "display_name": "Contested", "region": "us" });
    let answers = join_all(people.iter().map(|p| stack.post(p, "/orgs", body.clone()))).await;
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let conflicts = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["type"] == "urn:orgs:problem:handle-taken")
        .count();
    assert_eq!((created, conflicts), (1, 19), "{answers:?}");
    let orgs: Vec<_> = stack
        .kinds()
        .await
        .into_iter()
        .filter(|what| matches!(what, Stored::Organization { .. }))
        .collect();
    assert_eq!(orgs.len(), 1);
    assert_eq!(stack.handles().await, ["contested"]);
}

#[tokio::test]
async fn users_and_organizations_racing_for_one_handle_never_share_it() {
    let stack = Stack::start().await;
    let people: Vec<_> = (0..12).map(|i| stack.person(&format!("p-{i}"))).collect();
    for p in &people {
        stack.get(p, "/me").await;
    }
    let requests = people.iter().enumerate().map(|(i, p)| {
        let (method, path, body) = if i % 2 == 0 {
            (Method::PATCH, "/me", json!({ "handle": "one-name" }))
        } else {
            let body = json!({ "handle": "one-name", "display_name": "One", "region": "eu" });
            (Method::POST, "/orgs", body)
        };
        stack.call(p, method, path, Some(body))
    });
    let answers = join_all(requests).await;
    let won = answers.iter().filter(|(s, _)| s.is_success()).count();
    assert_eq!(won, 1, "{answers:?}");
    let holders: usize = stack
        .stored()
        .await
        .iter()
        .filter(|(_, item)| {
            item.get("handle").and_then(|h| h.as_s().ok()) == Some(&"one-name".into())
        })
        .filter(|(what, _)| !matches!(what, Stored::Handle { .. }))
        .count();
    assert_eq!(
        holders, 1,
        "exactly one user or organization holds the handle"
    );
}

/// What the table says of an organization's teams: which teams exist (live or being deleted),
/// each team's stored count and member rows, and each member's `team_ids`.
#[derive(Debug, Default)]
pub(crate) struct TeamsSeen {
    pub(crate) teams: BTreeMap<String, i64>,
    pub(crate) rows: BTreeSet<(String, String)>,
    pub(crate) member_teams: BTreeMap<String, BTreeSet<String>>,
}

impl TeamsSeen {
    pub(crate) fn of(org: &str, stored: &[(Stored, Item)]) -> Self {
        let mut seen = TeamsSeen::default();
        for (what, item) in stored {
            match what {
                Stored::Team { org: o, team } if o == org => {
                    let count = item["member_count"].as_n().expect("a count");
                    seen.teams
                        .insert(team.clone(), count.parse().expect("a number"));
                }
                Stored::TeamMember { org: o, team, user } if o == org => {
                    seen.rows.insert((team.clone(), user.clone()));
                }
                Stored::Member { org: o, user } if o == org => {
                    let teams = match item.get("team_ids") {
                        Some(set) => set.as_ss().expect("a string set").iter().cloned().collect(),
                        None => BTreeSet::new(),
                    };
                    seen.member_teams.insert(user.clone(), teams);
                }
                _ => {}
            }
        }
        seen
    }

    /// No member, and no member row, names a team that is not there; each member's
    /// `team_ids` are exactly their rows.
    pub(crate) fn assert_nothing_orphaned(&self) {
        for (team, user) in &self.rows {
            assert!(
                self.teams.contains_key(team),
                "{user}'s row of team {team} outlived it"
            );
            assert!(
                self.member_teams
                    .get(user)
                    .is_some_and(|t| t.contains(team)),
                "{user} has a row of team {team} without being in it: {self:?}"
            );
        }
        for (user, teams) in &self.member_teams {
            for team in teams {
                assert!(
                    self.teams.contains_key(team),
                    "{user} is in team {team}, which is gone"
                );
                assert!(
                    self.rows.contains(&(team.clone(), user.clone())),
                    "{user} is in team {team} without its row"
                );
            }
        }
    }

    /// Each team's count is its number of member rows.
    pub(crate) fn assert_counts_exact(&self) {
        for (team, count) in &self.teams {
            let rows = self.rows.iter().filter(|(t, _)| t == team).count();
            assert_eq!(*count, rows as i64, "team {team}'s count");
        }
    }
}

/// Every snapshot of the organization's partition that one Query read (so, as moto serves one
/// request at a time, all of it at one instant) until `done`, checked for orphans; how many
/// were checked.
async fn watch_for_orphans(stack: &Stack, org: &str, done: &AtomicBool) -> usize {
    let org_key = Organization::key_of(&OrgId::parse(org).expect("org id"));
    let mut checked = 0;
    while !done.load(Ordering::Relaxed) {
        let page = stack
            .dynamo
            .query()
            .table_name(&stack.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", org_key["pk"].clone())
            .consistent_read(true)
            .send()
            .await
            .expect("query");
        if page.last_evaluated_key().is_none() {
            let stored: Vec<(Stored, Item)> = page
                .items()
                .iter()
                .map(|item| {
                    let key = |name: &str| item[name].as_s().expect("a key").clone();
                    (Stored::of(&key("pk"), &key("sk")), item.clone())
                })
                .collect();
            TeamsSeen::of(org, &stored).assert_nothing_orphaned();
            checked += 1;
        }
        // Leaves moto to the race between two reads.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    checked
}

/// A team with more members than one step of its deletion takes is deleted while invitations
/// naming it are accepted and an admin adds members to it. Whatever the order: the deletion
/// succeeds; every accept succeeds (into the team if it was still live, otherwise without
/// it); every addition succeeds or finds no team; at no moment does a member or a member row
/// name a team that is gone; afterwards the counts are exact, and those who joined or were
/// added during the race, and some of the swept members, can be removed.
async fn a_team_deleted_while_people_join_it_leaves_no_member_in_a_missing_team(stack: Stack) {
    let olivia = stack.person("olivia");
    let org = stack.create_org(&olivia, "acme").await;
    let my_team = stack.first_team(&org).await;
    let teams = format!("/orgs/{org}/teams");
    let (_, doomed) = stack
        .post(&olivia, &teams, json!({ "name": "Doomed" }))
        .await;
    let doomed = doomed["team_id"].as_str().expect("a team").to_owned();
    let doomed_path = format!("{teams}/{doomed}");

    let swept: Vec<Person> = (0..46)
        .map(|i| stack.person(&format!("m-{i:02}")))
        .collect();
    let swept_refs: Vec<&Person> = swept.iter().collect();
    stack.add_team_members(&org, &doomed, &swept_refs).await;
    let added: Vec<Person> = (0..6).map(|i| stack.person(&format!("add-{i}"))).collect();
    let seeds: Vec<_> = added.iter().map(|p| (p, "member", "active")).collect();
    stack.add_members(&org, &seeds).await;
    let invitees: Vec<Person> = (0..6).map(|i| stack.person(&format!("new-{i}"))).collect();
    let batch: Vec<_> = invitees
        .iter()
        .map(|p| json!({ "email": p.email, "teams": [doomed, my_team] }))
        .collect();
    let path = format!("/orgs/{org}/invitations");
    let (status, created) = stack
        .post(&olivia, &path, json!({ "invitations": batch }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let tokens: Vec<String> = created["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| token_of(r["invite_url"].as_str().expect("a link")))
        .collect();

    let done = AtomicBool::new(false);
    let deletion = stack.delete(&olivia, &doomed_path);
    let accepts = join_all(
        invitees
            .iter()
            .zip(&tokens)
            .map(|(p, token)| stack.post(p, "/invitations/accept", json!({ "token": token }))),
    );
    let additions = join_all(
        added
            .iter()
            .map(|p| stack.put(&olivia, format!("{doomed_path}/members/{}", p.sub), None)),
    );
    let race = async {
        let answers = futures::join!(deletion, accepts, additions);
        done.store(true, Ordering::Relaxed);
        answers
    };
    let (((deleted, _), accepted, additions), checked) =
        futures::join!(race, watch_for_orphans(&stack, &org, &done));
    assert!(checked > 0, "the table was seen during the race");
    assert_eq!(deleted, StatusCode::NO_CONTENT);
    for (status, body) in &accepted {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    for (status, body) in &additions {
        assert!(
            [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND].contains(status),
            "{status} {body}"
        );
    }

    let seen = TeamsSeen::of(&org, &stack.stored().await);
    seen.assert_nothing_orphaned();
    seen.assert_counts_exact();
    assert_eq!(
        seen.teams.keys().collect::<Vec<_>>(),
        [&my_team],
        "doomed {doomed}: {seen:?}"
    );
    for person in &invitees {
        assert!(
            seen.rows.contains(&(my_team.clone(), person.sub.clone())),
            "{} joined the team that stays",
            person.sub
        );
    }
    let (status, _) = stack.get(&olivia, &doomed_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    for person in invitees.iter().chain(&added).chain(&swept[..3]) {
        let path = format!("/orgs/{org}/members/{}", person.sub);
        let (status, body) = stack.delete(&olivia, &path).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{}: {body}", person.sub);
    }
    let seen = TeamsSeen::of(&org, &stack.stored().await);
    seen.assert_nothing_orphaned();
    seen.assert_counts_exact();
}

#[tokio::test]
async fn a_team_deleted_while_people_join_it_orphans_nobody() {
    a_team_deleted_while_people_join_it_leaves_no_member_in_a_missing_team(Stack::start().await)
        .await;
}

#[tokio::test]
async fn a_team_deleted_while_people_join_it_orphans_nobody_under_conflicts() {
    let stack = Stack::start_with(Options {
        conflict_window: Some(Duration::from_millis(20)),
        ..Options::default()
    })
    .await;
    a_team_deleted_while_people_join_it_leaves_no_member_in_a_missing_team(stack).await;
}

/// A role is deleted while admins give it to members: whatever order they land in, the role
/// is gone only if nobody holds it, and its count of holders is the number of members who do.
#[tokio::test]
async fn a_role_deleted_while_it_is_given_is_never_left_held_or_miscounted() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let org = stack.create_org(&olivia, "acme").await;
    let people: Vec<Person> = (0..6).map(|i| stack.person(&format!("m-{i}"))).collect();
    for p in &people {
        stack.join(&org, &olivia, p, "member").await;
    }
    let body =
        json!({ "key": "billing-manager", "name": "Billing", "permissions": ["members:read"] });
    let (status, _) = stack
        .post(&olivia, format!("/orgs/{org}/roles"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let role = format!("/orgs/{org}/roles/billing-manager");
    let gives = people.iter().map(|p| {
        let path = format!("/orgs/{org}/members/{}", p.sub);
        stack.call(
            &olivia,
            Method::PATCH,
            path,
            Some(json!({ "role": "billing-manager" })),
        )
    });
    let delete = stack.call(&olivia, Method::DELETE, role.clone(), None);
    let (deleted, given) = futures::join!(delete, join_all(gives));
    let holders: Vec<&Person> = people
        .iter()
        .zip(&given)
        .filter(|(_, (status, answer))| {
            *status == StatusCode::OK && answer["role"] == "billing-manager"
        })
        .map(|(p, _)| p)
        .collect();
    let (status, read) = stack.get(&olivia, &role).await;
    if deleted.0 == StatusCode::NO_CONTENT {
        assert!(
            holders.is_empty(),
            "deleted while held by {}",
            holders.len()
        );
        assert_eq!(status, StatusCode::NOT_FOUND);
    } else {
        assert_eq!(deleted.0, StatusCode::CONFLICT, "{:?}", deleted.1);
        assert_eq!(read["holders"], holders.len(), "{read}");
    }
    // Every member's stored role agrees with the answers they got.
    for p in &people {
        let (_, member) = stack
            .get(&olivia, format!("/orgs/{org}/members/{}", p.sub))
            .await;
        let expected = if holders.iter().any(|h| h.sub == p.sub) {
            "billing-manager"
        } else {
            "member"
        };
        assert_eq!(member["role"], expected, "{}", p.sub);
    }
}

/// Members are removed while an admin adds them to teams: whichever lands first, every removal
/// succeeds (a team joined meanwhile goes with the member), and no team row, count or custom
/// team role's holder is left behind by someone no longer a member.
#[tokio::test]
async fn a_member_removed_while_added_to_teams_leaves_no_team_row_behind() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let org = stack.create_org(&olivia, "acme").await;
    let mut teams = Vec::new();
    for name in ["Ops", "Web", "Data"] {
        let (status, team) = stack
            .post(
                &olivia,
                format!("/orgs/{org}/teams"),
                json!({ "name": name }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{team}");
        teams.push(team["team_id"].as_str().unwrap().to_owned());
    }
    let people: Vec<Person> = (0..5).map(|i| stack.person(&format!("m-{i}"))).collect();
    for p in &people {
        stack.join(&org, &olivia, p, "member").await;
    }
    let removals = people.iter().map(|p| {
        stack.call(
            &olivia,
            Method::DELETE,
            format!("/orgs/{org}/members/{}", p.sub),
            None,
        )
    });
    let additions = people.iter().flat_map(|p| {
        teams.iter().map(|team| {
            let path = format!("/orgs/{org}/teams/{team}/members/{}", p.sub);
            stack.call(&olivia, Method::PUT, path, None)
        })
    });
    // The additions go out first: each removal's read then lands between an addition's read and
    // its transaction, the window in which a team joined would be left behind.
    let (added, removed) = futures::join!(join_all(additions), join_all(removals));
    for (status, answer) in &removed {
        assert_eq!(*status, StatusCode::NO_CONTENT, "{answer}");
    }
    for (status, answer) in &added {
        // Added, or refused: no such member by then.
        assert!(
            status.is_success() || *status == StatusCode::NOT_FOUND,
            "{status}: {answer}"
        );
    }
    let stored = stack.stored().await;
    let seen = TeamsSeen::of(&org, &stored);
    seen.assert_nothing_orphaned();
    seen.assert_counts_exact();
    let left: Vec<_> = seen
        .rows
        .iter()
        .filter(|(_, user)| people.iter().any(|p| &p.sub == user))
        .collect();
    assert!(left.is_empty(), "rows left behind: {left:?}");
}
