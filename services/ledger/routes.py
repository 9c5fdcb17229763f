"""Internal API of the ledger service (called by the gateway only)."""

from __future__ import annotations

from typing import Any

import flask
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from services.ledger import invoicing, queries, wording
from shared.api.fields import PeriodArgs
from shared.api.ledger import period_error
from shared.events.fields import CODE
from shared.web.app import db_connection, parse_query, require_customer_code

blueprint = flask.Blueprint("ledger", __name__, url_prefix="/internal/v1")


class BalanceQuery(Schema):
    """Query string of the balance endpoint; the gateway always passes both."""

    class Meta:
        unknown = EXCLUDE

    as_of = fields.Date(required=True)
    serial_number = fields.String(required=True, validate=CODE)
    lang = fields.String(load_default="en", validate=validate.OneOf(wording.LANGUAGES))


class InvoicesQuery(PeriodArgs):
    """Query string of the invoice list."""

    as_of = fields.Date(required=True)
    status = fields.String(load_default="all", validate=validate.OneOf(invoicing.STATUS_FILTERS))
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)


class SheetQuery(Schema):
    """Query string of the settlement sheet of a period."""

    class Meta:
        unknown = EXCLUDE

    date_from = fields.Date(data_key="from", required=True)
    date_to = fields.Date(data_key="to", required=True)
    serial_number = fields.String(required=True, validate=CODE)
    lang = fields.String(load_default="en", validate=validate.OneOf(wording.LANGUAGES))

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        error = period_error(data["date_from"], data["date_to"])
        if error:
            raise ValidationError(error, "to")


# one instance each: creating a schema copies its fields on every request
BALANCE_QUERY, INVOICES_QUERY, SHEET_QUERY = BalanceQuery(), InvoicesQuery(), SheetQuery()


def vendor() -> dict[str, Any]:
    """The vendor's details and account (configuration)."""
    return flask.current_app.config["VENDOR"]


# `path:` because customer codes may contain "/".
@blueprint.get("/customers/<path:customer_code>/balance")
def customer_balance(customer_code: str) -> dict[str, Any]:
    """Balance, settlement-sheet entries, license codes and payment block of a customer as of a date."""
    require_customer_code(customer_code)
    args = parse_query(BALANCE_QUERY)
    with db_connection() as conn:
        return queries.balance(conn, customer_code, args["serial_number"], args["as_of"], vendor(), args["lang"])


@blueprint.get("/customers/<path:customer_code>/invoices")
def customer_invoices(customer_code: str) -> dict[str, Any]:
    """The customer's invoices as of a date with what each received, and the open and overdue totals."""
    require_customer_code(customer_code)
    args = parse_query(INVOICES_QUERY)
    with db_connection() as conn:
        return queries.invoices(conn, customer_code, args["as_of"], args["status"], args["date_from"], args["date_to"])


@blueprint.get("/customers/<path:customer_code>/settlement-sheet")
def customer_settlement_sheet(customer_code: str) -> dict[str, Any]:
    """The settlement sheet of a period: opening and closing balance, the period's lines, codes, payment."""
    require_customer_code(customer_code)
    args = parse_query(SHEET_QUERY)
    with db_connection() as conn:
        return queries.settlement_sheet(
            conn, customer_code, args["serial_number"], args["date_from"], args["date_to"], vendor(), args["lang"]
        )
