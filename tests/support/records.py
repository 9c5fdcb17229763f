"""Reading what a topic holds, up to a known end: the tests wait for the records, not for a quiet spell."""

from __future__ import annotations

import time
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from shared import kafka_security

READ_TIMEOUT_S = 60.0  # a bound on a broken broker, not the expected wait: reading ends when the ends are reached


def read_records(
    bootstrap: str,
    topics: list[str] | None = None,
    parts: list[TopicPartition] | None = None,
    start: dict[TopicPartition, int] | None = None,
    stop: dict[TopicPartition, int] | None = None,
    timeout: float = READ_TIMEOUT_S,
    **consumer: Any,
) -> list[ConsumerRecord]:
    """Every record of the partitions (`parts`, or every partition of `topics`) from `start` (default: each
    partition's beginning) to `stop` (default: each partition's end offset when called), in each partition's order.

    What was acknowledged before the call is read in full; an earlier reader that stopped after a few seconds with
    no new record could end early on a slow fetch and see too little. Raises AssertionError when the records do not
    arrive within `timeout` seconds.
    """
    reader = KafkaConsumer(
        bootstrap_servers=bootstrap, **kafka_security.client_kwargs(), enable_auto_commit=False, **consumer
    )
    try:
        if parts is None:
            parts = [TopicPartition(t, p) for t in topics or [] for p in sorted(reader.partitions_for_topic(t) or [])]
        assert parts, f"no partitions of {topics}"
        reader.assign(parts)
        ends = reader.end_offsets(parts) if stop is None else stop
        if start is None:
            reader.seek_to_beginning(*parts)
        else:
            for tp in parts:
                reader.seek(tp, start[tp])
        found: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout
        pending = [tp for tp in parts if reader.position(tp) < ends[tp]]
        while pending:
            if time.monotonic() > deadline:
                reached = {f"{tp.topic}:{tp.partition}": (reader.position(tp), ends[tp]) for tp in pending}
                raise AssertionError(f"records not read within {timeout:g} s (position, end): {reached}")
            for tp, records in reader.poll(timeout_ms=500).items():
                found.extend(r for r in records if r.offset < ends[tp])
            pending = [tp for tp in pending if reader.position(tp) < ends[tp]]
        return found
    finally:
        reader.close()
