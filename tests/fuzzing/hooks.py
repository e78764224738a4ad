"""Schemathesis hooks for the orgs fuzzer (loaded through SCHEMATHESIS_HOOKS by tests/fuzz).

- Aim: most requests name the fixture's real organization, invitations, teams and people, so
  that they reach the handlers' rules instead of stopping at 404. Which generated values are
  replaced depends only on the values themselves, so a failure reproduces. A valid
  `Idempotency-Key` gets a fresh value, so that generated keys never meet.
- Rebuild: a successful request that destroys part of the fixture (deleting the organization,
  removing or changing a member, a transfer, revoking the invitation, ...) gets a fresh
  organization built for the requests after it.
- Check `refused_request_changed_nothing`: every answer of 400 or more must leave the stored data
  as it was. Each request's writes are what the table's stream recorded between just before it
  was sent and just after its answer (stack.TableWrites), less an `Idempotency-Key`'s record.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
import zlib

import schemathesis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stack import (  # noqa: E402
    Api,
    TableWrites,
    build_fixture,
    describe_writes,
    is_delivery_report,
    is_idempotency_record,
    load_context,
    save_context,
    token_of,
)

CONTEXT = load_context()
API = Api(CONTEXT["base"], CONTEXT["tokens"])
WRITES = TableWrites(CONTEXT["aws_endpoint"], CONTEXT["table"])

# Out of ten generated values, how many are replaced by a real one.
REAL_SHARE = 8


class State:
    stale = False
    # id(response) -> the changes a refused request made.
    changes: dict[int, list[str]] = {}
    rebuilds = 0


def fixture() -> dict:
    return CONTEXT["fixture"]


def choose(generated, choices: list, share: int = REAL_SHARE):
    """A real value for most generated ones, picked by the generated value itself; `None` to
    keep the generated value."""
    digest = zlib.crc32(repr(generated).encode())
    if digest % 10 >= share:
        return None
    return choices[(digest // 10) % len(choices)]


def real_path_parameter(name: str, generated):
    if not isinstance(generated, str) or not generated:
        return None
    fx = fixture()
    choices = {
        "org_id": [fx["org_id"]],
        "invitation_id": [fx["invitation_id"], fx["invitation_id"], fx["accepted_invitation_id"]],
        "team_id": fx["team_ids"],
        "user_id": fx["user_ids"],
    }.get(name)
    return choose(generated, choices) if choices else None


def aim(case) -> None:
    """Points the case at the fixture's real ids, tokens and handle. Not in the stateful phase,
    whose requests take their ids from earlier answers (links) on purpose."""
    if case.meta is not None and case.meta.phase.name == "stateful":
        return
    fx = fixture()
    for name, generated in list((case.path_parameters or {}).items()):
        real = real_path_parameter(name, generated)
        if real is not None:
            case.path_parameters[name] = real
    route = (case.method.upper(), case.operation.path)
    query = case.query if isinstance(case.query, dict) else None
    if query is not None:
        if route == ("DELETE", "/orgs/{org_id}") and isinstance(query.get("confirm"), str):
            # Not too often: a deletion that works costs a rebuild.
            real = choose(query["confirm"], [fx["handle"]], share=3)
            if real is not None:
                query["confirm"] = real
        if isinstance(query.get("actor"), str):
            real = choose(query["actor"], fx["user_ids"])
            if real is not None:
                query["actor"] = real
    body = case.body if isinstance(case.body, dict) else None
    if body is None:
        return
    if isinstance(body.get("token"), str):
        real = choose(body["token"], [fx["invitation_token"]])
        if real is not None:
            body["token"] = real
    if route == ("POST", "/orgs/{org_id}/transfer-ownership") and isinstance(body.get("user_id"), str):
        real = choose(body["user_id"], fx["user_ids"])
        if real is not None:
            body["user_id"] = real
    invitees = body.get("invitations")
    for invitee in invitees if isinstance(invitees, list) else []:
        if isinstance(invitee, dict) and isinstance(invitee.get("teams"), list):
            invitee["teams"] = [real_team(t, fx) for t in invitee["teams"]]
    # An approval's teams with their team roles.
    if isinstance(body.get("teams"), list):
        body["teams"] = [real_team(t, fx) for t in body["teams"]]


def real_team(team, fx):
    """A team as a body names it (an id, or `{"team_id", "role"}`), mostly one of the fixture's."""
    if isinstance(team, str):
        return choose(team, fx["team_ids"]) or team
    if isinstance(team, dict) and isinstance(team.get("team_id"), str):
        team["team_id"] = choose(team["team_id"], fx["team_ids"]) or team["team_id"]
    return team


