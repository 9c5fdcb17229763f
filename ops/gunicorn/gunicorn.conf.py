# gunicorn settings shared by every API and the gateway: scripts/stack.sh, the test fixtures
# (tests/support/system.py), the Dockerfile and docker-compose.yml all start gunicorn with `-c` this file.
# Command-line flags (bind, workers, threads) override what is set here.

# The threaded worker, answering gunicorn's own refusals (malformed request line, header or transfer coding,
# oversized request line or headers) with problem+json and a 4xx instead of an HTML page (docs/decisions.md).
worker_class = "shared.http_server.ProblemWorker"
threads = 8

# Limits of what gunicorn reads before the application (its defaults, written down): a request line over
# 4 KiB is a 414, more than 100 headers or a header over 8 KiB a 431.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

graceful_timeout = 5


def on_starting(server):  # noqa: ANN001, ANN201 - gunicorn's server hook
    """The gateway refuses to start, with one line and before any worker, when a setting is missing or unsafe
    (e.g. GATEWAY_SECRET_KEY under 32 bytes): not a worker traceback repeated per boot."""
    import sys

    app = getattr(server.app, "app_uri", None) or server.cfg.wsgi_app or ""
    if not app.startswith("gateway.app"):
        return
    from gateway import config
    from shared.config import MissingSetting

    try:
        config.check(config.settings_from_env())
    except MissingSetting as exc:
        server.log.error("gateway not started: %s", exc)
        sys.exit(1)
