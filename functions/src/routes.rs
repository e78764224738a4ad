//! The routes of the HTTP API: its method and path, the function (binary) that serves it, the
//! handler that function runs, and who may call it. Each is declared with its function in the
//! catalog (`crate::spec`); the local server routes and dispatches with them, and tests hold the
//! OpenAPI document and the authorization matrix (tests/AUTHORIZATION.md) to them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use lambda_http::{Body, Request, Response};

use std::sync::atomic::Ordering;

use orgs_shared::app::App;
use orgs_shared::domain::{Permission, Role};
use orgs_shared::http::{ApiError, answer_once};

use crate::access::{Gate, Needs};

use crate::spec::FUNCTIONS;

/// Whether API Gateway's JWT authorizer guards the route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Jwt,
    Public,
}

/// Who a route is for. It decides the route's row of the authorization matrix, which
/// tests/tests/api/authz.rs runs against the stack for every kind of caller and renders as
/// tests/AUTHORIZATION.md. For the routes of an organization's members it follows from what the
/// route needs (`Who::needing`), which its gate enforces; the others' handlers enforce theirs
/// from what the request names (a token, a join request, a domain).
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
    /// Its active admins and owners, and the maintainers of the team its path names; other
    /// members get 403.
    TeamManagers,
}

impl Who {
    /// Who a route is for that needs `permission` in the organization: its least role's
    /// members and up.
    pub const fn needing(permission: Permission) -> Who {
        match permission.least_role() {
            Role::Member => Who::Members,
            Role::Admin => Who::Admins,
            Role::Owner => Who::Owners,
        }
    }

    /// Who a route is for that needs `permission` in the organization, or held through a team
    /// role in the path's team: `needing`'s callers and the team's maintainers.
    pub const fn needing_in_team(permission: Permission) -> Who {
        match Who::needing(permission) {
            Who::Admins => Who::TeamManagers,
            // Only `teams:manage`, an admin's, is held through a team role today.
            other => other,
        }
    }

    pub const fn auth(self) -> Auth {
        match self {
            Who::Anyone => Auth::Public,
            _ => Auth::Jwt,
        }
    }
}

/// The future of a handler, boxed so that every route's handler has one type.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Result<Response<Body>, ApiError>> + Send + 'a>>;

/// A handler, as the route table holds it: `handlers::teams::get_team` and its kind, with the
/// gate of its route (which routes that need no permission in an organization ignore).
pub type Handler = for<'a> fn(&'a App, Request, Gate) -> Answer<'a>;

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
    /// What the caller needs in the organization of the path, for the routes of its members
    /// (`Who::Members`, `Admins`, `Owners`, which follow from it); checked through the gate the
    /// dispatch hands the handler.
    pub needs: Option<Needs>,
    pub handler: Handler,
    /// The handler's path, as the function's `main` names it (`src/bin/{function}.rs`).
    pub handler_path: &'static str,
}

/// Every route, in the order of the catalog (`crate::spec::FUNCTIONS`), where each is declared
/// with its function.
pub static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(|| {
    FUNCTIONS
        .iter()
        .filter_map(|f| f.route())
        .copied()
        .collect()
});

pub use crate::spec::{
    COGNITO_TRIGGERS, SCHEDULED_FUNCTIONS, SES_EVENT_FUNCTIONS, STREAM_FUNCTIONS,
};

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

/// Runs the handler of `function`, as its Lambda binary does (`serve`); `None` if no route has
/// it.
pub async fn invoke(function: &str, app: &App, req: Request) -> Option<Response<Body>> {
    let route = ROUTES.iter().find(|r| r.function == function)?;
    Some(serve(app, req, route.needs, route.handler).await)
}

/// How every function serves a request, in Lambda and in the local server alike: within the
/// request's time budget, with the gate of what its route needs; a handler of a route that
/// needs a permission and answers without having opened its gate is refused (500), so that no
/// route can skip the check its catalog entry declares.
pub async fn serve(
    app: &App,
    req: Request,
    needs: Option<Needs>,
    handler: Handler,
) -> Response<Body> {
    let limit = app.config.gateway_limit;
    answer_once(&app.store, limit, req, |req| async move {
        let (gate, opened) = Gate::new(needs);
        let answer = handler(app, req, gate).await;
        if needs.is_some() && answer.is_ok() && !opened.load(Ordering::Relaxed) {
            return Err(ApiError::Unguarded);
        }
        answer
    })
    .await
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
