"""moto's server on loopback, with a choice moto's own CLI does not offer: single-threaded.

moto does not make a transaction atomic against a concurrent one, so race tests only mean
something when requests are served one at a time (werkzeug threaded=False).

usage: moto_server.py PORT [--threaded]
The server exits on its own when the process that started it goes away.
"""

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


def main() -> None:
    port = int(sys.argv[1])
    threaded = "--threaded" in sys.argv[2:]
    os.environ.setdefault("MOTO_PORT", str(port))
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=threaded, use_reloader=False)


if __name__ == "__main__":
    main()
