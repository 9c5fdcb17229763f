"""Publishing refused messages to `<topic>.dlq`, with the reason in headers."""

from __future__ import annotations

from kafka import KafkaProducer
from kafka.errors import KafkaError

from shared import kafka_security
from shared.events.topics import dead_letter, physical
from shared.kafka_calls import ProducerHolder
from shared.projection.bookkeeping import Rejection

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
SEND_TIMEOUT_S = 30.0  # a flush, and each acknowledgement after it; past it the batch fails and is retried


class DeadLetterPublisher:
    """Sends rejections synchronously (acks=all) before the batch commits; a producer whose send failed is thrown
    away, so the batch's retry gets a new one (shared.kafka_calls)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._producer = ProducerHolder(self._make)

    def _make(self) -> KafkaProducer:
        return KafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            **kafka_security.client_kwargs(),
            acks="all",
            enable_idempotence=True,
            max_request_size=MAX_MESSAGE_BYTES,
            linger_ms=5,
        )

    def send(self, rejections: list[Rejection], topic_prefix: str = "") -> None:
        """Publish each rejection and wait until the broker has them all (at most SEND_TIMEOUT_S each step)."""
        if not rejections:
            return
        try:
            producer = self._producer.get()
            futures = [
                producer.send(
                    physical(dead_letter(r.topic), topic_prefix),
                    key=r.raw_key,
                    value=r.value,
                    headers=[
                        ("dlq.reason", r.reason.encode()),
                        ("dlq.topic", r.topic.encode()),
                        ("dlq.partition", str(r.partition).encode()),
                        ("dlq.offset", str(r.offset).encode()),
                    ],
                )
                for r in rejections
            ]
            producer.flush(timeout=SEND_TIMEOUT_S)
            for future in futures:
                future.get(timeout=SEND_TIMEOUT_S)
        except KafkaError:
            self._producer.discard()
            raise

    def close(self) -> None:
        """Flush and close the producer, if one was made."""
        self._producer.close()
