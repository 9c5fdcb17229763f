"""Projection of support_call.* events into the support_call read model."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row, tuple_row

from services.tickets import rules
from services.tickets.history import INSERT_HISTORY, history_row
from services.tickets.rules import CallState
from shared.events.envelope import Event
from shared.projection.protocol import Projection, ddl_beside
from shared.projection.writes import ANY_OF_JSON_LIST, GroupedWrites, Insert, json_list, replace_others

KEY_COLUMNS = ("customer_code", "call_id")
STATE_COLUMNS = tuple(field.name for field in fields(CallState))
OPENING_COLUMNS = ("opened_at", "category", "channel", "subject", "serial_number", "description")

SELECT_STATES = (
    sql.SQL(
        "SELECT s.customer_code, s.call_id, {columns} FROM support_call s"
        " JOIN (SELECT e->>0 AS customer_code, e->>1 AS call_id FROM json_array_elements(%s::json) AS e) AS k"
        " ON s.customer_code = k.customer_code AND s.call_id = k.call_id FOR UPDATE OF s"
    )
    .format(columns=sql.SQL(", ").join(sql.SQL("s.") + sql.Identifier(c) for c in STATE_COLUMNS))
    .as_string()
)

INSERT_WORK = Insert(
    "support_call_work",
    ("work_id", "customer_code", "call_id", "performed_at", "staff", "minutes", "description", "chargeable"),
    key=("work_id",),
    on_conflict="DO NOTHING",
)


def _upsert(columns: tuple[str, ...]) -> Insert:
    """INSERT of a call row that, on an existing row, overwrites `columns` and adds the minutes."""
    adding = ", minutes_logged = support_call.minutes_logged + EXCLUDED.minutes_logged"
    return Insert(
        "support_call",
        (*KEY_COLUMNS, *columns, "minutes_logged"),
        key=KEY_COLUMNS,
        on_conflict=replace_others(columns, ()) + adding,
    )


UPSERT_STATE = _upsert(STATE_COLUMNS)
UPSERT_OPENING = _upsert((*STATE_COLUMNS, *OPENING_COLUMNS))


@dataclass
class CallBatch:
    """One batch's calls: loaded once and row-locked (`load`), folded by the handlers, written once (`write`).

    Per changed call it keeps the final state, the latest opening facts and the minutes added, so each call is
    written with one row however many of its events the batch holds.
    """

    calls: dict[tuple[str, str], CallState | None]
    work_ids: set[str]
    changed: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # key -> [opening or (), minutes]
    work_rows: list[dict[str, Any]] = field(default_factory=list)
    history_rows: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, cur: psycopg.Cursor[DictRow], events: list[Event]) -> CallBatch:
        """Row-lock and load the state of every call of the batch, and the work ids already logged: two queries."""
        keys = {(e.data["customer_code"], e.data["call_id"]) for e in events}
        work_ids = [e.data["work_id"] for e in events if e.type == "support_call.work_logged"]
        calls: dict[tuple[str, str], CallState | None] = dict.fromkeys(keys)
        with cur.connection.cursor(row_factory=dict_row) as batch_cur:
            for row in batch_cur.execute(SELECT_STATES, (json_list(list(keys)),)):
                calls[(row["customer_code"], row["call_id"])] = CallState(**{c: row[c] for c in STATE_COLUMNS})
        logged: set[str] = set()
        if work_ids:
            with cur.connection.cursor(row_factory=tuple_row) as ids_cur:
                query = f"SELECT work_id FROM support_call_work WHERE work_id = {ANY_OF_JSON_LIST}"
                rows = ids_cur.execute(query, (json_list(work_ids),))
                logged = {work_id for (work_id,) in rows.fetchall()}
        return cls(calls, logged)

    def fold(self, event: Event, opening: tuple[Any, ...] = (), minutes: int = 0) -> None:
        """Fold the event into its call's state and keep it in the call's history; remember the call as changed."""
        key = (event.data["customer_code"], event.data["call_id"])
        state = self.calls[key]
        folded = rules.apply_event(state or CallState(), event.type, event.data)
        self.calls[key] = folded
        self.history_rows.append(history_row(event))
        if opening or minutes or folded != state:
            change = self.changed.setdefault(key, [(), 0])
            change[0] = opening or change[0]  # a repeated opening overwrites the facts
            change[1] += minutes

    def write(self, writes: GroupedWrites) -> None:
        """The batch's new work logs and history, and each changed call once (its key once: `changed` is a dict)."""
        writes.executemany(INSERT_WORK, self.work_rows)
        writes.executemany(INSERT_HISTORY, self.history_rows)
        for key, (opening, minutes) in self.changed.items():
            row = _upsert_row(key, self.calls[key], opening, minutes)
            writes.execute(UPSERT_OPENING if opening else UPSERT_STATE, row)


def _upsert_row(key: tuple[str, str], state: CallState | None, opening: tuple[Any, ...], minutes: int) -> tuple:
    return (*key, *(getattr(state, name) for name in STATE_COLUMNS), *opening, minutes)


def opened(batch: CallBatch, event: Event) -> None:
    """Record the call's opening facts; its status only if no later status is known."""
    batch.fold(event, opening=tuple(event.data.get(name) for name in OPENING_COLUMNS))


def call_updated(batch: CallBatch, event: Event) -> None:
    """Apply an assignment, status change, customer reply, closing or reopening to the call."""
    batch.fold(event)


def work_logged(batch: CallBatch, event: Event) -> None:
    """Store the work log once per work_id and add its minutes to the call."""
    if event.data["work_id"] in batch.work_ids:
        return  # this work_id was logged before: it adds nothing
    batch.work_ids.add(event.data["work_id"])
    batch.work_rows.append(event.data)
    batch.fold(event, minutes=event.data["minutes"])


@dataclass(frozen=True)
class TicketsProjection(Projection):
    """Folds each call's events into one row: loads the batch's calls, folds them, writes each changed call once."""

    def apply_batch(self, cur: psycopg.Cursor[DictRow], events: list[Event]) -> None:
        """Load the batch's calls (two queries), fold every event, write in one pipeline."""
        batch = CallBatch.load(cur, events)
        for event in events:
            self.handlers[event.type](batch, event)
        writes = GroupedWrites()
        batch.write(writes)
        writes.flush(cur)


PROJECTION = TicketsProjection(
    service="tickets",
    topics=("support-calls",),
    ddl=ddl_beside(__file__),
    version=2,  # 2: every event of a call kept (support_call_history); a rebuild fills it for existing calls
    handlers={
        "support_call.opened": opened,
        "support_call.assigned": call_updated,
        "support_call.status_changed": call_updated,
        "support_call.work_logged": work_logged,
        "support_call.closed": call_updated,
        "support_call.reopened": call_updated,
        "support_call.customer_replied": call_updated,
    },
)
