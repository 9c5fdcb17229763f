"""Which schema holds a service's live read model: the pointer table, switching it, dropping old schemas.

`public.read_model_pointer` has one row per configured read-model name (READ_MODEL_SCHEMA,
"readmodel" by default) naming the schema that is live now and the projection version that
built it. The API reads it on every connection checkout, projectors lock it (FOR SHARE) in
every batch transaction, and a shadow rebuild moves it (FOR UPDATE) in one transaction.
Without a row the live schema is the name itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple

import psycopg
from psycopg import sql
from psycopg.rows import DictRow

from shared.readmodel.connections import one
from shared.retry import Backoff

log = logging.getLogger("readmodel")

POINTER_DDL = """
CREATE TABLE IF NOT EXISTS public.read_model_pointer (
    name            text PRIMARY KEY,
    active_schema   text NOT NULL,
    previous_schema text,
    switched_at     timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1
)"""
ACTIVE = "SELECT active_schema, version FROM public.read_model_pointer WHERE name = %(base)s"
# One round trip per checkout: read the pointer and point the session's search_path at it.
SET_ACTIVE = (
    "SELECT set_config('search_path', quote_ident(coalesce((SELECT active_schema FROM "
    "public.read_model_pointer WHERE name = %(base)s), %(base)s)) || ', public', false)"
)
BEHIND = """
SELECT count(*) AS n FROM {old}.projector_offsets o LEFT JOIN {new}.projector_offsets s USING (topic, partition)
WHERE s.next_offset IS NULL OR s.next_offset < o.next_offset"""
CARRY_MARKS = """
UPDATE {new}.rejected_events s SET republished_at = o.republished_at FROM {old}.rejected_events o
WHERE (s.topic, s.partition, s."offset") = (o.topic, o.partition, o."offset") AND o.republished_at IS NOT NULL"""


class Live(NamedTuple):
    """The live schema of a read model and the projection version that built it."""

    schema: str
    version: int


def ensure_pointer(conn: psycopg.Connection[DictRow], base: str, version: int = 1) -> str:
    """Create the pointer table and `base`'s row (`base`, `version`) if absent; the live schema."""
    try:
        return _ensure_pointer(conn, base, version)
    except psycopg.errors.UniqueViolation:  # created meanwhile by another process (see db.ensure_schema)
        return _ensure_pointer(conn, base, version)


def _ensure_pointer(conn: psycopg.Connection[DictRow], base: str, version: int) -> str:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('read_model_pointer'))")
        conn.execute(POINTER_DDL)
        conn.execute(
            "INSERT INTO public.read_model_pointer (name, active_schema, version) "
            "VALUES (%(base)s, %(base)s, %(version)s) ON CONFLICT (name) DO NOTHING",
            {"base": base, "version": version},
        )
        return _first(conn.execute(ACTIVE, {"base": base}).fetchone(), base).schema


def live(conn: psycopg.Connection[DictRow], base: str) -> Live:
    """The live schema and version of `base` (commits when the connection is not in autocommit)."""
    try:
        row = conn.execute(ACTIVE, {"base": base}).fetchone()
    except psycopg.errors.UndefinedTable:
        row = None
        if not conn.autocommit:
            conn.rollback()
    if not conn.autocommit:
        conn.commit()  # never leave the projector's connection idle in a transaction
    return _first(row, base)


def locked_live(cur: psycopg.Cursor[DictRow], base: str) -> Live:
    """Inside a batch transaction: the live schema and version, share-locked so a switch waits for the batch."""
    return _first(cur.execute(ACTIVE + " FOR SHARE", {"base": base}).fetchone(), base)


def use_active_schema(conn: psycopg.Connection[DictRow], base: str) -> None:
    """Point an autocommit connection's search_path at the live schema (API pool checkout)."""
    try:
        conn.execute(SET_ACTIVE, {"base": base})
    except psycopg.errors.UndefinedTable:  # nothing has created the pointer yet
        use_schema(conn, base)


def live_schema_check(base: str) -> Callable[[psycopg.Connection[DictRow]], None]:
    """A pool `check` run at every checkout: it proves the connection alive and points its search_path at the
    live schema, in the same single round trip (a rebuild's switch applies to the next request)."""

    def check(conn: psycopg.Connection[DictRow]) -> None:
        use_active_schema(conn, base)

    return check


def use_schema(conn: psycopg.Connection[DictRow], schema: str) -> None:
    """Point a connection's search_path at one schema."""
    conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema)))
    if not conn.autocommit:
        conn.commit()


def shadow_name(base: str) -> str:
    """A fresh schema name for a rebuild: `<base>_<UTC timestamp>`."""
    return f"{base}_{datetime.now(UTC):%Y%m%d%H%M%S}"


def switch(conn: psycopg.Connection[DictRow], base: str, old: str, new: str, version: int = 1) -> bool:
    """Make `new` (built by projection `version`) live if it has every partition at least as far as `old`.

    False when `old` is still ahead somewhere (the shadow applies more and tries again).

    The pointer row is locked FOR UPDATE first, so a live projector's batch in flight commits
    before the comparison, and every later batch sees the new pointer and moves.
    """
    names = {"old": sql.Identifier(old), "new": sql.Identifier(new)}
    with conn.transaction():
        current = _first(conn.execute(ACTIVE + " FOR UPDATE", {"base": base}).fetchone(), base).schema
        if current != old:
            raise RuntimeError(f"the live read model moved from {old} to {current} during the rebuild")
        if _exists(conn, old) and one(conn.execute(sql.SQL(BEHIND).format(**names)))["n"]:
            return False
        if _exists(conn, old):
            conn.execute(sql.SQL(CARRY_MARKS).format(**names))
        conn.execute(
            "UPDATE public.read_model_pointer SET active_schema = %(new)s, previous_schema = %(old)s, "
            "version = %(version)s, switched_at = now() WHERE name = %(base)s",
            {"base": base, "old": old, "new": new, "version": version},
        )
    return True


def drop_schema(conn: psycopg.Connection[DictRow], base: str, schema: str, attempts: int = 10) -> None:
    """Drop a schema that is not live; waits (lock_timeout) for readers still inside it."""
    backoff = Backoff(first_s=0.5, max_s=2.0)
    for attempt in range(1, attempts + 1):
        try:
            with conn.transaction():
                if _first(conn.execute(ACTIVE + " FOR SHARE", {"base": base}).fetchone(), base).schema == schema:
                    raise RuntimeError(f"refusing to drop {schema}: it is the live read model")
                conn.execute("SET LOCAL lock_timeout = '5s'")
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            return
        except psycopg.errors.LockNotAvailable:
            log.warning("schema %s still in use; retrying the drop (%d/%d)", schema, attempt, attempts)
            backoff.wait()
    raise RuntimeError(f"could not drop {schema}: still locked after {attempts} attempts")


def _exists(conn: psycopg.Connection[DictRow], schema: str) -> bool:
    query = "SELECT to_regclass(format('%%I.projector_offsets', %(s)s::text)) IS NOT NULL AS ok"
    return bool(one(conn.execute(query, {"s": schema}))["ok"])


def set_version(conn: psycopg.Connection[DictRow], base: str, version: int) -> None:
    """Record that the live schema is now built by projection `version` (after a plain rebuild)."""
    conn.execute(
        "UPDATE public.read_model_pointer SET version = %(version)s WHERE name = %(base)s",
        {"base": base, "version": version},
    )


def _first(row: dict | None, default: str) -> Live:
    return Live(row["active_schema"], row["version"]) if row else Live(default, 1)
