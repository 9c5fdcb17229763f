"""Customer actions as events: the Idempotency-Key, the ids derived from it, and the Kafka publisher.

The portal is one more producer. An action's event id (and a new call's id) is a UUIDv5 of the customer
code, the action and the key, so a request sent again, to any gateway process, publishes the same event
and the projections (which skip ids already applied) apply it once. A 202 goes out only after Kafka
acknowledged the event (acks=all, idempotent producer); otherwise the answer is a 503 and the producer,
with anything it still buffered, is thrown away, so a refused action is never delivered later.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import request
from kafka import KafkaProducer
from kafka.errors import KafkaError

from shared import kafka_security
from shared.events.catalog import InvalidEvent, validate_event
from shared.events.topics import physical
from shared.kafka_calls import ProducerHolder
from shared.web.problems import ProblemError

log = logging.getLogger("gateway.actions")
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
# Fixed forever: changing it would give a retried request a new event id.
ACTION_NAMESPACE = uuid.UUID("6f1d7c52-3b8e-5a61-9d2f-0c4e8b7a1f35")
SOURCE = "portal"


def idempotency_key() -> str:
    """The request's Idempotency-Key header, or a 400 problem naming it."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None or not IDEMPOTENCY_KEY.match(key):
        message = "Required." if key is None else "Must be 1-64 characters of A-Z a-z 0-9 - _."
        raise ProblemError(
            400,
            "Invalid request",
            f"The {IDEMPOTENCY_HEADER} header is missing or malformed.",
            errors={IDEMPOTENCY_HEADER: [message]},
        )
    return key


def derived_id(customer_code: str, action: str, key: str) -> uuid.UUID:
    """The same UUID for the same customer, action and key, in every process."""
    return uuid.uuid5(ACTION_NAMESPACE, "\x1f".join((customer_code, action, key)))


def new_call_id(customer_code: str, key: str) -> str:
    """The call id of a call opened through the portal (`WEB-` and 12 hex digits)."""
    return "WEB-" + derived_id(customer_code, "call", key).hex[:12].upper()


def action_event(event_type: str, customer_code: str, key: str, data: dict[str, Any]) -> dict[str, Any]:
    """The CloudEvent of an action: id from the key, source `portal`, subject the customer code."""
    return {
        "specversion": "1.0",
        "id": str(derived_id(customer_code, event_type, key)),
        "source": SOURCE,
        "type": event_type,
        "time": datetime.now(UTC).isoformat(),
        "subject": customer_code,
        "datacontenttype": "application/json",
        "data": data,
    }


def unavailable() -> ProblemError:
    """The 503 of an action Kafka did not acknowledge (nothing was published)."""
    return ProblemError(
        503,
        "Service Unavailable",
        "The action could not be recorded; nothing was changed. Please try again with the same Idempotency-Key.",
        headers={"Retry-After": "5"},
    )


class ActionPublisher:
    """A lazily created idempotent producer (acks=all) with bounded waits; one per gateway process."""

    def __init__(self, bootstrap_servers: str, topic_prefix: str, timeout_s: float) -> None:
        self.bootstrap_servers, self.topic_prefix, self.timeout_s = bootstrap_servers, topic_prefix, timeout_s
        self._producer = ProducerHolder(self._make)

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Validate the event against the catalog, send it and wait for the broker's acknowledgement; else 503."""
        try:
            validate_event(event, topic, event["subject"])
        except InvalidEvent as exc:  # the gateway's own bug, not the customer's
            raise RuntimeError(f"the portal built an invalid event: {exc.reason}") from None
        value = json.dumps(event, ensure_ascii=False).encode()
        try:
            producer = self._producer.get()
            future = producer.send(physical(topic, self.topic_prefix), key=event["subject"].encode(), value=value)
            future.get(timeout=self.timeout_s + 1)
        except (KafkaError, OSError) as exc:
            log.warning("action not acknowledged by Kafka", extra={"event_id": event["id"], "error": repr(exc)})
            self._producer.discard()
            raise unavailable() from None

    def _make(self) -> KafkaProducer:
        bound_ms = int(self.timeout_s * 1000)
        return KafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            **kafka_security.client_kwargs(),
            acks="all",
            enable_idempotence=True,
            linger_ms=0,
            max_block_ms=bound_ms,
            bootstrap_timeout_ms=bound_ms,
            request_timeout_ms=bound_ms,
            delivery_timeout_ms=bound_ms + 500,
            reconnect_backoff_max_ms=500,
        )

    def close(self) -> None:
        """Flush and close (at shutdown)."""
        self._producer.close(timeout=self.timeout_s)
