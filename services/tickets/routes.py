"""Internal API of the tickets service (called by the gateway only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import flask
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from services.tickets import detail, queries, rules
from shared.web import ProblemError, db_connection, parse_query, require_customer_code

blueprint = flask.Blueprint("tickets", __name__, url_prefix="/internal/v1")

CSV_TYPE = "text/csv"


class SupportCallsQuery(Schema):
    """Query string of the support event list; unknown parameters are ignored."""

    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default="all", validate=validate.OneOf(rules.STATUS_FILTERS))
    category = fields.String(validate=validate.OneOf(rules.CATEGORIES))
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    q = fields.String(validate=validate.Length(max=rules.MAX_QUERY_LENGTH))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=rules.MAX_PER_PAGE))
    format = fields.String(validate=validate.OneOf(["json", "csv"]))

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        error = rules.period_error(data.get("date_from"), data.get("date_to"))
        if error:
            raise ValidationError(error, "to")


SUPPORT_CALLS_QUERY = SupportCallsQuery()  # one instance: creating a schema copies its fields on every request


def _wants_csv(args: dict[str, Any]) -> bool:
    """CSV when asked by `format=csv`, or by an Accept header preferring text/csv (unless format=json)."""
    if "format" in args:
        return args["format"] == "csv"
    return flask.request.accept_mimetypes.best_match(["application/json", CSV_TYPE]) == CSV_TYPE


def _csv_lines(customer_code: str, filters: dict[str, Any]) -> Iterator[str]:
    """The filtered list as CSV text, a header row and then one line per call."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(queries.CALL_COLUMNS)
    with db_connection() as conn:
        for call in queries.iter_support_calls(conn, customer_code, **filters):
            writer.writerow(call[name] for name in queries.CALL_COLUMNS)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_response(customer_code: str, filters: dict[str, Any]) -> flask.Response:
    """A streamed CSV response (text/csv; charset=utf-8) of the filtered list."""
    lines = _csv_lines(customer_code, filters)
    first = next(lines)  # runs the query before the 200 goes out, so its failure is still a problem

    def body() -> Iterator[str]:
        yield first
        yield from lines

    return flask.Response(flask.stream_with_context(body()), mimetype=CSV_TYPE)


@blueprint.get("/customers/<path:customer_code>/support-calls")
def support_calls(customer_code: str) -> Any:
    """Support calls of a customer, filtered and paged (JSON), or all filtered ones (CSV)."""
    require_customer_code(customer_code)
    args = parse_query(SUPPORT_CALLS_QUERY)
    filters = {name: args.get(name) for name in ("category", "date_from", "date_to", "q")}
    filters["status"] = args["status"]
    if _wants_csv(args):
        return _csv_response(customer_code, filters)
    with db_connection() as conn:
        return queries.support_calls(conn, customer_code, page=args["page"], per_page=args["per_page"], **filters)


@blueprint.get("/customers/<path:customer_code>/support-calls/<call_id>")
def support_call(customer_code: str, call_id: str) -> Any:
    """One call of the customer with its description and history; 404 when it is not theirs or unknown."""
    require_customer_code(customer_code)
    with db_connection() as conn:
        call = detail.support_call(conn, customer_code, call_id)
    if call is None:
        raise ProblemError(404, "Not Found", "No such support call.")
    return call
