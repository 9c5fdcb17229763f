"""Ledger projection: one handler per event type, storing each fact with its date.

Documents are keyed by their number or id; a second fact with the same key (a corrected
re-send under a new event id) replaces the first, so the later arrival on the topic wins.
"""

from __future__ import annotations

from shared.events.envelope import Event
from shared.projection.protocol import WriteOnlyProjection, ddl_beside
from shared.projection.writes import GroupedWrites, Insert

INVOICE = (
    "invoice_number",
    "customer_code",
    "issued_on",
    "due_on",
    "kind",
    "description",
    "net_amount",
    "vat_amount",
    "gross_amount",
    "currency",
    "serial_number",
)
CANCELLATION = ("invoice_number", "customer_code", "cancelled_on", "reason")
PAYMENT = ("payment_id", "customer_code", "received_on", "amount", "method", "reference")
REFUND = ("refund_id", "customer_code", "refunded_on", "amount")
LICENSE_CODE = (
    "event_id",
    "customer_code",
    "serial_number",
    "valid_from",
    "valid_until",
    "rental_code",
    "internet_code",
)


# keyed by their number or id: a later fact with the same key replaces every other column (its arrival stays)
INSERT_INVOICE = Insert.replacing("invoice", INVOICE, ("invoice_number",))
INSERT_CANCELLATION = Insert.replacing("invoice_cancellation", CANCELLATION, ("invoice_number",))
INSERT_PAYMENT = Insert.replacing("payment", PAYMENT, ("payment_id",))
INSERT_REFUND = Insert.replacing("refund", REFUND, ("refund_id",))
INSERT_LICENSE_CODE = Insert("license_code", LICENSE_CODE, key=("event_id",), on_conflict="DO NOTHING")


def invoice_issued(writes: GroupedWrites, event: Event) -> None:
    """Store an issued invoice."""
    writes.execute(INSERT_INVOICE, {"serial_number": None} | event.data)


def invoice_cancelled(writes: GroupedWrites, event: Event) -> None:
    """Store a cancellation (storno) by invoice number, whether or not its invoice has arrived."""
    writes.execute(INSERT_CANCELLATION, {"reason": None} | event.data)


def payment_received(writes: GroupedWrites, event: Event) -> None:
    """Store a payment; its reference is informational only."""
    writes.execute(INSERT_PAYMENT, {"reference": None} | event.data)


def payment_refunded(writes: GroupedWrites, event: Event) -> None:
    """Store an overpayment paid back to the customer."""
    writes.execute(INSERT_REFUND, event.data)


def license_codes_issued(writes: GroupedWrites, event: Event) -> None:
    """Store issued license codes; every issue is kept, the one shown is chosen at query time."""
    writes.execute(INSERT_LICENSE_CODE, event.data | {"event_id": event.id})


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
