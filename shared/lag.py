"""Projection lag: how far each read model is behind its topics."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition

from shared.topics import logical, physical


class EndOffsets:
    """Cached end offsets of topics (one metadata client per process)."""

    def __init__(self, bootstrap: str, prefix: str, ttl_s: float = 1.0) -> None:
        self.bootstrap, self.prefix, self.ttl_s = bootstrap, prefix, ttl_s
        self._consumer: KafkaConsumer | None = None
        self._cache: tuple[float, dict[tuple[str, int], int]] | None = None
        self._lock = threading.Lock()

    def get(self, topics: list[str], fresh: bool = False) -> dict[tuple[str, int], int]:
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

    def _fetch(self, topics: list[str]) -> dict[tuple[str, int], int]:
        if self._consumer is None:
            self._consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, request_timeout_ms=3000,
                                           enable_auto_commit=False)
        parts = []
        for topic in topics:
            found = self._consumer.partitions_for_topic(physical(topic, self.prefix)) or set()
            parts += [TopicPartition(physical(topic, self.prefix), p) for p in found]
        ends = self._consumer.end_offsets(parts, timeout_ms=2000) if parts else {}
        return {(logical(tp.topic, self.prefix), tp.partition): end for tp, end in ends.items()}

    def _reset(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False)
            finally:
                self._consumer = None


def projection_lag(conn: psycopg.Connection, ends: dict[tuple[str, int], int], topics: list[str]) -> dict[str, Any]:
    """Messages and seconds behind per topic, from stored offsets and end offsets."""
    rows = conn.execute("SELECT topic, partition, next_offset, last_event_at FROM projector_offsets").fetchall()
    stored = {(r["topic"], r["partition"]): r for r in rows}
    now = datetime.now(UTC)
    result: dict[str, Any] = {}
    for topic in topics:
        behind, seconds = 0, 0.0
        for (t, p), end in ends.items():
            if t != topic:
                continue
            row = stored.get((t, p))
            missing = end - (row["next_offset"] if row else 0)
            behind += max(missing, 0)
            if missing > 0:
                last = row["last_event_at"] if row and row["last_event_at"] else None
                seconds = max(seconds, (now - last).total_seconds() if last else float("inf"))
        result[topic] = {"messages": behind, "seconds": round(seconds, 3) if seconds != float("inf") else None}
    return result
