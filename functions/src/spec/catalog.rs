//! The catalog: every function, its trigger, limits and grants. Adding an operation adds one
//! entry here (see `docs/contributing.md`, "Add an operation").

use super::{Function, Grant, Target, Trigger};
use crate::access::Needs;
use crate::handlers::{
    audit, domains, invitations, invitee, join_requests, joining, me, members, orgs, permissions,
    roles, sso, teams,
};
use crate::routes::{Auth, Route, Who};
use orgs_shared::domain::Permission;
use orgs_shared::store::Partition;

/// What an entry does not say.
const DEFAULTS: Function = Function {
    name: "",
    about: "",
    trigger: Trigger::Schedule,
    timeout_seconds: Function::DEFAULT_TIMEOUT_SECONDS,
    timeout_why: "",
    memory_mb: Function::DEFAULT_MEMORY_MB,
    grants: &[],
    unexercised: &[],
};

/// `"name": METHOD "path", needs Permission [or oneself Permission | or team maintainer], handler,
/// { fields }` for a route of an organization's members (the handler opens the gate of what it
/// needs; `or team maintainer`: a team role in the path's `{team_id}` that holds the permission
/// will do);
/// `"name": METHOD "path", Who, handler, { fields }` for any other route;
/// `"name": Trigger, { fields }` for any other function.
macro_rules! function {
    ($name:literal: $method:ident $path:literal, needs $permission:ident or team maintainer, $handler:path, { $($field:ident: $value:expr),* $(,)? }) => {
        function!(@gated $name, $method, $path, Who::needing_in_team(Permission::$permission), Needs {
            permission: Permission::$permission,
            on_oneself: None,
            or_else: None,
            in_team: true,
        }, $handler, { $($field: $value),* })
    };
    ($name:literal: $method:ident $path:literal, needs $permission:ident $(or oneself $own:ident)?, $handler:path, { $($field:ident: $value:expr),* $(,)? }) => {
        function!(@gated $name, $method, $path, Who::needing(Permission::$permission), Needs {
            permission: Permission::$permission,
            on_oneself: first_of!($(Some(Permission::$own),)? None),
            or_else: None,
            in_team: false,
        }, $handler, { $($field: $value),* })
    };
    ($name:literal: $method:ident $path:literal, needs any($permission:ident, $alternative:ident), $handler:path, { $($field:ident: $value:expr),* $(,)? }) => {
        function!(@gated $name, $method, $path, Who::needing(Permission::$permission), Needs {
            permission: Permission::$permission,
            on_oneself: None,
            or_else: Some(Permission::$alternative),
            in_team: false,
        }, $handler, { $($field: $value),* })
    };
    (@gated $name:literal, $method:ident, $path:literal, $who:expr, $needs:expr, $handler:path, { $($field:ident: $value:expr),* }) => {
        Function {
            name: $name,
            trigger: Trigger::Http(Route {
                method: stringify!($method),
                path: $path,
                function: $name,
                auth: Auth::Jwt,
                who: $who,
                needs: Some($needs),
                handler: |app, req, gate| Box::pin($handler(app, req, gate)),
                handler_path: stringify!($handler),
            }),
            $($field: $value,)*
            ..DEFAULTS
        }
    };
    ($name:literal: $method:ident $path:literal, $who:ident, $handler:path, { $($field:ident: $value:expr),* $(,)? }) => {
        Function {
            name: $name,
            trigger: Trigger::Http(Route {
                method: stringify!($method),
                path: $path,
                function: $name,
                auth: Who::$who.auth(),
                who: Who::$who,
                needs: None,
                handler: |app, req, _gate| Box::pin($handler(app, req)),
                handler_path: stringify!($handler),
            }),
            $($field: $value,)*
            ..DEFAULTS
        }
    };
    ($name:literal: $trigger:ident, { $($field:ident: $value:expr),* $(,)? }) => {
        Function { name: $name, trigger: Trigger::$trigger, $($field: $value,)* ..DEFAULTS }
    };
}

