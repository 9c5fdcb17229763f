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
  and exit status 4. A port already taken ends it with one line too (Granian's own socket would share it).
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
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from shared.web.logconfig import json_lines

LOGGING: dict[str, Any] = json_lines(
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
    exit status 4, as the service itself would (shared/config.py), instead of every worker failing in turn."""
    match = SERVICE_APP.match(app)
    if not match:
        return
    from shared import config
    from shared.service import settings_from_env

    with config.exit_on_bad_settings():
        settings_from_env(match.group(1))
        config.vendor_settings()


def port_taken(host: str, port: int) -> bool:
    """Whether something listens on host:port already. Granian's socket allows a second listener on the port
    (SO_REUSEPORT), so it would not notice; a plain bind does."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections in TIME_WAIT do not count
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def end_with_parent(parent: int) -> None:
    """In a worker: a SIGTERM when the main process is gone (killed too, it cannot stop its workers itself)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # gone before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


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
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="portal-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
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

    logging.config.dictConfig(LOGGING)
    given = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    directory = metrics_directory()
    app, factory = target(args.app)
    host, port = args.bind
    check_settings(app)
    if port_taken(host, port):
        log.error("%s:%s is in use already; not started", host, port)
        return 1
    try:
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
            working_dir=Path.cwd(),
        ).serve(target_loader=partial(load_application, factory=factory, parent=os.getpid()))
    finally:
        if not given:
            shutil.rmtree(directory, ignore_errors=True)
    logging.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