def rebuild() -> None:
    fx = build_fixture(API, fixture()["serial"] + 1)
    CONTEXT["fixture"] = fx
    save_context(CONTEXT)
    State.rebuilds += 1
    State.stale = False


# Successful requests after which the fixture no longer offers what the next requests need.
DESTRUCTIVE = {
    ("DELETE", "/orgs/{org_id}"),
    ("PATCH", "/orgs/{org_id}/members/{user_id}"),
    ("DELETE", "/orgs/{org_id}/members/{user_id}"),
    ("POST", "/orgs/{org_id}/transfer-ownership"),
    ("DELETE", "/orgs/{org_id}/invitations/{invitation_id}"),
    ("POST", "/invitations/accept"),
    ("POST", "/invitations/decline"),
    ("DELETE", "/orgs/{org_id}/teams/{team_id}"),
    ("DELETE", "/orgs/{org_id}/teams/{team_id}/members/{user_id}"),
    ("DELETE", "/orgs/{org_id}/domains/{domain}"),
    ("PATCH", "/orgs/{org_id}/roles/{role}"),
    ("DELETE", "/orgs/{org_id}/roles/{role}"),
}


VALID_IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,255}")


def fresh_idempotency_key(case) -> None:
    """Gives a valid generated `Idempotency-Key` a value of its own: generated keys repeat
    (`"0"`, `"a"`), and a key seen before with another request is a fair 422, or a replay of an
    answer about a fixture since rebuilt. An invalid one is kept, for its 400."""
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str):
            if VALID_IDEMPOTENCY_KEY.fullmatch(value):
                headers[name] = str(uuid.uuid4())


@schemathesis.hook
def before_call(context, case, kwargs):
    if State.stale:
        rebuild()
    aim(case)
    fresh_idempotency_key(case)
    # Whatever was written before this request is not its doing.
    WRITES.drain()


@schemathesis.hook
def after_call(context, case, response):
    route = (case.method.upper(), case.operation.path)
    # SES's reports on emails of earlier requests land whenever they arrive; they are not this
    # request's doing. A key's record is the request's bookkeeping, not data it changed.
    writes = [
        w for w in WRITES.drain() if not is_delivery_report(w) and not is_idempotency_record(w)
    ]
    if response.status_code >= 400:
        changes = describe_writes(writes)
        if changes:
            State.changes[id(response)] = changes
        return
    if not 200 <= response.status_code < 300:
        return
    fx = fixture()
    if route in DESTRUCTIVE and case.path_parameters.get("org_id", fx["org_id"]) == fx["org_id"]:
        State.stale = True
    elif route == ("PUT", "/orgs/{org_id}/handle") and case.path_parameters.get("org_id") == fx["org_id"]:
        fx["handle"] = response.json()["handle"]
        save_context(CONTEXT)
    elif route == ("POST", "/orgs/{org_id}/invitations/{invitation_id}/resend") and (
        case.path_parameters.get("invitation_id") == fx["invitation_id"]
    ):
        fx["invitation_token"] = token_of(response.json()["invite_url"])
        save_context(CONTEXT)