/// The first of its arguments.
macro_rules! first_of {
    ($first:expr $(, $rest:expr)*) => {
        $first
    };
}

/// `service Target: Action, ...` with optionally `; keys Partition, ...` (a `Partition` of the
/// store's key layout) and `; why "..."`.
macro_rules! grant {
    (cognito-idp $on:ident: $($action:ident),+ $(; why $why:literal)?) => {
        Grant {
            actions: &[$(concat!("cognito-idp:", stringify!($action))),+],
            on: Target::$on,
            keys: &[],
            why: concat!("" $(, $why)?),
        }
    };
    ($service:ident $on:ident: $($action:ident),+ $(; keys $($key:ident),+)? $(; why $why:literal)?) => {
        Grant {
            actions: &[$(concat!(stringify!($service), ":", stringify!($action))),+],
            on: Target::$on,
            keys: &[$($(Partition::$key.prefix()),+)?],
            why: concat!("" $(, $why)?),
        }
    };
}

/// SES v2 SendEmail, only from MailFrom (see `Target::MailFrom`).
const SENDS_MAIL: Grant = grant!(ses MailFrom: SendEmail;
    why "SES v2 SendEmail is authorised against the identity that verifies the From address (the address itself if it is verified as an email identity, else its domain identity), and against the configuration set the message uses: ours, which every email names. Only those ARNs, in this account and region, and only with MailFrom as the From address.");
/// An address on the suppression list is refused before anything is stored.
const CHECKS_SUPPRESSION: Grant = grant!(ses SuppressionList: GetSuppressedDestination;
    why "Whether an invitee's address is on the account's suppression list, before anything is stored. SES supports no resource or condition for this action.");

