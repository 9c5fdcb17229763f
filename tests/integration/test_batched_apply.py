"""The projector's batched apply gives exactly the tables that applying event by event gives.

Batched: `apply_batch` on batches of 250 in a transaction, as the projector runs them: grouped statements
for the write-only projections (ledger, quota, contracts), one write per call per batch for tickets, and each
statement's rows of a batch sent as one JSON set when they are enough (shared.projection.writes).
Event by event: `apply_batch` with one event at a time, each in its own transaction. The same events (the demo
generator's, shuffled across topics and customers, with re-sends of the same facts under new ids) go both ways.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from demo import generate
from shared.events.catalog import validate_event
from shared.events.envelope import Event
from shared.projection.writes import GroupedWrites
from tests.support.readmodel import scratch_schema

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["ledger", "quota", "contracts", "tickets"]


def demo_events(topics: list[str], seed: int) -> list[Event]:
    """The demo's events of the topics, validated, shuffled, plus re-sends of a few (new ids, same data)."""
    events = []
    for topic, raws in generate(customers=80, seed=seed).items():
        if topic not in topics:
            continue
        for offset, raw in enumerate(raws):
            event = validate_event(raw, topic, raw["subject"])
            events.append(replace(event, topic=topic, partition=0, offset=offset))
    rng = random.Random(seed)
    resent = [replace(e, id=f"{e.id}-again") for e in rng.sample(events, len(events) // 20)]
    events += resent
    rng.shuffle(events)
    return events


def tables(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    """Every table of the connection's schema, all rows sorted."""
    out = {}
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cur:
        names = [
            r[0]
            for r in cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            ).fetchall()
        ]
        for name in names:
            rows = cur.execute(f'SELECT * FROM "{name}"').fetchall()  # noqa: S608 - names from the catalog
            out[name] = sorted(rows, key=repr)
    return out


@pytest.mark.parametrize("service", SERVICES)
def test_batched_apply_equals_event_by_event(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    projection = importlib.import_module(f"services.{service}.projection").PROJECTION
    ddl = ROOT / "services" / service / "schema.sql"
    events = [e for e in demo_events(projection.topics, seed=7) if projection.uses(e.type)]
    assert len(events) > 250
    sets: list[int] = []
    flush = GroupedWrites.flush

    def counted_flush(self: GroupedWrites, cur: psycopg.Cursor) -> int:
        sets.append(flush(self, cur))
        return sets[-1]

    monkeypatch.setattr(GroupedWrites, "flush", counted_flush)  # counts, and writes as before
    with scratch_schema(ddl) as one_by_one, scratch_schema(ddl) as batched:
        for event in events:
            with one_by_one.transaction(), one_by_one.cursor() as cur:
                projection.apply_batch(cur, [event])
        assert sum(sets) == 0  # the demo's events have too few rows each to make a set
        for start in range(0, len(events), 250):
            with batched.transaction(), batched.cursor() as cur:
                projection.apply_batch(cur, events[start : start + 250])
        expected, got = tables(one_by_one), tables(batched)
    assert sum(sets) > 0  # some statements of the batches went as sets
    assert sum(len(rows) for rows in expected.values()) > 100
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name] == expected[name], f"{service}: table {name} differs"
