"""EXPLAIN (ANALYZE, BUFFERS) of the hot read-model queries, for one customer of the loaded data set."""

from __future__ import annotations

from datetime import date, timedelta

from psycopg import sql

from services.contracts.queries import CUSTOMER_FACTS
from services.ledger import queries as ledger
from services.quota import queries as quota
from services.tickets import queries as tickets
from shared.readmodel import connections as db


def hot_queries(customer_code: str, serial_number: str, today: date) -> dict[str, tuple[str, list]]:
    """(service, label) -> (SQL, params) of the statements each query runs."""
    as_of = {"customer_code": customer_code, "as_of": today, "serial_number": serial_number}
    where, params = tickets._where(customer_code, "all", None, None, None, None)
    page = tickets._list_sql(where) + sql.SQL(" LIMIT 50 OFFSET 0")
    plans = {
        ("ledger", "balance: invoices"): (ledger.INVOICES, as_of),
        ("ledger", "balance: payments"): (ledger.PAYMENTS, as_of),
        ("ledger", "balance: license codes"): (ledger.LICENSE_CODES, as_of),
        ("tickets", "support calls: summary"): (tickets.SUMMARY.format(where=where), params),
        ("tickets", "support calls: page"): (page, params),
        ("quota", "quota: invoices"): (quota.INVOICES_SQL, {"customer_code": customer_code}),
        ("quota", "quota: work logs"): (
            quota.WORK_LOGS_SQL,
            {"customer_code": customer_code, "start": today - timedelta(days=365), "end": today + timedelta(days=1)},
        ),
        ("contracts", "annex/fee/login: item changes"): (CUSTOMER_FACTS.queries["item_changes"], as_of),
        ("contracts", "annex/fee/login: detail changes"): (CUSTOMER_FACTS.queries["detail_changes"], as_of),
    }
    return plans


def explain(database_urls: dict[str, str], customer_code: str, serial_number: str, today: date) -> dict[str, str]:
    """label -> plan text."""
    out, analyzed = {}, set()
    for (service, label), (statement, params) in hot_queries(customer_code, serial_number, today).items():
        with db.connect(database_urls[service], autocommit=True) as conn:
            if service not in analyzed:
                conn.execute("ANALYZE")
                analyzed.add(service)
            query = sql.SQL("EXPLAIN (ANALYZE, BUFFERS) ") + (
                statement if isinstance(statement, sql.Composable) else sql.SQL(statement)
            )
            rows = conn.execute(query, params).fetchall()
            out[label] = "\n".join(row["QUERY PLAN"] for row in rows)
    return out
