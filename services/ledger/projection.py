"""Ledger projection: one handler per event type, storing each fact with its date.

Documents are keyed by their number or id; a second fact with the same key (a corrected
re-send under a new event id) replaces the first, so the later arrival on the topic wins.
"""

from __future__ import annotations

import psycopg
from psycopg.rows import DictRow

from shared.events.envelope import Event
from shared.projection.protocol import WriteOnlyProjection, ddl_beside

INSERT_INVOICE = """
INSERT INTO invoice (invoice_number, customer_code, issued_on, due_on, kind, description,
                     net_amount, vat_amount, gross_amount, currency, serial_number)
VALUES (%(invoice_number)s, %(customer_code)s, %(issued_on)s, %(due_on)s, %(kind)s, %(description)s,
        %(net_amount)s, %(vat_amount)s, %(gross_amount)s, %(currency)s, %(serial_number)s)
ON CONFLICT (invoice_number) DO UPDATE SET
    customer_code = EXCLUDED.customer_code, issued_on = EXCLUDED.issued_on, due_on = EXCLUDED.due_on,
    kind = EXCLUDED.kind, description = EXCLUDED.description, net_amount = EXCLUDED.net_amount,
    vat_amount = EXCLUDED.vat_amount, gross_amount = EXCLUDED.gross_amount,
    currency = EXCLUDED.currency, serial_number = EXCLUDED.serial_number
"""

INSERT_CANCELLATION = """
INSERT INTO invoice_cancellation (invoice_number, customer_code, cancelled_on, reason)
VALUES (%(invoice_number)s, %(customer_code)s, %(cancelled_on)s, %(reason)s)
ON CONFLICT (invoice_number) DO UPDATE SET
    customer_code = EXCLUDED.customer_code, cancelled_on = EXCLUDED.cancelled_on, reason = EXCLUDED.reason
"""

INSERT_PAYMENT = """
INSERT INTO payment (payment_id, customer_code, received_on, amount, method, reference)
VALUES (%(payment_id)s, %(customer_code)s, %(received_on)s, %(amount)s, %(method)s, %(reference)s)
ON CONFLICT (payment_id) DO UPDATE SET
    customer_code = EXCLUDED.customer_code, received_on = EXCLUDED.received_on, amount = EXCLUDED.amount,
    method = EXCLUDED.method, reference = EXCLUDED.reference
"""

INSERT_REFUND = """
INSERT INTO refund (refund_id, customer_code, refunded_on, amount)
VALUES (%(refund_id)s, %(customer_code)s, %(refunded_on)s, %(amount)s)
ON CONFLICT (refund_id) DO UPDATE SET
    customer_code = EXCLUDED.customer_code, refunded_on = EXCLUDED.refunded_on, amount = EXCLUDED.amount
"""

INSERT_LICENSE_CODE = """
INSERT INTO license_code (event_id, customer_code, serial_number, valid_from, valid_until,
                          rental_code, internet_code)
VALUES (%(event_id)s, %(customer_code)s, %(serial_number)s, %(valid_from)s, %(valid_until)s,
        %(rental_code)s, %(internet_code)s)
ON CONFLICT (event_id) DO NOTHING
"""


def invoice_issued(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """Store an issued invoice."""
    cur.execute(INSERT_INVOICE, {"serial_number": None} | event.data)


def invoice_cancelled(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """Store a cancellation (storno) by invoice number, whether or not its invoice has arrived."""
    cur.execute(INSERT_CANCELLATION, {"reason": None} | event.data)


def payment_received(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """Store a payment; its reference is informational only."""
    cur.execute(INSERT_PAYMENT, {"reference": None} | event.data)


def payment_refunded(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """Store an overpayment paid back to the customer."""
    cur.execute(INSERT_REFUND, event.data)


def license_codes_issued(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """Store issued license codes; every issue is kept, the one shown is chosen at query time."""
    cur.execute(INSERT_LICENSE_CODE, event.data | {"event_id": event.id})


# Write-only: no handler reads, and each table is written by one statement, so the runtime may group them.
PROJECTION = WriteOnlyProjection(
    service="ledger",
    topics=(
        "invoices",
        "payments",
        "license-codes",
    ),
    ddl=ddl_beside(__file__),
    handlers={
        "invoice.issued": invoice_issued,
        "invoice.cancelled": invoice_cancelled,
        "payment.received": payment_received,
        "payment.refunded": payment_refunded,
        "license.codes_issued": license_codes_issued,
    },
)
