"""A throwaway read-model schema on the real PostgreSQL, for projection-level tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import psycopg
from psycopg import sql

from shared.events.envelope import Event
from shared.projection.protocol import Projection
from shared.readmodel import connections as db


@contextmanager
def scratch_schema(ddl: Path) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a fresh schema built from `ddl` (applied twice: it must be idempotent)."""
    dsn, schema = os.environ["DATABASE_URL"], f"t_{uuid4().hex[:8]}"
    with db.connect(dsn, schema=schema) as setup:
        db.ensure_schema(setup, ddl, schema=schema)
        db.ensure_schema(setup, ddl, schema=schema)
    connection = db.connect(dsn, schema=schema, autocommit=True)
    try:
        yield connection
    finally:
        connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        connection.close()


def apply_events(projection: Projection, cur: psycopg.Cursor, events: list[Event]) -> None:
    """Apply events as the runner does: the types the projection uses, in one batch; the others skipped."""
    used = [event for event in events if projection.uses(event.type)]
    if used:
        projection.apply_batch(cur, used)
