"""Internal API of the ledger service (called by the gateway only)."""

from __future__ import annotations

from typing import Any

import flask
from marshmallow import EXCLUDE, Schema, fields

from services.ledger import queries
from shared.events.fields import CODE
from shared.web.app import db_connection, parse_query, require_customer_code

blueprint = flask.Blueprint("ledger", __name__, url_prefix="/internal/v1")



class BalanceQuery(Schema):
    """Query string of the balance endpoint; the gateway always passes both."""

    class Meta:
        unknown = EXCLUDE

    as_of = fields.Date(required=True)
    serial_number = fields.String(required=True, validate=CODE)


BALANCE_QUERY = BalanceQuery()  # one instance: creating a schema copies its fields on every request


# `path:` because customer codes may contain "/".
@blueprint.get("/customers/<path:customer_code>/balance")
def customer_balance(customer_code: str) -> dict[str, Any]:
    """Balance, settlement-sheet entries and license codes of a customer as of a date."""
    require_customer_code(customer_code)
    args = parse_query(BALANCE_QUERY)
    with db_connection() as conn:
        return queries.balance(conn, customer_code, args["serial_number"], args["as_of"])
