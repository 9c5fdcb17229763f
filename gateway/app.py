"""The gateway's Flask app: the public API, login limits, service clients, health and metrics."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request
from prometheus_client import Counter
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway import health, portal, routes
from gateway.action_limit import ActionLimiter
from gateway.actions import ActionPublisher
from gateway.clients import ServiceClient, build_clients
from gateway.config import check, complete, settings_from_env
from gateway.login_slots import LoginSlots
from gateway.openapi import build_api
from gateway.password_changes import PasswordChanges
from gateway.ratelimit import LoginLimiter, make_pool
from shared.config import exit_on_bad_settings
from shared.web.observability import configure_logging, register_request_logging
from shared.web.problems import ProblemError, register_problem_handlers

log = logging.getLogger("gateway")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


@dataclass
class Gateway:
    """What the routes need, built once per app: service clients, login limiter, counters."""

    clients: dict[str, ServiceClient]
    limiter: LoginLimiter
    pool: ConnectionPool
    metrics: dict[str, Counter]
    action_limiter: ActionLimiter
    publisher: ActionPublisher
    password_changes: PasswordChanges
    login_slots: LoginSlots

    def close(self) -> None:
        """Release the database pool, the producer and the HTTP connections."""
        self.publisher.close()
        self.pool.close()
        for client in self.clients.values():
            client.close()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Flask factory; settings from the environment unless `config` is given (then only from it)."""
    if config is None:
        with exit_on_bad_settings():  # one line naming the variable, and gunicorn halts
            settings = check(settings_from_env())
    else:
        settings = check(complete(config))
    configure_logging()
    app = Flask("gateway")
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_BODY_BYTES"]
    register_request_logging(app, "gateway")
    api = build_api(app)
    register_problem_handlers(app)  # after the Api, so problem+json replaces flask-smorest's error body
    routes.register(api)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(portal.blueprint)  # before the guards: its CSP hook must run after theirs
    register_http_guards(app)
    app.extensions["gateway"] = build_gateway(app)
    if settings["TRUST_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings["TRUST_PROXY"])  # type: ignore[method-assign]
    return app


def build_gateway(app: Flask) -> Gateway:
    """Service clients, the login limiter (its table ensured now if the database answers) and counters."""
    settings = app.config
    pool = make_pool(settings["DATABASE_URL"], settings["DB_POOL_SIZE"])
    limiter = LoginLimiter(
        pool,
        settings["LOGIN_FAILURES_PER_CODE"],
        settings["LOGIN_FAILURES_PER_ADDRESS"],
        settings["LOGIN_WINDOW_MINUTES"],
    )
    try:
        limiter.ensure_schema()
    except ProblemError:
        log.warning("gateway database not reachable at start; the login table is ensured on first use")
    registry = app.extensions["metrics_registry"]
    metrics = {
        "failures": Counter("login_failures", "Failed credential checks", registry=registry),
        "rate_limited": Counter("login_rate_limited", "Login attempts refused by a limit", registry=registry),
        "busy": Counter("login_busy", "Logins refused with 429 because every check slot was taken", registry=registry),
    }
    clients = build_clients(dict(settings))
    action_limiter = ActionLimiter(pool, settings["ACTIONS_PER_HOUR"], settings["ACTION_WINDOW_MINUTES"])
    publisher = ActionPublisher(
        settings["KAFKA_BOOTSTRAP_SERVERS"], settings["TOPIC_PREFIX"], settings["PUBLISH_TIMEOUT_S"]
    )
    password_changes = PasswordChanges(
        clients["contracts"], settings["PASSWORD_STATE_CACHE_S"], settings["TOKEN_TTL_MINUTES"] * 60
    )
    login_slots = LoginSlots(settings["LOGIN_CHECKS_AT_ONCE"], settings["LOGIN_QUEUE_WAIT_S"])
    return Gateway(clients, limiter, pool, metrics, action_limiter, publisher, password_changes, login_slots)


def register_http_guards(app: Flask) -> None:
    """Refuse oversized bodies up front; add security headers; API answers are never cached."""

    @app.before_request
    def _body_limit() -> None:
        limit = app.config["MAX_BODY_BYTES"]
        if (request.content_length or 0) > limit:
            raise RequestEntityTooLarge(f"The body may be at most {limit} bytes.")
        if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            # werkzeug silently cuts a body without Content-Length at MAX_CONTENT_LENGTH (then "not valid
            # JSON"); read it here instead: over the limit is a 413, under it a body of known length.
            body = request.environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                raise RequestEntityTooLarge(f"The body may be at most {limit} bytes.")
            request.environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
            request.environ.pop("HTTP_TRANSFER_ENCODING", None)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response
