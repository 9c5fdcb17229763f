"""Invoices, the settlement sheet (JSON or PDF), the quota statement as PDF and the payment QR image."""

from __future__ import annotations

import io
import threading
from datetime import date
from typing import Any

import segno
from flask import Response, abort, current_app, g, request

from gateway.auth import require_session
from gateway.clients import ServiceClient, customer_path, relay_problem
from gateway.openapi import SECURED, Blueprint, problem_responses
from gateway.pdf.statements import quota_pdf, settlement_sheet_pdf
from shared.api.ledger import InvoiceList, InvoicesArgs, SettlementSheet, SettlementSheetArgs, period_error
from shared.timeutil import today_budapest
from shared.web.problems import ProblemError

PDF_TYPE = "application/pdf"
PDF_DOC = {"responses": {200: {"content": {PDF_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}}
# PDF drawing is CPU-bound Python: one at a time per worker, so the other queries keep their share of it.
PDF_SLOTS = threading.BoundedSemaphore(1)
blp = Blueprint("documents", __name__, url_prefix="/api/v1", description="Invoices, documents and paying")
blp.before_request(require_session)


def documented(view: Any) -> Any:
    """The bearer token and the problem answers of these operations."""
    view = problem_responses(
        blp,
        400,
        401,
        404,
        503,
        s401="Missing, invalid or expired token.",
        s404="Nothing to show (no payment due, no contract).",
        s503="A service answering this query is unavailable.",
    )(view)
    return blp.doc(security=SECURED)(view)


def service(name: str) -> ServiceClient:
    """The client of one service."""
    return current_app.extensions["gateway"].clients[name]


def wants_pdf(args: dict[str, Any]) -> bool:
    """PDF when asked by `format=pdf`, or by an Accept header preferring application/pdf (unless format=json)."""
    if "format" in args:
        return args["format"] == "pdf"
    return request.accept_mimetypes.best_match(["application/json", PDF_TYPE]) == PDF_TYPE


def fetch_or_none(name: str, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """A service's JSON answer, None for its 404; any other 4xx problem goes to the caller unchanged."""
    with service(name).request("GET", customer_path(g.customer_code, query), params=params) as answer:
        if answer.status_code == 404:
            return None
        if not answer.ok:
            abort(relay_problem(answer))
        return answer.json()


def fetch(name: str, query: str, params: dict[str, Any]) -> dict[str, Any]:
    """A service's JSON answer; its 4xx problem (404 included) goes to the caller unchanged."""
    with service(name).request("GET", customer_path(g.customer_code, query), params=params) as answer:
        if not answer.ok:
            abort(relay_problem(answer))
        return answer.json()


def customer_header(as_of: str) -> dict[str, Any]:
    """The customer's name and address as of a date (the annex's), or just the code when no contract says."""
    annex = fetch_or_none("contracts", "contract-annex", {"as_of": as_of})
    return annex["customer"] if annex else {"customer_code": g.customer_code}


def pdf_response(body: bytes, filename: str) -> Response:
    """A PDF download."""
    response = Response(body, mimetype=PDF_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blp.route("/invoices", methods=["GET"])
@blp.arguments(InvoicesArgs(), location="query")
@blp.response(200, InvoiceList)
@documented
def invoices(args: dict[str, Any]) -> Response:
    """The invoices issued up to `as_of`, newest first, with what each received; totals over all of them.

    Each invoice is `paid`, `open`, `overdue` or `cancelled` on `as_of`, after the same allocation as the balance
    (payments spent on the oldest due date first); `status`, `from` and `to` filter the list, not the totals.
    """
    params = {"as_of": args["as_of"].isoformat(), "status": args["status"]}
    for name, key in (("date_from", "from"), ("date_to", "to")):
        if args.get(name):
            params[key] = args[name].isoformat()
    return service("ledger").relay(customer_path(g.customer_code, "invoices"), params)


@blp.route("/statements/settlement-sheet", methods=["GET"])
@blp.arguments(SettlementSheetArgs(), location="query")
@blp.response(200, SettlementSheet)
@blp.doc(**PDF_DOC)
@documented
def settlement_sheet(args: dict[str, Any]) -> Response:
    """The settlement sheet of `from … to` (default: this month up to today); `format=pdf` for the document.

    The opening balance the day before `from`, the entries of the period with their running balance, the closing
    balance on `to`, the codes or why they are withheld, and the payment block. A4 PDF in Hungarian on request.
    """
    date_to = args.get("date_to") or today_budapest()
    date_from = args.get("date_from") or date(date_to.year, date_to.month, 1)
    error = period_error(date_from, date_to)
    if error:
        raise ProblemError(
            400, "Invalid request", "One or more request parameters are invalid.", errors={"to": [error]}
        )
    pdf = wants_pdf(args)
    params = {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "serial_number": g.serial_number,
        "lang": "hu" if pdf else args["lang"],
    }
    if not pdf:
        return service("ledger").relay(customer_path(g.customer_code, "settlement-sheet"), params)
    sheet = fetch("ledger", "settlement-sheet", params)
    customer = customer_header(params["to"])
    with PDF_SLOTS:
        body = settlement_sheet_pdf(sheet, customer, current_app.config["VENDOR"])
    return pdf_response(body, f"elszamololap-{params['from']}-{params['to']}.pdf")


def quota_document(settlement_date: str) -> Response:
    """The minute quota statement as a PDF (the quota route's `format=pdf`)."""
    quota = fetch("quota", "quota", {"settlement_date": settlement_date})
    customer = customer_header(settlement_date)
    with PDF_SLOTS:
        body = quota_pdf(quota, customer, current_app.config["VENDOR"])
    return pdf_response(body, f"perckeret-{settlement_date}.pdf")


def current_payment() -> dict[str, Any]:
    """Today's payment block; 404 when nothing is owed."""
    balance = fetch("ledger", "balance", {"as_of": today_budapest().isoformat(), "serial_number": g.serial_number})
    if not balance.get("payment"):
        raise ProblemError(404, "Not Found", "Nothing is owed, so there is nothing to pay.")
    return balance["payment"]


@blp.route("/payment-qr.png", methods=["GET"])
@blp.doc(
    responses={
        200: {
            "description": "The QR code as a PNG image.",
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
@documented
def payment_qr_png() -> Response:
    """The instant-payment QR code of today's `payment.qr` as a PNG image.

    The Hungarian instant-payment (MNB HCT) code for exactly the amount owed today, to scan from a banking app;
    404 when nothing is owed.
    """
    image = io.BytesIO()
    segno.make_qr(current_payment()["qr"], error="m", encoding="utf-8").save(image, kind="png", scale=6, border=4)
    return Response(image.getvalue(), mimetype="image/png")


@blp.route("/payment-qr.svg", methods=["GET"])
@blp.doc(
    responses={
        200: {
            "description": "The QR code as an SVG image.",
            "content": {"image/svg+xml": {"schema": {"type": "string"}}},
        }
    }
)
@documented
def payment_qr_svg() -> Response:
    """The instant-payment QR code of today's `payment.qr` as an SVG image.

    The same code as the PNG, as a vector image for printing; 404 when nothing is owed.
    """
    image = io.BytesIO()
    segno.make_qr(current_payment()["qr"], error="m", encoding="utf-8").save(
        image, kind="svg", scale=6, border=4, title="Fizetési QR-kód", xmldecl=False
    )
    return Response(image.getvalue(), mimetype="image/svg+xml")
