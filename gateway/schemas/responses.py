"""Response schemas of the public API (the services' answers are passed through in this shape)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway.schemas.args import CATEGORIES

CALL_STATUSES = ("registered", "in_progress", "waiting_for_customer", "closed")
LICENSE_TYPES = ("purchase", "rental")


class SessionCreated(Schema):
    """A new session: the bearer token and what it is bound to."""

    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    customer_code = fields.String(required=True)
    serial_number = fields.String(required=True)
    customer_name = fields.String(allow_none=True)


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


class SupportCall(Schema):
    """One support call as its events leave it."""

    call_id = fields.String()
    opened_at = fields.DateTime()
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    channel = fields.String()
    subject = fields.String()
    serial_number = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(CALL_STATUSES))
    assignee = fields.String(allow_none=True)
    last_update_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    resolution = fields.String(allow_none=True)
    minutes_logged = fields.Integer()


class CallSummary(Schema):
    """Counts over the filtered set (all pages)."""

    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer())


class SupportCallPage(Schema):
    """One page of the support event list."""

    customer_code = fields.String()
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    calls = fields.List(fields.Nested(SupportCall))
    summary = fields.Nested(CallSummary)


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