#[rustfmt::skip]
pub const FUNCTIONS: &[Function] = &[
    function!("get-me": GET "/me", SignedIn, me::get_me, {
        about: "the caller's profile, created from the claims on first use.",
        grants: &[
            grant!(dynamodb Table: GetItem, PutItem, UpdateItem),
            grant!(dynamodb Gsi1: Query;
                why "With CreateOrgOnSignUp, a first request looks for one membership of the caller before making their first organization."),
        ],
    }),
    function!("update-me": PATCH "/me", SignedIn, me::update_me, {
        about: "change the caller's handle or display name.",
        grants: &[
            grant!(dynamodb Table: GetItem, PutItem, UpdateItem, DeleteItem),
        ],
    }),
    function!("create-org": POST "/orgs", SignedIn, orgs::create_org, {
        about: "create an organization; the caller becomes its owner.",
        grants: &[
            grant!(dynamodb Table: GetItem, PutItem, UpdateItem;
                why "GetItem: the caller's profile, for the owner's address when the token states none (an access token)."),
        ],
    }),
    function!("list-orgs": GET "/orgs", SignedIn, orgs::list_orgs, {
        about: "the caller's organizations with the caller's role, paginated.",
        grants: &[
            grant!(dynamodb Gsi1: Query;
                why "Memberships by user live on gsi1; the base table is never queried."),
            grant!(dynamodb Table: BatchGetItem),
        ],
    }),
    function!("get-org": GET "/orgs/{org_id}", needs OrgRead, orgs::get_org, {
        about: "one organization the caller belongs to.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem),
        ],
    }),
    function!("update-org": PATCH "/orgs/{org_id}", needs any(OrgUpdate, BillingUpdate), orgs::update_org, {
        about: "edit the organization's profile (admins and owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, ConditionCheckItem),
        ],
    }),
    function!("change-org-handle": PUT "/orgs/{org_id}/handle", needs HandleUpdate, orgs::change_org_handle, {
        about: "rename; the old handle is freed atomically (owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem),
        ],
    }),
    function!("delete-org": DELETE "/orgs/{org_id}", needs OrgDelete, orgs::delete_org, {
        about: "delete the organization and everything in it (owners).",
        timeout_seconds: 30,
        timeout_why: "Large organizations are deleted in batches (members, invitations, teams) after the tombstone transaction, so this one gets more time than the default.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, GetItem, Query, PutItem, UpdateItem, DeleteItem, BatchWriteItem;
                why "GetItem: the single sign-on connection and the providers' list, which go first (one transaction removes the connection)."),
            grant!(cognito-idp UserPool: DeleteIdentityProvider, DescribeUserPoolClient, UpdateUserPoolClient;
                why "An organization with single sign-on: its identity provider leaves the app client's list and the user pool before the deletion begins."),
        ],
    }),
    function!("create-invitations": POST "/orgs/{org_id}/invitations", needs MembersInvite, invitations::create_invitations, {
        about: "invite up to ten people by email or handle (admins and owners).",
        timeout_seconds: 30,
        timeout_why: "Up to ten invitations, each its own transaction and email, one after the other. It answers within API Gateway's 30 s whatever its dependencies do: the request's time budget (shared/src/budget.rs) ends every call and every step before the deadline.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, GetItem, PutItem, UpdateItem, ConditionCheckItem),
            SENDS_MAIL,
            CHECKS_SUPPRESSION,
        ],
    }),
    function!("list-invitations": GET "/orgs/{org_id}/invitations", needs InvitationsManage, invitations::list_invitations, {
        about: "the organization's invitations, by status, paginated.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, Query),
        ],
    }),
    function!("get-invitation": GET "/orgs/{org_id}/invitations/{invitation_id}", needs InvitationsManage, invitations::get_invitation, {
        about: "one invitation (admins and owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem),
        ],
    }),
    function!("resend-invitation": POST "/orgs/{org_id}/invitations/{invitation_id}/resend", needs InvitationsManage, invitations::resend_invitation, {
        about: "new link and lifetime; the old link dies.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, GetItem, PutItem, UpdateItem, ConditionCheckItem;
                why "GetItem: whether anyone holds the invited address, which decides the email (the notification or the welcome)."),
            SENDS_MAIL,
            CHECKS_SUPPRESSION,
        ],
    }),
    function!("revoke-invitation": DELETE "/orgs/{org_id}/invitations/{invitation_id}", needs InvitationsManage, invitations::revoke_invitation, {
        about: "revoke a pending invitation.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem),
        ],
    }),
    function!("lookup-invitation": POST "/invitations/lookup", Anyone, invitee::lookup_invitation, {
        about: "preview the invitation a token names; public.",
        grants: &[
            grant!(dynamodb Table: GetItem, BatchGetItem;
                keys InvitationToken, Org, User;
                why "Public: the token's item, the invitation and its organization, the inviter's profile; nothing else of the table."),
        ],
    }),
    function!("accept-invitation": POST "/invitations/accept", Invitee, invitee::accept_invitation, {
        about: "the signed-in invitee joins the organization.",
        grants: &[
            grant!(dynamodb Table: GetItem, BatchGetItem, PutItem, UpdateItem, DeleteItem),
        ],
    }),
    function!("decline-invitation": POST "/invitations/decline", Invitee, invitee::decline_invitation, {
        about: "the signed-in invitee declines.",
        grants: &[
            grant!(dynamodb Table: GetItem, BatchGetItem, PutItem, UpdateItem, DeleteItem),
        ],
    }),
    function!("list-my-invitations": GET "/me/invitations", SignedIn, invitee::list_my_invitations, {
        about: "pending invitations addressed to the caller's verified email.",
        grants: &[
            grant!(dynamodb Gsi1: Query;
                why "Invitations by invitee email live on gsi1; the base table is never queried."),
            grant!(dynamodb Table: GetItem, BatchGetItem;
                why "GetItem: the caller's profile, for their address when the token states none (an access token); BatchGetItem: the invitations' organizations."),
        ],
    }),
    function!("list-my-suggestions": GET "/me/suggestions", SignedIn, joining::list_my_suggestions, {
        about: "the organization the caller's verified email domain suggests.",
        grants: &[
            grant!(dynamodb Table: GetItem, BatchGetItem;
                why "GetItem: the profile (an access token's address) and the domain's claim marker; BatchGetItem: the organization, the caller's membership and the domain."),
        ],
    }),
    function!("list-members": GET "/orgs/{org_id}/members", needs MembersRead, members::list_members, {
        about: "the organization's members, by role and status, paginated.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, Query),
        ],
    }),
    function!("get-member": GET "/orgs/{org_id}/members/{user_id}", needs MembersRead, members::get_member, {
        about: "one member of the organization, with their profile.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem),
        ],
    }),
    function!("list-permissions": GET "/permissions", SignedIn, permissions::list_permissions, {
        about: "the permission catalog: the service's and the application's, with the system roles that hold each.",
    }),
    function!("get-org-permissions": GET "/orgs/{org_id}/permissions", needs OrgRead, permissions::get_org_permissions, {
        about: "what the caller (or, with members:read, another member) may do in the organization.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem),
        ],
    }),
    function!("list-roles": GET "/orgs/{org_id}/roles", needs OrgRead, roles::list_roles, {
        about: "the organization's roles: the system roles, then its own, each with its permissions.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, Query;
                why "BatchGetItem: the access check; Query: the ROLE# items of the organization's partition."),
        ],
    }),
    function!("create-role": POST "/orgs/{org_id}/roles", needs RolesManage, roles::create_role, {
        about: "create a custom role, granting no permission the caller lacks.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, ConditionCheckItem;
                why "BatchGetItem: the access check; one transaction puts the role, counts it on the organization item (the limit's condition), checks the caller's role and writes the audit entry and event record."),
        ],
    }),
    function!("get-role": GET "/orgs/{org_id}/roles/{role}", needs OrgRead, roles::get_role, {
        about: "one role, system or custom, with its permissions.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem;
                why "One BatchGetItem: the access check and the role."),
        ],
    }),
    function!("update-role": PATCH "/orgs/{org_id}/roles/{role}", needs RolesManage, roles::update_role, {
        about: "change a custom role's name, description or permissions; its holders have them on their next request.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, ConditionCheckItem;
                why "BatchGetItem: the access check and the role; one transaction updates it (unchanged since read), checks the caller's role and writes the audit entry and event record."),
        ],
    }),
    function!("delete-role": DELETE "/orgs/{org_id}/roles/{role}", needs RolesManage, roles::delete_role, {
        about: "delete a custom role that nobody holds.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem;
                why "BatchGetItem: the access check and the role; one transaction deletes it (held by nobody), uncounts it, checks the caller's role and writes the audit entry and event record."),
        ],
    }),
    function!("get-sso": GET "/orgs/{org_id}/sso", needs SsoManage, sso::get_sso, {
        about: "the organization's single sign-on connection, never its secret (owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem;
                why "One BatchGetItem: the access check and the connection."),
        ],
    }),
    function!("put-sso": PUT "/orgs/{org_id}/sso", needs SsoManage, sso::put_sso, {
        about: "connect or reconnect the organization's SAML or OIDC identity provider (owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, Query, GetItem, PutItem, UpdateItem, ConditionCheckItem;
                why "BatchGetItem: the access check, the connection, its default role and teams; Query: the verified domains; one transaction puts the connection, marks the organization item, lists the provider and writes the audit entry and event record; GetItem and UpdateItem: the providers' list, read around bringing the app client in step."),
            grant!(cognito-idp UserPool: CreateIdentityProvider, UpdateIdentityProvider, DescribeIdentityProvider, DescribeUserPoolClient, UpdateUserPoolClient;
                why "The organization's identity provider in the user pool (DescribeIdentityProvider: the OIDC secret Cognito holds, when a change leaves it out), and the app client's list of providers, which UpdateUserPoolClient replaces with all of the client's settings as read."),
        ],
    }),
    function!("delete-sso": DELETE "/orgs/{org_id}/sso", needs SsoManage, sso::delete_sso, {
        about: "disconnect the organization's identity provider: out of the app client, the user pool and the table (owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, GetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem;
                why "BatchGetItem: the access check and the connection; GetItem and UpdateItem: the providers' list; one transaction deletes the connection, unmarks the organization item, unlists the provider and writes the audit entry and event record."),
            grant!(cognito-idp UserPool: DeleteIdentityProvider, DescribeUserPoolClient, UpdateUserPoolClient;
                why "The provider leaves the app client's list (UpdateUserPoolClient with all of the client's settings as read), then the user pool."),
        ],
    }),
    function!("discover-sso": GET "/sso/discover", Anyone, sso::discover_sso, {
        about: "whether an address signs in through an organization's identity provider, and its name for Cognito's hosted sign-in; nothing else (public).",
        grants: &[
            grant!(dynamodb Table: GetItem;
                keys DomainClaim, Org;
                why "Two reads: the claim of the address's domain, then its organization's item."),
        ],
    }),
    function!("update-member": PATCH "/orgs/{org_id}/members/{user_id}", needs MembersUpdate or oneself OrgRead, members::update_member, {
        about: "change a member's role or status (admins and owners, within the role rules).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, ConditionCheckItem),
        ],
    }),
    function!("remove-member": DELETE "/orgs/{org_id}/members/{user_id}", needs MembersRemove or oneself OrgRead, members::remove_member, {
        about: "remove a member (admins and owners); on oneself, leave.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, GetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem;
                why "GetItem: the member again, when a team joined meanwhile refused the removal, which then takes that team along."),
        ],
    }),
    function!("transfer-ownership": POST "/orgs/{org_id}/transfer-ownership", needs OwnershipTransfer, members::transfer_ownership, {
        about: "an active member becomes owner, the caller admin, atomically (owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem),
        ],
    }),
    function!("list-teams": GET "/orgs/{org_id}/teams", needs TeamsRead, teams::list_teams, {
        about: "the organization's teams, paginated.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, Query),
        ],
    }),
    function!("create-team": POST "/orgs/{org_id}/teams", needs TeamsManage, teams::create_team, {
        about: "create a team with a name unique in the organization (admins and owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, ConditionCheckItem),
        ],
    }),
    function!("get-team": GET "/orgs/{org_id}/teams/{team_id}", needs TeamsRead, teams::get_team, {
        about: "one team of the organization.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem),
        ],
    }),
    function!("rename-team": PATCH "/orgs/{org_id}/teams/{team_id}", needs TeamsManage, teams::rename_team, {
        about: "rename a team; the old name is freed atomically (admins and owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem),
        ],
    }),
    function!("delete-team": DELETE "/orgs/{org_id}/teams/{team_id}", needs TeamsManage, teams::delete_team, {
        about: "delete a team and take every member out of it (admins and owners).",
        timeout_seconds: 30,
        timeout_why: "Members leave the team in batches, one transaction per batch, after the transaction that marks it deleting, so this one gets more time than the default.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, GetItem, Query, PutItem, UpdateItem, DeleteItem),
        ],
    }),
    function!("list-team-members": GET "/orgs/{org_id}/teams/{team_id}/members", needs TeamsRead, teams::list_team_members, {
        about: "the members of a team, paginated.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, Query),
        ],
    }),
    function!("list-team-invitations": GET "/orgs/{org_id}/teams/{team_id}/invitations", needs InvitationsManage, teams::list_team_invitations, {
        about: "the pending invitations that name a team, paginated (admins and owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, Query),
        ],
    }),
    function!("add-team-member": PUT "/orgs/{org_id}/teams/{team_id}/members/{user_id}", needs TeamsManage or team maintainer, teams::add_team_member, {
        about: "put an active member in a team, with a team role; idempotent (admins, owners and the team's maintainers).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, GetItem, PutItem, UpdateItem, ConditionCheckItem;
                why "GetItem: the caller's team role, for a member whose organization role does not manage teams."),
        ],
    }),
    function!("update-team-member": PATCH "/orgs/{org_id}/teams/{team_id}/members/{user_id}", needs TeamsManage or team maintainer, teams::update_team_member, {
        about: "change a team member's team role (admins, owners and the team's maintainers).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, GetItem, PutItem, UpdateItem, ConditionCheckItem;
                why "GetItem: the caller's team role, for a member whose organization role does not manage teams."),
        ],
    }),
    function!("remove-team-member": DELETE "/orgs/{org_id}/teams/{team_id}/members/{user_id}", needs TeamsManage or team maintainer, teams::remove_team_member, {
        about: "take a member out of a team (admins, owners and the team's maintainers).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, GetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem;
                why "GetItem: the caller's team role, for a member whose organization role does not manage teams."),
        ],
    }),
    function!("list-audit-log": GET "/orgs/{org_id}/audit-log", needs AuditRead, audit::list_audit_log, {
        about: "the organization's audit log, newest first (admins and owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, Query;
                why "BatchGetItem: the access check (organization + caller's membership); Query: the AUDIT#ORG#{org_id} partition of the base table."),
        ],
    }),
    function!("add-domain": POST "/orgs/{org_id}/domains", needs DomainsManage, domains::add_domain, {
        about: "add an email domain and get the TXT record that proves it (owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, ConditionCheckItem;
                why "BatchGetItem: the access check; one transaction puts the domain, counts it on the organization item (the limit's condition) and writes the audit entry and event record."),
        ],
    }),
    function!("list-domains": GET "/orgs/{org_id}/domains", needs DomainsRead, domains::list_domains, {
        about: "the organization's email domains (admins and owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, Query;
                why "BatchGetItem: the access check; Query: the DOMAIN# items of the organization's partition."),
        ],
    }),
    function!("get-domain": GET "/orgs/{org_id}/domains/{domain}", needs DomainsRead, domains::get_domain, {
        about: "one email domain and its TXT record (admins and owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem;
                why "One BatchGetItem: the access check and the domain."),
        ],
    }),
    function!("update-domain": PATCH "/orgs/{org_id}/domains/{domain}", needs DomainsManage, domains::update_domain, {
        about: "set the domain's enrollment policy (owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, ConditionCheckItem;
                why "BatchGetItem: the access check and the domain; one transaction updates the domain, checks the organization is live, and writes the audit entry and event record."),
        ],
    }),
    function!("remove-domain": DELETE "/orgs/{org_id}/domains/{domain}", needs DomainsManage, domains::remove_domain, {
        about: "remove an email domain (owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, GetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem;
                why "BatchGetItem: the access check and the domain; one transaction deletes it, uncounts it (and takes it out of the organization's single sign-on domains) and writes the audit entry and event record; GetItem: the organization's single sign-on after it."),
            grant!(cognito-idp UserPool: UpdateIdentityProvider;
                why "An organization with single sign-on: its identity provider's identifiers become its verified domains as they are now."),
        ],
    }),
    function!("verify-domain": POST "/orgs/{org_id}/domains/{domain}/verify", needs DomainsManage, domains::verify_domain, {
        about: "look the TXT record up and mark the domain verified (owners).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, ConditionCheckItem;
                why "BatchGetItem: the access check and the domain; after the DNS lookup, one transaction puts the claim marker (held by no other organization), updates the domain, adds it to the live organization's single sign-on domains, and writes the audit entry and event record."),
            grant!(dynamodb Table: GetItem;
                why "The organization's single sign-on after the verification."),
            grant!(cognito-idp UserPool: UpdateIdentityProvider;
                why "An organization with single sign-on: its identity provider's identifiers become its verified domains as they are now."),
        ],
    }),
    function!("join-org": POST "/orgs/{org_id}/join", Colleagues, joining::join_org, {
        about: "join through a verified email domain, at once (auto_join) or by asking (suggest).",
        grants: &[
            grant!(dynamodb Table: GetItem, BatchGetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem;
                why "GetItem: the profile; BatchGetItem: the organization, the caller's membership, the domain and their join request; one transaction puts the membership (or the request), takes a seat on the org item and a tally, checks the domain's policy, deletes a request the joining ends, and writes the audit entry and event record."),
        ],
    }),
    function!("withdraw-join-request": DELETE "/orgs/{org_id}/join", Requester, join_requests::withdraw_join_request, {
        about: "withdraw one's own pending join request.",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, DeleteItem;
                why "BatchGetItem: the organization and the caller's request; one transaction deletes the request, moves a tally and the person's count, and writes the audit entry and event record."),
        ],
    }),
    function!("list-join-requests": GET "/orgs/{org_id}/join-requests", needs JoinRequestsManage, join_requests::list_join_requests, {
        about: "the organization's pending join requests (admins).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, Query;
                why "BatchGetItem: the organization and the caller's membership; Query: the requests."),
        ],
    }),
    function!("get-join-request": GET "/orgs/{org_id}/join-requests/{user_id}", needs JoinRequestsManage, join_requests::get_join_request, {
        about: "one person's join request, pending or denied (admins).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem),
        ],
    }),
    function!("approve-join-request": POST "/orgs/{org_id}/join-requests/{user_id}/approve", needs JoinRequestsManage, join_requests::approve_join_request, {
        about: "make the requester a member (admins).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem;
                why "BatchGetItem: the organization, the caller's membership and the request; one transaction puts the membership, takes a seat, deletes the request, moves the counts, and writes the audit entries and event records."),
        ],
    }),
    function!("deny-join-request": POST "/orgs/{org_id}/join-requests/{user_id}/deny", needs JoinRequestsManage, join_requests::deny_join_request, {
        about: "deny a join request (admins).",
        grants: &[
            grant!(dynamodb Table: BatchGetItem, PutItem, UpdateItem, ConditionCheckItem;
                why "BatchGetItem: the organization, the caller's membership and the request; one transaction marks it denied, moves the counts, and writes the audit entry and event record."),
        ],
    }),
    function!("publish-events": Stream, {
        about: "Publishes the event records from the table's stream to EventBridge (no HTTP route).",
        timeout_seconds: 60,
        timeout_why: "Retries inside one call back off for a few seconds while EventBridge is unavailable.",
        grants: &[
            grant!(events EventBus: PutEvents),
            grant!(dynamodb Stream: DescribeStream, GetRecords, GetShardIterator;
                why "Reading the table's stream; nothing else of the table."),
            grant!(dynamodb Any: ListStreams),
            grant!(sqs DeadLetterQueue: SendMessage;
                why "Malformed event records, and those EventBridge refuses for good, go here instead of being dropped."),
        ],
        unexercised: &[(
            "dynamodb:ListStreams",
            "Lambda's event source mapping lists the table's streams; the local feed is handed the stream's ARN",
        )],
    }),
    function!("expire-invitations": Schedule, {
        about: "Scheduled - marks pending invitations past their deadline expired (audit entry, event); finishes abandoned org deletions; checks verified domains' TXT records again.",
        timeout_seconds: 300,
        timeout_why: "Stops taking work 2 s before this; the next run carries on. At ~10 ms a transaction and four shards side by side, 300 s is room for about 100,000 lapses in one run.",
        grants: &[
            grant!(dynamodb Gsi2: Query;
                why "Due invitations, abandoned deletions and domains due for a check are read from gsi2 (pending invitations by deadline, deletions by start, claims by last check); never a Scan."),
            grant!(dynamodb Table: UpdateItem, DeleteItem, PutItem, Query, BatchWriteItem, BatchGetItem, GetItem;
                why "One transaction per invitation: update it, delete its pending marker, TTL its token, update the org's count, put the audit entry and the event record. Finishing an abandoned deletion: Query its partition, BatchWriteItem deletes. A domain check: BatchGetItem its domain items; update its claim, or unverify it (update the domain, delete the claim, take it out of the live org's single sign-on domains, audit, event). GetItem: the identity providers' list, and an organization's single sign-on after it lost a domain."),
            grant!(cognito-idp UserPool: UpdateIdentityProvider, DescribeUserPoolClient, UpdateUserPoolClient;
                why "Single sign-on: the app client's list of providers brought in step when a function that changed it failed to; an organization's provider's identifiers after it lost a domain."),
        ],
    }),
    function!("record-delivery": SesEvents, {
        about: "Records SES's delivery events on the invitation (no HTTP route); a bounce or complaint also writes an audit entry and an event.",
        grants: &[
            grant!(dynamodb Table: GetItem, UpdateItem, PutItem;
                keys Org, Audit, Event;
                why "Read the invitation; one transaction updates it (on the condition that the report is news) and, for a bounce or complaint, puts the audit entry and the event record."),
            grant!(sqs DeliveryDeadLetterQueue: SendMessage;
                why "Lambda sends a report whose recording failed to the on-failure destination with the function's role."),
        ],
        unexercised: &[(
            "sqs:SendMessage",
            "Lambda itself sends a failed invocation's event to the on-failure destination, with this role; the code never does",
        )],
    }),
    function!("token-claims": CognitoTrigger, {
        about: "Cognito pre-token-generation trigger (event version 2) - puts the person's organizations in their ID and access tokens, and their email in the access token.",
        timeout_seconds: 5,
        timeout_why: "Cognito waits 5 s for the trigger, cold start included, then refuses the sign-in; the function answers or fails within one 4 s deadline (TOKEN_CLAIMS_DEADLINE).",
        grants: &[
            grant!(dynamodb Gsi1: Query;
                keys User;
                why "The person's active memberships on gsi1, then the picked organizations' items for their handles."),
            grant!(dynamodb Table: BatchGetItem;
                keys Org),
            grant!(dynamodb Table: GetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem;
                keys Org, User, DomainClaim, KnownAddress, Audit, Event;
                why "A first sign-in through an organization's identity provider (single sign-on): GetItem the claim of the person's domain; one transaction puts the membership, its email marker and team rows, takes a seat and a tally, counts a custom role's holders, adds the known address, checks the domain and the connection, ends a pending join request of theirs, and writes the audit entry and event record."),
        ],
        unexercised: &[(
            "dynamodb:DeleteItem",
            "Only a person with a join request pending ends it by a first sign-in through single sign-on, which no test sets up: a federated user is provisioned at the sign-in that could have filed it",
        )],
    }),
    function!("create-first-org": CognitoPostConfirmation, {
        about: "Cognito Post Confirmation trigger - with CreateOrgOnSignUp, makes a person who confirms their sign-up an organization of their own, once.",
        timeout_seconds: 5,
        timeout_why: "Cognito waits 5 s for the trigger, cold start included; the function's own SDK timeouts end a call within 3.5 s, and a failed invocation is tried again (the organization is made once).",
        grants: &[
            grant!(dynamodb Table: PutItem, UpdateItem;
                keys User, Handle, Org, KnownAddress, Audit, Event;
                why "One transaction per handle tried: put the first-organization marker (absent), the handle marker, the organization, its owner, first team and tallies, the audit entry and event record; update the owned-organizations counter and the known address."),
        ],
    }),
];
