"""Plain rebuild: throw the read model away so the projector replays its topics from the start."""

from __future__ import annotations

import logging

from psycopg import sql

from shared import db, store

log = logging.getLogger("rebuild")


def rebuild(settings) -> None:  # noqa: ANN001 - ProjectorSettings (import cycle)
    """Drop and recreate the read-model schema; stored offsets go with it. Stop the projector first."""
    with db.connect(settings.database_url, "public") as conn:
        with conn.transaction():
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.schema)))
        db.ensure_schema(conn, settings.ddl, settings.schema)
        db.ensure_schema(conn, store.RUNTIME_DDL, settings.schema)
    log.info("read model emptied; replaying from the beginning", extra={"schema": settings.schema})
