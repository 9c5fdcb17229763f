"""Prometheus metrics of a projector process, served on PROJECTOR_METRICS_PORT when set."""

from __future__ import annotations

import logging
import time
from collections import Counter as Tally
from collections.abc import Iterable
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import IllegalStateError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from shared.events.topics import logical
from shared.projection.bookkeeping import Rejection

log = logging.getLogger("projector.metrics")
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class ProjectorMetrics:
    """Batch duration, events applied/rejected per type, lag per partition, the schema written."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.batch_seconds = Histogram(
            "projector_batch_duration_seconds", "Time to apply and commit one batch", registry=r, buckets=BATCH_BUCKETS
        )
        self.applied = Counter("projector_events_applied", "Events applied by this process", ["type"], registry=r)
        self.rejected = Counter(
            "projector_events_rejected", "Messages dead-lettered by this process", ["type"], registry=r
        )
        self.batch_failures = Counter(
            "projector_batch_failures", "Batch attempts that failed and were rolled back to be retried", registry=r
        )
        self.skipped = Counter("projector_events_skipped", "Duplicate events skipped (id applied before)", registry=r)
        self.unused = Counter(
            "projector_events_unused", "Events of a catalog type this projection does not use", ["type"], registry=r
        )
        self.lag = Gauge(
            "projector_lag_messages",
            "Messages behind the partition end, per assigned partition",
            ["topic", "partition"],
            registry=r,
        )
        self.last_batch = Gauge(
            "projector_last_batch_timestamp_seconds", "Unix time of the last committed batch", registry=r
        )
        self.schema = Gauge(
            "projector_read_model_schema", "1 for the schema this process writes", ["schema"], registry=r
        )
        self.waiting = Gauge(
            "projector_waiting", "1 while the live read model belongs to another projection version", registry=r
        )
        self.consumer_renewals = Counter(
            "projector_consumer_renewals",
            "Consumers closed and made again: `stalled` or `unanswered` (shared.projection.stall), `failed` (poll raised)",
            ["reason"],
            registry=r,
        )
        self.service = service
        self._server: Any = None
        self._lag_labels: set[tuple[str, str]] = set()

    def serve(self, port: int | None) -> None:
        """Expose /metrics on `port` (nothing when None or 0)."""
        if port:
            self._server, _ = start_http_server(port, registry=self.registry)
            log.info("projector metrics on port %d", port)

    def close(self) -> None:
        """Stop the metrics server, if one runs."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def writing(self, schema: str) -> None:
        """The schema the projector writes now."""
        self.schema.clear()
        self.schema.labels(schema).set(1)

    def batch(
        self,
        applied_types: Iterable[str],
        skipped: int,
        rejections: list[Rejection],
        seconds: float,
        unused_types: Iterable[str] = (),
    ) -> None:
        """Record one committed batch."""
        self.batch_seconds.observe(seconds)
        for kind, n in Tally(applied_types).items():
            self.applied.labels(kind).inc(n)
        for kind, n in Tally(r.event_type or "(invalid)" for r in rejections).items():
            self.rejected.labels(kind).inc(n)
        self.skipped.inc(skipped)
        for kind, n in Tally(unused_types).items():
            self.unused.labels(kind).inc(n)
        self.last_batch.set(time.time())

    def observe_lag(
        self,
        consumer: KafkaConsumer,
        prefix: str,
        positions: dict[TopicPartition, int],
        asked_ends: dict[tuple[str, int], int] | None = None,
    ) -> dict[tuple[str, int], int]:
        """Messages behind per assigned partition: last fetched high watermark minus position (no I/O)."""
        behind = consumer_lag(consumer, prefix, positions, asked_ends)
        labels = {(topic, str(partition)): n for (topic, partition), n in behind.items()}
        for key, n in labels.items():
            self.lag.labels(*key).set(n)
        for key in self._lag_labels - labels.keys():  # partitions revoked since
            self.lag.remove(*key)
        self._lag_labels = set(labels)
        return behind


def consumer_lag(
    consumer: KafkaConsumer,
    prefix: str,
    positions: dict[TopicPartition, int],
    asked_ends: dict[tuple[str, int], int] | None = None,
) -> dict[tuple[str, int], int]:
    """Behind per partition of this member whose end is known; the others are left out.

    The end is the high watermark of the last fetch answer, else the end the broker last gave when asked
    (`asked_ends`, by catalog topic and partition): kafka-python learns a partition's high watermark only from a
    fetch answer it keeps, and after a seek an idle partition's may never come (the broker's fetch session
    leaves out partitions without news). `positions` are the projector's own next offsets:
    KafkaConsumer.position() may wait without a limit for a broker to answer (an offset reset while the broker
    is down).
    """
    behind: dict[tuple[str, int], int] = {}
    for tp in consumer.assignment():
        key = (logical(tp.topic, prefix), tp.partition)
        try:
            high, position = consumer.highwater(tp), positions.get(tp)
        except IllegalStateError:  # revoked meanwhile
            continue
        if high is None and asked_ends is not None:
            high = asked_ends.get(key)
        if high is not None and position is not None:
            behind[key] = max(high - position, 0)
    return behind
