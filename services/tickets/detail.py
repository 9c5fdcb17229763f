"""Read-model query of one support call with its story (portal query 9)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row

from services.tickets.queries import CALL_COLUMNS

CALL_SQL = (
    "SELECT " + ", ".join(CALL_COLUMNS) + ", description FROM support_call"
    " WHERE customer_code = %(customer_code)s AND call_id = %(call_id)s AND opened_at IS NOT NULL"
)
HISTORY_SQL = """
    SELECT at, kind, facts FROM support_call_history
     WHERE customer_code = %(customer_code)s AND call_id = %(call_id)s
     ORDER BY at, applied
"""


def _stamp(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def support_call(conn: psycopg.Connection[DictRow], customer_code: str, call_id: str) -> dict[str, Any] | None:
    """The customer's call with `description` and `history` (time order, ties as applied); None if not theirs."""
    params = {"customer_code": customer_code, "call_id": call_id}
    with conn.cursor(row_factory=dict_row) as cur:
        call = cur.execute(CALL_SQL, params).fetchone()
        if call is None:
            return None
        history = [
            {"at": row["at"].isoformat(), "kind": row["kind"], **row["facts"]}
            for row in cur.execute(HISTORY_SQL, params)
        ]
    return {**{name: _stamp(value) for name, value in call.items()}, "history": history}
