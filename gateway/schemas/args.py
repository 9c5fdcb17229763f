"""Request schemas: the login body and the query strings (unknown parameters are ignored)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from gateway.openapi import StrictDate
from shared.timeutil import today_budapest

STATUS_FILTERS = ("open", "closed", "all")
CATEGORIES = ("bug_report", "help_request", "development_request", "consultation", "other")
MAX_PER_PAGE = 200
MAX_QUERY_LENGTH = 200
MAX_CREDENTIAL_LENGTH = 256


def _today_field(name: str) -> StrictDate:
    """A date argument that defaults to today in Europe/Budapest."""
    return StrictDate(
        load_default=today_budapest,
        metadata={"description": f"`{name}` as YYYY-MM-DD; default: today in Europe/Budapest."},
    )


class QueryArgs(Schema):
    """Base of the query-string schemas: unknown parameters are ignored."""

    class Meta:
        unknown = EXCLUDE


def storable_text(value: str) -> None:
    """Refuse text that no code, serial or password contains and PostgreSQL cannot hold: NUL, lone surrogates."""
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("Must be valid Unicode text.") from None


class LoginRequest(Schema):
    """Login body: customer code, serial number, and the password if the customer has one."""

    class Meta:
        unknown = EXCLUDE

    customer_code = fields.String(
        required=True, validate=[validate.Length(min=1, max=MAX_CREDENTIAL_LENGTH), storable_text])
    serial_number = fields.String(
        required=True, validate=[validate.Length(min=1, max=MAX_CREDENTIAL_LENGTH), storable_text])
    password = fields.String(
        load_default=None, allow_none=True, validate=[validate.Length(max=MAX_CREDENTIAL_LENGTH), storable_text])


class BalanceArgs(QueryArgs):
    """Query of the balance."""

    as_of = _today_field("as_of")
    lang = fields.String(load_default="en", validate=validate.OneOf(("en", "hu")),
                         metadata={"description": "`hu` or `en` (default) for composed descriptions."})


class AsOfArgs(QueryArgs):
    """Query of the contract annex and the expected fee."""

    as_of = _today_field("as_of")


class QuotaArgs(QueryArgs):
    """Query of the minute quota statement."""

    settlement_date = _today_field("settlement_date")
    format = fields.String(validate=validate.OneOf(("json", "pdf")),
                           metadata={"description": "`pdf` for the document; `Accept: application/pdf` too."})


class SupportCallsArgs(QueryArgs):
    """Filters and paging of the support event list; `format=csv` downloads every matching call."""

    status = fields.String(load_default="all", validate=validate.OneOf(STATUS_FILTERS))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    date_from = StrictDate(data_key="from", metadata={"description": "Earliest `opened_at` Budapest date."})
    date_to = StrictDate(data_key="to", metadata={"description": "Latest `opened_at` Budapest date."})
    q = fields.String(validate=[validate.Length(max=MAX_QUERY_LENGTH), storable_text],
                      metadata={"description": "Text in subject."})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))
    format = fields.String(
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "`csv` for a download; `Accept: text/csv` works too."},
    )
    lang = fields.String(
        validate=validate.OneOf(["hu", "en"]),
        metadata={"description": "With CSV: a file for Excel (semicolons, BOM, labels in this language, local times)."},
    )

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("Must not be before 'from'.", "to")
