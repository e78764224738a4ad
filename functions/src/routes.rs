//! Every route of the HTTP API, declared once. The local server routes with this table, and
//! tests hold the SAM template and the OpenAPI document to it.

use std::collections::HashMap;

use lambda_http::{Body, Request, Response};

use orgs_shared::app::App;
use orgs_shared::http::respond;

use crate::handlers::{audit, invitations, invitee, me, members, orgs, teams};

/// Whether API Gateway's JWT authorizer guards the route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Jwt,
    Public,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// With `{name}` for path parameters, as API Gateway writes them.
    pub path: &'static str,
    /// The binary (and so the Lambda function) that serves it.
    pub function: &'static str,
    pub auth: Auth,
}

const fn route(method: &'static str, path: &'static str, function: &'static str) -> Route {
    Route {
        method,
        path,
        function,
        auth: Auth::Jwt,
    }
}

pub const ROUTES: &[Route] = &[
    route("GET", "/me", "get-me"),
    route("PATCH", "/me", "update-me"),
    route("POST", "/orgs", "create-org"),
    route("GET", "/orgs", "list-orgs"),
    route("GET", "/orgs/{org_id}", "get-org"),
    route("PATCH", "/orgs/{org_id}", "update-org"),
    route("PUT", "/orgs/{org_id}/handle", "change-org-handle"),
    route("DELETE", "/orgs/{org_id}", "delete-org"),
    route("POST", "/orgs/{org_id}/invitations", "create-invitations"),
    route("GET", "/orgs/{org_id}/invitations", "list-invitations"),
    route(
        "GET",
        "/orgs/{org_id}/invitations/{invitation_id}",
        "get-invitation",
    ),
    route(
        "POST",
        "/orgs/{org_id}/invitations/{invitation_id}/resend",
        "resend-invitation",
    ),
    route(
        "DELETE",
        "/orgs/{org_id}/invitations/{invitation_id}",
        "revoke-invitation",
    ),
    Route {
        method: "POST",
        path: "/invitations/lookup",
        function: "lookup-invitation",
        auth: Auth::Public,
    },
    route("POST", "/invitations/accept", "accept-invitation"),
    route("POST", "/invitations/decline", "decline-invitation"),
    route("GET", "/me/invitations", "list-my-invitations"),
    route("GET", "/orgs/{org_id}/members", "list-members"),
    route("GET", "/orgs/{org_id}/members/{user_id}", "get-member"),
    route("PATCH", "/orgs/{org_id}/members/{user_id}", "update-member"),
    route(
        "DELETE",
        "/orgs/{org_id}/members/{user_id}",
        "remove-member",
    ),
    route(
        "POST",
        "/orgs/{org_id}/transfer-ownership",
        "transfer-ownership",
    ),
    route("GET", "/orgs/{org_id}/teams", "list-teams"),
    route("POST", "/orgs/{org_id}/teams", "create-team"),
    route("GET", "/orgs/{org_id}/teams/{team_id}", "get-team"),
    route("PATCH", "/orgs/{org_id}/teams/{team_id}", "rename-team"),
    route("DELETE", "/orgs/{org_id}/teams/{team_id}", "delete-team"),
    route(
        "GET",
        "/orgs/{org_id}/teams/{team_id}/members",
        "list-team-members",
    ),
    route(
        "PUT",
        "/orgs/{org_id}/teams/{team_id}/members/{user_id}",
        "add-team-member",
    ),
    route(
        "DELETE",
        "/orgs/{org_id}/teams/{team_id}/members/{user_id}",
        "remove-team-member",
    ),
    route("GET", "/orgs/{org_id}/audit-log", "list-audit-log"),
];

/// The functions that no HTTP route reaches: the table's stream feeds them. Tests hold the
/// binaries and the template's event sources to this list as they hold routes to `ROUTES`.
pub const STREAM_FUNCTIONS: &[&str] = &["publish-events"];
/// The functions that no HTTP route reaches: an EventBridge schedule invokes them. Tests hold
/// the binaries and the template's schedules to this list as they hold routes to `ROUTES`.
pub const SCHEDULED_FUNCTIONS: &[&str] = &["expire-invitations"];

