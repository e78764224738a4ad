"""moto's server on loopback, with a choice moto's own CLI does not offer: single-threaded.

moto does not make a transaction atomic against a concurrent one, so race tests only mean
something when requests are served one at a time (werkzeug threaded=False). A failed
transaction leaves the table's stream as DynamoDB would (keep_streams_on_rollback).

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
    if "--journaled-transactions" in sys.argv[2:]:
        journal_transactions()
    # ORGS_MOTO_STOCK_ITEMS=1 leaves them out, to measure what they save.
    if "--fast-items" in sys.argv[2:] and os.environ.get("ORGS_MOTO_STOCK_ITEMS") != "1":
        fast_items()
    os.environ.setdefault("MOTO_PORT", str(port))
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    app = DomainDispatcherApplication(create_backend_app)
    log_path, profile_path = os.environ.get("ORGS_MOTO_TIMING"), os.environ.get("ORGS_MOTO_PROFILE")
    if log_path or profile_path:
        app = timed(app, log_path, profile_path)
    run_simple("127.0.0.1", port, app, threaded=threaded, use_reloader=False)


if __name__ == "__main__":
    main()
