//! What the benchmark asks of each function, and the fewest requests the data model allows for
//! it (docs/data-model.md, "Access patterns").

use orgs_functions::routes::ROUTES;
use serde_json::json;

use crate::fixture::{Fixture, Person, Req};

/// A request to a function, as many times as needed, each time equivalent: the same route,
/// the same work, on state prepared for it (a fresh organization to delete, a free handle).
pub struct Case {
    /// Each request with the person who sends it (`None` on a public route).
    pub requests: Vec<(Option<Person>, Req)>,
    pub status: u16,
}

/// `count` equivalent requests for `function`, with whatever they need created first;
/// `None` for a function the benchmark has no case for yet. A read (`GET`) needs none unless
/// its caller or state is special: Alice reads her first organization, as `fill` prepares it.
pub async fn case(fx: &mut Fixture, function: &str, count: usize) -> anyhow::Result<Option<Case>> {
    let alice = fx.alice.clone();
    let carol = fx.carol.clone();
    let org = fx.orgs[0].clone();
    let o = org.id.clone();
    let mut requests = Vec::with_capacity(count);
    // Who sends each request, where it is not the same person every time.
    let mut by: Vec<Option<Person>> = Vec::new();
    // The same request `count` times.
    let same = |requests: &mut Vec<Req>, req: Req| requests.resize(count, req);
    let (person, status) = match function {
        "update-me" => {
            let body = json!({ "display_name": "Alice Bench" });
            same(&mut requests, Req::new("PATCH", "/me", Some(body)));
            (Some(alice), 200)
        }
        "create-org" => {
            for _ in 0..count {
                requests.push(fx.create_org_req());
            }
            (Some(carol), 201)
        }
        "update-org" => {
            let body = json!({ "display_name": "Bench Org (edited)" });
            same(
                &mut requests,
                Req::new("PATCH", format!("/orgs/{o}"), Some(body)),
            );
            (Some(alice), 200)
        }
        "change-org-handle" => {
            for _ in 0..count {
                let body = json!({ "handle": fx.unique_handle() });
                requests.push(Req::new("PUT", format!("/orgs/{o}/handle"), Some(body)));
            }
            (Some(alice), 200)
        }
        "delete-org" => {
            for _ in 0..count {
                let doomed = fx.create_org(&carol).await?;
                let path = format!("/orgs/{}?confirm={}", doomed.id, doomed.handle);
                requests.push(Req::new("DELETE", path, None));
            }
            (Some(carol), 204)
        }
        "create-invitations" => {
            for _ in 0..count {
                let email = fx.newcomer().email;
                let body = json!({ "invitations": [{ "email": email }] });
                requests.push(Req::new(
                    "POST",
                    format!("/orgs/{o}/invitations"),
                    Some(body),
                ));
            }
            (Some(alice), 201)
        }
        "resend-invitation" | "revoke-invitation" => {
            for _ in 0..count {
                let email = fx.newcomer().email;
                let (id, _) = fx.invite(&org, &email).await?;
                requests.push(if function == "resend-invitation" {
                    Req::new("POST", format!("/orgs/{o}/invitations/{id}/resend"), None)
                } else {
                    Req::new("DELETE", format!("/orgs/{o}/invitations/{id}"), None)
                });
            }
            let status = if function == "resend-invitation" {
                200
            } else {
                204
            };
            (Some(alice), status)
        }
        "lookup-invitation" => {
            let email = fx.newcomer().email;
            let (_, token) = fx.invite(&org, &email).await?;
            let body = json!({ "token": token });
            same(
                &mut requests,
                Req::new("POST", "/invitations/lookup", Some(body)),
            );
            (None, 200)
        }
        "accept-invitation" | "decline-invitation" => {
            // Only the invitee may answer, and once: a new invitee for each request.
            let path = if function == "accept-invitation" {
                "/invitations/accept"
            } else {
                "/invitations/decline"
            };
            for _ in 0..count {
                let invitee = fx.newcomer();
                let (_, token) = fx.invite(&org, &invitee.email).await?;
                let body = json!({ "token": token });
                by.push(Some(invitee));
                requests.push(Req::new("POST", path, Some(body)));
            }
            let status = if function == "accept-invitation" {
                200
            } else {
                204
            };
            (None, status)
        }
        "list-my-invitations" => {
            let invitee = fx.newcomer();
            fx.invite(&org, &invitee.email).await?;
            same(&mut requests, Req::new("GET", "/me/invitations", None));
            (Some(invitee), 200)
        }
        "update-member" | "remove-member" => {
            for _ in 0..count {
                let member = fx.add_member(&org).await?;
                let path = format!("/orgs/{o}/members/{}", member.sub);
                requests.push(if function == "update-member" {
                    Req::new("PATCH", path, Some(json!({ "role": "admin" })))
                } else {
                    Req::new("DELETE", path, None)
                });
            }
            let status = if function == "update-member" {
                200
            } else {
                204
            };
            (Some(alice), status)
        }
        "transfer-ownership" => {
            // Alice is no longer owner afterwards: a fresh organization each time.
            for _ in 0..count {
                let fresh = fx.create_org(&alice).await?;
                let member = fx.add_member(&fresh).await?;
                let path = format!("/orgs/{}/transfer-ownership", fresh.id);
                let body = json!({ "user_id": member.sub });
                requests.push(Req::new("POST", path, Some(body)));
            }
            (Some(alice), 204)
        }
        "create-team" => {
            for _ in 0..count {
                let body = json!({ "name": format!("Team {}", fx.unique_handle()) });
                requests.push(Req::new("POST", format!("/orgs/{o}/teams"), Some(body)));
            }
            (Some(alice), 201)
        }
        "rename-team" => {
            let team = fx.create_team(&org).await?;
            for _ in 0..count {
                let body = json!({ "name": format!("Team {}", fx.unique_handle()) });
                let path = format!("/orgs/{o}/teams/{team}");
                requests.push(Req::new("PATCH", path, Some(body)));
            }
            (Some(alice), 200)
        }
        "delete-team" | "add-team-member" | "remove-team-member" => {
            for _ in 0..count {
                let team = fx.create_team(&org).await?;
                let member = format!("/orgs/{o}/teams/{team}/members/{}", alice.sub);
                requests.push(match function {
                    "delete-team" => Req::new("DELETE", format!("/orgs/{o}/teams/{team}"), None),
                    "add-team-member" => Req::new("PUT", member, None),
                    _ => {
                        fx.expect(Some(&alice), &Req::new("PUT", member.clone(), None), 204)
                            .await?;
                        Req::new("DELETE", member, None)
                    }
                });
            }
            (Some(alice), 204)
        }
        "put-sso" => {
            // The first request connects the organization; every one after it replaces the
            // connection with the same settings (the provider is updated, not created), which
            // costs the same requests.
            same(&mut requests, Fixture::put_sso_req(&org));
            (Some(alice), 200)
        }
        "get-sso" => {
            fx.connect_sso().await?;
            same(
                &mut requests,
                Req::new("GET", format!("/orgs/{o}/sso"), None),
            );
            (Some(alice), 200)
        }
        "delete-sso" => {
            // A connection to delete each time: a new organization with a verified domain of
            // its own (a domain belongs to one organization), connected.
            for _ in 0..count {
                let doomed = fx.create_org(&alice).await?;
                fx.verified_domain(&doomed).await?;
                fx.connect(&doomed).await?;
                requests.push(Req::new("DELETE", format!("/orgs/{}/sso", doomed.id), None));
            }
            (Some(alice), 204)
        }
        "discover-sso" => {
            fx.connect_sso().await?;
            let email = fx.colleague().email.replace('@', "%40");
            let path = format!("/sso/discover?email={email}");
            same(&mut requests, Req::new("GET", path, None));
            (None, 200)
        }
        "verify-domain" => {
            // A new domain each time, its TXT record published: verifying claims it once.
            for _ in 0..count {
                let domain = fx.add_domain(&org).await?;
                let path = format!("/orgs/{o}/domains/{domain}/verify");
                requests.push(Req::new("POST", path, Some(json!({}))));
            }
            (Some(alice), 200)
        }
        "remove-domain" => {
            // A verified domain each time: removing it also frees its claim.
            for _ in 0..count {
                let domain = fx.verified_domain(&org).await?;
                let path = format!("/orgs/{o}/domains/{domain}");
                requests.push(Req::new("DELETE", path, None));
            }
            (Some(alice), 204)
        }
        _ => match ROUTES.iter().find(|r| r.function == function) {
            Some(route) if route.method == "GET" => {
                let path = fill(fx, route.path).await?;
                same(&mut requests, Req::new("GET", path, None));
                (Some(alice), 200)
            }
            _ => return Ok(None),
        },
    };
    fx.recorder.take();
    if by.is_empty() {
        by.resize(requests.len(), person);
    }
    Ok(Some(Case {
        requests: by.into_iter().zip(requests).collect(),
        status,
    }))
}

