"""Ledger read-model queries: one customer's facts up to a date, then the balance rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import DictRow

from services.ledger import invoicing, payment, rules, sheet
from shared.config import vendor_settings
from shared.readmodel.rowsets import TypedUnion
from shared.web.jsonready import json_ready

INVOICES = """
SELECT i.invoice_number, i.issued_on, i.due_on, i.description, i.gross_amount, c.cancelled_on,
       i.kind, i.net_amount, i.vat_amount
FROM invoice i LEFT JOIN invoice_cancellation c USING (invoice_number)
WHERE i.customer_code = %(customer_code)s AND i.issued_on <= %(as_of)s
"""

PAYMENTS = """
SELECT payment_id, received_on, amount, method, reference FROM payment
WHERE customer_code = %(customer_code)s AND received_on <= %(as_of)s
"""

REFUNDS = """
SELECT refund_id, refunded_on, amount FROM refund
WHERE customer_code = %(customer_code)s AND refunded_on <= %(as_of)s
"""

LICENSE_CODES = """
SELECT serial_number, valid_from, valid_until, rental_code, internet_code, arrival FROM license_code
WHERE customer_code = %(customer_code)s AND serial_number = %(serial_number)s
  AND valid_from <= %(as_of)s AND %(as_of)s <= valid_until
"""


# The facts `rules.statement` takes, by argument name, in one statement: each query's columns are named as its
# rule type's fields and go to the slot of their type (shared/readmodel/rowsets.py, TypedUnion).
FACT_SLOTS = ("text", "date", "date", "text", "bigint", "date", "text", "bigint", "bigint")
FACTS = TypedUnion(
    FACT_SLOTS,
    {
        "invoices": (INVOICES, rules.Invoice, (0, 1, 2, 3, 4, 5, 6, 7, 8)),
        "payments": (PAYMENTS, rules.Payment, (0, 1, 4, 3, 6)),
        "refunds": (REFUNDS, rules.Refund, (0, 1, 4)),
        "codes": (LICENSE_CODES, rules.LicenseCode, (0, 1, 2, 3, 6, 4)),
    },
)


def _facts(conn: psycopg.Connection[DictRow], params: dict[str, Any]) -> dict[str, list[Any]]:
    """Invoices, payments, refunds and codes as rule facts: one statement, one round trip."""
    return FACTS.fetch(conn, params)


def balance(
    conn: psycopg.Connection[DictRow],
    customer_code: str,
    serial_number: str,
    as_of: date,
    vendor: dict[str, Any] | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """Query 1: balance, status, overdue amount, settlement-sheet entries, license codes and the payment block."""
    params = {"customer_code": customer_code, "serial_number": serial_number, "as_of": as_of}
    statement = rules.statement(**_facts(conn, params), serial_number=serial_number, as_of=as_of, lang=lang)
    header = {"customer_code": customer_code, "as_of": as_of, "currency": "HUF"}
    statement["payment"] = payment.payment_block(
        statement["balance"], customer_code, as_of, vendor or vendor_settings()
    )
    return json_ready(header | statement)


def invoices(
    conn: psycopg.Connection[DictRow],
    customer_code: str,
    as_of: date,
    status: str,
    date_from: date | None,
    date_to: date | None,
) -> dict[str, Any]:
    """Query 6: the invoices with what each received, filtered, and the totals over all of them."""
    facts = _facts(conn, {"customer_code": customer_code, "serial_number": "", "as_of": as_of})
    listing = invoicing.invoice_list(
        facts["invoices"], facts["payments"], facts["refunds"], as_of, status, date_from, date_to
    )
    return json_ready({"customer_code": customer_code, "as_of": as_of, "currency": "HUF"} | listing)


def settlement_sheet(
    conn: psycopg.Connection[DictRow],
    customer_code: str,
    serial_number: str,
    date_from: date,
    date_to: date,
    vendor: dict[str, Any],
    lang: str = "en",
) -> dict[str, Any]:
    """Section 7: the settlement sheet of `from … to`."""
    facts = _facts(conn, {"customer_code": customer_code, "serial_number": serial_number, "as_of": date_to})
    return json_ready(sheet.settlement_sheet(facts, customer_code, serial_number, date_from, date_to, vendor, lang))
