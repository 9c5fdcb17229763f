"""The projector's bookkeeping in PostgreSQL: offsets, applied ids, rejected events."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg.rows import DictRow

from shared.projection.writes import ANY_OF_JSON_LIST, json_list

RUNTIME_DDL = Path(__file__).with_name("bookkeeping.sql")


@dataclass(frozen=True)
class Rejection:
    """A message refused by validation, with where it came from and why."""

    topic: str
    partition: int
    offset: int
    key: str | None  # as stored and shown: storable text (shared.pgtext.escape_unstorable)
    raw_key: bytes | None  # as it came, for the dead-letter topic
    value: bytes | None
    reason: str
    event_id: str | None = None
    event_type: str | None = None


def stored_offsets(conn: psycopg.Connection[DictRow]) -> dict[tuple[str, int], int]:
    """Next offset to read per (topic, partition), as committed with the read model."""
    rows = conn.execute("SELECT topic, partition, next_offset FROM projector_offsets").fetchall()
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


def already_applied(cur: psycopg.Cursor[DictRow], event_ids: list[str]) -> set[str]:
    """The ids among `event_ids` that were applied before."""
    cur.execute(f"SELECT event_id FROM applied_events WHERE event_id = {ANY_OF_JSON_LIST}", (json_list(event_ids),))
    return {r["event_id"] for r in cur.fetchall()}


def mark_applied(cur: psycopg.Cursor[DictRow], applied: list[tuple[str, str]]) -> None:
    """Record applied (event_id, event_type) pairs and bump the per-type counters."""
    if not applied:
        return
    with cur.copy("COPY applied_events (event_id, event_type) FROM STDIN") as copy:
        for row in applied:
            copy.write_row(row)
    bump_counters(cur, Counter(t for _, t in applied), "applied")


def bump_counters(cur: psycopg.Cursor[DictRow], counts: Counter[str], column: str) -> None:
    """Add to the applied or rejected counter of each event type, in the types' order: members of one group
    writing one read model (shared.projection.members) then lock the counters in one order and cannot deadlock."""
    assert column in ("applied", "rejected")
    cur.executemany(
        f"INSERT INTO projection_counters (event_type, {column}) VALUES (%(t)s, %(n)s) "
        f"ON CONFLICT (event_type) DO UPDATE SET {column} = projection_counters.{column} + %(n)s",
        [{"t": t, "n": n} for t, n in sorted(counts.items())],
    )


def record_rejections(cur: psycopg.Cursor[DictRow], rejections: list[Rejection]) -> None:
    """Record refused messages (idempotent per topic/partition/offset)."""
    if not rejections:
        return
    cur.executemany(
        'INSERT INTO rejected_events (topic, partition, "offset", event_key, event_id, event_type, reason, value) '
        "VALUES (%(topic)s, %(partition)s, %(offset)s, %(key)s, %(event_id)s, %(event_type)s, %(reason)s, %(value)s) "
        """ON CONFLICT (topic, partition, "offset") DO NOTHING RETURNING coalesce(event_type, '(invalid)') AS kind""",
        [r.__dict__ for r in rejections],
        returning=True,
    )
    # Only rejections new to the table count: a replayed range meets the same ones again.
    new = Counter(row["kind"] for _ in cur.results() for row in cur.fetchall())
    if new:
        bump_counters(cur, new, "rejected")


def save_offsets(cur: psycopg.Cursor[DictRow], positions: dict[tuple[str, int], tuple[int, datetime | None]]) -> None:
    """Store the next offset (and the last event's time) reached per partition."""
    cur.executemany(
        "INSERT INTO projector_offsets (topic, partition, next_offset, last_event_at, updated_at) "
        "VALUES (%(topic)s, %(partition)s, %(offset)s, %(at)s, now()) "
        "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, "
        "last_event_at = EXCLUDED.last_event_at, updated_at = now()",
        [{"topic": t, "partition": p, "offset": o, "at": at} for (t, p), (o, at) in positions.items()],
    )