/// `path` with Alice's first organization, and, where the path names them, a new team of it,
/// a new pending invitation into it (naming that team, if any) and Alice as the member. A path
/// that lists invitations gets one pending invitation to list.
async fn fill(fx: &mut Fixture, path: &str) -> anyhow::Result<String> {
    let org = fx.orgs[0].clone();
    let mut filled = path
        .replace("{org_id}", &org.id)
        .replace("{user_id}", &fx.alice.sub);
    let mut teams = Vec::new();
    if filled.contains("{team_id}") {
        let team = fx.create_team(&org).await?;
        filled = filled.replace("{team_id}", &team);
        teams.push(team);
    }
    if filled.contains("/invitations") {
        let email = fx.newcomer().email;
        let (id, _) = fx.invite_to_teams(&org, &email, &teams).await?;
        filled = filled.replace("{invitation_id}", &id);
    }
    Ok(filled)
}

/// The fewest requests an operation can make under the data model, and why.
pub struct Minimum {
    pub dynamodb: &'static [&'static str],
    pub ses: usize,
    pub eventbridge: usize,
    /// Requests to the user pool (single sign-on's identity providers and app client).
    pub cognito: usize,
    pub why: &'static str,
}

const fn dynamodb(calls: &'static [&'static str], why: &'static str) -> Minimum {
    Minimum {
        dynamodb: calls,
        ses: 0,
        eventbridge: 0,
        cognito: 0,
        why,
    }
}

