"""Read-model SQL of the quota service: the minute quota statement as a JSON-ready dict."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import DictRow

from services.quota import rules
from shared.timeutil import BUDAPEST
from shared.web.jsonready import json_ready

INVOICES_SQL = """
    SELECT i.invoice_number, i.kind, i.issued_on, i.net_amount, i.gross_amount,
           i.year_starts_on AS starts_on, i.year_ends_on AS ends_on, i.overrun_minutes,
           c.invoice_number IS NOT NULL AS cancelled
      FROM quota_invoice i
      LEFT JOIN quota_invoice_cancellation c USING (invoice_number)
     WHERE i.customer_code = %(customer_code)s
"""

PRICE_LIST_SQL = """
    SELECT valid_from, quota_tiers
      FROM quota_price_list
     WHERE valid_from <= %(day)s
     ORDER BY valid_from DESC
     LIMIT 1
"""

# Half-open instant range: the Budapest days starts_on..settlement_date.
WORK_LOGS_SQL = """
    SELECT w.work_id, w.call_id, w.performed_at, w.staff, w.description, w.minutes,
           w.chargeable, s.subject
      FROM quota_work_log w
      LEFT JOIN quota_support_call s USING (call_id)
     WHERE w.customer_code = %(customer_code)s
       AND w.performed_at >= %(start)s AND w.performed_at < %(end)s
       AND w.chargeable
     ORDER BY w.performed_at, w.work_id
"""


def quota_statement(
    conn: psycopg.Connection[DictRow], customer_code: str, settlement_date: date
) -> dict[str, Any] | None:
    """The minute quota statement on the settlement date; None when no support year contains it."""
    invoices = conn.execute(INVOICES_SQL, {"customer_code": customer_code}).fetchall()
    year = rules.support_year(invoices, settlement_date)
    if year is None:
        return None
    price_lists = conn.execute(PRICE_LIST_SQL, {"day": year.starts_on}).fetchall()
    start, end = rules.usage_window(year, settlement_date)
    work_logs = conn.execute(WORK_LOGS_SQL, {"customer_code": customer_code, "start": start, "end": end}).fetchall()
    statement = rules.statement(year, invoices, price_lists, work_logs, settlement_date)
    return json_ready({"customer_code": customer_code, **statement}, BUDAPEST)