# Refusals of schema-valid input that depend on what is stored or on who asks, which no schema
# can say, as (field, error code); the document names each. A "schema-valid request rejected"
# failure is dropped only when every field the 400 names is one of these.
ACCEPTED_REFUSALS = [
    # A cursor is opaque: only the listing knows which strings it gave out.
    (r"cursor", "invalid_query"),
    # Reserved words (`admin`, `www`, ...), after lowercasing.
    (r"(.*\.)?handle", "reserved_handle"),
    # Ids of teams that the organization does not have.
    (r"invitations\[\d+\]\.teams\[\d+\]", "invalid_team"),
    (r"invitations\[\d+\]\.teams", "unknown_team"),
    # The same for the teams an approved join request's new member joins.
    (r"team_ids\[\d+\]", "invalid_team"),
    (r"team_ids", "unknown_team"),
    (r"teams\[\d+\]", "invalid_team"),
    # An admin inviting an owner; only owners invite owners.
    (r"invitations\[\d+\]\.role", "role_too_high"),
    # A role's key has the pattern of any role, but only the organization's roles exist: a key
    # it does not have, or one of its roles meant for the other scope (members or teams).
    (r"(.*\.)?role", "unknown_role"),
    (r"(.*\.)?role", "wrong_role_scope"),
    # A team role's key has a role key's shape, which `owner` and `admin` have too.
    (r"(.*\.)?role", "invalid_team_role"),
    # A new role's key may not be a built-in role's; its permissions must be in the catalog
    # (the service's and the deployment's, which a pattern cannot list); its name is trimmed.
    (r"key", "reserved_role_key"),
    (r"permissions\[\d+\]", "unknown_permission"),
    (r"name", "invalid_name"),
    # Ownership goes to a member.
    (r"user_id", "not_a_member"),
    # Deleting an organization takes its current handle.
    (r"confirm", "confirmation_mismatch"),
    # An invitation's page must be on the deployment's allowlist of origins, and have a host and
    # no fragment, which `format: uri` does not say.
    (r"invitations\[\d+\]\.redirect_url", "origin_not_allowed"),
    (r"invitations\[\d+\]\.redirect_url", "invalid_url"),
    # Public email providers and the service's own domains are a configured list; a domain
    # whose last label is all digits (an IP address) is none, which the pattern does not say.
    (r"domain", "public_email_provider"),
    (r"domain", "service_domain"),
    # Only `auto_join` takes a default role; the schema leaves the pairing to the description.
    (r"default_role", "not_auto_join"),
    (r"domain", "invalid_domain"),
    # Single sign-on: exactly one of `saml` and `oidc`, and SAML takes a URL or a document
    # (the schema cannot pair them); URLs are https; a document is an EntityDescriptor's XML;
    # client ids and secrets are visible ASCII; scopes include openid and no quotes; attribute
    # names hold no control character; a new OIDC client needs its secret.
    (r"saml(\..*)?", "invalid_protocol"),
    (r"saml(\..*)?", "invalid_metadata"),
    (r"saml\.metadata_url|oidc\.issuer", "invalid_url"),
    (r"oidc\.client_(id|secret)", "invalid_client"),
    (r"oidc\.client_secret", "required"),
    (r"oidc\.scopes", "invalid_scopes"),
    (r"attribute_mapping\.(email|name)", "invalid_attribute"),
    # Its default role is the organization's (never `owner`), and its teams its own.
    (r"default_role", "invalid_role"),
    (r"default_role", "invalid_default_role"),
    (r"default_role", "unknown_role"),
    (r"default_role", "wrong_role_scope"),
    (r"default_teams\[\d+\]", "invalid_team"),
    (r"default_teams\[\d+\]", "unknown_team"),
    # Discovery takes an email address, which a plain string parameter does not say.
    (r"email", "invalid_email"),
    # Metadata's size and depth are those of the patch merged with what is stored.
    (r"metadata\.(public|private)", "too_large"),
    (r"metadata\.(public|private)", "too_deep"),
]


def accepted(field, code) -> bool:
    return any(code == c and re.fullmatch(f, str(field)) for f, c in ACCEPTED_REFUSALS)


def refused_fields(response) -> set[tuple[str, str]]:
    try:
        problem = response.json()
    except ValueError:
        return set()
    if not isinstance(problem, dict) or problem.get("type") != "urn:orgs:problem:validation":
        return set()
    return {(e.get("field"), e.get("code")) for e in problem.get("errors") or [] if isinstance(e, dict)}


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Drops "schema-valid request rejected" (ST202) only when every refused field is one the
    schema cannot describe (ACCEPTED_REFUSALS), and "missing Authorization accepted" (ST203)
    when the request did carry it."""
    if getattr(failure, "code", None) == "ST202":
        fields = refused_fields(response)
        if fields and all(accepted(field, code) for field, code in fields):
            return False
    # "Missing required header accepted" (ST203) for Authorization: the coverage phase leaves it
    # out of operations that have header parameters (`Idempotency-Key`), but every request of
    # the run carries the role's token (run.py's --header), so that request was never sent.
    if getattr(failure, "code", None) == "ST203" and sent_authorization(response):
        return False
    return True


def sent_authorization(response) -> bool:
    request = getattr(response, "request", None)
    headers = getattr(request, "headers", None) or {}
    return any(name.lower() == "authorization" for name in headers)


@schemathesis.check
def refused_request_changed_nothing(ctx, response, case):
    """A request that was refused (status 400 or more) changed no stored item."""
    changes = State.changes.pop(id(response), None)
    if changes:
        raise AssertionError(
            f"Refused with {response.status_code}, yet the stored data changed:\n  " + "\n  ".join(changes)
        )
    return None
