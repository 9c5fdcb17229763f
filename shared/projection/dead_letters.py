"""Publishing refused messages to `<topic>.dlq`, with the reason in headers."""

from __future__ import annotations

from kafka import KafkaProducer

from shared import kafka_security
from shared.events.topics import dead_letter, physical
from shared.projection.bookkeeping import Rejection

MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class DeadLetterPublisher:
    """Sends rejections synchronously (acks=all) before the batch commits."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._producer: KafkaProducer | None = None

    @property
    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                **kafka_security.client_kwargs(),
                acks="all",
                enable_idempotence=True,
                max_request_size=MAX_MESSAGE_BYTES,
                linger_ms=5,
            )
        return self._producer

    def send(self, rejections: list[Rejection], topic_prefix: str = "") -> None:
        """Publish each rejection and wait until the broker has them all."""
        if not rejections:
            return
        futures = [
            self.producer.send(
                physical(dead_letter(r.topic), topic_prefix),
                key=r.key.encode() if r.key is not None else None,
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
        self.producer.flush()
        for future in futures:
            future.get(timeout=30)

    def close(self) -> None:
        """Flush and close the producer, if one was made."""
        if self._producer is not None:
            self._producer.close()
