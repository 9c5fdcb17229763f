"""Building valid catalog events for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.events.envelope import Event
from shared.events.topics import PRICE_LIST_SUBJECT, TOPIC_OF_TYPE

SOURCES = {
    "contracts": "contract-admin",
    "invoices": "billing",
    "payments": "bank",
    "support-calls": "helpdesk",
    "license-codes": "licensing",
}


def envelope(
    event_type: str, subject: str, data: dict[str, Any], time: str = "2026-11-20T09:15:00Z", event_id: str | None = None
) -> dict[str, Any]:
    """A CloudEvents 1.0 envelope around `data`."""
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": "tests",
        "type": event_type,
        "time": time,
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
    }


def payment(
    customer: str, amount: int, payment_id: str | None = None, on: str = "2026-11-20", event_id: str | None = None
) -> dict[str, Any]:
    """A payment.received event."""
    return envelope(
        "payment.received",
        customer,
        {
            "payment_id": payment_id or f"P-{uuid.uuid4().hex[:10]}",
            "customer_code": customer,
            "received_on": on,
            "amount": amount,
            "method": "bank_transfer",
        },
        event_id=event_id,
    )


def refund(customer: str, amount: int, on: str = "2026-11-21") -> dict[str, Any]:
    """A payment.refunded event."""
    return envelope(
        "payment.refunded",
        customer,
        {"refund_id": f"R-{uuid.uuid4().hex[:10]}", "customer_code": customer, "refunded_on": on, "amount": amount},
    )


def customer_code() -> str:
    """A random customer code, so tests stay apart without truncating tables."""
    return f"C-{uuid.uuid4().hex[:8]}"


def handed_over(event_type: str, data: dict[str, Any], subject: str | None = None) -> Event:
    """An event as the runtime hands it to a projection (data as the catalog loads it), with a fresh id.

    The one event factory of the read-model tests: topic from the catalog, subject from the customer code.
    """
    topic = TOPIC_OF_TYPE[event_type]
    subject = subject or data.get("customer_code") or PRICE_LIST_SUBJECT
    return Event(str(uuid.uuid4()), event_type, SOURCES[topic], datetime.now(UTC), subject, data, topic, 0, 0)
