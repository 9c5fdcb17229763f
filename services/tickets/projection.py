"""Projection of support_call.* events into the support_call read model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, fields
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from services.tickets import rules
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

INSERT_WORK = """
    INSERT INTO support_call_work
        (work_id, customer_code, call_id, performed_at, staff, minutes, description, chargeable)
    VALUES (%(work_id)s, %(customer_code)s, %(call_id)s, %(performed_at)s, %(staff)s,
            %(minutes)s, %(description)s, %(chargeable)s)
    ON CONFLICT (work_id) DO NOTHING
    RETURNING work_id
"""


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


UPSERT_STATE = _upsert_sql(STATE_COLUMNS)
UPSERT_OPENING = _upsert_sql((*STATE_COLUMNS, *OPENING_COLUMNS))


def _locked_state(cur: psycopg.Cursor, key: tuple[str, str]) -> CallState | None:
    """The call's folded state, row-locked for this transaction; None if no row yet."""
    with cur.connection.cursor(row_factory=class_row(CallState)) as state_cur:
        return state_cur.execute(SELECT_STATE, key).fetchone()


def _fold(cur: psycopg.Cursor, event: Event, opening: tuple[Any, ...] = (), minutes: int = 0) -> None:
    """Fold the event into the call's row, creating a partial row when the call is new."""
    key = (event.data["customer_code"], event.data["call_id"])
    state = _locked_state(cur, key)
    folded = rules.apply_event(state or CallState(), event.type, event.data)
    if opening or minutes or folded != state:
        statement = UPSERT_OPENING if opening else UPSERT_STATE
        cur.execute(statement, (*key, *astuple(folded), *opening, minutes))


def opened(cur: psycopg.Cursor, event: Event) -> None:
    """Record the call's opening facts; its status only if no later status is known."""
    opening = tuple(event.data.get(name) for name in OPENING_COLUMNS)
    _fold(cur, event, opening=opening)


def call_updated(cur: psycopg.Cursor, event: Event) -> None:
    """Apply an assignment, status change, closing or reopening to the call."""
    _fold(cur, event)


def work_logged(cur: psycopg.Cursor, event: Event) -> None:
    """Store the work log once per work_id and add its minutes to the call."""
    if cur.execute(INSERT_WORK, event.data).fetchone() is None:
        return  # this work_id was logged before: it adds nothing
    _fold(cur, event, minutes=event.data["minutes"])


HANDLERS: dict[str, Handler] = {
    "support_call.opened": opened,
    "support_call.assigned": call_updated,
    "support_call.status_changed": call_updated,
    "support_call.work_logged": work_logged,
    "support_call.closed": call_updated,
    "support_call.reopened": call_updated,
}
