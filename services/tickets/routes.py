"""Internal API of the tickets service (called by the gateway only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import flask

from services.tickets import detail, excel, queries
from shared.api.tickets import CSV_TYPE, SupportCallsArgs
from shared.web.app import db_connection, parse_query, require_customer_code
from shared.web.problems import ProblemError

blueprint = flask.Blueprint("tickets", __name__, url_prefix="/internal/v1")

SUPPORT_CALLS_QUERY = SupportCallsArgs()  # one instance: creating a schema copies its fields on every request


def _wants_csv(args: dict[str, Any]) -> bool:
    """CSV when asked by `format=csv`, or by an Accept header preferring text/csv (unless format=json)."""
    if "format" in args:
        return args["format"] == "csv"
    return flask.request.accept_mimetypes.best_match(["application/json", CSV_TYPE]) == CSV_TYPE


def _csv_lines(customer_code: str, filters: dict[str, Any], lang: str | None = None) -> Iterator[str]:
    """The filtered list as CSV text, a header row and then one line per call (for Excel when `lang` is given)."""
    if lang:
        with db_connection() as conn:
            calls = queries.iter_support_calls(conn, customer_code, **filters)
            yield from excel.excel_lines(calls, queries.CALL_COLUMNS, lang)
        return
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


def _csv_response(customer_code: str, filters: dict[str, Any], lang: str | None) -> flask.Response:
    """A streamed CSV response (text/csv; charset=utf-8) of the filtered list."""
    lines = _csv_lines(customer_code, filters, lang)
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
    filters: dict[str, Any] = {name: args.get(name) for name in ("category", "date_from", "date_to", "q")}
    filters["status"] = args["status"]
    if _wants_csv(args):
        return _csv_response(customer_code, filters, args.get("lang"))
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
