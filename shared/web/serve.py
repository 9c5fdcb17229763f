"""The services' internal APIs under Granian's WSGI server: `python -m shared.web.serve APP --bind HOST:PORT`.

The four services' APIs run here; the gateway, the one door the internet reaches, stays under gunicorn with
shared/web/gunicorn_conf.py (why: docs/decisions.md, "The services' APIs under Granian"). APP is written as
gunicorn takes it, `services.ledger.app:create_app()`: a call is handed to Granian as a factory.

As gunicorn_conf.py does for gunicorn:
- Granian's own lines are JSON lines like the application's (shared.web.observability.JsonFormatter), on stderr,
  and so is a worker's failure to load the application; no access log (the application logs each request).
- Prometheus multiprocess mode: every worker writes its counters into PROMETHEUS_MULTIPROC_DIR and a scrape
  answered by any worker adds up all of them; the directory is emptied at start, and when none is given a
  temporary one is made and removed at exit.
- The service's settings are checked once before any worker starts: a bad one ends the server with one line
  and exit status 4. A port it cannot listen on (taken already: Granian's own socket would share it) ends it
  with one line and status 1.
- A worker that dies is replaced (Granian's default would stop the whole server); one that dies again within
  seconds of its replacement stops the server (exit status 1). A worker whose main process is gone ends too.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import ipaddress
import logging
import logging.config
import os
import re
import shutil
import signal
import socket
import sys
from functools import partial
from typing import Any

from shared.web import server_setup

LOGGING: dict[str, Any] = server_setup.json_lines(
    {
        "_granian": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "granian.access": {"level": "WARNING", "handlers": [], "propagate": False},  # no access log
    }
)
GRACEFUL_TIMEOUT_S = 5  # as gunicorn_conf.graceful_timeout: a worker still busy after it is killed


SERVICE_APP = re.compile(r"services\.(\w+)\.app:")
PR_SET_PDEATHSIG = 1  # prctl(2)
log = logging.getLogger("_granian")  # Granian's own logger: the same JSON lines


def parse_bind(text: str) -> tuple[str, int]:
    """`HOST:PORT` (gunicorn's --bind form, HOST an IP address, `[...]` around IPv6) as Granian's address and
    port."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        host = ""
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: expected HOST:PORT, HOST an IP address")
    return host, int(port)


def target(app: str) -> tuple[str, bool]:
    """Granian's target and whether it is a factory: `pkg.mod:create_app()` -> (`pkg.mod:create_app`, True)."""
    return (app[:-2], True) if app.endswith("()") else (app, False)


def check_settings(app: str) -> None:
    """A service's settings, read once before any worker starts: a bad one ends the process with one line and
    exit status 4, as the service itself would (shared/config.py), instead of every worker failing in turn.
    The app's module may check more (`check_settings()`, e.g. the ledger's account number)."""
    match = SERVICE_APP.match(app)
    if not match:
        return
    from shared import config
    from shared.service import settings_from_env

    with config.exit_on_bad_settings():
        settings_from_env(match.group(1))
        config.vendor_settings()
        extra = getattr(importlib.import_module(app.partition(":")[0]), "check_settings", None)
        if extra is not None:
            extra()


def cannot_listen(host: str, port: int) -> OSError | None:
    """Why host:port cannot be listened on (taken already, or not an address of this host), or None. Granian's
    socket allows a second listener on the port (SO_REUSEPORT), so it would not notice a taken one; a plain bind
    does."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections in TIME_WAIT do not count
        try:
            probe.bind((host, port))
        except OSError as error:
            return error
    return None


def end_with_parent(parent: int) -> None:
    """In a worker: a SIGTERM when the main process is gone (killed too, it cannot stop its workers itself). Until
    Granian installs the worker's own handler (after the app is loaded), the forked worker holds the main
    process's, which would only set a flag: the default action ends it meanwhile."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("a worker cannot be tied to its main process: %s", os.strerror(ctypes.get_errno()))
    if os.getppid() != parent:  # gone before the request took effect
        os._exit(1)


def load_application(app: str, factory: bool, parent: int) -> Any:
    """Granian's loader, run in each worker: end with the main process, then import (and build) the application;
    a failure is logged as a JSON line and ends the worker."""
    end_with_parent(parent)
    module, _, name = app.partition(":")
    try:
        application = getattr(importlib.import_module(module), name or "app")
        return application() if factory else application
    except Exception:
        log.exception("the application %s could not be loaded", app)
        raise SystemExit(1) from None


def metrics_directory() -> str:
    """PROMETHEUS_MULTIPROC_DIR emptied of an earlier run's values (made, and set, when not given): before any
    worker imports prometheus_client, which picks its multiprocess value class at import."""
    directory, _ = server_setup.metrics_directory()
    server_setup.empty_metrics_directory(directory)
    return directory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.web.serve", description=__doc__.split("\n")[0])
    parser.add_argument("app", help="e.g. services.ledger.app:create_app()")
    parser.add_argument("--bind", type=parse_bind, default=("127.0.0.1", 8000), help="HOST:PORT")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker running the application")
    args = parser.parse_args(argv)
    from granian.constants import Interfaces
    from granian.server import Server

    given = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    directory = metrics_directory()  # first: the log formatter's module imports prometheus_client
    logging.config.dictConfig(LOGGING)
    app, factory = target(args.app)
    host, port = args.bind
    try:
        check_settings(app)
        error = cannot_listen(host, port)
        if error is not None:
            log.error("cannot listen on %s:%s: %s; not started", host, port, error.strerror or error)
            return 1
        Server(
            app,
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=args.workers,
            blocking_threads=args.threads,
            websockets=False,
            log_dictconfig=LOGGING,
            log_access=False,
            respawn_failed_workers=True,
            workers_kill_timeout=GRACEFUL_TIMEOUT_S,
        ).serve(target_loader=partial(load_application, factory=factory, parent=os.getpid()))
    finally:
        if not given:
            shutil.rmtree(directory, ignore_errors=True)
    logging.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
