"""The topics of the event catalog and the event types each one carries."""

from __future__ import annotations

from shared import config

PRICE_LIST_SUBJECT = "price-list"

TYPES_BY_TOPIC: dict[str, tuple[str, ...]] = {
    "contracts": (
        "contract.signed",
        "contract.item_added",
        "contract.item_removed",
        "contract.item_quantity_changed",
        "contract.customer_details_changed",
        "contract.terminated",
        "customer.portal_password_set",
        "customer.portal_password_removed",
        "price_list.published",
    ),
    "invoices": ("invoice.issued", "invoice.cancelled"),
    "payments": ("payment.received", "payment.refunded"),
    "support-calls": (
        "support_call.opened",
        "support_call.assigned",
        "support_call.status_changed",
        "support_call.work_logged",
        "support_call.closed",
        "support_call.reopened",
        "support_call.customer_replied",
    ),
    "license-codes": ("license.codes_issued",),
}
TOPICS = tuple(TYPES_BY_TOPIC)
TOPIC_OF_TYPE = {t: topic for topic, types in TYPES_BY_TOPIC.items() for t in types}


def topic_prefix() -> str:
    """Optional prefix of every topic name (tests use one per run; production uses none)."""
    return config.get("TOPIC_PREFIX")


def physical(topic: str, prefix: str | None = None) -> str:
    """The Kafka topic name of a catalog topic."""
    return f"{topic_prefix() if prefix is None else prefix}{topic}"


def logical(name: str, prefix: str | None = None) -> str:
    """The catalog topic name of a Kafka topic name."""
    pre = topic_prefix() if prefix is None else prefix
    return name[len(pre) :] if pre and name.startswith(pre) else name


def dead_letter(topic: str) -> str:
    """The dead-letter topic of a catalog topic."""
    return f"{topic}.dlq"
