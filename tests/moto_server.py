"""moto's server on loopback, with a choice moto's own CLI does not offer: single-threaded.

It also plays SES's side of delivery (`ses_delivery`): the account suppression list, a
configuration set's EventBridge event destinations, and the events SES publishes for its
mailbox simulator's addresses.

moto does not make a transaction atomic against a concurrent one, so race tests only mean
something when requests are served one at a time (werkzeug threaded=False). A failed
transaction leaves the table's stream as DynamoDB would (keep_streams_on_rollback).

usage: moto_server.py PORT [--threaded] [--journaled-transactions]
The server exits on its own when the process that started it goes away.
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


def main() -> None:
    port = int(sys.argv[1])
    threaded = "--threaded" in sys.argv[2:]
    keep_streams_on_rollback()
    idempotent_transactions()
    ses_delivery()
    if "--journaled-transactions" in sys.argv[2:]:
        journal_transactions()
    os.environ.setdefault("MOTO_PORT", str(port))
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=threaded, use_reloader=False)


if __name__ == "__main__":
    main()
