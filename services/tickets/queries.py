"""Read-model queries of the support event list (portal query 2)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row

from services.tickets import rules

CALL_COLUMNS = (
    "call_id",
    "opened_at",
    "category",
    "channel",
    "subject",
    "serial_number",
    "status",
    "assignee",
    "last_update_at",
    "closed_at",
    "resolution",
    "minutes_logged",
)

# Calls without an opening are partial rows: never listed.
BASE_CONDITIONS = ("customer_code = %(customer_code)s", "opened_at IS NOT NULL")
STATUS_CONDITIONS = {"open": "status <> 'closed'", "closed": "status = 'closed'"}
# From/to are Budapest dates of opened_at, turned into opened_at bounds so the
# (customer_code, opened_at DESC, call_id) index serves the range as well as the order.
FROM_CONDITION = "opened_at >= (%(date_from)s::date::timestamp AT TIME ZONE 'Europe/Budapest')"
TO_CONDITION = "opened_at < ((%(date_to)s::date + 1)::timestamp AT TIME ZONE 'Europe/Budapest')"

LIST_ORDER = sql.SQL(" ORDER BY opened_at DESC, call_id")

SUMMARY = sql.SQL(
    "SELECT GROUPING(status) = 0 AS is_status, COALESCE(status, category) AS value,"
    " count(*) AS calls FROM support_call WHERE {where}"
    " GROUP BY GROUPING SETS ((status), (category))"
)


def _where(
    customer_code: str, status: str, category: str | None, date_from: date | None, date_to: date | None, q: str | None
) -> tuple[sql.Composed, dict[str, Any]]:
    """The WHERE clause of the filtered list (only the active filters) and its parameters."""
    params = {
        "customer_code": customer_code,
        "category": category,
        "date_from": date_from,
        "date_to": date_to,
        "pattern": rules.substring_pattern(q),
    }
    conditions = list(BASE_CONDITIONS)
    if status in STATUS_CONDITIONS:
        conditions.append(STATUS_CONDITIONS[status])
    if category is not None:
        conditions.append("category = %(category)s")
    if date_from is not None:
        conditions.append(FROM_CONDITION)
    if date_to is not None:
        conditions.append(TO_CONDITION)
    if params["pattern"] is not None:
        conditions.append("subject ILIKE %(pattern)s")
    return sql.SQL(" AND ").join(sql.SQL(condition) for condition in conditions), params


def _list_sql(where: sql.Composed) -> sql.Composed:
    """SELECT of the listed columns under `where`, in list order."""
    columns = sql.SQL(", ").join(map(sql.Identifier, CALL_COLUMNS))
    return sql.SQL("SELECT {} FROM support_call WHERE {}").format(columns, where) + LIST_ORDER


def _json_ready(row: dict[str, Any]) -> dict[str, Any]:
    """The row with timestamps as RFC 3339 strings."""
    return {name: value.isoformat() if isinstance(value, datetime) else value for name, value in row.items()}


def _summary(
    conn: psycopg.Connection[DictRow], where: sql.Composed, params: dict[str, Any]
) -> dict[str, dict[str, int]]:
    """Counts of the filtered calls by status and by category (every enum value present)."""
    by_status = dict.fromkeys(rules.STATUSES, 0)
    by_category = dict.fromkeys(rules.CATEGORIES, 0)
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(SUMMARY.format(where=where), params):
            (by_status if row["is_status"] else by_category)[row["value"]] = row["calls"]
    return {"by_status": by_status, "by_category": by_category}


def support_calls(
    conn: psycopg.Connection[DictRow],
    customer_code: str,
    status: str = "all",
    category: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> dict[str, Any]:
    """One page of the customer's support calls, newest opening first, with total and summary."""
    where, params = _where(customer_code, status, category, date_from, date_to, q)
    summary = _summary(conn, where, params)
    total = sum(summary["by_status"].values())
    offset = rules.page_offset(page, per_page)
    calls: list[dict[str, Any]] = []
    if offset < total:  # a page past the end needs no query (and no huge OFFSET)
        page_sql = _list_sql(where) + sql.SQL(" LIMIT %(limit)s OFFSET %(offset)s")
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(page_sql, {**params, "limit": per_page, "offset": offset})
            calls = [_json_ready(row) for row in rows]
    return {
        "customer_code": customer_code,
        "total": total,
        "page": page,
        "per_page": per_page,
        "calls": calls,
        "summary": summary,
    }


def list_query(
    customer_code: str,
    status: str = "all",
    category: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: str | None = None,
) -> tuple[sql.Composed, dict[str, Any]]:
    """The unpaged filtered list query, in list order, and its parameters."""
    where, params = _where(customer_code, status, category, date_from, date_to, q)
    return _list_sql(where), params


def iter_support_calls(
    conn: psycopg.Connection[DictRow], customer_code: str, **filters: Any
) -> Iterator[dict[str, Any]]:
    """Every call of the filtered list (filters as `list_query`), streamed through a server-side cursor."""
    query, params = list_query(customer_code, **filters)
    with conn.transaction(), conn.cursor("support_calls_export", row_factory=dict_row) as cur:
        cur.itersize = 1000
        for row in cur.execute(query, params):
            yield _json_ready(row)
