"""The quota service's API: the minute quota statement of a support year."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.api.fields import QueryArgs
from shared.api.ledger import today_field


class QuotaArgs(QueryArgs):
    """Query of the minute quota statement."""

    settlement_date = today_field("settlement_date")
    format = fields.String(
        validate=validate.OneOf(("json", "pdf")),
        metadata={"description": "`pdf` for the document; `Accept: application/pdf` too."},
    )


class SupportYear(Schema):
    """The support year containing the settlement date."""

    starts_on = fields.Date()
    ends_on = fields.Date()


class QuotaUsage(Schema):
    """One chargeable work log."""

    performed_at = fields.DateTime()
    call_id = fields.String()
    subject = fields.String(allow_none=True)
    staff = fields.String()
    description = fields.String(allow_none=True)
    minutes = fields.Integer()
    running_total = fields.Integer()


class OverrunInvoice(Schema):
    """A quota overrun invoice of the support year."""

    invoice_number = fields.String()
    issued_on = fields.Date()
    overrun_minutes = fields.Integer(allow_none=True)
    net_amount = fields.Integer()
    gross_amount = fields.Integer()


class QuotaStatement(Schema):
    """The minute quota statement of a support year."""

    customer_code = fields.String()
    settlement_date = fields.Date()
    support_year = fields.Nested(SupportYear)
    annual_fee = fields.Integer()
    total_minutes = fields.Integer()
    used_minutes = fields.Integer()
    remaining_minutes = fields.Integer()
    overrun_minutes = fields.Integer()
    usage = fields.List(fields.Nested(QuotaUsage))
    overrun_invoices = fields.List(fields.Nested(OverrunInvoice))
