"""moto's server on loopback, with a choice moto's own CLI does not offer: single-threaded.

It also plays SES's side of delivery (`ses_delivery`): the account suppression list, a
configuration set's EventBridge event destinations, and the events SES publishes for its
mailbox simulator's addresses. And it refuses, as Cognito does, what single sign-on must not
get away with locally (`cognito_as_aws`): a second identity provider of the same name or with an
identifier another provider has, an app client listing a provider the pool does not have, and
it makes UpdateUserPoolClient replace the client's settings rather than merge them.

moto does not make a transaction atomic against a concurrent one, so race tests only mean
something when requests are served one at a time (werkzeug threaded=False). A failed
transaction leaves the table's stream as DynamoDB would (keep_streams_on_rollback).

Tests read the mail SES sent from `GET /orgs-test/mail?to=ADDRESS` (mail_route), moto keeps no
object it no longer needs (untracked_models), and a transaction copies each table it touches
once (one_copy_per_transaction): one server serves a whole test run.

usage: moto_server.py PORT [--threaded] [--journaled-transactions] [--fast-items]
The server exits on its own when the process that started it goes away.

Opt-in measurement, for benchmarks (tests/bench/moto_timing.py reads both):
- ORGS_MOTO_TIMING=FILE appends one line per request: its start (epoch seconds), the operation
  (X-Amz-Target, or the method and path), the server-side time and the CPU time moto's
  process spent on it, in ms (on a loaded machine the CPU time is the steadier figure). Lines
  starting with
  `#` are phase marks a benchmark appends to the same file.
- ORGS_MOTO_PROFILE=FILE profiles the requests with cProfile and writes the stats there every
  200 requests (the server is killed, not stopped, so it cannot write them at the end).
"""

import copy
import os
import sys
import threading
import time

from moto.moto_server.threaded_moto_server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def keep_streams_on_rollback() -> None:
    """Makes a failed TransactWriteItems leave the table's stream as DynamoDB does: the same
    stream, without records of the writes it undid.

    moto 5.2.5 rolls a failed transaction back by putting a copy of the table, taken before it
    began, in the table's place. The writes the transaction made before failing stay in the old
    table's stream shard, and any shard iterator handed out before (a stream reader always holds
    one) goes on reading that old shard: it sees records of writes that never happened, such as
    the event record of a refused request, and none of the writes after. With this, the copy
    takes over the old shard, cut back to the records it had when the transaction began.
    """
    from moto.dynamodb.models import DynamoDBBackend

    stock_transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        before = {}
        for item in transact_items:
            op = next(iter(item.values()), None) if isinstance(item, dict) else None
            name = op.get("TableName") if isinstance(op, dict) else None
            table = self.tables.get(name) if name else None
            if table is not None and table.stream_shard is not None and name not in before:
                before[name] = (table, table.stream_shard, len(table.stream_shard.items))
        try:
            return stock_transact(self, transact_items)
        except Exception:
            for name, (table, shard, length) in before.items():
                restored = self.tables.get(name)
                if restored is not None and restored is not table:
                    del shard.items[length:]
                    shard.table = restored
                    restored.stream_shard = shard
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


