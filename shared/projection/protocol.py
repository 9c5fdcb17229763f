"""The runtime's contract with a service's projection: its topics, its handlers by event type, `apply_batch`.

The runner hands `apply_batch` the events of one batch that the projection uses and has not applied before, in
partition order, inside the transaction that also stores the offsets. An event of a catalog type the projection
has no handler for is skipped and counted by the runner, never retried or dead-lettered (`uses`).

Two ready implementations:
- `Projection`: each handler `(cursor, event)` runs in order, all statements in one libpq pipeline.
- `WriteOnlyProjection`: the handlers' rows are grouped per statement (`shared.projection.writes`) and each
  statement's rows sent at once. Correct only for handlers that never read and write each table with one
  statement (then the rows of a table keep their order, and rows of different tables do not depend on each
  other). Measured: docs/performance.md.

A projection whose handlers read state overrides `apply_batch` (tickets loads the batch's calls once).
`tests/integration/test_batched_apply.py` checks that every projection gives the same tables batched as
event by event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import DictRow

from shared.events.envelope import Event
from shared.projection.writes import GroupedWrites

Handler = Callable[[Any, Event], None]


@dataclass(frozen=True)
class Projection:
    """One service's projection: what it reads, how it writes, and where its tables are declared."""

    service: str
    topics: tuple[str, ...]
    handlers: Mapping[str, Handler]
    ddl: Path  # the read model's tables (schema.sql), created in the projector's schema
    version: int = 1  # bump when a change of the projection needs a rebuild (docs/operations.md)
    description: str = field(default="", compare=False)

    def uses(self, event_type: str) -> bool:
        """True when this projection has a handler for the type; other catalog types are skipped."""
        return event_type in self.handlers

    def apply_batch(self, cur: psycopg.Cursor[DictRow], events: list[Event]) -> None:
        """Apply the events in order; their statements go out in one pipeline without waiting for answers."""
        with cur.connection.pipeline():
            for event in events:
                self.handlers[event.type](cur, event)


@dataclass(frozen=True)
class WriteOnlyProjection(Projection):
    """A projection whose handlers only write (`Insert`s): each statement's rows of a batch are sent at once."""

    def apply_batch(self, cur: psycopg.Cursor[DictRow], events: list[Event]) -> None:
        """Collect the handlers' statements, then send each one's rows at once, in first-use order."""
        writes = GroupedWrites()
        for event in events:
            self.handlers[event.type](writes, event)
        writes.flush(cur)


def ddl_beside(module_file: str) -> Path:
    """The `schema.sql` next to a projection module."""
    return Path(module_file).with_name("schema.sql")
