"""The sandbox server process: moto's AWS endpoint on 127.0.0.1, until SIGTERM or SIGINT.

`pcli sandbox start` runs it in the background as
`python -m protoncli.sandbox.server --port 0 --ready-file FILE`. Once the socket listens, it
writes `{"pid", "port", "url"}` to FILE (atomically), so the starter learns the port that port 0
picked. It listens on the loopback address only: the sandbox is never reachable from elsewhere.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
MOTO_MISSING = "the sandbox needs moto: pip install 'protoncli[sandbox]'"
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m protoncli.sandbox.server",
        description=f"Serve moto's AWS endpoint on {HOST} until SIGTERM or SIGINT.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument(
        "--ready-file", type=Path, required=True, help="where to write pid, port and url"
    )
    return parser.parse_args(argv)


def _moto_app() -> tuple[Any, Any]:
    """moto's WSGI application (with pcli's fixes applied) and its request handler class."""
    from moto.moto_server import werkzeug_app
    from werkzeug.serving import WSGIRequestHandler

    from protoncli.sandbox.motofix import apply_moto_fixes

    apply_moto_fixes()
    app = werkzeug_app.DomainDispatcherApplication(werkzeug_app.create_backend_app)
    # moto's handler keeps S3 metadata headers with underscores; older moto releases lack it.
    handler = getattr(werkzeug_app, "MotoRequestHandler", WSGIRequestHandler)
    return app, handler


def _write_ready_file(path: Path, port: int) -> None:
    from protoncli.yamlio import atomic_write

    ready = {"pid": os.getpid(), "port": port, "url": f"http://{HOST}:{port}"}
    atomic_write(path, json.dumps(ready) + "\n")


def serve(port: int, ready_file: Path) -> int:
    """Serve until a stop signal arrives; return the process exit code."""
    try:
        app, handler = _moto_app()
    except ImportError:
        sys.stderr.write(MOTO_MISSING + "\n")
        return 1
    from werkzeug.serving import make_server

    # moto logs through werkzeug's logger; without this every request is a line in the log.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Stop signals are blocked before any thread starts (threads inherit the mask) and received
    # with sigwait below, so no handler ever interrupts a request half-way.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        server = make_server(HOST, port, app, threaded=True, request_handler=handler)
    except OSError as error:
        sys.stderr.write(f"cannot listen on {HOST}:{port}: {error.strerror or error}\n")
        return 1
    serving = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},  # how soon shutdown() is noticed
        name="sandbox-server",
        daemon=True,
    )
    serving.start()
    _write_ready_file(ready_file, int(server.server_address[1]))
    received = signal.sigwait(STOP_SIGNALS)
    sys.stderr.write(f"sandbox stopping on {signal.Signals(received).name}\n")
    server.shutdown()
    serving.join()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    return serve(args.port, args.ready_file)


if __name__ == "__main__":
    sys.exit(main())