def idempotent_transactions() -> None:
    """Makes TransactWriteItems honour `ClientRequestToken`, as DynamoDB does and moto 5.2.5 does
    not.

    The SDK gives every call a token and keeps it for its retries, so that a transaction which
    was applied but whose answer was lost (a timeout, a dropped connection) is not applied
    twice when the SDK tries again: DynamoDB answers the repeat as it answered the first, for
    10 minutes after it, and refuses the same token with other parameters. Without this, moto
    applies the repeat, or refuses it on conditions the first one's own writes broke (a handle
    "taken" by the very organization that took it). A refused transaction wrote nothing, and a
    repeat of it is tried afresh.
    """
    import hashlib
    import json
    from collections import OrderedDict

    from moto.core.responses import ActionResult
    from moto.dynamodb.exceptions import DynamodbException
    from moto.dynamodb.responses import DynamoHandler

    window = 600.0
    # Token -> (digest of the parameters, when applied), oldest first.
    applied: OrderedDict = OrderedDict()
    stock = DynamoHandler.transact_write_items

    class IdempotentParameterMismatch(DynamodbException):
        def __init__(self) -> None:
            super().__init__(
                "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                "The request uses the same client token as a previous, but non-identical request.",
            )

    def transact_write_items(self):
        token = self.body.get("ClientRequestToken")
        if token is None:
            return stock(self)
        now = time.monotonic()
        while applied and now - next(iter(applied.values()))[1] > window:
            applied.popitem(last=False)
        ignored = ("ClientRequestToken", "ReturnConsumedCapacity")
        params = {k: v for k, v in self.body.items() if k not in ignored}
        fingerprint = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).digest()
        if token in applied:
            if applied[token][0] != fingerprint:
                raise IdempotentParameterMismatch()
            # What moto answers an applied transaction, without applying it again.
            return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        result = stock(self)
        applied[token] = (fingerprint, now)
        return result

    DynamoHandler.transact_write_items = transact_write_items


# The tag that gives a table's global secondary indexes a lag, in milliseconds (tests only).
INDEX_LAG_TAG = "orgs-test:index-lag-ms"


def lagging_indexes() -> None:
    """Makes a table's global secondary indexes lag behind its writes, as DynamoDB's do.

    DynamoDB updates a GSI asynchronously: a Query on an index may miss an item written a moment
    ago, still find one deleted, or see an item as it was. moto updates its indexes with the
    write. For a table tagged `INDEX_LAG_TAG` (say 500), a Query on an index answers from the
    table as it was that long ago: every write to the table keeps the item's before-image for
    that long, and the Query runs over the items with those put back. Reads of the table itself
    (GetItem, consistent or not, and Query without an index) see every write at once.
    """
    from collections import deque

    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    # Table name -> deque of (when, (hash, range), before-image or None), oldest first.
    history: dict = {}

    def lag_of(table) -> float:
        for tag in getattr(table, "tags", None) or []:
            if tag.get("Key") == INDEX_LAG_TAG:
                return float(tag.get("Value", 0)) / 1000.0
        return 0.0

    def recording(method, key_of):
        def wrapped(self, table_name, arg, *args, **kwargs):
            table = self.tables.get(table_name)
            lag = lag_of(table) if table is not None else 0.0
            if lag > 0:
                key = self.get_keys_value(table, key_of(table, arg))
                before = copy.deepcopy(table.get_item(*key))
                writes = history.setdefault(table_name, deque())
                now = time.monotonic()
                writes.append((now, key, before))
                while writes and writes[0][0] < now - lag:
                    writes.popleft()
            return method(self, table_name, arg, *args, **kwargs)

        return wrapped

    def key_of_item(table, attrs):
        return {a: attrs[a] for a in (table.hash_key_attr, table.range_key_attr) if a}

    def as_of(table, since: float) -> list:
        """The table's items as they were at `since`."""
        then: dict = {}
        for when, key, before in history.get(table.name, ()):
            if when >= since and key not in then:
                then[key] = before
        items = [
            item
            for item in Table.all_items(table)
            if (item.hash_key, item.range_key) not in then
            and (item.hash_key, None) not in then
        ]
        items.extend(before for before in then.values() if before is not None)
        return sorted(
            items,
            key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key,
        )

    stock_query = Table.query

    def query(self, *args, **kwargs):
        lag = lag_of(self)
        # `index_name` is the eighth parameter; moto passes it by position.
        index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
        if not index_name or lag <= 0:
            return stock_query(self, *args, **kwargs)
        lagged = as_of(self, time.monotonic() - lag)
        self.all_items = lambda: lagged
        try:
            return stock_query(self, *args, **kwargs)
        finally:
            del self.all_items

    DynamoDBBackend.put_item = recording(DynamoDBBackend.put_item, key_of_item)
    DynamoDBBackend.delete_item = recording(DynamoDBBackend.delete_item, lambda t, key: key)
    DynamoDBBackend.update_item = recording(DynamoDBBackend.update_item, lambda t, key: key)
    Table.query = query


