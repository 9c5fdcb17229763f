"""Schemas of the billing, bank, helpdesk and licensing events."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from shared.events.fields import Date, Strict, StrictInt, Timestamp, code, money, one_of, strict_bool, text

NEEDS_SUPPORT_YEAR = ("annual_support_fee", "quota_overrun")


class SupportYear(Strict):
    starts_on = Date(required=True)
    ends_on = Date(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["ends_on"] < data["starts_on"]:
            raise ValidationError("Must not end before it starts.", "ends_on")


class InvoiceIssued(Strict):
    invoice_number = text(required=True)
    customer_code = code(required=True)
    issued_on = Date(required=True)
    due_on = Date(required=True)
    kind = one_of("annual_support_fee", "rental_fee", "quota_overrun", "other", required=True)
    description = fields.String(required=True)
    net_amount = money(required=True)
    vat_amount = money(required=True)
    gross_amount = money(required=True)
    currency = one_of("HUF", required=True)
    support_year = fields.Nested(SupportYear)
    overrun_minutes = StrictInt(validate=validate.Range(min=0))
    serial_number = code()

    @validates_schema
    def _per_kind(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("kind")
        if kind in NEEDS_SUPPORT_YEAR and "support_year" not in data:
            raise ValidationError(f"Required for kind {kind}.", "support_year")
        if kind == "quota_overrun" and "overrun_minutes" not in data:
            raise ValidationError("Required for kind quota_overrun.", "overrun_minutes")


class InvoiceCancelled(Strict):
    invoice_number = text(required=True)
    customer_code = code(required=True)
    cancelled_on = Date(required=True)
    reason = fields.String()


class PaymentReceived(Strict):
    payment_id = text(required=True)
    customer_code = code(required=True)
    received_on = Date(required=True)
    amount = money(required=True, validate=validate.Range(min=1))
    method = one_of("bank_transfer", "cash", "card", "offset", required=True)
    reference = fields.String()


class PaymentRefunded(Strict):
    refund_id = text(required=True)
    customer_code = code(required=True)
    refunded_on = Date(required=True)
    amount = money(required=True, validate=validate.Range(min=1))


class CallOpened(Strict):
    call_id = text(required=True)
    customer_code = code(required=True)
    serial_number = code()
    opened_at = Timestamp(required=True)
    category = one_of("bug_report", "help_request", "development_request", "consultation", "other", required=True)
    channel = one_of("phone", "email", "remote", "on_site", "portal", required=True)
    subject = text(required=True)
    description = fields.String()


class CallAssigned(Strict):
    call_id = text(required=True)
    customer_code = code(required=True)
    assignee = text(required=True)
    assigned_at = Timestamp(required=True)


class CallStatusChanged(Strict):
    call_id = text(required=True)
    customer_code = code(required=True)
    status = one_of("registered", "in_progress", "waiting_for_customer", required=True)
    changed_at = Timestamp(required=True)
    note = fields.String()


class WorkLogged(Strict):
    call_id = text(required=True)
    customer_code = code(required=True)
    work_id = text(required=True)
    performed_at = Timestamp(required=True)
    staff = text(required=True)
    minutes = StrictInt(required=True, validate=validate.Range(min=1))
    description = fields.String(required=True)
    chargeable = strict_bool(required=True)


class CallClosed(Strict):
    call_id = text(required=True)
    customer_code = code(required=True)
    closed_at = Timestamp(required=True)
    resolution = fields.String(required=True)


class CallReopened(Strict):
    call_id = text(required=True)
    customer_code = code(required=True)
    reopened_at = Timestamp(required=True)
    reason = fields.String(required=True)


class CustomerReplied(Strict):
    call_id = text(required=True)
    customer_code = code(required=True)
    replied_at = Timestamp(required=True)
    message = text(required=True)


class CodesIssued(Strict):
    customer_code = code(required=True)
    serial_number = code(required=True)
    valid_from = Date(required=True)
    valid_until = Date(required=True)
    rental_code = fields.String(required=True, allow_none=True)
    internet_code = text(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["valid_until"] < data["valid_from"]:
            raise ValidationError("Must not be before valid_from.", "valid_until")
