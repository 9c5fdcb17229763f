"""Projection of support_call.* events into the support_call read model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from psycopg import sql
from psycopg.rows import class_row, dict_row, tuple_row

from services.tickets import rules
from services.tickets.history import INSERT_HISTORY, history_row
from services.tickets.rules import CallState
from shared.event import Event

Handler = Callable[[psycopg.Cursor, Event], None]

TOPICS = ["support-calls"]

KEY_COLUMNS = ("customer_code", "call_id")
STATE_COLUMNS = tuple(field.name for field in fields(CallState))
OPENING_COLUMNS = ("opened_at", "category", "channel", "subject", "serial_number", "description")

SELECT_STATE = sql.SQL(
    "SELECT {columns} FROM support_call WHERE customer_code = %s AND call_id = %s FOR UPDATE"
).format(columns=sql.SQL(", ").join(map(sql.Identifier, STATE_COLUMNS)))

SELECT_STATES = sql.SQL(
    "SELECT s.customer_code, s.call_id, {columns} FROM support_call s"
    " JOIN unnest(%s::text[], %s::text[]) AS k(customer_code, call_id)"
    " ON s.customer_code = k.customer_code AND s.call_id = k.call_id FOR UPDATE OF s"
).format(columns=sql.SQL(", ").join(sql.SQL("s.") + sql.Identifier(c) for c in STATE_COLUMNS)).as_string()

INSERT_WORK = """
    INSERT INTO support_call_work
        (work_id, customer_code, call_id, performed_at, staff, minutes, description, chargeable)
    VALUES (%(work_id)s, %(customer_code)s, %(call_id)s, %(performed_at)s, %(staff)s,
            %(minutes)s, %(description)s, %(chargeable)s)
    ON CONFLICT (work_id) DO NOTHING
    RETURNING work_id
"""
INSERT_WORK_QUIETLY = INSERT_WORK.replace("RETURNING work_id", "")  # the batch already knows the logged ids


def _upsert_sql(columns: tuple[str, ...]) -> sql.Composed:
    """INSERT of a call row that, on an existing row, overwrites `columns` and adds the minutes."""
    all_columns = (*KEY_COLUMNS, *columns, "minutes_logged")
    updates = [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name)) for name in columns]
    updates.append(sql.SQL("minutes_logged = support_call.minutes_logged + EXCLUDED.minutes_logged"))
    return sql.SQL(
        "INSERT INTO support_call ({columns}) VALUES ({values})"
        " ON CONFLICT (customer_code, call_id) DO UPDATE SET {updates}"
    ).format(
        columns=sql.SQL(", ").join(map(sql.Identifier, all_columns)),
        values=sql.SQL(", ").join(sql.Placeholder() * len(all_columns)),
        updates=sql.SQL(", ").join(updates),
    )


# Rendered once: composing the statement again on every execute cost more than running it.
UPSERT_STATE = _upsert_sql(STATE_COLUMNS).as_string()
UPSERT_OPENING = _upsert_sql((*STATE_COLUMNS, *OPENING_COLUMNS)).as_string()


def _locked_state(cur: psycopg.Cursor, key: tuple[str, str]) -> CallState | None:
    """The call's folded state, row-locked for this transaction; None if no row yet."""
    with cur.connection.cursor(row_factory=class_row(CallState)) as state_cur:
        return state_cur.execute(SELECT_STATE, key).fetchone()


@dataclass
class BatchState:
    """What the batch's handlers read, loaded once by `prepare_batch` and kept current as they fold; and what
    `finish_batch` writes: per changed call its final state, its latest opening facts and the minutes added."""

    calls: dict[tuple[str, str], CallState | None]
    work_ids: set[str]
    changed: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # key -> [opening or (), minutes]
    work_rows: list[dict[str, Any]] = field(default_factory=list)
    history_rows: list[dict[str, Any]] = field(default_factory=list)


# Per transaction: the projector's cursor lives exactly as long as one batch's transaction.
_BATCHES: WeakKeyDictionary[psycopg.Cursor, BatchState] = WeakKeyDictionary()


