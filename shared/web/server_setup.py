"""What both API servers set up before any worker: the logging configuration (JSON lines on stderr,
shared.web.observability's JsonFormatter, the server's own loggers as named) and the Prometheus multiprocess
directory. Only the standard library here: applying the logging configuration imports the formatter's module,
and with it prometheus_client, which picks its multiprocess value class at import, so PROMETHEUS_MULTIPROC_DIR
is set first (gunicorn_conf.py and serve.py do)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def json_lines(loggers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A `logging.config.dictConfig` of JSON lines on stderr for the root logger and `loggers`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "shared.web.observability.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": loggers,
    }


def metrics_directory() -> tuple[str, bool]:
    """PROMETHEUS_MULTIPROC_DIR, a temporary directory made and set when none is given; and whether it was made
    (the server removes it at exit)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        return given, False
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made = tempfile.mkdtemp(prefix="portal-metrics-")
    return made, True


def empty_metrics_directory(directory: str) -> None:
    """Start from no values: an earlier run's would be added to this one's."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