def journal_transactions() -> None:
    """Makes TransactWriteItems roll back from a journal of the items it touched.

    moto 5.2.5 deep-copies a whole table once per item of a transaction so that it can roll
    back: about 3 s per copy at 30,000 items, which makes a transaction's cost follow the
    table's size and a benchmark over a large table impossible. With this, the copy is skipped
    and a failed transaction puts back the before-image of each item it wrote (and drops the
    stream records it added), which is the same all-or-nothing result on a server that serves
    one request at a time. Only the expiry benchmark asks for it; the tests run moto as it
    ships.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    journal: list = []
    stock_transact = DynamoDBBackend.transact_write_items

    def recording(method, key_of):
        def wrapped(self, table_name, arg, *args, **kwargs):
            if journal:
                key = key_of(self.get_table(table_name), arg)
                journal.append((table_name, key, copy.deepcopy(self.get_item(table_name, key))))
            return method(self, table_name, arg, *args, **kwargs)

        return wrapped

    def key_of_item(table, attrs):
        return {a: attrs[a] for a in (table.hash_key_attr, table.range_key_attr) if a}

    def undo(backend, entries, stream_lengths):
        for table_name, key, before in reversed(entries):
            table = backend.get_table(table_name)
            hash_value, range_value = backend.get_keys_value(table, key)
            if range_value is None:
                table.items.pop(hash_value, None)
                if before is not None:
                    table.items[hash_value] = before
            else:
                table.items[hash_value].pop(range_value, None)
                if before is not None:
                    table.items[hash_value][range_value] = before
        for table, length in stream_lengths:
            del table.stream_shard.items[length:]

    def transact_write_items(self, transact_items):
        names = {next(iter(i.values())).get("TableName") for i in transact_items}
        tables = [self.tables[n] for n in names if n in self.tables]
        streams = [(t, len(t.stream_shard.items)) for t in tables if t.stream_shard is not None]
        # A marker entry switches recording on for this call only.
        journal.append(None)
        Table.__deepcopy__ = lambda table, memo: table
        try:
            return stock_transact(self, transact_items)
        except Exception:
            undo(self, journal[1:], streams)
            raise
        finally:
            del Table.__deepcopy__
            journal.clear()

    DynamoDBBackend.put_item = recording(DynamoDBBackend.put_item, key_of_item)
    DynamoDBBackend.delete_item = recording(DynamoDBBackend.delete_item, lambda t, key: key)
    DynamoDBBackend.update_item = recording(DynamoDBBackend.update_item, lambda t, key: key)
    DynamoDBBackend.transact_write_items = transact_write_items


SIMULATOR_DOMAIN = "simulator.amazonses.com"

# What SES's mailbox simulator does with each address (a `+label` may follow the local part):
# the events it publishes after Send, and the suppression reason it leaves, if any.
BOUNCE_GENERAL = ("Bounce", {"bounceType": "Permanent", "bounceSubType": "General"})
SIMULATOR = {
    "success": ([("Delivery", None)], None),
    "bounce": ([BOUNCE_GENERAL], "BOUNCE"),
    "complaint": ([("Delivery", None), ("Complaint", None)], "COMPLAINT"),
    "suppressionlist": (
        [("Bounce", {"bounceType": "Permanent", "bounceSubType": "OnSuppressionList"})],
        None,
    ),
}

# The EventBridge detail-type of each SES event type.
DETAIL_TYPES = {
    "Send": "Email Sent",
    "Delivery": "Email Delivered",
    "DeliveryDelay": "Email Delivery Delayed",
    "Bounce": "Email Bounced",
    "Complaint": "Email Complaint Received",
    "Reject": "Email Rejected",
}

# SES v2's MatchingEventTypes value of each event type.
MATCHING_TYPES = {
    "Send": "SEND",
    "Delivery": "DELIVERY",
    "DeliveryDelay": "DELIVERY_DELAY",
    "Bounce": "BOUNCE",
    "Complaint": "COMPLAINT",
    "Reject": "REJECT",
}


def ses_delivery() -> None:
    """What moto 5.2.5's SES v2 lacks for delivery reports, in SES v2's API shapes:

    - the account suppression list: PutSuppressedDestination, GetSuppressedDestination (404
      NotFoundException when the address is not on it), DeleteSuppressedDestination;
    - a configuration set's event destinations: Create/GetConfigurationSetEventDestination(s),
      of which only EventBridge ones publish (to the default bus, as SES does);
    - SendEmail with a ConfigurationSetName (NotFoundException if there is no such set) and
      EmailTags publishes, through the set's EventBridge destinations, the events SES would:
      Send, then what the mailbox simulator does for its address (`SIMULATOR`), or for any
      other address a Delivery, or, for an address on the suppression list, a Bounce
      (Permanent, OnAccountSuppressionList). A simulated bounce or complaint puts the address
      on the suppression list when the set suppresses that reason, as SES's suppression does.
    Each event is `detail-type` "Email Sent" etc., `source` aws.ses, and a detail with
    `eventType`, `mail` (with `tags`: the email's tags plus `ses:configuration-set`) and the
    event type's own object (`bounce.bounceType`...), as SES publishes them.
    """
    import datetime
    import json
    import uuid
    from urllib.parse import unquote

    from moto.events.models import events_backends
    from moto.ses.exceptions import NotFoundException
    from moto.sesv2.responses import SESV2Response

    suppressed: dict = {}  # (account, region) -> {address: SuppressedDestination}
    destinations: dict = {}  # (account, region, configuration set) -> {name: EventDestination}

    def now() -> str:
        return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")[
            :-6
        ] + "Z"

    def scope(self) -> tuple:
        return (self.current_account, self.region)

    def last_segment(self) -> str:
        return unquote(self.path.split("?")[0].rstrip("/").rsplit("/", 1)[1])

    def put_suppressed_destination(self) -> str:
        params = json.loads(self.body)
        address = params["EmailAddress"].lower()
        suppressed.setdefault(scope(self), {})[address] = {
            "EmailAddress": address,
            "Reason": params["Reason"],
            "LastUpdateTime": datetime.datetime.now(datetime.timezone.utc).timestamp(),
        }
        return "{}"

    def get_suppressed_destination(self) -> str:
        address = last_segment(self).lower()
        found = suppressed.get(scope(self), {}).get(address)
        if found is None:
            raise NotFoundException(f"Email address {address} does not exist on your suppression list.")
        return json.dumps({"SuppressedDestination": found})

    def delete_suppressed_destination(self) -> str:
        address = last_segment(self).lower()
        if suppressed.get(scope(self), {}).pop(address, None) is None:
            raise NotFoundException(f"Email address {address} does not exist on your suppression list.")
        return "{}"

    def config_set(self, name: str):
        try:
            return self.sesv2_backend.get_configuration_set(name)
        except Exception:
            raise NotFoundException(f"Configuration set <{name}> does not exist.") from None

    def config_set_name(self) -> str:
        parts = self.path.split("?")[0].split("/")
        return unquote(parts[parts.index("configuration-sets") + 1])

    def create_configuration_set_event_destination(self) -> str:
        name = config_set_name(self)
        config_set(self, name)
        params = json.loads(self.body)
        destination = dict(params["EventDestination"], Name=params["EventDestinationName"])
        destinations.setdefault((*scope(self), name), {})[destination["Name"]] = destination
        return "{}"

    def get_configuration_set_event_destinations(self) -> str:
        name = config_set_name(self)
        config_set(self, name)
        found = destinations.get((*scope(self), name), {})
        return json.dumps({"EventDestinations": list(found.values())})

    def publish(self, config_set: str, event_type: str, detail: dict) -> None:
        for destination in destinations.get((*scope(self), config_set), {}).values():
            if not destination.get("Enabled", False):
                continue
            if MATCHING_TYPES[event_type] not in destination.get("MatchingEventTypes", []):
                continue
            bus = destination.get("EventBridgeDestination", {}).get("EventBusArn")
            if not bus:
                continue
            events_backends[self.current_account][self.region].put_events(
                [
                    {
                        "Source": "aws.ses",
                        "DetailType": DETAIL_TYPES[event_type],
                        "Detail": json.dumps(detail),
                        "EventBusName": bus,
                        "Resources": [],
                    }
                ]
            )

    def outcome(self, address: str, reasons: list) -> list:
        """The events after Send for one recipient; suppresses it as SES would."""
        local, _, domain = address.lower().partition("@")
        if domain == SIMULATOR_DOMAIN and local.split("+")[0] in SIMULATOR:
            events, reason = SIMULATOR[local.split("+")[0]]
            if reason in reasons:
                suppressed.setdefault(scope(self), {})[address.lower()] = {
                    "EmailAddress": address.lower(),
                    "Reason": reason,
                    "LastUpdateTime": datetime.datetime.now(datetime.timezone.utc).timestamp(),
                }
            return events
        if address.lower() in suppressed.get(scope(self), {}):
            return [("Bounce", {"bounceType": "Permanent", "bounceSubType": "OnAccountSuppressionList"})]
        return [("Delivery", None)]

    stock_send = SESV2Response.send_email

    def send_email(self) -> str:
        params = json.loads(self.body)
        config_set_name_given = params.get("ConfigurationSetName")
        reasons: list = []
        if config_set_name_given:
            found = config_set(self, config_set_name_given)
            reasons = found.suppression_options.get("SuppressedReasons", [])
        answer = stock_send(self)
        # moto keeps only the HTML of a simple message; `mail_route` shows every part.
        simple = params.get("Content", {}).get("Simple")
        if simple:
            body = simple.get("Body", {})
            SENT_PARTS[json.loads(answer)["MessageId"]] = {
                "subject": simple.get("Subject", {}).get("Data"),
                "html": body.get("Html", {}).get("Data"),
                "text": body.get("Text", {}).get("Data"),
            }
        if not config_set_name_given:
            return answer
        set_name = config_set_name_given
        message_id = json.loads(answer)["MessageId"]
        sent_at = now()
        tags = {t["Name"]: [t["Value"]] for t in params.get("EmailTags", [])}
        tags["ses:configuration-set"] = [set_name]
        tags["ses:caller-identity"] = ["orgs-local"]
        tags["ses:source-ip"] = ["127.0.0.1"]
        to = params.get("Destination", {}).get("ToAddresses", [])
        mail = {
            "timestamp": sent_at,
            "source": params.get("FromEmailAddress"),
            "sendingAccountId": self.current_account,
            "messageId": message_id,
            "destination": to,
            "headersTruncated": False,
            "tags": tags,
        }
        for address in to:
            publish(self, set_name, "Send", {"eventType": "Send", "mail": mail, "send": {}})
            for event_type, extra in outcome(self, address, reasons):
                at = now()
                detail = {"eventType": event_type, "mail": mail}
                if event_type == "Bounce":
                    detail["bounce"] = dict(
                        extra,
                        bouncedRecipients=[{"emailAddress": address, "action": "failed", "status": "5.1.1"}],
                        timestamp=at,
                        feedbackId=str(uuid.uuid4()),
                    )
                elif event_type == "Complaint":
                    detail["complaint"] = {
                        "complainedRecipients": [{"emailAddress": address}],
                        "timestamp": at,
                        "feedbackId": str(uuid.uuid4()),
                        "complaintFeedbackType": "abuse",
                    }
                elif event_type == "Delivery":
                    detail["delivery"] = {
                        "timestamp": at,
                        "processingTimeMillis": 1,
                        "recipients": [address],
                        "smtpResponse": "250 2.6.0 Message received",
                    }
                publish(self, set_name, event_type, detail)
        return answer

    # moto routes only the SES v2 paths its url module lists.
    from moto.sesv2 import urls

    for path in (
        "{0}/v2/email/suppression/addresses$",
        "{0}/v2/email/suppression/addresses/(?P<EmailAddress>[^/]+)$",
        "{0}/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/event-destinations$",
    ):
        urls.url_paths[path] = SESV2Response.dispatch
    SESV2Response.put_suppressed_destination = put_suppressed_destination
    SESV2Response.get_suppressed_destination = get_suppressed_destination
    SESV2Response.delete_suppressed_destination = delete_suppressed_destination
    SESV2Response.create_configuration_set_event_destination = (
        create_configuration_set_event_destination
    )
    SESV2Response.get_configuration_set_event_destinations = (
        get_configuration_set_event_destinations
    )
    SESV2Response.send_email = send_email


def cognito_as_aws() -> None:
    """Makes moto 5.2.5's user pools refuse and forget what Cognito does, where single sign-on
    depends on it (the Amazon Cognito API Reference and Developer Guide say each):

    - CreateIdentityProvider with the name of a provider the pool has: DuplicateProviderException
      (its API reference lists the error; "This exception is thrown when the provider is already
      supported by the user pool"). moto replaced the provider.
    - CreateIdentityProvider or UpdateIdentityProvider with an IdpIdentifier that another provider
      of the pool has: DuplicateProviderException ("Identifiers must be unique across the user
      pool", Developer Guide, SAML identity provider names and identifiers). moto took it.
    - UpdateUserPoolClient sets every setting the request leaves out back to its default ("If you
      don't provide a value for an attribute, Amazon Cognito sets it to its default value", its
      API reference, and the Developer Guide's Updating user pool and app client configuration).
      moto merged the request into the client. The client's id, secret and name (when not
      given) stay.
    - CreateUserPoolClient and UpdateUserPoolClient with a SupportedIdentityProviders entry
      naming no provider of the pool (COGNITO aside): InvalidParameterException, "The provider X
      does not exist for User Pool Y", as Cognito answers. moto took any name.
    Not modelled: DeleteIdentityProvider of a provider an app client still lists. Its API
    reference names no refusal for it (its errors are about the provider, the caller and
    throttling) and no guide says what becomes of the client's list, so moto's deletion, which
    leaves the list as it was, stands.
    """
    from moto.cognitoidp.exceptions import InvalidParameterException
    from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPoolClient
    from moto.core.exceptions import JsonRESTError

    class DuplicateProviderException(JsonRESTError):
        def __init__(self, message: str) -> None:
            super().__init__("DuplicateProviderException", message)

    def refuse_taken_identifiers(pool, name: str, config: dict) -> None:
        for identifier in config.get("IdpIdentifiers") or []:
            for other_name, other in pool.identity_providers.items():
                if other_name != name and identifier in (
                    other.extended_config.get("IdpIdentifiers") or []
                ):
                    raise DuplicateProviderException(
                        f"The identifier {identifier} is already used by the provider "
                        f"{other_name} in this user pool"
                    )

    def refuse_unknown_providers(pool, config: dict) -> None:
        for provider in config.get("SupportedIdentityProviders") or []:
            if provider != "COGNITO" and provider not in pool.identity_providers:
                raise InvalidParameterException(
                    f"The provider {provider} does not exist for User Pool {pool.id}"
                )

    stock_create_provider = CognitoIdpBackend.create_identity_provider
    stock_update_provider = CognitoIdpBackend.update_identity_provider
    stock_create_client = CognitoIdpBackend.create_user_pool_client
    stock_update_client = CognitoIdpBackend.update_user_pool_client

    def create_identity_provider(self, user_pool_id, name, extended_config):
        pool = self.describe_user_pool(user_pool_id)
        if name in pool.identity_providers:
            raise DuplicateProviderException(
                f"A provider with the name {name} already exists in this user pool"
            )
        refuse_taken_identifiers(pool, name, extended_config or {})
        return stock_create_provider(self, user_pool_id, name, extended_config)

    def update_identity_provider(self, user_pool_id, name, extended_config):
        pool = self.describe_user_pool(user_pool_id)
        if name in pool.identity_providers:
            refuse_taken_identifiers(pool, name, extended_config or {})
        return stock_update_provider(self, user_pool_id, name, extended_config)

    def create_user_pool_client(self, user_pool_id, generate_secret, extended_config):
        refuse_unknown_providers(self.describe_user_pool(user_pool_id), extended_config or {})
        return stock_create_client(self, user_pool_id, generate_secret, extended_config)

    def update_user_pool_client(self, user_pool_id, client_id, extended_config):
        pool = self.describe_user_pool(user_pool_id)
        client = pool.clients.get(client_id)
        if client is not None:
            refuse_unknown_providers(pool, extended_config)
            # The settings of a client created with none: moto's defaults.
            defaults = CognitoIdpUserPoolClient(user_pool_id, False, None).extended_config
            name = client.extended_config.get("ClientName")
            client.extended_config = dict(defaults)
            if name is not None:
                client.extended_config["ClientName"] = name
        return stock_update_client(self, user_pool_id, client_id, extended_config)

    CognitoIdpBackend.create_identity_provider = create_identity_provider
    CognitoIdpBackend.update_identity_provider = update_identity_provider
    CognitoIdpBackend.create_user_pool_client = create_user_pool_client
    CognitoIdpBackend.update_user_pool_client = update_user_pool_client


def fast_items() -> None:
    """Makes moto's two costliest steps per item cheaper, with the same results.

    Profiled over the busy benchmark (tests/bench/BUSY.md), moto 5.2.5 spent about 40 % of its
    time writing answers: its generic serializer walks every AttributeValue of every item
    returned through the service model, trying each of its ten members under several names.
    Our items come back as moto keeps them, dicts already in DynamoDB's JSON form, so they are
    copied as the serializer would write them (strings as text, binaries in base64), and
    anything else still takes the serializer's path. And building an item re-measured the
    whole item for each attribute added (quadratic in its attributes); it is measured once,
    against the same 405,000-byte limit, which no prefix can pass unless the whole does.
    Only the benchmarks ask for this; the tests run moto as it ships.
    """
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    class Unknown(Exception):
        pass

    def text(value):
        return str(value) if value not in [None, {}, []] else value

    def attribute_value(serializer, value):
        if type(value) is not dict:
            raise Unknown
        out = {}
        for member, inner in value.items():
            if inner is None:
                continue
            if member in ("S", "N"):
                out[member] = text(inner)
            elif member in ("SS", "NS"):
                out[member] = [text(v) for v in inner]
            elif member == "B":
                out[member] = serializer._base64(inner)
            elif member == "BS":
                out[member] = [serializer._base64(v) for v in inner]
            elif member == "M":
                out[member] = {k: attribute_value(serializer, v) for k, v in inner.items()}
            elif member == "L":
                out[member] = [attribute_value(serializer, v) for v in inner]
            elif member in ("NULL", "BOOL"):
                out[member] = inner
            else:
                raise Unknown
        return out

    stock_structure = BaseJSONSerializer._serialize_type_structure

    def serialize_structure(self, serialized, value, shape, key):
        if key and shape.name == "AttributeValue":
            try:
                serialized[self.get_serialized_name(shape, key)] = attribute_value(self, value)
                return
            except Unknown:
                pass
        stock_structure(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = serialize_structure

    def item_init(self, hash_key, range_key, attrs):
        self.hash_key = hash_key
        self.range_key = range_key
        typed = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in typed.items()) > 405000:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict()
        dict.update(self.attrs, typed)

    Item.__init__ = item_init


def one_copy_per_transaction() -> None:
    """Makes TransactWriteItems copy each table it touches once, not once per item.

    To roll back, moto 5.2.5 deep-copies a table before the transaction for each of its items
    and keeps the last copy per table: identical copies, since all are taken before anything
    is written. Profiled over `invitations::` and `members::`, those copies were 60 % of moto's
    time, in the one server every test waits on. With this, the first copy of a table in a
    transaction serves for the rest: the same rollback, from the same state. Not with
    `journal_transactions`, which takes no copies, nor with `--threaded`, as it swaps a class
    attribute for the length of a call.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    stock_transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        copies: dict = {}

        def copy_once(table, memo):
            if id(table) not in copies:
                del Table.__deepcopy__
                try:
                    copies[id(table)] = copy.deepcopy(table)
                finally:
                    Table.__deepcopy__ = copy_once
            return copies[id(table)]

        Table.__deepcopy__ = copy_once
        try:
            return stock_transact(self, transact_items)
        finally:
            del Table.__deepcopy__

    DynamoDBBackend.transact_write_items = transact_write_items


def untracked_models() -> None:
    """Stops moto keeping every model object it ever made.

    moto 5.2.5 appends each instance of its models (every DynamoDB item, stream record and
    table, including the copies a transaction takes to roll back from, and every SES message)
    to a class-wide list, for its dashboard's `/moto-api/data.json` and nothing else we use. A
    deleted table's items therefore stay in memory for the life of the server: one server for
    a whole test run grew to gigabytes. Mail is read through `mail_route` instead.
    """
    from moto.core.common_models import BaseModel

    def new(cls, *args, **kwargs):
        return object.__new__(cls)

    BaseModel.__new__ = new


# Every part (subject, HTML, text) of each simple message sent, by message id.
SENT_PARTS: dict = {}

# The path of `mail_route`.
MAIL_PATH = "/orgs-test/mail"


def mail_route(app):
    """Wraps the WSGI app to answer `GET /orgs-test/mail?to=ADDRESS`: a JSON list of the HTML
    (or text) bodies of the SES messages sent to ADDRESS (a To address), oldest first; with
    `&parts=1`, of objects with each message's `subject`, `html` and `text`.

    Tests read sent mail here. moto's own way, `/moto-api/data.json`, serializes its whole
    state, every table of every test, on each call, in a server that answers one request at a
    time.
    """
    import json
    from urllib.parse import parse_qs

    from moto.ses.models import Message, ses_backends

    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") != MAIL_PATH:
            return app(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        address = query.get("to", [""])[0]
        parts = query.get("parts", [""])[0] == "1"
        bodies = [
            SENT_PARTS.get(message.id, {"html": message.body}) if parts else message.body
            for regions in list(ses_backends.values())
            for backend in list(regions.values())
            for message in backend.sent_messages
            if type(message) is Message
            and address in message.destinations.get("ToAddresses", [])
            and isinstance(message.body, str)
        ]
        body = json.dumps(bodies).encode()
        start_response(
            "200 OK",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return wrapped


def timed(app, log_path: str | None, profile_path: str | None):
    """Wraps the WSGI app to log each request's server-side time and/or profile it."""
    log = open(log_path, "a", buffering=1) if log_path else None
    profiler = None
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()
    served = 0

    def wrapped(environ, start_response):
        nonlocal served
        operation = environ.get("HTTP_X_AMZ_TARGET") or (
            environ.get("REQUEST_METHOD", "") + " " + environ.get("PATH_INFO", "")
        )
        started = time.time()
        clock, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        try:
            # The body too: moto builds some answers lazily.
            body = b"".join(app(environ, start_response))
        finally:
            if profiler is not None:
                profiler.disable()
            elapsed = (time.perf_counter() - clock) * 1000
            cpu_ms = (time.process_time() - cpu) * 1000
            if log is not None:
                name = operation.split(".")[-1]
                log.write(f"{started:.6f}\t{name}\t{elapsed:.3f}\t{cpu_ms:.3f}\n")
            served += 1
            if profiler is not None and served % 200 == 0:
                profiler.dump_stats(profile_path)
        return [body]

    return wrapped


def main() -> None:
    port = int(sys.argv[1])
    threaded = "--threaded" in sys.argv[2:]
    keep_streams_on_rollback()
    idempotent_transactions()
    lagging_indexes()
    ses_delivery()
    cognito_as_aws()
    untracked_models()
    if "--journaled-transactions" in sys.argv[2:]:
        journal_transactions()
    elif not threaded:
        one_copy_per_transaction()
    # ORGS_MOTO_STOCK_ITEMS=1 leaves them out, to measure what they save.
    if "--fast-items" in sys.argv[2:] and os.environ.get("ORGS_MOTO_STOCK_ITEMS") != "1":
        fast_items()
    os.environ.setdefault("MOTO_PORT", str(port))
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    app = mail_route(DomainDispatcherApplication(create_backend_app))
    log_path, profile_path = os.environ.get("ORGS_MOTO_TIMING"), os.environ.get("ORGS_MOTO_PROFILE")
    if log_path or profile_path:
        app = timed(app, log_path, profile_path)
    run_simple("127.0.0.1", port, app, threaded=threaded, use_reloader=False)


if __name__ == "__main__":
    main()
