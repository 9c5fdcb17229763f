"""CloudEvents 1.0 envelopes: facts become events, ordered in time, with reproducible ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from demo.dates import rfc3339

TOPIC_SOURCES = {
    "contracts": "contract-admin",
    "invoices": "billing",
    "payments": "bank",
    "support-calls": "helpdesk",
    "license-codes": "licensing",
}
TOPICS = tuple(TOPIC_SOURCES)
PRICE_LIST_SUBJECT = "price-list"


@dataclass(frozen=True)
class Fact:
    """Something that happened at `time`, before it is wrapped in an envelope."""

    topic: str
    type: str
    time: datetime
    subject: str
    data: dict[str, Any]


def cloud_event(fact: Fact, event_id: uuid.UUID) -> dict[str, Any]:
    """The structured-mode CloudEvent of a fact."""
    return {
        "specversion": "1.0",
        "id": str(event_id),
        "source": TOPIC_SOURCES[fact.topic],
        "type": fact.type,
        "time": rfc3339(fact.time),
        "subject": fact.subject,
        "datacontenttype": "application/json",
        "data": fact.data,
    }


def assemble(facts: list[Fact], run_key: str) -> dict[str, list[dict[str, Any]]]:
    """Topic -> events in time order; ids are uuid5 of the run key and a running number per topic."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:customer-portal:demo:{run_key}")
    topics: dict[str, list[dict[str, Any]]] = {}
    for topic in TOPICS:
        ordered = sorted((fact for fact in facts if fact.topic == topic), key=lambda fact: fact.time)
        topics[topic] = [cloud_event(fact, uuid.uuid5(namespace, f"{topic}/{n}")) for n, fact in enumerate(ordered)]
    return topics
