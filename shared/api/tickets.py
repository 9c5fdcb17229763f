"""The tickets service's API: the support event list's filters, statuses and categories, and its answer."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from shared.api.fields import PeriodArgs, StrictDate, storable_text

CATEGORIES = ("bug_report", "help_request", "development_request", "consultation", "other")
CHANNELS = ("phone", "email", "remote", "on_site", "portal")
CALL_STATUSES = ("registered", "in_progress", "waiting_for_customer", "closed")
STATUS_FILTERS = ("open", "closed", "all")
HISTORY_KINDS = ("opened", "assigned", "status_changed", "work_logged", "customer_replied", "closed", "reopened")
MAX_PER_PAGE = 200
MAX_QUERY_LENGTH = 200
CSV_TYPE = "text/csv"


class SupportCallsArgs(PeriodArgs):
    """Filters and paging of the support event list; `format=csv` downloads every matching call."""

    status = fields.String(load_default="all", validate=validate.OneOf(STATUS_FILTERS))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    date_from = StrictDate(data_key="from", metadata={"description": "Earliest `opened_at` Budapest date."})
    date_to = StrictDate(data_key="to", metadata={"description": "Latest `opened_at` Budapest date."})
    q = fields.String(
        validate=[validate.Length(max=MAX_QUERY_LENGTH), storable_text], metadata={"description": "Text in subject."}
    )
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


class HistoryEntry(Schema):
    """One event of a call, with its own facts."""

    class Meta:
        unknown = EXCLUDE

    at = fields.DateTime()
    kind = fields.String(validate=validate.OneOf(HISTORY_KINDS))
    assignee = fields.String()
    status = fields.String()
    note = fields.String(allow_none=True)
    staff = fields.String()
    minutes = fields.Integer()
    chargeable = fields.Boolean()
    description = fields.String(allow_none=True)
    message = fields.String()
    resolution = fields.String()
    reason = fields.String()


class SupportCallDetail(SupportCall):
    """One call: the list's fields, its description and its history."""

    description = fields.String(allow_none=True)
    history = fields.List(fields.Nested(HistoryEntry))
