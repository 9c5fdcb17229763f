"""The ledger service's API: the balance, the invoices, the settlement sheet of a period, the payment block."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.api.fields import PeriodArgs, QueryArgs, StrictDate
from shared.timeutil import today_budapest

INVOICE_STATUSES = ("open", "overdue", "paid", "cancelled")
INVOICE_STATUS_FILTERS = (*INVOICE_STATUSES, "all")
LANGUAGES = ("en", "hu")  # of the texts the system composes (descriptions, documents)
MAX_PERIOD_YEARS = 5


def years_later(day: date, years: int) -> date:
    """The same month and day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def period_error(date_from: date, date_to: date) -> str | None:
    """Why `from … to` is not a period a settlement sheet is made for, or None."""
    if date_from > date_to:
        return "Must not be before 'from'."
    if date_from == date.min:
        return "'from' must be after 0001-01-01 (the opening balance is the day before it)."
    if date_to >= years_later(date_from, MAX_PERIOD_YEARS):
        return f"The period may be at most {MAX_PERIOD_YEARS} years long."
    return None


def today_field(name: str) -> StrictDate:
    """A date argument that defaults to today in Europe/Budapest."""
    return StrictDate(
        load_default=today_budapest,
        metadata={"description": f"`{name}` as YYYY-MM-DD; default: today in Europe/Budapest."},
    )


class LangArg(QueryArgs):
    """`lang`: the language of the texts the system composes (descriptions, documents)."""

    lang = fields.String(
        load_default="en",
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "`hu` or `en` (default) for composed descriptions."},
    )


class BalanceArgs(LangArg):
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


class Payment(Schema):
    """Where and how much to pay, and the instant-payment QR payload (MNB HCT)."""

    beneficiary = fields.String()
    account_number = fields.String(metadata={"example": "11773016-11111018-00000000"})
    iban = fields.String()
    bic = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    reference = fields.String()
    qr = fields.String(metadata={"description": "The HCT payload: 17 LF-ended elements (docs/payments.md)."})


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
    payment = fields.Nested(Payment, allow_none=True, metadata={"description": "Null when nothing is owed."})


DOCUMENT_FORMATS = ("json", "pdf")


class InvoicesArgs(PeriodArgs):
    """Query of the invoice list."""

    as_of = today_field("as_of")
    status = fields.String(load_default="all", validate=validate.OneOf(INVOICE_STATUS_FILTERS))
    date_from = StrictDate(data_key="from", metadata={"description": "Earliest `issued_on`."})
    date_to = StrictDate(data_key="to", metadata={"description": "Latest `issued_on`."})


class SettlementSheetArgs(LangArg):
    """Query of the settlement sheet: the period (default: this month up to today) and the format."""

    date_from = StrictDate(data_key="from", metadata={"description": "Default: the first day of this month."})
    date_to = StrictDate(data_key="to", metadata={"description": "Default: today in Europe/Budapest."})
    format = fields.String(
        validate=validate.OneOf(DOCUMENT_FORMATS),
        metadata={"description": "`pdf` for the document; `Accept: application/pdf` too."},
    )

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("date_from") and data.get("date_to"):
            error = period_error(data["date_from"], data["date_to"])
            if error:
                raise ValidationError(error, "to")


class Invoice(Schema):
    """One invoice and what it received."""

    invoice_number = fields.String()
    issued_on = fields.Date()
    due_on = fields.Date()
    kind = fields.String()
    description = fields.String(allow_none=True)
    net_amount = fields.Integer()
    vat_amount = fields.Integer()
    gross_amount = fields.Integer()
    cancelled_on = fields.Date(allow_none=True)
    paid_amount = fields.Integer()
    open_amount = fields.Integer()
    status = fields.String(validate=validate.OneOf(INVOICE_STATUSES))


class InvoiceTotals(Schema):
    """Over all the customer's invoices, not only the filtered ones."""

    open_amount = fields.Integer()
    overdue_amount = fields.Integer()


class InvoiceList(Schema):
    """The invoices as of a date."""

    customer_code = fields.String()
    as_of = fields.Date()
    currency = fields.String()
    invoices = fields.List(fields.Nested(Invoice))
    totals = fields.Nested(InvoiceTotals)


class SettlementSheet(Schema):
    """The settlement sheet of a period."""

    class Meta:
        include = {"from": fields.Date(), "to": fields.Date()}

    customer_code = fields.String()
    currency = fields.String()
    opening_balance = fields.Integer()
    entries = fields.List(fields.Nested(SettlementEntry))
    closing_balance = fields.Integer()
    overdue_amount = fields.Integer()
    codes = fields.Nested(LicenseCodes, allow_none=True)
    codes_withheld = fields.Nested(CodesWithheld, allow_none=True)
    payment = fields.Nested(Payment, allow_none=True)
