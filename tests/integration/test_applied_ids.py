"""A batch's event ids go to PostgreSQL as one JSON array: every id comes back as it was, whatever it holds."""

from __future__ import annotations

import random
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import dict_row

from shared.projection import bookkeeping
from tests.support.readmodel import scratch_schema

AWKWARD = ['quote " and \\ backslash', "árvíztűrő", "emoji 🧾", "line\nbreak\ttab", "'; --", "{a,b}", "NULL", " "]


@pytest.fixture
def conn() -> Iterator[psycopg.Connection]:
    with scratch_schema(bookkeeping.RUNTIME_DDL) as connection:
        yield connection


def test_already_applied_finds_exactly_the_stored_ids(conn: psycopg.Connection) -> None:
    rng = random.Random(18)
    ids = AWKWARD + [f"evt-{n:05d}" for n in rng.sample(range(100_000), 2_000)]
    stored = set(rng.sample(ids, 700)) | set(AWKWARD[::2])
    with conn.cursor(row_factory=dict_row) as cur:
        bookkeeping.mark_applied(cur, [(event_id, "payment.received") for event_id in sorted(stored)])
        asked = [*rng.sample(ids, 1_000), *AWKWARD, "never-stored"]
        assert bookkeeping.already_applied(cur, asked) == stored & set(asked)
        assert bookkeeping.already_applied(cur, []) == set()
