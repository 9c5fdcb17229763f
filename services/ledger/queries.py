"""Ledger read-model queries: one customer's facts up to a date, then the balance rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import DictRow

from services.ledger import rules
from shared.web.jsonready import json_ready

INVOICES = """
SELECT i.invoice_number, i.issued_on, i.due_on, i.description, i.gross_amount, c.cancelled_on
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


# The facts `rules.statement` takes, by argument name: their query and their rule type.
FACTS = {"invoices": (INVOICES, rules.Invoice), "payments": (PAYMENTS, rules.Payment),
         "refunds": (REFUNDS, rules.Refund), "codes": (LICENSE_CODES, rules.LicenseCode)}


def _facts(conn: psycopg.Connection[DictRow], params: dict[str, Any]) -> dict[str, list[Any]]:
    """Invoices, payments, refunds and codes as rule facts (columns named as the facts' fields): the four
    statements go out in one pipeline, one round trip."""
    with conn.pipeline():
        cursors = {name: conn.execute(query, params) for name, (query, _) in FACTS.items()}
        return {name: [FACTS[name][1](**row) for row in cur.fetchall()] for name, cur in cursors.items()}



def balance(conn: psycopg.Connection[DictRow], customer_code: str, serial_number: str, as_of: date) -> dict[str, Any]:
    """Query 1: balance, status, overdue amount, settlement-sheet entries and license codes."""
    params = {"customer_code": customer_code, "serial_number": serial_number, "as_of": as_of}
    statement = rules.statement(**_facts(conn, params), serial_number=serial_number, as_of=as_of)
    header = {"customer_code": customer_code, "as_of": as_of, "currency": "HUF"}
    return json_ready(header | statement)
