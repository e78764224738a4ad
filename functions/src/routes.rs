//! Every route of the HTTP API, declared once: its method and path, the function (binary) that
//! serves it, the handler that function runs, and who may call it. The local server routes and
//! dispatches with this table; tests hold the SAM template, the OpenAPI document, the binaries
//! and the authorization matrix (tests/AUTHORIZATION.md) to it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use lambda_http::{Body, Request, Response};

use orgs_shared::app::App;
use orgs_shared::http::{ApiError, answer_in_time};

use crate::handlers::{
    audit, domains, invitations, invitee, join_requests, joining, me, members, orgs, teams,
};

/// Whether API Gateway's JWT authorizer guards the route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Jwt,
    Public,
}

/// Who a route is for. It decides the route's row of the authorization matrix, which
/// tests/tests/api/authz.rs runs against the stack for every kind of caller and renders as
/// tests/AUTHORIZATION.md; the handler enforces it, from the stored membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// Anyone, signed in or not: whoever holds what the body names.
    Anyone,
    /// Any signed-in caller.
    SignedIn,
    /// The invitee of the invitation the body's token names; any other caller gets 403.
    Invitee,
    /// The organization's active members; strangers and deactivated members get 404.
    Members,
    /// People whose verified address is at one of its verified `auto_join` or `suggest`
    /// domains; anyone else signed in gets 403, and its members (deactivated ones too) 409.
    Colleagues,
    /// The author of a pending join request to it; its members (deactivated ones too) get 409,
    /// as joining answers them, and anyone else signed in 404.
    Requester,
    /// Its active admins and owners; members get 403.
    Admins,
    /// Its active owners; members and admins get 403.
    Owners,
}

impl Who {
    pub const fn auth(self) -> Auth {
        match self {
            Who::Anyone => Auth::Public,
            _ => Auth::Jwt,
        }
    }
}

/// The future of a handler, boxed so that every route's handler has one type.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Result<Response<Body>, ApiError>> + Send + 'a>>;

/// A handler, as the route table holds it: `handlers::teams::get_team` and its kind.
pub type Handler = for<'a> fn(&'a App, Request) -> Answer<'a>;

#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub method: &'static str,
    /// With `{name}` for path parameters, as API Gateway writes them.
    pub path: &'static str,
    /// The binary (and so the Lambda function) that serves it: `src/bin/{function}.rs`, whose
    /// `main` runs `handler`.
    pub function: &'static str,
    pub auth: Auth,
    pub who: Who,
    pub handler: Handler,
}

/// `METHOD "path" => "function", handler, Who;` for each route.
macro_rules! routes {
    ($($method:ident $path:literal => $function:literal, $handler:path, $who:ident;)*) => {
        pub const ROUTES: &[Route] = &[$(
            Route {
                method: stringify!($method),
                path: $path,
                function: $function,
                auth: Who::$who.auth(),
                who: Who::$who,
                handler: |app, req| Box::pin($handler(app, req)),
            },
        )*];
    };
}

#[rustfmt::skip]
routes! {
    GET "/me" => "get-me", me::get_me, SignedIn;
    PATCH "/me" => "update-me", me::update_me, SignedIn;
    POST "/orgs" => "create-org", orgs::create_org, SignedIn;
    GET "/orgs" => "list-orgs", orgs::list_orgs, SignedIn;
    GET "/orgs/{org_id}" => "get-org", orgs::get_org, Members;
    PATCH "/orgs/{org_id}" => "update-org", orgs::update_org, Admins;
    PUT "/orgs/{org_id}/handle" => "change-org-handle", orgs::change_org_handle, Owners;
    DELETE "/orgs/{org_id}" => "delete-org", orgs::delete_org, Owners;
    POST "/orgs/{org_id}/invitations" => "create-invitations", invitations::create_invitations, Admins;
    GET "/orgs/{org_id}/invitations" => "list-invitations", invitations::list_invitations, Admins;
    GET "/orgs/{org_id}/invitations/{invitation_id}" => "get-invitation", invitations::get_invitation, Admins;
    POST "/orgs/{org_id}/invitations/{invitation_id}/resend" => "resend-invitation", invitations::resend_invitation, Admins;
    DELETE "/orgs/{org_id}/invitations/{invitation_id}" => "revoke-invitation", invitations::revoke_invitation, Admins;
    POST "/invitations/lookup" => "lookup-invitation", invitee::lookup_invitation, Anyone;
    POST "/invitations/accept" => "accept-invitation", invitee::accept_invitation, Invitee;
    POST "/invitations/decline" => "decline-invitation", invitee::decline_invitation, Invitee;
    GET "/me/invitations" => "list-my-invitations", invitee::list_my_invitations, SignedIn;
    GET "/me/suggestions" => "list-my-suggestions", joining::list_my_suggestions, SignedIn;
    GET "/orgs/{org_id}/members" => "list-members", members::list_members, Members;
    GET "/orgs/{org_id}/members/{user_id}" => "get-member", members::get_member, Members;
    PATCH "/orgs/{org_id}/members/{user_id}" => "update-member", members::update_member, Admins;
    DELETE "/orgs/{org_id}/members/{user_id}" => "remove-member", members::remove_member, Admins;
    POST "/orgs/{org_id}/transfer-ownership" => "transfer-ownership", members::transfer_ownership, Owners;
    GET "/orgs/{org_id}/teams" => "list-teams", teams::list_teams, Members;
    POST "/orgs/{org_id}/teams" => "create-team", teams::create_team, Admins;
    GET "/orgs/{org_id}/teams/{team_id}" => "get-team", teams::get_team, Members;
    PATCH "/orgs/{org_id}/teams/{team_id}" => "rename-team", teams::rename_team, Admins;
    DELETE "/orgs/{org_id}/teams/{team_id}" => "delete-team", teams::delete_team, Admins;
    GET "/orgs/{org_id}/teams/{team_id}/members" => "list-team-members", teams::list_team_members, Members;
    GET "/orgs/{org_id}/teams/{team_id}/invitations" => "list-team-invitations", teams::list_team_invitations, Admins;
    PUT "/orgs/{org_id}/teams/{team_id}/members/{user_id}" => "add-team-member", teams::add_team_member, Admins;
    DELETE "/orgs/{org_id}/teams/{team_id}/members/{user_id}" => "remove-team-member", teams::remove_team_member, Admins;
    GET "/orgs/{org_id}/audit-log" => "list-audit-log", audit::list_audit_log, Admins;
    POST "/orgs/{org_id}/domains" => "add-domain", domains::add_domain, Owners;
    GET "/orgs/{org_id}/domains" => "list-domains", domains::list_domains, Admins;
    GET "/orgs/{org_id}/domains/{domain}" => "get-domain", domains::get_domain, Admins;
    PATCH "/orgs/{org_id}/domains/{domain}" => "update-domain", domains::update_domain, Owners;
    DELETE "/orgs/{org_id}/domains/{domain}" => "remove-domain", domains::remove_domain, Owners;
    POST "/orgs/{org_id}/domains/{domain}/verify" => "verify-domain", domains::verify_domain, Owners;
    POST "/orgs/{org_id}/join" => "join-org", joining::join_org, Colleagues;
    DELETE "/orgs/{org_id}/join" => "withdraw-join-request", join_requests::withdraw_join_request, Requester;
    GET "/orgs/{org_id}/join-requests" => "list-join-requests", join_requests::list_join_requests, Admins;
    POST "/orgs/{org_id}/join-requests/{user_id}/approve" => "approve-join-request", join_requests::approve_join_request, Admins;
    POST "/orgs/{org_id}/join-requests/{user_id}/deny" => "deny-join-request", join_requests::deny_join_request, Admins;
}

