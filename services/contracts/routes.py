"""Internal API of the contracts service (called only by the gateway)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import flask
from marshmallow import EXCLUDE, Schema, fields

from services.contracts import queries
from shared.web.app import ProblemError, db_connection, parse_json, parse_query, require_customer_code

blueprint = flask.Blueprint("contracts", __name__, url_prefix="/internal/v1")


class AsOfArgs(Schema):
    """Query arguments of the as-of queries; unknown ones are ignored."""

    class Meta:
        unknown = EXCLUDE

    as_of = fields.Date(required=True)


AS_OF_ARGS = AsOfArgs()  # one instance: creating a schema copies its fields on every request


class CredentialsCheck(Schema):
    """Body of a credentials check; `password` may be left out; a malformed code is just not valid."""

    class Meta:
        unknown = EXCLUDE

    customer_code = fields.String(required=True)
    serial_number = fields.String(required=True)
    password = fields.String(load_default=None, allow_none=True)
    today = fields.Date(required=True)


CREDENTIALS_CHECK = CredentialsCheck()


def _as_of(customer_code: str) -> date:
    """The `as_of` query argument, after checking the customer code in the path."""
    require_customer_code(customer_code)
    return parse_query(AS_OF_ARGS)["as_of"]


def _found(answer: dict[str, Any] | None, customer_code: str) -> dict[str, Any]:
    """The answer, or a 404 problem when the customer had no contract signed by then."""
    if answer is None:
        raise ProblemError(404, "No contract", f"Customer {customer_code} has no contract signed by then.")
    return answer


@blueprint.post("/credentials/check")
def check_credentials() -> dict[str, Any]:
    """Whether a customer code, serial number and password may log in today."""
    body = parse_json(CREDENTIALS_CHECK)
    with db_connection() as conn:
        return queries.check_credentials(conn, **body)


# `path:` because customer codes may contain "/".
@blueprint.get("/customers/<path:customer_code>/portal-password")
def portal_password(customer_code: str) -> dict[str, Any]:
    """Whether the customer has a portal password, and when it last changed (the gateway refuses older tokens)."""
    require_customer_code(customer_code)
    with db_connection() as conn:
        return queries.portal_password(conn, customer_code)


@blueprint.get("/portal-password-changes")
def portal_password_changes() -> dict[str, Any]:
    """Every customer whose portal password changed after `since` (RFC 3339 with offset), with the latest change:
    the gateway polls it to end older sessions without a call per query."""
    raw = flask.request.args.get("since", "")
    try:
        since = datetime.fromisoformat(raw)
    except ValueError:
        since = None
    if since is None or since.tzinfo is None:
        raise ProblemError(400, "Invalid request", errors={"since": ["A timestamp with an offset is required."]})
    with db_connection() as conn:
        return {"changes": queries.password_changes_since(conn, since)}


@blueprint.get("/customers/<path:customer_code>/contract-annex")
def contract_annex(customer_code: str) -> dict[str, Any]:
    """The customer's contract annex as of a date, and where to report a discrepancy (configuration)."""
    as_of = _as_of(customer_code)
    with db_connection() as conn:
        annex = _found(queries.contract_annex(conn, customer_code, as_of), customer_code)
    return {**annex, "report_to": {"email": flask.current_app.config["VENDOR"]["report_to"]}}


@blueprint.get("/customers/<path:customer_code>/expected-fee")
def expected_fee(customer_code: str) -> dict[str, Any]:
    """The customer's expected annual support fee per contract as of a date."""
    as_of = _as_of(customer_code)
    if as_of.year == date.max.year:  # the next anniversary may fall in year 10000, which no date can hold
        raise ProblemError(400, "Invalid request", errors={"as_of": ["Must be before 9999-01-01."]})
    with db_connection() as conn:
        return _found(queries.expected_fee(conn, customer_code, as_of), customer_code)
