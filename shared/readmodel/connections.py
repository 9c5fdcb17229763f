"""PostgreSQL helpers: connections scoped to a service's read-model schema."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row

from shared.retry import Backoff, retry

READ_MODEL_SCHEMA = "readmodel"


def connect(dsn: str, schema: str = READ_MODEL_SCHEMA, autocommit: bool = False) -> psycopg.Connection[DictRow]:
    """Open a dict-row connection whose search_path is the read-model schema."""
    conn = psycopg.connect(dsn, row_factory=dict_row, autocommit=autocommit)
    conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema)))
    if not autocommit:
        conn.commit()
    return conn


def ensure_schema(conn: psycopg.Connection[DictRow], ddl_path: Path, schema: str = READ_MODEL_SCHEMA) -> None:
    """Create the schema and apply the service's idempotent DDL (CREATE ... IF NOT EXISTS).

    Two races end in a rolled-back transaction that a new one gets past, so both are retried:
    - the advisory lock does not refresh this session's catalog cache: a schema another process created while
      we waited for the lock can still look absent (UniqueViolation);
    - `CREATE INDEX IF NOT EXISTS` locks its table before it finds the index there, so a second instance
      starting while the first applies a batch can deadlock with it (DeadlockDetected; PostgreSQL aborts one).
    """
    retry(
        lambda: _ensure_schema(conn, ddl_path, schema),
        what="the read model's DDL",
        on=(psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected),
        backoff=Backoff(first_s=0.05, max_s=1.0, deadline_s=60),
    )


def _ensure_schema(conn: psycopg.Connection[DictRow], ddl_path: Path, schema: str) -> None:
    with conn.transaction():
        # projector and API processes start together; IF NOT EXISTS alone races in the catalog
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ddl:{schema}",))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(schema)))
        conn.execute(ddl_path.read_text())


def one(cursor: psycopg.Cursor[DictRow]) -> DictRow:
    """The single row a query always returns (an aggregate, a RETURNING): its absence is a bug."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("the query returned no row")
    return row
