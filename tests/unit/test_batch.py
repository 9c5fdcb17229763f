"""A polled set of records becomes validated events, rejections, and the positions to store."""

from __future__ import annotations

import json
from collections import namedtuple
from datetime import UTC, datetime

from shared.projection.batch import build_batch
from tests.support.events import envelope
from tests.support.examples import EXAMPLES

Record = namedtuple("Record", "topic key value partition offset timestamp")


def payment(number: int) -> bytes:
    data = {**EXAMPLES["payment.received"], "payment_id": f"B-{number}"}
    return json.dumps(envelope("payment.received", "C1001", data, event_id=f"e-{number}"), ensure_ascii=False).encode()


def test_events_in_order_rejections_with_reasons_and_the_last_position_of_each_partition():
    records = [
        Record("t.payments", b"C1001", payment(1), 0, 7, 1_700_000_000_000),
        Record("t.payments", b"C1001", payment(2), 1, 3, 1_700_000_001_000),
        Record("t.payments", b"C1001", b"{not json", 0, 8, 1_700_000_002_000),
        Record("t.payments", b"C2", payment(3), 0, 9, 0),
        Record("t.payments", b"C1001", payment(4), 1, 4, 1_700_000_004_500),
    ]
    batch = build_batch(records, topic_prefix="t.")
    assert [(e.id, e.topic, e.partition, e.offset) for e in batch.events] == [
        ("e-1", "payments", 0, 7),
        ("e-2", "payments", 1, 3),
        ("e-4", "payments", 1, 4),
    ]
    assert batch.events[0].data["amount"] == 190_500
    assert [(r.offset, r.reason.split(":")[0], r.event_id) for r in batch.rejections] == [
        (8, "not valid UTF-8 JSON", None),
        (9, "key 'C2' differs from subject 'C1001'", "e-3"),
    ]
    assert batch.positions == {
        ("payments", 0): (10, None),
        ("payments", 1): (5, datetime(2023, 11, 14, 22, 13, 24, 500000, tzinfo=UTC)),
    }
    assert list(batch.positions) == [("payments", 0), ("payments", 1)]


def test_json_that_python_cannot_read_is_rejected_not_raised():
    """An integer of more than 4,300 digits, or nesting past the recursion limit, in a key nobody reads: json.loads
    raises ValueError or RecursionError, which would stop the projector; the message is refused instead."""
    huge = payment(5)[:-1] + b', "future": ' + b"1" * 4301 + b"}"
    deep = payment(6)[:-1] + b', "future": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    batch = build_batch([Record("payments", b"C1001", huge, 0, 1, 0), Record("payments", b"C1001", deep, 0, 2, 0)])
    assert batch.events == []
    assert [r.reason for r in batch.rejections] == [
        "not valid UTF-8 JSON: an integer of more than 4,300 digits",
        "not valid UTF-8 JSON: nested more than 256 deep",
    ]
    assert batch.positions == {("payments", 0): (3, None)}


def test_nesting_is_refused_past_256_levels_whatever_the_callers_depth():
    """Brackets inside strings do not count; 256 levels load, 257 do not, also from deep in a stack."""
    import sys

    def at(level: int) -> bytes:  # the envelope is the first level
        inner = level - 1
        return payment(7)[:-1] + b', "future": ' + b"[" * inner + b'"]]]"' + b"]" * inner + b', "s": "[[[[[["}'

    def from_depth(frames: int, value: bytes) -> list[str]:
        if frames:
            return from_depth(frames - 1, value)
        return [r.reason for r in build_batch([Record("payments", b"C1001", value, 0, 1, 0)]).rejections]

    depth = sys.getrecursionlimit() - 400
    for frames in (0, depth):
        assert from_depth(frames, at(256)) == []
        assert from_depth(frames, at(257)) == ["not valid UTF-8 JSON: nested more than 256 deep"]


def test_a_refused_message_is_recorded_as_text_postgresql_can_hold_and_keeps_its_own_key_bytes():
    """NUL and lone surrogates in the key, id or type are written as escapes for the record; the key for the
    dead-letter topic stays the bytes that came."""
    value = json.dumps({"id": "e-\x00\udc80", "type": "payment.\x00", "specversion": "1.0"}).encode()
    records = [
        Record("payments", b"C1001\x00", payment(1), 0, 1, 0),
        Record("payments", b"\xffC1001", payment(2), 0, 2, 0),
        Record("payments", None, value, 0, 3, 0),
    ]
    rejections = build_batch(records).rejections
    assert [(r.key, r.raw_key) for r in rejections] == [
        ("C1001\\x00", b"C1001\x00"),
        ("\xffC1001", b"\xffC1001"),
        (None, None),
    ]
    assert rejections[0].reason == "key 'C1001\\x00' differs from subject 'C1001'"
    assert (rejections[2].event_id, rejections[2].event_type) == ("e-\\x00\\udc80", "payment.\\x00")
    assert rejections[2].reason.startswith("invalid envelope: ")
    stored = [t for r in rejections for t in (r.key, r.event_id, r.event_type, r.reason) if t is not None]
    assert len(stored) == 11
    assert all("\x00" not in t and t.encode("utf-8", "strict") for t in stored)  # encode raises on a surrogate
