"""How a live projector follows the read-model pointer (shared.readmodel.pointer): the schema it writes, and when to wait.

A shadow rebuild moves the pointer to a new schema; the projector notices it in its next batch
(the batch transaction share-locks the pointer) or, while idle, within a second, and continues
in the new schema from the offsets stored there. When the pointer names a schema built by
another projection version (a rebuild with changed handlers), the projector pauses its
partitions and waits: old code must not write into a new read model, nor new code into an old one.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
from psycopg.rows import DictRow

from shared.readmodel import pointer

log = logging.getLogger("projector")
POINTER_CHECK_S = 1.0  # how often an idle projector looks for a switched read model


class SchemaSwitched(Exception):
    """The pointer names another schema or version: the batch is not applied here."""


class PointerFollowing:
    """Mixin of Projector: `schema` is the schema it writes, `waiting` while another version owns the model."""

    settings: Any
    consumer: Any
    metrics: Any
    schema: str
    waiting: bool = False
    _pointer_checked: float = 0.0

    def check_pointer(self, cur: psycopg.Cursor[DictRow]) -> None:
        """In the batch transaction: share-lock the pointer; raise SchemaSwitched unless it names this schema and version."""
        if self.settings.follow_pointer:
            live = pointer.locked_live(cur, self.settings.schema)
            if live != (self.schema, self.settings.projection_version):
                raise SchemaSwitched(live.schema)

    def follow_pointer(self, now: bool = False) -> None:
        """Between batches (while idle at most once a second): move to a switched schema, or wait, or resume."""
        if not self.settings.follow_pointer or (not now and time.monotonic() - self._pointer_checked < POINTER_CHECK_S):
            return
        self._pointer_checked = time.monotonic()
        live = self._read(lambda conn: pointer.live(conn, self.settings.schema))
        waiting = live.version != self.settings.projection_version
        if waiting != self.waiting:
            self._set_waiting(waiting, live)
        if not waiting and live.schema != self.schema:
            log.info("read model switched; following it", extra={"from_schema": self.schema, "to_schema": live.schema})
            self.schema = live.schema
            self._reconnect()
            self.metrics.writing(live.schema)
            if not now:
                self.seek_to_stored(self.consumer.assignment())

    def pause_while_waiting(self) -> None:
        """Before each poll: no records for any assigned partition while waiting (membership stays alive)."""
        if self.waiting and self.consumer.assignment():
            self.consumer.pause(*self.consumer.assignment())

    def _set_waiting(self, waiting: bool, live: pointer.Live) -> None:
        self.waiting = waiting
        self.metrics.waiting.set(1 if waiting else 0)
        if waiting:
            log.warning(
                "the live read model is built by another projection version; waiting",
                extra={
                    "schema": live.schema,
                    "live_version": live.version,
                    "own_version": self.settings.projection_version,
                },
            )
        else:
            log.info(
                "the live read model has this projection version again; resuming",
                extra={"schema": live.schema, "version": live.version},
            )
            if self.consumer is not None:
                self.consumer.resume(*self.consumer.paused())

    # provided by Projector
    def _read(self, query: Any) -> Any: ...
    def _reconnect(self) -> None: ...
    def seek_to_stored(self, assigned: Any) -> None: ...
