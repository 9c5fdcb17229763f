"""Projection lag: how far each read model is behind its topics, in messages and in seconds.

Seconds behind = now minus the publish time (Kafka message timestamp) of the oldest message
not applied yet, i.e. of the message at the stored next offset of each lagging partition.
It is 0 when nothing is pending, however long ago the last event came, and it grows from the
moment a message waits. Message timestamps never change, so they are cached per offset.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from shared import kafka_security
from shared.events.topics import logical, physical
from shared.kafka_calls import bounded

Position = tuple[str, int]  # (catalog topic, partition)
FETCH_TIMEOUT_S = 0.5  # health checks must answer fast; an unknown time is reported as None


class EndOffsets:
    """Cached end offsets of topics and publish times of messages (one metadata client per process)."""

    def __init__(self, bootstrap: str, prefix: str, ttl_s: float = 1.0) -> None:
        self.bootstrap, self.prefix, self.ttl_s = bootstrap, prefix, ttl_s
        self._consumer: KafkaConsumer | None = None
        self._cache: tuple[float, dict[Position, int]] | None = None
        self._times: dict[tuple[Position, int], datetime | None] = {}
        self._lock = threading.Lock()

    def get(self, topics: list[str], fresh: bool = False) -> dict[Position, int]:
        """End offset per (catalog topic, partition); raises when Kafka is unreachable."""
        with self._lock:
            if not fresh and self._cache and time.monotonic() - self._cache[0] < self.ttl_s:
                return self._cache[1]
            try:
                ends = self._fetch(topics)
            except Exception:
                self._reset()
                raise
            self._cache = (time.monotonic(), ends)
            return ends

    def publish_times(self, wanted: dict[Position, int]) -> dict[Position, datetime | None]:
        """Publish time of the message at each partition's given offset (None when not found in time)."""
        with self._lock:
            missing = {pos: offset for pos, offset in wanted.items() if (pos, offset) not in self._times}
            found: dict[tuple[Position, int], datetime | None] = {}
            if missing:
                try:
                    found = self._fetch_times(missing)
                except Exception:  # noqa: BLE001 - unknown times are reported as None, not as an error
                    self._reset()
            known = {key: t for key, t in self._times.items() if wanted.get(key[0]) == key[1]}
            self._times = {**known, **found}
            return {pos: self._times.get((pos, offset)) for pos, offset in wanted.items()}

    def _client(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap,
                **kafka_security.client_kwargs(),
                request_timeout_ms=3000,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
        return self._consumer

    def _fetch(self, topics: list[str]) -> dict[Position, int]:
        consumer, parts = self._client(), []
        for topic in topics:
            name = physical(topic, self.prefix)
            found = bounded(consumer, partial(consumer.partitions_for_topic, name), 3.0, "partitions_for_topic")
            parts += [TopicPartition(name, p) for p in found or ()]
        ends = consumer.end_offsets(parts, timeout_ms=2000) if parts else {}
        return {(logical(tp.topic, self.prefix), tp.partition): end for tp, end in ends.items()}

    def _fetch_times(self, missing: dict[Position, int]) -> dict[tuple[Position, int], datetime | None]:
        """Read the first message at or after each offset; only its timestamp is kept."""
        consumer = self._client()
        targets = {TopicPartition(physical(t, self.prefix), p): offset for (t, p), offset in missing.items()}
        consumer.assign(list(targets))
        for tp, offset in targets.items():
            consumer.seek(tp, offset)
        stamps: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + FETCH_TIMEOUT_S
        while len(stamps) < len(targets) and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=100).items():
                first = next((r for r in records if r.offset >= targets[tp]), None)
                if first is not None and tp not in stamps:
                    stamps[tp] = first.timestamp
                    consumer.pause(tp)
        consumer.assign([])
        return {((logical(tp.topic, self.prefix), tp.partition), targets[tp]): _when(ms) for tp, ms in stamps.items()}

    def _reset(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False)
            finally:
                self._consumer = None


def _when(timestamp_ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC) if timestamp_ms and timestamp_ms > 0 else None


def projection_lag(
    ends: dict[Position, int],
    stored: dict[Position, int],
    topics: list[str],
    publish_times: Callable[[dict[Position, int]], dict[Position, datetime | None]] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Messages and seconds behind per topic, from end offsets, stored next offsets and publish times."""
    pending = {pos: stored.get(pos, 0) for pos, end in ends.items() if pos[0] in topics and end > stored.get(pos, 0)}
    times = publish_times(pending) if publish_times and pending else {}
    return lag_by_topic(topics, ends, stored, times, now or datetime.now(UTC))


def lag_by_topic(
    topics: list[str],
    ends: dict[Position, int],
    stored: dict[Position, int],
    times: dict[Position, datetime | None],
    now: datetime,
) -> dict[str, Any]:
    """Per topic: messages behind (sum over partitions) and seconds behind (worst partition; None if unknown)."""
    result: dict[str, Any] = {topic: {"messages": 0, "seconds": 0.0} for topic in topics}
    for pos, end in ends.items():
        missing = end - stored.get(pos, 0)
        if pos[0] not in result or missing <= 0:
            continue
        entry = result[pos[0]]
        entry["messages"] += missing
        published = times.get(pos)
        seconds = max((now - published).total_seconds(), 0.0) if published else None
        entry["seconds"] = None if seconds is None or entry["seconds"] is None else max(entry["seconds"], seconds)
    for entry in result.values():
        if entry["seconds"] is not None:
            entry["seconds"] = round(entry["seconds"], 3)
    return result
