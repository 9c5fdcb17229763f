"""Internal API of the ledger service (called by the gateway only)."""

from __future__ import annotations

import re
from typing import Any

import flask
from marshmallow import EXCLUDE, Schema, fields, validate

from services.ledger import queries
from shared.web import ProblemError, db_connection, parse_query

blueprint = flask.Blueprint("ledger", __name__, url_prefix="/internal/v1")

# Customer codes and serial numbers, as events.md defines them.
CODE_PATTERN = re.compile(r"\A[A-Za-z0-9_/\-]{1,32}\Z")
CODE_ERROR = "Must be 1-32 characters of A-Z a-z 0-9 - _ /."


class BalanceQuery(Schema):
    """Query string of the balance endpoint; the gateway always passes both."""

    class Meta:
        unknown = EXCLUDE

    as_of = fields.Date(required=True)
    serial_number = fields.String(required=True, validate=validate.Regexp(CODE_PATTERN, error=CODE_ERROR))


# `path:` because customer codes may contain "/".
@blueprint.get("/customers/<path:customer_code>/balance")
def customer_balance(customer_code: str) -> dict[str, Any]:
    """Balance, settlement-sheet entries and license codes of a customer as of a date."""
    if not CODE_PATTERN.match(customer_code):
        raise ProblemError(400, "Invalid customer code", errors={"customer_code": [CODE_ERROR]})
    args = parse_query(BalanceQuery())
    with db_connection() as conn:
        return queries.balance(conn, customer_code, args["serial_number"], args["as_of"])
