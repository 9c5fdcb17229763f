"""Plain rebuild: throw the live read model away so the projector replays its topics from the start."""

from __future__ import annotations

import logging

from psycopg import sql

from shared.projection import bookkeeping
from shared.projection.settings import ProjectorSettings
from shared.readmodel import connections as db
from shared.readmodel import pointer

log = logging.getLogger("rebuild")


def rebuild(settings: ProjectorSettings) -> None:
    """Drop and recreate the live read-model schema; stored offsets go with it. Stop the projector first.

    The API answers from an empty read model until the replay is done: for production use
    `--rebuild-shadow` (shared.readmodel.shadow), which keeps serving the old one meanwhile.
    """
    with db.connect(settings.database_url, "public") as conn:
        live = pointer.ensure_pointer(conn, settings.schema, settings.projection_version)
        with conn.transaction():
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(live)))
            pointer.set_version(conn, settings.schema, settings.projection_version)
        db.ensure_schema(conn, settings.ddl, live)
        db.ensure_schema(conn, bookkeeping.RUNTIME_DDL, live)
    log.info("read model emptied; replaying from the beginning", extra={"schema": live})
