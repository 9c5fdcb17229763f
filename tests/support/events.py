"""Building valid catalog events for tests."""

from __future__ import annotations

import uuid
from typing import Any

SOURCES = {"contracts": "contract-admin", "invoices": "billing", "payments": "bank",
           "support-calls": "helpdesk", "license-codes": "licensing"}


def envelope(event_type: str, subject: str, data: dict[str, Any], time: str = "2026-11-20T09:15:00Z",
             event_id: str | None = None) -> dict[str, Any]:
    """A CloudEvents 1.0 envelope around `data`."""
    return {"specversion": "1.0", "id": event_id or str(uuid.uuid4()), "source": "tests", "type": event_type,
            "time": time, "subject": subject, "datacontenttype": "application/json", "data": data}


def payment(customer: str, amount: int, payment_id: str | None = None, on: str = "2026-11-20",
            event_id: str | None = None) -> dict[str, Any]:
    """A payment.received event."""
    return envelope("payment.received", customer, {
        "payment_id": payment_id or f"P-{uuid.uuid4().hex[:10]}", "customer_code": customer,
        "received_on": on, "amount": amount, "method": "bank_transfer"}, event_id=event_id)


def refund(customer: str, amount: int, on: str = "2026-11-21") -> dict[str, Any]:
    """A payment.refunded event."""
    return envelope("payment.refunded", customer, {
        "refund_id": f"R-{uuid.uuid4().hex[:10]}", "customer_code": customer, "refunded_on": on, "amount": amount})


def customer_code() -> str:
    """A random customer code, so tests stay apart without truncating tables."""
    return f"C-{uuid.uuid4().hex[:8]}"
