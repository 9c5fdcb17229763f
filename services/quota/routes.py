"""Internal API of the quota service (called by the gateway only)."""

from __future__ import annotations

from typing import Any

import flask
from marshmallow import EXCLUDE, Schema, fields

from services.quota.queries import quota_statement
from shared.web.app import ProblemError, db_connection, parse_query, require_customer_code

blueprint = flask.Blueprint("quota", __name__, url_prefix="/internal/v1")


class QuotaQuery(Schema):
    """Query string of the quota statement; unknown parameters are ignored."""

    class Meta:
        unknown = EXCLUDE

    settlement_date = fields.Date(required=True)


QUOTA_QUERY = QuotaQuery()  # one instance: creating a schema copies its fields on every request


@blueprint.get("/customers/<path:code>/quota")
def quota(code: str) -> dict[str, Any]:
    """The customer's minute quota statement on `settlement_date`."""
    require_customer_code(code)
    settlement_date = parse_query(QUOTA_QUERY)["settlement_date"]
    with db_connection() as conn:
        statement = quota_statement(conn, code, settlement_date)
    if statement is None:
        raise ProblemError(
            404,
            "No support year",
            detail=f"No support year of {code} contains {settlement_date}.",
        )
    return statement
