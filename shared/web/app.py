"""Flask helpers for the services' internal APIs: app factory, parsing, pooled connections."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from flask import Blueprint, Flask, current_app, request
from marshmallow import EXCLUDE, Schema, ValidationError
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from shared.events.fields import CODE_MESSAGE, CODE_REGEX
from shared.readmodel import connections as db
from shared.readmodel import pointer
from shared.web.argmemo import ParsedQueries
from shared.web.health import register_health
from shared.web.observability import register_request_logging
from shared.web.problems import ProblemError, register_problem_handlers

__all__ = ["ProblemError", "require_customer_code", "parse_query", "parse_json", "db_connection", "create_service_app"]


CUSTOMER_CODE = re.compile(CODE_REGEX)


def require_customer_code(customer_code: str) -> str:
    """The customer code of a path, or a 400 naming it when it breaks the contract's alphabet."""
    if not CUSTOMER_CODE.match(customer_code):
        raise ProblemError(400, "Invalid customer code", errors={"customer_code": [CODE_MESSAGE]})
    return customer_code


QUERIES = ParsedQueries()  # the query arguments of the service's API, loaded before (change 28)


def parse_query(schema: Schema) -> dict[str, Any]:
    """Load request.args with a schema; a bad value is a 400 naming the field."""
    return QUERIES.load(schema, request.query_string, lambda: _load_query(schema))


def _load_query(schema: Schema) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(request.args.to_dict(flat=True), unknown=EXCLUDE)
        return loaded
    except ValidationError as err:
        raise ProblemError(
            400, "Invalid request", "One or more query parameters are invalid.", errors=err.normalized_messages()
        ) from None


def parse_json(schema: Schema) -> dict[str, Any]:
    """Load a JSON object body with a schema; anything else is a 400."""
    try:
        body = request.get_json(silent=True)  # silent: None for what json.loads refuses with a ValueError
    except RecursionError:  # nested deeper than the decoder goes
        body = None
    if not isinstance(body, dict):
        raise ProblemError(400, "Invalid request", "The body must be a JSON object.")
    try:
        return schema.load(body, unknown=EXCLUDE)
    except ValidationError as err:
        raise ProblemError(
            400, "Invalid request", "One or more fields are invalid.", errors=err.normalized_messages()
        ) from None


@contextmanager
def db_connection() -> Iterator[psycopg.Connection[DictRow]]:
    """A pooled read-model connection (dict rows, search_path set) for one request."""
    pool: ConnectionPool[Any] = current_app.extensions["db_pool"]
    try:
        # the pool's check points the connection at the live schema at every checkout
        with pool.connection(timeout=5) as conn:
            yield conn
    except (psycopg.OperationalError, TimeoutError) as exc:
        raise ProblemError(503, "Service Unavailable", f"The read model is unreachable: {exc}") from None


# How long a pool retries one lost connection (1, 2, 4… s apart) before it gives the slot up; the next request that
# finds no connection then starts a new attempt at once. psycopg_pool's default, 300 s with an uncapped back-off,
# left a pool refusing for about as long again as the database had been away (tests/reliability/test_pool_reconnect.py).
POOL_RECONNECT_TIMEOUT_S = 5.0


def make_pool(dsn: str, schema: str, size: int = 8) -> ConnectionPool[Any]:
    """A connection pool of the service's read model; every checkout is pointed at the live schema."""

    def configure(conn: psycopg.Connection[DictRow]) -> None:
        pointer.use_schema(conn, schema)

    # check: a connection broken by a database restart is replaced on checkout instead of failing a request;
    # the same round trip sets the search_path to the live schema
    # dict rows come from `kwargs`, which the pool's connection type cannot express: hence ConnectionPool[Any]
    return ConnectionPool[Any](
        dsn,
        min_size=1,
        max_size=size,
        kwargs={"row_factory": dict_row, "autocommit": True},
        configure=configure,
        check=pointer.live_schema_check(schema),
        reconnect_timeout=POOL_RECONNECT_TIMEOUT_S,
        open=False,
        name=schema,
    )


def require_internal_token(app: Flask) -> None:
    """Refuse internal API calls that lack the shared internal token."""

    @app.before_request
    def _check() -> None:
        if not request.path.startswith("/internal/"):
            return
        given = request.headers.get("X-Internal-Token", "")
        if not hmac.compare_digest(given.encode(), app.config["INTERNAL_TOKEN"].encode()):
            raise ProblemError(401, "Unauthorized", "A valid X-Internal-Token header is required.")


def create_service_app(
    name: str, blueprint: Blueprint, settings: dict[str, Any], ddl: Path, topics: list[str]
) -> Flask:
    """The Flask app of one service: its blueprint plus errors, auth, health and metrics."""
    app = Flask(name)
    app.config.update(settings)
    app.config.setdefault("READ_MODEL_SCHEMA", db.READ_MODEL_SCHEMA)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DefaultJSONProvider's; sorting cost ~20% of encoding
    register_problem_handlers(app)
    register_request_logging(app, name)
    require_internal_token(app)
    pool = make_pool(app.config["DATABASE_URL"], app.config["READ_MODEL_SCHEMA"])
    pool.open(wait=False)
    app.extensions["db_pool"] = pool
    app.register_blueprint(blueprint)
    register_health(app, name, ddl, topics)
    return app
