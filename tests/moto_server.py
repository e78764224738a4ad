"""moto's server on loopback, with a choice moto's own CLI does not offer: single-threaded.

moto does not make a transaction atomic against a concurrent one, so race tests only mean
something when requests are served one at a time (werkzeug threaded=False).

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


def main() -> None:
    port = int(sys.argv[1])
    threaded = "--threaded" in sys.argv[2:]
    if "--journaled-transactions" in sys.argv[2:]:
        journal_transactions()
    os.environ.setdefault("MOTO_PORT", str(port))
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=threaded, use_reloader=False)


if __name__ == "__main__":
    main()
