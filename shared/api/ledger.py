"""The ledger service's API: the balance with its settlement-sheet entries and license codes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.api.fields import QueryArgs, StrictDate
from shared.timeutil import today_budapest


def today_field(name: str) -> StrictDate:
    """A date argument that defaults to today in Europe/Budapest."""
    return StrictDate(
        load_default=today_budapest,
        metadata={"description": f"`{name}` as YYYY-MM-DD; default: today in Europe/Budapest."},
    )


class BalanceArgs(QueryArgs):
    """Query of the balance."""

    as_of = today_field("as_of")


class LicenseCodes(Schema):
    """Rental and internet codes of the session's serial number."""

    serial_number = fields.String()
    rental_code = fields.String(allow_none=True, metadata={"description": "Null for purchased programs."})
    internet_code = fields.String()
    valid_from = fields.Date()
    valid_until = fields.Date()


class CodesWithheld(Schema):
    """Why the codes are not shown."""

    reason = fields.String(validate=validate.OneOf(["outstanding_balance", "no_codes_issued"]))
    amount_due = fields.Integer()


class SettlementEntry(Schema):
    """One line of the settlement sheet."""

    date = fields.Date()
    type = fields.String(validate=validate.OneOf(["invoice", "cancellation", "payment", "refund"]))
    document = fields.String()
    description = fields.String(allow_none=True)
    due_on = fields.Date(allow_none=True)
    debit = fields.Integer()
    credit = fields.Integer()
    running_balance = fields.Integer()


class Balance(Schema):
    """Balance, settlement-sheet entries and license codes."""

    customer_code = fields.String()
    as_of = fields.Date()
    currency = fields.String(metadata={"example": "HUF"})
    balance = fields.Integer(metadata={"description": "Positive: the customer owes."})
    status = fields.String(validate=validate.OneOf(["arrears", "settled", "overpaid"]))
    overdue_amount = fields.Integer()
    entries = fields.List(fields.Nested(SettlementEntry))
    codes = fields.Nested(LicenseCodes, allow_none=True)
    codes_withheld = fields.Nested(CodesWithheld, allow_none=True)