/// Keyed by function, or `get-me (first use)`. Derived from the keys of docs/data-model.md:
/// reads whose keys are known up front belong in one BatchGetItem, a read that needs another's
/// answer is one more round trip, each change is one transaction. Events reach EventBridge from
/// the table's stream (the outbox) through publish-events, never from a request.
pub fn minimum(operation: &str) -> Option<Minimum> {
    Some(match operation {
        "get-me" => dynamodb(&["GetItem"], "one consistent read of the profile"),
        "get-me (first use)" => dynamodb(
            &["GetItem", "TransactWriteItems"],
            "the read finds no profile; one transaction creates it with its audit entry and event",
        ),
        "update-me" => dynamodb(
            &["GetItem", "TransactWriteItems"],
            "the old handle must be known to free its marker in the same transaction, and the \
             answer is the whole profile, which a transaction does not return",
        ),
        "create-org" => dynamodb(
            &["TransactWriteItems"],
            "one transaction; the handle marker's condition replaces any read",
        ),
        "list-orgs" => dynamodb(
            &["Query", "BatchGetItem"],
            "gsi1 holds memberships, not organizations: copying each organization's profile \
             into every membership would make one rename rewrite every member",
        ),
        "get-org" => dynamodb(
            &["BatchGetItem"],
            "the organization and the caller's membership in one consistent read",
        ),
        "update-org" => dynamodb(
            &["BatchGetItem", "TransactWriteItems"],
            "the answer is the organization as changed, which a transaction does not return; \
             the read also tells a stranger (404) from a member without the right (403)",
        ),
        "change-org-handle" => dynamodb(
            &["BatchGetItem", "TransactWriteItems"],
            "the old handle must be known to free its marker in the same transaction, and the \
             caller's role decides between 404 and 403",
        ),
        "delete-org" => dynamodb(
            &[
                "BatchGetItem",
                "TransactWriteItems",
                "Query",
                "BatchWriteItem",
                "TransactWriteItems",
            ],
            "for a new organization (5 items): 1 read, 1 transaction that hides it and frees \
             its handle, 1 Query per page and 1 BatchWriteItem per 25 items, and 1 last \
             transaction for the org item and the caller's membership; in steps, so that an \
             organization of any size goes and a repeated request always finishes the job",
        ),
        "create-invitations" => Minimum {
            dynamodb: &["BatchGetItem", "TransactWriteItems"],
            ses: 1,
            eventbridge: 0,
            cognito: 0,
            why: "one email invitee: every item to read has a known key (org, caller's \
                  membership and profile, today's email counter, any teams named, the \
                  invitees' known addresses), so one BatchGetItem; one transaction per \
                  invitee; one email each",
        },
        "list-invitations" => dynamodb(
            &["BatchGetItem", "Query"],
            "the caller's role, then the invitation items of the partition",
        ),
        "get-invitation" => dynamodb(
            &["BatchGetItem"],
            "org, caller's membership and the invitation have known keys: one read",
        ),
        "resend-invitation" => Minimum {
            dynamodb: &["BatchGetItem", "GetItem", "TransactWriteItems"],
            ses: 1,
            eventbridge: 0,
            cognito: 0,
            why: "org, caller's membership and profile, the invitation and today's counter \
                  all have known keys: one BatchGetItem; then the known address of the \
                  invitation's email (which email goes out), beside the suppression check; \
                  one transaction; one email",
        },
        "revoke-invitation" => dynamodb(
            &["BatchGetItem", "TransactWriteItems"],
            "org, caller's membership and the invitation in one read; one transaction",
        ),
        "lookup-invitation" => dynamodb(
            &["GetItem", "BatchGetItem", "GetItem"],
            "token, then invitation and org (the token names them), then the inviter's \
             profile (the invitation names them): three reads, each needing the one before",
        ),
        "accept-invitation" => dynamodb(
            &["GetItem", "BatchGetItem", "TransactWriteItems"],
            "no teams: the token, then invitation and org; one transaction",
        ),
        "decline-invitation" => dynamodb(
            &["GetItem", "BatchGetItem", "TransactWriteItems"],
            "the token, then invitation and org; one transaction",
        ),
        "list-my-invitations" => dynamodb(
            &["Query", "BatchGetItem"],
            "gsi1 by the verified email, then the organizations they name",
        ),
        "list-members" => dynamodb(
            &["BatchGetItem", "Query", "BatchGetItem"],
            "the caller's role, then the membership items, then the page's profiles: handle and \
             display name live on each user's profile (the user's own partition), which no \
             Query of the organization's partition returns, and copying them into every \
             membership would make one profile change rewrite all of that user's memberships",
        ),
        "get-member" => dynamodb(
            &["BatchGetItem"],
            "org, caller's and target's memberships and the target's profile in one read",
        ),
        "update-member" => dynamodb(
            &["BatchGetItem", "TransactWriteItems"],
            "org, both memberships and the target's profile in one read (the answer is what \
             was read plus the change); one transaction",
        ),
        "remove-member" => dynamodb(
            &["BatchGetItem", "TransactWriteItems"],
            "org and both memberships in one read (the membership lists its teams); one \
             transaction",
        ),
        "transfer-ownership" => dynamodb(
            &["BatchGetItem", "TransactWriteItems"],
            "org and both memberships in one read; one transaction",
        ),
        "list-teams" => dynamodb(
            &["BatchGetItem", "Query"],
            "the caller's membership, then the team items",
        ),
        "create-team" => dynamodb(
            &["BatchGetItem", "TransactWriteItems"],
            "the caller's role; one transaction with the name marker",
        ),
        "get-team" => dynamodb(
            &["BatchGetItem"],
            "org, caller's membership and the team in one read",
        ),
        "rename-team" => dynamodb(
            &["BatchGetItem", "TransactWriteItems"],
            "org, caller's membership and the team (its old name's marker) in one read; one \
             transaction",
        ),
        "delete-team" => dynamodb(
            &["BatchGetItem", "TransactWriteItems"],
            "an empty team: org, caller's membership and the team (its member count says no \
             member rows to find) in one read; one transaction. A team with members goes in \
             steps any size finishes: a transaction marks it deleting, then per 45 members a \
             Query and a transaction, a Query that finds no more, and one for the team item",
        ),
        "list-team-members" => dynamodb(
            &["BatchGetItem", "Query"],
            "an empty team: org, caller's membership and the team in one read, then the \
             team-member items (with members, a BatchGetItem of their profiles follows, as \
             for list-members)",
        ),
        "add-team-member" => dynamodb(
            &["BatchGetItem", "TransactWriteItems"],
            "org, caller's and target's memberships and the team in one read; one transaction",
        ),
        "remove-team-member" => dynamodb(
            &["BatchGetItem", "TransactWriteItems"],
            "org, caller's membership, the team and the team-member row in one read; one \
             transaction",
        ),
        "list-audit-log" => dynamodb(
            &["BatchGetItem", "Query"],
            "the caller's role, then the partition's audit entries",
        ),
        "publish-events" => Minimum {
            dynamodb: &[],
            ses: 0,
            eventbridge: 1,
            cognito: 0,
            why: "one stream record: one PutEvents (up to 10 records share one)",
        },
        "expire-invitations" => dynamodb(
            &["Query", "Query", "Query", "Query", "Query"],
            "nothing due: one Query per expiry shard of gsi2 (4), then one for abandoned \
             deletions; each due invitation adds one transaction",
        ),
        "token-claims" => dynamodb(
            &["Query", "BatchGetItem"],
            "the person's active memberships from gsi1, then the picked organizations' handles: \
             a handle lives only on its organization, since copying it into every membership \
             would make one rename rewrite every member",
        ),
        "get-sso" => dynamodb(
            &["BatchGetItem"],
            "the organization, the caller's membership and the connection in one consistent \
             read; the domains it covers are kept on the organization item",
        ),
        "put-sso" => Minimum {
            dynamodb: &[
                "BatchGetItem",
                "Query",
                "TransactWriteItems",
                "GetItem",
                "GetItem",
                "TransactWriteItems",
            ],
            ses: 0,
            eventbridge: 0,
            cognito: 3,
            why: "a first SAML connection: the access check with the connection (and any \
                  default role and teams) in one read; the verified domains, which no key \
                  names (a Query); the provider created in the user pool; one transaction \
                  stores the connection and lists its provider; then the app client is \
                  brought in step with that list: the list read, the client described and \
                  updated, the list read again (no other change moved it meanwhile) and a \
                  transaction that notes the client in step. Replacing a connection costs the \
                  same (the provider is updated instead)",
        },
        "delete-sso" => Minimum {
            dynamodb: &[
                "BatchGetItem",
                "GetItem",
                "GetItem",
                "TransactWriteItems",
                "GetItem",
                "GetItem",
                "TransactWriteItems",
            ],
            ses: 0,
            eventbridge: 0,
            cognito: 4,
            why: "the access check and the connection in one read; the provider leaves the app \
                  client first (the providers' list read, the client described and updated, \
                  the list read again), then the user pool; one transaction deletes the \
                  connection and unlists its provider; then the client is confirmed in step \
                  with the list as it now is (read, described, read again, noted in step), \
                  so that a failure half-way leaves the connection stored and a repeated \
                  request finishes the job",
        },
        "discover-sso" => dynamodb(
            &["GetItem", "GetItem"],
            "the claim of the address's domain, then the organization it names, whose \
             connection gives the provider: the second read needs the first's answer",
        ),
        "token-claims (first sign-in through SSO)" => dynamodb(
            &[
                "Query",
                "GetItem",
                "BatchGetItem",
                "TransactWriteItems",
                "BatchGetItem",
            ],
            "someone in no organization yet, through an organization's identity provider: \
             their memberships from gsi1 (none), the claim of their address's domain, the \
             organization with their would-be membership, one transaction that makes them a \
             member, then the new membership read for the token; every sign-in after it costs \
             what any other does",
        ),
        "verify-domain" => dynamodb(
            &["BatchGetItem", "TransactWriteItems", "GetItem"],
            "the access check and the domain in one read; after the DNS lookup, one \
             transaction puts the claim, marks the domain verified and adds it to the \
             organization's single sign-on domains; then the organization's single sign-on as \
             that transaction left it, which says whether an identity provider's identifiers \
             must follow (none here: no connection)",
        ),
        "remove-domain" => dynamodb(
            &["BatchGetItem", "TransactWriteItems", "GetItem"],
            "a verified domain: the access check and the domain in one read; one transaction \
             deletes it with its claim and takes it out of the organization's single sign-on \
             domains; then the organization's single sign-on as that transaction left it, as \
             for verify-domain",
        ),
        _ => return None,
    })
}
