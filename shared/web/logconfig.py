"""The logging configuration both API servers are given: JSON lines on stderr (shared.web.observability's
JsonFormatter), the server's own loggers as named. This module imports nothing beyond the standard library,
but applying the configuration imports the formatter's module, and with it prometheus_client: set
PROMETHEUS_MULTIPROC_DIR first (gunicorn_conf.py and serve.py do)."""

from __future__ import annotations

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