def prepare_batch(cur: psycopg.Cursor, events: list[Event]) -> None:
    """Row-lock and load the state of every call of the batch, and the work ids already logged: two queries."""
    keys = {(e.data["customer_code"], e.data["call_id"]) for e in events}
    work_ids = [e.data["work_id"] for e in events if e.type == "support_call.work_logged"]
    calls: dict[tuple[str, str], CallState | None] = dict.fromkeys(keys)
    if keys:
        codes, call_ids = zip(*keys, strict=True)
        with cur.connection.cursor(row_factory=dict_row) as batch_cur:
            for row in batch_cur.execute(SELECT_STATES, (list(codes), list(call_ids))):
                calls[(row["customer_code"], row["call_id"])] = CallState(**{c: row[c] for c in STATE_COLUMNS})
    logged = set()
    if work_ids:
        with cur.connection.cursor(row_factory=tuple_row) as ids_cur:
            rows = ids_cur.execute("SELECT work_id FROM support_call_work WHERE work_id = ANY(%s)", (work_ids,))
            logged = {work_id for (work_id,) in rows.fetchall()}
    _BATCHES[cur] = BatchState(calls, logged)


def _state(cur: psycopg.Cursor, key: tuple[str, str]) -> CallState | None:
    """The call's current state: from the batch's loaded states, else read and row-locked now."""
    batch = _BATCHES.get(cur)
    if batch is not None and key in batch.calls:
        return batch.calls[key]
    return _locked_state(cur, key)


def _fold(cur: psycopg.Cursor, event: Event, opening: tuple[Any, ...] = (), minutes: int = 0) -> None:
    """Fold the event into the call's row (a partial row when the call is new) and keep it in the call's history."""
    key = (event.data["customer_code"], event.data["call_id"])
    state = _state(cur, key)
    folded = rules.apply_event(state or CallState(), event.type, event.data)
    batch = _BATCHES.get(cur)
    if batch is None:
        cur.execute(INSERT_HISTORY, history_row(event))
        if opening or minutes or folded != state:
            statement = UPSERT_OPENING if opening else UPSERT_STATE
            cur.execute(statement, _upsert_row(key, folded, opening, minutes))
        return
    batch.calls[key] = folded
    batch.history_rows.append(history_row(event))
    if opening or minutes or folded != state:  # one write per call at the end of the batch
        change = batch.changed.setdefault(key, [(), 0])
        change[0] = opening or change[0]  # a repeated opening overwrites the facts, as a direct write would
        change[1] += minutes


def _upsert_row(key: tuple[str, str], state: CallState, opening: tuple[Any, ...], minutes: int) -> tuple[Any, ...]:
    return (*key, *(getattr(state, name) for name in STATE_COLUMNS), *opening, minutes)


def finish_batch(cur: psycopg.Cursor) -> None:
    """Write what the batch's handlers folded: its new work logs, and each changed call once (its final state,
    its latest opening facts, the sum of its new minutes): a few executemany instead of a statement per event."""
    batch = _BATCHES.pop(cur, None)
    if batch is None:
        return
    if batch.work_rows:
        cur.executemany(INSERT_WORK_QUIETLY, batch.work_rows)
    if batch.history_rows:
        cur.executemany(INSERT_HISTORY, batch.history_rows)
    opened_rows, other_rows = [], []
    for key, (opening, minutes) in batch.changed.items():
        (opened_rows if opening else other_rows).append(_upsert_row(key, batch.calls[key], opening, minutes))
    for statement, rows in ((UPSERT_OPENING, opened_rows), (UPSERT_STATE, other_rows)):
        if rows:
            cur.executemany(statement, rows)


def opened(cur: psycopg.Cursor, event: Event) -> None:
    """Record the call's opening facts; its status only if no later status is known."""
    opening = tuple(event.data.get(name) for name in OPENING_COLUMNS)
    _fold(cur, event, opening=opening)


def call_updated(cur: psycopg.Cursor, event: Event) -> None:
    """Apply an assignment, status change, customer reply, closing or reopening to the call."""
    _fold(cur, event)


def work_logged(cur: psycopg.Cursor, event: Event) -> None:
    """Store the work log once per work_id and add its minutes to the call."""
    batch = _BATCHES.get(cur)
    if batch is None:
        if cur.execute(INSERT_WORK, event.data).fetchone() is None:
            return  # this work_id was logged before: it adds nothing
    else:
        if event.data["work_id"] in batch.work_ids:
            return
        batch.work_ids.add(event.data["work_id"])
        batch.work_rows.append(event.data)
    _fold(cur, event, minutes=event.data["minutes"])


class BatchHandlers(dict):
    """The handlers by event type, with `prepare_batch` and `finish_batch`, which the projector runs before and
    after a batch's handlers."""

    prepare_batch = staticmethod(prepare_batch)
    finish_batch = staticmethod(finish_batch)


HANDLERS: dict[str, Handler] = BatchHandlers({
    "support_call.opened": opened,
    "support_call.assigned": call_updated,
    "support_call.status_changed": call_updated,
    "support_call.work_logged": work_logged,
    "support_call.closed": call_updated,
    "support_call.reopened": call_updated,
    "support_call.customer_replied": call_updated,
})