impl Route {
    /// The path parameters, if `path` fits this route's template.
    pub fn match_path(&self, path: &str) -> Option<HashMap<String, String>> {
        let mut template = self.path.split('/');
        let mut actual = path.split('/');
        let mut params = HashMap::new();
        loop {
            match (template.next(), actual.next()) {
                (None, None) => return Some(params),
                (Some(t), Some(a)) if t.starts_with('{') && t.ends_with('}') && !a.is_empty() => {
                    params.insert(t[1..t.len() - 1].to_owned(), a.to_owned());
                }
                (Some(t), Some(a)) if t == a => {}
                _ => return None,
            }
        }
    }
}

/// The route for a method and path, with its path parameters; `None` when nothing matches.
pub fn find(method: &str, path: &str) -> Option<(&'static Route, HashMap<String, String>)> {
    ROUTES
        .iter()
        .filter(|r| r.method == method)
        .find_map(|r| r.match_path(path).map(|params| (r, params)))
}

/// Runs the handler of `function`, as its Lambda binary would.
pub async fn invoke(function: &str, app: &App, req: Request) -> Option<Response<Body>> {
    let request_id = orgs_shared::http::request_id(&req);
    let result = match function {
        "get-me" => me::get_me(app, req).await,
        "update-me" => me::update_me(app, req).await,
        "create-org" => orgs::create_org(app, req).await,
        "list-orgs" => orgs::list_orgs(app, req).await,
        "get-org" => orgs::get_org(app, req).await,
        "update-org" => orgs::update_org(app, req).await,
        "change-org-handle" => orgs::change_org_handle(app, req).await,
        "delete-org" => orgs::delete_org(app, req).await,
        "create-invitations" => invitations::create_invitations(app, req).await,
        "list-invitations" => invitations::list_invitations(app, req).await,
        "get-invitation" => invitations::get_invitation(app, req).await,
        "resend-invitation" => invitations::resend_invitation(app, req).await,
        "revoke-invitation" => invitations::revoke_invitation(app, req).await,
        "lookup-invitation" => invitee::lookup_invitation(app, req).await,
        "accept-invitation" => invitee::accept_invitation(app, req).await,
        "decline-invitation" => invitee::decline_invitation(app, req).await,
        "list-my-invitations" => invitee::list_my_invitations(app, req).await,
        "list-members" => members::list_members(app, req).await,
        "get-member" => members::get_member(app, req).await,
        "update-member" => members::update_member(app, req).await,
        "remove-member" => members::remove_member(app, req).await,
        "transfer-ownership" => members::transfer_ownership(app, req).await,
        "list-teams" => teams::list_teams(app, req).await,
        "create-team" => teams::create_team(app, req).await,
        "get-team" => teams::get_team(app, req).await,
        "rename-team" => teams::rename_team(app, req).await,
        "delete-team" => teams::delete_team(app, req).await,
        "list-team-members" => teams::list_team_members(app, req).await,
        "add-team-member" => teams::add_team_member(app, req).await,
        "remove-team-member" => teams::remove_team_member(app, req).await,
        "list-audit-log" => audit::list_audit_log(app, req).await,
        _ => return None,
    };
    Some(respond(&request_id, result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_templates_and_extracts_parameters() {
        let (route, params) = find("GET", "/orgs/org_1").unwrap();
        assert_eq!(route.function, "get-org");
        assert_eq!(params["org_id"], "org_1");
        assert_eq!(
            find("PUT", "/orgs/org_1/handle").unwrap().0.function,
            "change-org-handle"
        );
        assert_eq!(find("GET", "/orgs").unwrap().0.function, "list-orgs");
    }

    #[test]
    fn refuses_near_misses() {
        assert!(find("GET", "/orgs/").is_none());
        assert!(find("GET", "/orgs/a/b").is_none());
        assert!(find("POST", "/me").is_none());
        assert!(find("GET", "/nope").is_none());
    }

    #[test]
    fn each_function_serves_exactly_one_route() {
        let mut names: Vec<_> = ROUTES.iter().map(|r| r.function).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ROUTES.len());
    }
}
