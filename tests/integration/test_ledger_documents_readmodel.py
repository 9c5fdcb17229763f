"""Invoices, settlement sheet and payment block against real PostgreSQL, on the whole demo data set."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from demo import generate
from services.ledger import queries
from services.ledger.projection import PROJECTION
from shared.events.catalog import validate_event
from shared.events.envelope import Event
from shared.timeutil import today_budapest
from tests.support.readmodel import apply_events, scratch_schema

SCHEMA_SQL = Path(__file__).resolve().parents[2] / "services" / "ledger" / "schema.sql"
TODAY = today_budapest()
DEMO_CUSTOMERS = 25  # as `make run`
AS_OF_DATES = [TODAY, TODAY - timedelta(days=45), TODAY - timedelta(days=400)]


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[psycopg.Connection, list[str]]]:
    """The demo data set's ledger events (seed 42, as `make run`) applied to a scratch read model."""
    events: list[Event] = []
    for topic, raws in generate(DEMO_CUSTOMERS, 42, TODAY).items():
        if topic in PROJECTION.topics:
            events += [validate_event(raw, topic, raw["subject"]) for raw in raws]
    with scratch_schema(SCHEMA_SQL) as conn:
        with conn.transaction(), conn.cursor() as cur:
            apply_events(PROJECTION, cur, events)
        yield conn, sorted({e.subject for e in events})


def test_invoice_totals_equal_the_balance_for_every_demo_customer(demo) -> None:
    conn, customers = demo
    assert len(customers) == DEMO_CUSTOMERS
    overdue_seen = 0
    for customer in customers:
        for as_of in AS_OF_DATES:
            balance = queries.balance(conn, customer, "-", as_of)
            listing = queries.invoices(conn, customer, as_of, "all", None, None)
            assert listing["totals"]["overdue_amount"] == balance["overdue_amount"], (customer, as_of)
            counted = [r for r in listing["invoices"] if r["status"] != "cancelled"]
            paid = sum(r["paid_amount"] for r in counted)
            assert sum(r["gross_amount"] for r in counted) - paid >= balance["balance"]
            assert all(r["open_amount"] == r["gross_amount"] - r["paid_amount"] for r in counted)
            overdue_seen += balance["overdue_amount"] > 0
    assert overdue_seen > 0  # the demo has customers in arrears, so the comparison is not 0 == 0


def test_settlement_sheet_agrees_with_the_balance(demo) -> None:
    conn, customers = demo
    start, end = TODAY - timedelta(days=365), TODAY
    for customer in customers:
        sheet = queries.settlement_sheet(conn, customer, "-", start, end, queries.vendor_settings(), "hu")
        before = queries.balance(conn, customer, "-", start - timedelta(days=1))
        after = queries.balance(conn, customer, "-", end, lang="hu")
        assert sheet["opening_balance"] == before["balance"]
        assert sheet["closing_balance"] == after["balance"]
        assert sheet["entries"] == [e for e in after["entries"] if e["date"] >= start.isoformat()]
        assert sheet["payment"] == after["payment"]
        if sheet["entries"]:
            assert sheet["entries"][-1]["running_balance"] == sheet["closing_balance"]
