"""The services' internal APIs under Granian's WSGI server: `python -m shared.web.serve APP --bind HOST:PORT`.

The four services' APIs run here; the gateway, the one door the internet reaches, stays under gunicorn with
shared/web/gunicorn_conf.py (why: docs/decisions.md, "The services' APIs under Granian"). APP is written as
gunicorn takes it, `services.ledger.app:create_app()`: a call is handed to Granian as a factory.

As gunicorn_conf.py does for gunicorn:
- Granian's own lines are JSON lines like the application's (shared.web.observability.JsonFormatter), on stderr;
  no access log (the application logs each request).
- Prometheus multiprocess mode: every worker writes its counters into PROMETHEUS_MULTIPROC_DIR and a scrape
  answered by any worker adds up all of them; the directory is emptied at start, and when none is given a
  temporary one is made and removed at exit.
- A worker that dies is replaced (Granian's default would stop the whole server).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
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


def parse_bind(text: str) -> tuple[str, int]:
    """`HOST:PORT` (gunicorn's --bind form) as Granian's address and port."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: expected HOST:PORT")
    return host, int(port)


def target(app: str) -> tuple[str, bool]:
    """Granian's target and whether it is a factory: `pkg.mod:create_app()` -> (`pkg.mod:create_app`, True)."""
    return (app[:-2], True) if app.endswith("()") else (app, False)


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

    given = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    directory = metrics_directory()
    app, factory = target(args.app)
    host, port = args.bind
    try:
        Server(
            app,
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=args.workers,
            blocking_threads=args.threads,
            websockets=False,
            factory=factory,
            log_dictconfig=LOGGING,
            log_access=False,
            respawn_failed_workers=True,
            workers_kill_timeout=GRACEFUL_TIMEOUT_S,
            working_dir=Path.cwd(),
        ).serve()
    finally:
        if not given:
            shutil.rmtree(directory, ignore_errors=True)
    logging.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
