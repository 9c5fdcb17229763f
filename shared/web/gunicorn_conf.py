"""gunicorn settings of every API and the gateway: `gunicorn -c python:shared.web.gunicorn_conf ...`.

- gunicorn's own lines ("Booting worker", "WORKER TIMEOUT", ...) are JSON lines like the application's
  (the same formatter, shared.web.observability.JsonFormatter); no access log (the app logs each request).
- no control socket (its default path is shared by every gunicorn of the user).
- Prometheus multiprocess mode: every worker writes its counters into PROMETHEUS_MULTIPROC_DIR, and a
  scrape answered by any worker adds up all of them. One directory per gunicorn (process group):
  scripts/stack.sh sets .run/metrics/<name>; when unset, a temporary directory of this gunicorn is made
  (and removed at its exit). The directory is emptied when gunicorn starts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from shared import config

# before anything imports prometheus_client: it picks its multiprocess value class at import
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _MADE = tempfile.mkdtemp(prefix="portal-metrics-")
else:
    _MADE = ""

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "shared.web.observability.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False, "qualname": "gunicorn.error"},
        # the application logs one JSON line per request itself (shared.observability); no access log on top
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False, "qualname": "gunicorn.access"},
    },
}

# gunicorn >= 25.1 opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl): every API of
# the stack would fight over it. Nothing here uses gunicornc.
control_socket_disable = True


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn hook
    """Start from an empty metrics directory: values of an earlier run would be added to this one's."""
    directory = config.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def on_exit(server) -> None:  # noqa: ANN001 - gunicorn hook
    """Remove the temporary metrics directory this gunicorn made (not one it was given)."""
    if _MADE:
        shutil.rmtree(_MADE, ignore_errors=True)


def child_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn hook
    """A worker is gone: its live gauges no longer count (its counters do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