/// The functions that no HTTP route reaches: the table's stream feeds them. Tests hold the
/// binaries and the template's event sources to this list as they hold routes to `ROUTES`.
pub const STREAM_FUNCTIONS: &[&str] = &["publish-events"];
/// The functions that no HTTP route reaches: an EventBridge schedule invokes them. Tests hold
/// the binaries and the template's schedules to this list as they hold routes to `ROUTES`.
pub const SCHEDULED_FUNCTIONS: &[&str] = &["expire-invitations"];
/// The functions that no HTTP route reaches: a rule on the default EventBridge bus invokes
/// them with SES's events. Tests hold the binaries and the template's rules to this list.
pub const SES_EVENT_FUNCTIONS: &[&str] = &["record-delivery"];
/// The functions that no HTTP route reaches: a Cognito user pool invokes them as its triggers.
/// Tests hold the binaries and the template's Cognito permissions to this list.
pub const COGNITO_TRIGGERS: &[&str] = &["token-claims"];

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

/// Runs the handler of `function`, as its Lambda binary would (within the request's time
/// budget); `None` if no route has it.
pub async fn invoke(function: &str, app: &App, req: Request) -> Option<Response<Body>> {
    let route = ROUTES.iter().find(|r| r.function == function)?;
    let limit = app.config.gateway_limit;
    Some(answer_in_time(limit, req, |req| (route.handler)(app, req)).await)
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

    /// The route table as data for tools outside Rust: the CDK app (infra/cdk) builds its routes
    /// from it, and its tests hold the stream and scheduled functions to it.
    fn exported() -> String {
        let auth = |auth: Auth| match auth {
            Auth::Jwt => "jwt",
            Auth::Public => "public",
        };
        let routes: Vec<_> = ROUTES
            .iter()
            .map(|r| {
                serde_json::json!({
                    "method": r.method,
                    "path": r.path,
                    "function": r.function,
                    "auth": auth(r.auth),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "//": "Generated from functions/src/routes.rs: UPDATE_ROUTES_JSON=1 cargo test --workspace --locked --lib routes",
            "routes": routes,
            "streamFunctions": STREAM_FUNCTIONS,
            "scheduledFunctions": SCHEDULED_FUNCTIONS,
            "sesEventFunctions": SES_EVENT_FUNCTIONS,
            "cognitoTriggers": COGNITO_TRIGGERS,
        });
        serde_json::to_string_pretty(&doc).unwrap() + "\n"
    }

    #[test]
    fn infra_routes_json_is_the_route_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/routes.json");
        if std::env::var_os("UPDATE_ROUTES_JSON").is_some() {
            std::fs::write(path, exported()).expect("writing infra/routes.json");
            return;
        }
        let stored = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            stored == exported(),
            "infra/routes.json must be the route table (UPDATE_ROUTES_JSON=1 cargo test \
             --workspace --locked --lib routes rewrites it)"
        );
    }

    #[test]
    fn each_function_serves_exactly_one_route() {
        let mut names: Vec<_> = ROUTES.iter().map(|r| r.function).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ROUTES.len());
    }
}
