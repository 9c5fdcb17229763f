"""The five customer queries: each scoped to the token's customer, answered by one service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, current_app, g, request

from gateway.auth import require_session
from gateway.clients import ServiceClient, customer_path, relay_problem
from gateway.openapi import SECURED, Blueprint, problem_responses
from gateway.routes import documents
from shared.api.contracts import AsOfArgs, ContractAnnex, ExpectedFee
from shared.api.ledger import Balance, BalanceArgs
from shared.api.quota import QuotaArgs, QuotaStatement
from shared.api.tickets import SupportCallPage, SupportCallsArgs

CSV_TYPE = "text/csv"
CSV_DOC = {"responses": {200: {"content": {CSV_TYPE: {"schema": {"type": "string"}}}}}}
blp = Blueprint("queries", __name__, url_prefix="/api/v1", description="Customer queries (bearer token)")
blp.before_request(require_session)


def documented(not_found: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the bearer token and the problem answers an operation may give."""
    statuses = (400, 401, 503) + ((404,) if not_found else ())

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view = problem_responses(
            blp,
            *statuses,
            s401="Missing, invalid or expired token.",
            s404=not_found or "",
            s503="The service answering this query is unavailable.",
        )(view)
        return blp.doc(security=SECURED)(view)

    return decorate


def service(name: str) -> ServiceClient:
    """The client of one service."""
    return current_app.extensions["gateway"].clients[name]


@blp.route("/balance", methods=["GET"])
@blp.arguments(BalanceArgs(), location="query")
@blp.response(200, Balance)
@documented()
def balance(args: dict[str, Any]) -> Response:
    """Balance, settlement-sheet entries, and the rental and internet codes of the session's serial.

    The account as on the monthly settlement sheet on `as_of`: invoices, cancellations, payments and
    refunds with the running balance (positive: the customer owes). `codes` holds the rental and internet
    codes of the session's serial number only when nothing is overdue; otherwise it is null and
    `codes_withheld` says why. `payment` says where and how much to pay, with the instant-payment QR payload.
    """
    params = {"as_of": args["as_of"].isoformat(), "serial_number": g.serial_number, "lang": args["lang"]}
    return service("ledger").relay(customer_path(g.customer_code, "balance"), params)


@blp.route("/support-calls", methods=["GET"])
@blp.arguments(SupportCallsArgs(), location="query")
@blp.response(200, SupportCallPage)
@blp.doc(**CSV_DOC)
@documented()
def support_calls(args: dict[str, Any]) -> Response:
    """Support calls, newest first, filtered and paged; `format=csv` or `Accept: text/csv` downloads all.

    Every bug report, help request and development request of the customer, with who handles it and where
    it stands. Filters: `status`, `category`, the Budapest opening dates `from`/`to` and text `q` in the
    subject; `page`/`per_page` page the JSON answer. The CSV download has every matching call, unpaged.
    """
    params = support_call_params(args)
    path = customer_path(g.customer_code, "support-calls")
    if wants_csv(args):
        return csv_download(service("tickets"), path, params)
    return service("tickets").relay(path, params)


@blp.route("/quota", methods=["GET"])
@blp.arguments(QuotaArgs(), location="query")
@blp.response(200, QuotaStatement)
@blp.doc(responses={200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
@documented(not_found="No support year: no annual support fee invoice covers the settlement date.")
def quota(args: dict[str, Any]) -> Response:
    """Minute quota statement of the support year containing the settlement date.

    The free support minutes of that support year, their itemised use by support call, what remains, and
    the invoices for minutes over the quota. 404 when no annual support fee invoice covers the date.
    `format=pdf` (or `Accept: application/pdf`) gives the statement as a PDF document.
    """
    params = {"settlement_date": args["settlement_date"].isoformat()}
    if documents.wants_pdf(args):
        return documents.quota_document(params["settlement_date"])
    return service("quota").relay(customer_path(g.customer_code, "quota"), params)


@blp.route("/contract-annex", methods=["GET"])
@blp.arguments(AsOfArgs(), location="query")
@blp.response(200, ContractAnnex)
@documented(not_found="No contract: none signed on or before `as_of`.")
def contract_annex(args: dict[str, Any]) -> Response:
    """Customer details and contracts with their items in force on `as_of`.

    The contract annex: name and address on the contract, and per contract its programs with quantities
    and serial numbers. 404 when no contract was signed on or before `as_of`.
    """
    params = {"as_of": args["as_of"].isoformat()}
    return service("contracts").relay(customer_path(g.customer_code, "contract-annex"), params)


@blp.route("/expected-fee", methods=["GET"])
@blp.arguments(AsOfArgs(), location="query")
@blp.response(200, ExpectedFee)
@documented(not_found="No contract: none signed on or before `as_of`.")
def expected_fee(args: dict[str, Any]) -> Response:
    """Expected annual support fee of each contract in force, on its next anniversary.

    Per contract the fee lines of its programs at the price list valid on the anniversary after `as_of`,
    with VAT, and their total. 404 when no contract was signed on or before `as_of`.
    """
    params = {"as_of": args["as_of"].isoformat()}
    return service("contracts").relay(customer_path(g.customer_code, "expected-fee"), params)


def support_call_params(args: dict[str, Any]) -> dict[str, Any]:
    """The validated filters as the tickets service's query string."""
    params: dict[str, Any] = {"status": args["status"], "page": args["page"], "per_page": args["per_page"]}
    for name, key in (("category", "category"), ("date_from", "from"), ("date_to", "to"), ("q", "q"), ("lang", "lang")):
        if args.get(name) is not None:
            value = args[name]
            params[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return params


def wants_csv(args: dict[str, Any]) -> bool:
    """CSV when asked by `format=csv`, or by an Accept header preferring text/csv (unless format=json)."""
    if "format" in args:
        return args["format"] == "csv"
    return request.accept_mimetypes.best_match(["application/json", CSV_TYPE]) == CSV_TYPE


def csv_download(tickets: ServiceClient, path: str, params: dict[str, Any]) -> Response:
    """Stream the tickets service's CSV through as an attachment."""
    answer = tickets.request("GET", path, params={**params, "format": "csv"}, stream=True)
    if not answer.ok:
        with answer:
            return relay_problem(answer)

    pieces = answer.body_stream(chunk_size=16 * 1024)  # a failure before the first byte is still a 503 problem

    def chunks() -> Iterator[bytes]:
        with answer:
            yield from pieces

    response = Response(chunks(), mimetype=CSV_TYPE)
    response.call_on_close(answer.close)  # also when the body is never sent (the client went away first)
    response.headers["Content-Disposition"] = 'attachment; filename="support-calls.csv"'
    return response
