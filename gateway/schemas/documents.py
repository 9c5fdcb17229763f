"""Schemas of the invoices, the settlement sheet and the payment block (portal-api sections 6–8)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from gateway.openapi import StrictDate
from gateway.schemas.args import QueryArgs, _today_field
from gateway.schemas.responses import CodesWithheld, LicenseCodes, Payment, SettlementEntry
from services.ledger.invoicing import INVOICE_STATUSES, STATUS_FILTERS
from services.ledger.sheet import period_error
from services.ledger.wording import LANGUAGES

DOCUMENT_FORMATS = ("json", "pdf")


class LangArg(QueryArgs):
    """`lang`: the language of the texts the system composes (descriptions, documents)."""

    lang = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES),
                         metadata={"description": "`hu` or `en` (default) for composed descriptions."})


class InvoicesArgs(QueryArgs):
    """Query of the invoice list."""

    as_of = _today_field("as_of")
    status = fields.String(load_default="all", validate=validate.OneOf(STATUS_FILTERS))
    date_from = StrictDate(data_key="from", metadata={"description": "Earliest `issued_on`."})
    date_to = StrictDate(data_key="to", metadata={"description": "Latest `issued_on`."})

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("Must not be before 'from'.", "to")


class SettlementSheetArgs(LangArg):
    """Query of the settlement sheet: the period (default: this month up to today) and the format."""

    date_from = StrictDate(data_key="from", metadata={"description": "Default: the first day of this month."})
    date_to = StrictDate(data_key="to", metadata={"description": "Default: today in Europe/Budapest."})
    format = fields.String(validate=validate.OneOf(DOCUMENT_FORMATS),
                           metadata={"description": "`pdf` for the document; `Accept: application/pdf` too."})

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
