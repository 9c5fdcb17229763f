"""Turning a polled set of Kafka records into validated events and rejections."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.events.catalog import InvalidEvent, decode, load_event
from shared.events.envelope import Event
from shared.events.topics import logical
from shared.pgtext import escape_unstorable
from shared.projection.bookkeeping import Rejection


@dataclass
class Batch:
    """Valid events in partition order, the rejected messages, and the offsets reached."""

    events: list[Event] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    positions: dict[tuple[str, int], tuple[int, datetime | None]] = field(default_factory=dict)


def build_batch(records: list[Any], topic_prefix: str = "") -> Batch:
    """Validate each record; an invalid one becomes a Rejection, never an exception."""
    batch = Batch()
    last: dict[tuple[str, int], Any] = {}  # the last record per partition: its offset and time are stored
    for record in records:
        topic = logical(record.topic, topic_prefix)
        key = _text(record.key)
        try:
            event = to_event(record, topic, key)
        except InvalidEvent as exc:
            batch.rejections.append(_rejection(record, topic, key, exc.reason))
        else:
            batch.events.append(event)
        last[(topic, record.partition)] = record
    for where, record in last.items():
        stamp = datetime.fromtimestamp(record.timestamp / 1000, UTC) if record.timestamp else None
        batch.positions[where] = (record.offset + 1, stamp)
    return batch


def to_event(record: Any, topic: str, key: str | None) -> Event:
    """Decode and validate one record."""
    if record.value is None:
        raise InvalidEvent("empty message value")
    return load_event(record.value, topic, key, record.partition, record.offset)


def _text(key: bytes | None) -> str | None:
    if key is None:
        return None
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError:
        return key.decode("latin-1")


def _rejection(record: Any, topic: str, key: str | None, reason: str) -> Rejection:
    """The record of a refused message: its text as PostgreSQL can hold it (escapes), its key and value as they came."""
    event_id, event_type = _identity(record.value)
    shown_key, event_id, event_type = (None if t is None else escape_unstorable(t) for t in (key, event_id, event_type))
    return Rejection(
        topic,
        record.partition,
        record.offset,
        shown_key,
        record.key,
        record.value,
        escape_unstorable(reason),
        event_id,
        event_type,
    )


def _identity(value: bytes | None) -> tuple[str | None, str | None]:
    """Best-effort id and type of a refused message, for the record."""
    try:
        raw = decode(value or b"")
    except InvalidEvent:
        return None, None
    ident, kind = raw.get("id"), raw.get("type")
    return (str(ident)[:200] if ident is not None else None, str(kind)[:200] if kind is not None else None)
