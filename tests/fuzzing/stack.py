"""What the fuzzer's runner and its Schemathesis hooks share: the people, the fixture data they
build through the API itself, and snapshots of the stored data.

The context (server, moto endpoint, table, tokens, current fixture) lives in one JSON file named
by FUZZ_CONTEXT; the runner writes it and the hooks read it, and rewrite it when they rebuild a
fixture that a successful request destroyed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import requests

# Who the fuzzer signs in as. Each role run uses one of them as its caller; the others make up
# the organization the requests aim at.
PEOPLE = {
    "owner": ("fz-alice", "alice@fuzz.example"),
    "admin": ("fz-bob", "bob@fuzz.example"),
    "member": ("fz-carol", "carol@fuzz.example"),
    # Holds a pending invitation to the organization, and nothing else.
    "invitee": ("fz-dave", "dave@fuzz.example"),
    # No membership, no invitation.
    "stranger": ("fz-eve", "eve@fuzz.example"),
}


class FixtureError(RuntimeError):
    pass


@dataclass
class Api:
    base: str
    tokens: dict[str, str]

    def call(self, who: str, method: str, path: str, body=None, expect=(200,)):
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        answer = requests.request(method, self.base + path, json=body, headers=headers, timeout=60)
        if answer.status_code not in expect:
            raise FixtureError(
                f"fixture step {method} {path} as {who} answered {answer.status_code}: {answer.text}"
            )
        return answer.json() if answer.content else None


def token_of(invite_url: str) -> str:
    return invite_url.split("token=", 1)[1]


def build_people(api: Api) -> None:
    """Gives every person a profile and a handle (invitations by handle need one)."""
    for role, (sub, _) in PEOPLE.items():
        me = api.call(role, "GET", "/me")
        if me["handle"] is None:
            api.call(role, "PATCH", "/me", {"handle": sub, "display_name": f"Fuzz {role}"})


def build_fixture(api: Api, serial: int) -> dict:
    """A fresh organization: the owner created it, the admin and the member joined by
    invitation, the invitee's invitation is pending, and a second team holds the member."""
    handle = f"fuzz-org-{serial}"
    org = api.call(
        "owner",
        "POST",
        "/orgs",
        {"handle": handle, "display_name": f"Fuzz {serial}", "region": "eu"},
        expect=(201,),
    )
    org_id = org["org_id"]
    invited = api.call(
        "owner",
        "POST",
        f"/orgs/{org_id}/invitations",
        {
            "invitations": [
                {"email": PEOPLE["admin"][1], "role": "admin"},
                {"email": PEOPLE["member"][1], "role": "member"},
                {"email": PEOPLE["invitee"][1], "name": "Dave", "note": "Welcome to the fuzz."},
            ]
        },
        expect=(201,),
    )["results"]
    for role, result in zip(("admin", "member"), invited):
        api.call(role, "POST", "/invitations/accept", {"token": token_of(result["invite_url"])})
    pending = invited[2]
    teams = api.call("owner", "GET", f"/orgs/{org_id}/teams")["items"]
    team = api.call("owner", "POST", f"/orgs/{org_id}/teams", {"name": "Fuzzers"}, expect=(201,))
    member_id = PEOPLE["member"][0]
    api.call("owner", "PUT", f"/orgs/{org_id}/teams/{team['team_id']}/members/{member_id}", expect=(204,))
    return {
        "serial": serial,
        "org_id": org_id,
        "handle": handle,
        "team_ids": [teams[0]["team_id"], team["team_id"]],
        "invitation_id": pending["invitation"]["invitation_id"],
        "invitation_token": token_of(pending["invite_url"]),
        "accepted_invitation_id": invited[0]["invitation"]["invitation_id"],
        "user_ids": [sub for sub, _ in PEOPLE.values()],
    }


def load_context() -> dict:
    with open(os.environ["FUZZ_CONTEXT"]) as f:
        return json.load(f)


def save_context(context: dict) -> None:
    path = os.environ["FUZZ_CONTEXT"]
    with open(path + ".tmp", "w") as f:
        json.dump(context, f, indent=2)
    os.replace(path + ".tmp", path)


class TableWrites:
    """Every write to the table, read from its DynamoDB stream (moto's): what the table recorded
    since the last call of `drain`, with each item's key and its images before and after.

    A scan of the whole table would do too, but moto scans about 1.5 items a millisecond, and the
    table grows by thousands of items in a run; the stream costs two requests however large the
    table is, and names every write, even one that a later write undid.
    """

    def __init__(self, endpoint: str, table: str) -> None:
        import boto3

        options = {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "fuzz",
            "aws_secret_access_key": "fuzz",
        }
        dynamodb = boto3.client("dynamodb", **options)
        self.arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.streams = boto3.client("dynamodbstreams", **options)
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        # moto keeps one shard per table.
        (self.shard,) = (s["ShardId"] for s in shards)
        self.last: str | None = None

    def drain(self) -> list[dict]:
        records: list[dict] = []
        while True:
            # An iterator from the last record seen, taken afresh each time.
            if self.last is None:
                where = {"ShardIteratorType": "TRIM_HORIZON"}
            else:
                where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.last}
            iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=self.shard, **where)
            page = self.streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
            if page:
                self.last = page[-1]["dynamodb"]["SequenceNumber"]
            records.extend(page)
            if len(page) < 1000:
                return records


# What `record-delivery` writes on an invitation when SES reports on an email sent earlier.
DELIVERY_ATTRIBUTES = re.compile(r"(delivery|bounce)_.*")


def is_delivery_report(record: dict) -> bool:
    """A write of SES's report on an earlier email (`record-delivery`, asynchronous): it changed
    only an invitation's delivery attributes, so no request of the fuzzer made it."""
    data = record["dynamodb"]
    old, new = data.get("OldImage"), data.get("NewImage")
    if old is None or new is None:
        return False
    changed = {n for n in old.keys() | new.keys() if old.get(n) != new.get(n)}
    return bool(changed) and all(DELIVERY_ATTRIBUTES.fullmatch(n) for n in changed)


def is_idempotency_record(record: dict) -> bool:
    """A write of an `Idempotency-Key`'s record (`IDEM#{user}`): every request with a key
    writes it, a refused one too, so that a repeat gets the same answer. It is the request's
    own bookkeeping, not data the request changed."""
    return record["dynamodb"]["Keys"]["pk"]["S"].startswith("IDEM#")


def describe_writes(records: list[dict], limit: int = 5) -> list[str]:
    """The writes that changed an item, one line each (at most `limit`)."""
    lines = []
    for record in records:
        data = record["dynamodb"]
        old, new = data.get("OldImage"), data.get("NewImage")
        if old == new:
            continue
        key = f"(pk={data['Keys']['pk']['S']!r}, sk={data['Keys']['sk']['S']!r})"
        if old is None:
            lines.append(f"created {key}: {json.dumps(new, sort_keys=True)}")
        elif new is None:
            lines.append(f"deleted {key}")
        else:
            changed = sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))
            lines.append(f"changed {key}: " + ", ".join(f"{n} {old.get(n)} -> {new.get(n)}" for n in changed))
    if len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(lines) - limit} more"]
    return lines
