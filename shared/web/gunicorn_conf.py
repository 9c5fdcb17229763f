"""gunicorn settings of the gateway: `gunicorn -c python:shared.web.gunicorn_conf ...` (the services' APIs run
under Granian, shared/web/serve.py).

- gunicorn's own lines ("Booting worker", "WORKER TIMEOUT", ...) are JSON lines like the application's
  (the same formatter, shared.web.observability.JsonFormatter); no access log (the app logs each request).
- no control socket (its default path is shared by every gunicorn of the user).
- Prometheus multiprocess mode: every worker writes its counters into PROMETHEUS_MULTIPROC_DIR, and a
  scrape answered by any worker adds up all of them. One directory per gunicorn (process group):
  scripts/stack.sh sets .run/metrics/<name>; when unset, a temporary directory of this gunicorn is made
  (and removed at its exit). The directory is emptied when gunicorn starts.
"""

from __future__ import annotations

import shutil

from shared import config as _config  # not `config`: gunicorn reads every module name that is one of its settings
from shared.web.server_setup import empty_metrics_directory, json_lines, metrics_directory

# before anything imports prometheus_client: it picks its multiprocess value class at import
_METRICS, _MADE = metrics_directory()

logconfig_dict = json_lines(
    {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False, "qualname": "gunicorn.error"},
        # the application logs one JSON line per request itself (shared.observability); no access log on top
        # (logger_class below does not even build its lines)
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False, "qualname": "gunicorn.access"},
    }
)

# The threaded worker, answering gunicorn's own refusals (malformed request line, header or transfer coding,
# oversized request line or headers) with problem+json and a 4xx instead of an HTML page (docs/decisions.md).
worker_class = "shared.web.http_server.ProblemWorker"
# No access log (shared.web.observability logs each request); gunicorn's own would cost CPU for nothing.
logger_class = "shared.web.http_server.NoAccessLog"
threads = 8

# Limits of what gunicorn reads before the application (its defaults, written down): a request line over
# 4 KiB is a 414, more than 100 headers or a header over 8 KiB a 431.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

graceful_timeout = 5

# gunicorn >= 25.1 opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl): every API of
# the stack would fight over it. Nothing here uses gunicornc.
control_socket_disable = True


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn hook
    """Refuse to start the gateway on missing or unsafe settings (one line, before any worker); start from an
    empty metrics directory: values of an earlier run would be added to this one's."""
    _check_gateway_settings(server)
    empty_metrics_directory(_METRICS)


def _check_gateway_settings(server) -> None:  # noqa: ANN001 - gunicorn's arbiter
    """The gateway's settings checked once in the arbiter: not a worker traceback repeated per boot."""
    app = getattr(server.app, "app_uri", None) or server.cfg.wsgi_app or ""
    if not app.startswith("gateway.app"):
        return
    from gateway import config as gateway_config

    try:
        gateway_config.check(gateway_config.settings_from_env())
    except _config.MissingSetting as exc:
        server.log.error("gateway not started: %s", exc)
        raise SystemExit(_config.BAD_SETTINGS_EXIT) from None


def on_exit(server) -> None:  # noqa: ANN001 - gunicorn hook
    """Remove the temporary metrics directory this gunicorn made (not one it was given)."""
    if _MADE:
        shutil.rmtree(_METRICS, ignore_errors=True)


def child_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn hook
    """A worker is gone: its live gauges no longer count (its counters do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
