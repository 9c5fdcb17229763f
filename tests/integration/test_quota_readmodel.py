"""Quota read model against a real PostgreSQL: projection handlers and the statement query."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import chain, zip_longest
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from services.quota.projection import PROJECTION
from services.quota.queries import quota_statement
from shared.events.envelope import Event
from shared.events.topics import TOPIC_OF_TYPE, TYPES_BY_TOPIC
from shared.readmodel.connections import connect, ensure_schema
from tests.support.events import handed_over
from tests.support.readmodel import apply_events

DSN = os.environ["DATABASE_URL"]  # set by tests/conftest.py (real PostgreSQL)
SCHEMA_SQL = Path(__file__).resolve().parents[2] / "services" / "quota" / "schema.sql"
YEAR = {"starts_on": date(2026, 3, 1), "ends_on": date(2027, 2, 28)}
LAST_YEAR = {"starts_on": date(2025, 3, 1), "ends_on": date(2026, 2, 28)}


@pytest.fixture
def read_model() -> Iterator[psycopg.Connection]:
    """A connection to a fresh quota read model in its own schema, dropped afterwards."""
    schema = f"t_{uuid4().hex[:8]}"
    conn = connect(DSN, schema=schema)
    ensure_schema(conn, SCHEMA_SQL, schema=schema)
    try:
        yield conn
    finally:
        conn.rollback()
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        conn.commit()
        conn.close()


def apply(conn: psycopg.Connection, events: list[Event]) -> None:
    """Apply events in one transaction, as the projector does with a batch."""
    with conn.transaction(), conn.cursor() as cur:
        apply_events(PROJECTION, cur, events)


def event(topic: str, event_type: str, data: dict) -> Event:
    """A validated event as the runtime hands it over."""
    assert TOPIC_OF_TYPE[event_type] == topic
    return handed_over(event_type, data)


def invoice(
    customer: str,
    number: str,
    kind: str,
    net: int,
    year: dict | None = None,
    **extra: object,
) -> Event:
    """An invoice.issued event (support_year only when given)."""
    data = {
        "invoice_number": number,
        "customer_code": customer,
        "issued_on": date(2026, 3, 1),
        "due_on": date(2026, 3, 15),
        "kind": kind,
        "description": kind,
        "net_amount": net,
        "vat_amount": net * 27 // 100,
        "gross_amount": net + net * 27 // 100,
        "currency": "HUF",
        **extra,
    }
    if year:
        data["support_year"] = year
    return event("invoices", "invoice.issued", data)


def overrun(
    customer: str,
    number: str,
    net: int,
    minutes: int,
    issued_on: date,
    year: dict = YEAR,
) -> Event:
    """A quota_overrun invoice.issued event."""
    return invoice(
        customer,
        number,
        "quota_overrun",
        net,
        year,
        overrun_minutes=minutes,
        issued_on=issued_on,
    )


def cancellation(customer: str, number: str) -> Event:
    """An invoice.cancelled event without the optional reason."""
    data = {
        "invoice_number": number,
        "customer_code": customer,
        "cancelled_on": date(2026, 11, 2),
    }
    return event("invoices", "invoice.cancelled", data)


def work(
    customer: str,
    work_id: str,
    call_id: str,
    performed_at: str,
    minutes: int,
    chargeable: bool = True,
) -> Event:
    """A support_call.work_logged event."""
    data = {
        "call_id": call_id,
        "customer_code": customer,
        "work_id": work_id,
        "performed_at": datetime.fromisoformat(performed_at),
        "staff": "Kiss Anna",
        "minutes": minutes,
        "description": f"work {work_id}",
        "chargeable": chargeable,
    }
    return event("support-calls", "support_call.work_logged", data)


def price_list(valid_from: date, tiers: list[tuple[int, int]]) -> Event:
    """A price_list.published event with the given (min_annual_fee, minutes) tiers."""
    data = {
        "valid_from": valid_from,
        "currency": "HUF",
        "vat_rate": 27,
        "products": [],
        "quota_tiers": [{"min_annual_fee": fee, "minutes": minutes} for fee, minutes in tiers],
    }
    return event("contracts", "price_list.published", data)


def contracts_topic(customer: str) -> list[Event]:
    """Price lists (the one in force on 2026-03-01 is published last) and an ignored contract event."""
    return [
        price_list(date(2025, 1, 1), [(0, 60), (100_000, 120)]),
        price_list(date(2026, 3, 2), [(0, 9_999)]),
        event(
            "contracts",
            "contract.terminated",
            {
                "contract_id": "K-1",
                "customer_code": customer,
                "terminated_on": date(2030, 1, 1),
            },
        ),
        price_list(date(2026, 1, 1), [(0, 60), (100_000, 120), (210_000, 300)]),
    ]


def invoices_topic(customer: str, other: str) -> list[Event]:
    """Annual fees adding up to 210 000, cancelled and foreign invoices, overrun invoices."""
    return [
        invoice(customer, "A0", "annual_support_fee", 999_000, LAST_YEAR),
        invoice(customer, "A1", "annual_support_fee", 150_000, YEAR),
        invoice(customer, "A2", "annual_support_fee", 60_000, YEAR),
        invoice(customer, "A3", "annual_support_fee", 500_000, YEAR),
        cancellation(customer, "A3"),
        invoice(customer, "R1", "rental_fee", 30_000, serial_number="SN-1"),
        cancellation(customer, "R1"),
        overrun(customer, "Q1", 4_000, 20, date(2026, 10, 5)),
        overrun(customer, "Q2", 2_000, 10, date(2026, 9, 1)),
        overrun(customer, "Q3", 6_000, 30, date(2026, 9, 2)),
        cancellation(customer, "Q3"),
        overrun(customer, "Q0", 8_000, 40, date(2026, 1, 10), LAST_YEAR),
        invoice(other, "B1", "annual_support_fee", 70_000, YEAR),
    ]


def calls_topic(customer: str, other: str) -> list[Event]:
    """One opened call, work on a never-opened call, non-chargeable and out-of-window work."""
    return [
        event(
            "support-calls",
            "support_call.opened",
            {
                "call_id": "CALL-1",
                "customer_code": customer,
                "opened_at": datetime(2026, 2, 27, tzinfo=UTC),
                "category": "bug_report",
                "channel": "phone",
                "subject": "Printer offline",
            },
        ),
        work(customer, "W0", "CALL-1", "2026-02-28T22:59:00+00:00", 500),
        work(customer, "W1", "CALL-1", "2026-03-01T00:10:00+01:00", 120),
        work(customer, "W2", "CALL-1", "2026-05-01T09:00:00+02:00", 30, chargeable=False),
        event(
            "support-calls",
            "support_call.closed",
            {
                "call_id": "CALL-1",
                "customer_code": customer,
                "closed_at": datetime(2026, 5, 2, tzinfo=UTC),
                "resolution": "driver",
            },
        ),
        work(customer, "W4", "CALL-2", "2026-09-30T22:30:00+00:00", 45),
        work(customer, "W3", "CALL-2", "2026-09-30T21:30:00+00:00", 200),
        work(other, "W9", "CALL-9", "2026-04-01T10:00:00+02:00", 15),
    ]


def usage_line(
    performed_at: str,
    call_id: str,
    subject: str | None,
    work_id: str,
    minutes: int,
    running_total: int,
) -> dict:
    """An expected usage line."""
    return {
        "performed_at": performed_at,
        "call_id": call_id,
        "subject": subject,
        "staff": "Kiss Anna",
        "description": f"work {work_id}",
        "minutes": minutes,
        "running_total": running_total,
    }


def expected_statement(customer: str) -> dict:
    """The statement on 2026-09-30, whatever the arrival order."""
    return {
        "customer_code": customer,
        "settlement_date": "2026-09-30",
        "support_year": {"starts_on": "2026-03-01", "ends_on": "2027-02-28"},
        "annual_fee": 210_000,
        "total_minutes": 300,
        "used_minutes": 320,
        "remaining_minutes": 0,
        "overrun_minutes": 20,
        "usage": [
            usage_line("2026-03-01T00:10:00+01:00", "CALL-1", "Printer offline", "W1", 120, 120),
            usage_line("2026-09-30T23:30:00+02:00", "CALL-2", None, "W3", 200, 320),
        ],
        "overrun_invoices": [
            {
                "invoice_number": "Q2",
                "issued_on": "2026-09-01",
                "overrun_minutes": 10,
                "net_amount": 2_000,
                "gross_amount": 2_540,
            },
            {
                "invoice_number": "Q1",
                "issued_on": "2026-10-05",
                "overrun_minutes": 20,
                "net_amount": 4_000,
                "gross_amount": 5_080,
            },
        ],
    }


def topics(customer: str, other: str) -> list[list[Event]]:
    """The three topics' events, each in its own order."""
    return [
        contracts_topic(customer),
        invoices_topic(customer, other),
        calls_topic(customer, other),
    ]


def one_after_another(streams: list[list[Event]]) -> list[Event]:
    """Whole topics one after the other."""
    return list(chain.from_iterable(streams))


def interleaved(streams: list[list[Event]]) -> list[Event]:
    """Topics interleaved, support calls first: a work log before price lists and invoices."""
    return [e for group in zip_longest(*reversed(streams)) for e in group if e is not None]


def all_reversed(streams: list[list[Event]]) -> list[Event]:
    """Everything backwards: cancellations before their invoices, work before the call's opening."""
    return one_after_another(streams)[::-1]


@pytest.mark.parametrize("order", [one_after_another, interleaved, all_reversed])
def test_statement_is_the_same_in_any_arrival_order(read_model: psycopg.Connection, order) -> None:
    customer, other = f"C-{uuid4().hex[:8]}", f"C-{uuid4().hex[:8]}"
    apply(read_model, order(topics(customer, other)))
    assert quota_statement(read_model, customer, date(2026, 9, 30)) == expected_statement(customer)


def test_handlers_cover_what_the_quota_uses_and_the_rest_is_skipped() -> None:
    catalog = {t for topic in PROJECTION.topics for t in TYPES_BY_TOPIC[topic]}
    assert PROJECTION.topics == ("invoices", "support-calls", "contracts")
    used = {
        "invoice.issued",
        "invoice.cancelled",
        "support_call.opened",
        "support_call.work_logged",
        "price_list.published",
    }
    assert set(PROJECTION.handlers) == used
    assert used < catalog
    assert not any(PROJECTION.uses(t) for t in catalog - used)


def test_work_after_settlement_date_counts_later(
    read_model: psycopg.Connection,
) -> None:
    customer, other = f"C-{uuid4().hex[:8]}", f"C-{uuid4().hex[:8]}"
    apply(read_model, one_after_another(topics(customer, other)))
    statement = quota_statement(read_model, customer, date(2026, 10, 1))
    assert [line["running_total"] for line in statement["usage"]] == [120, 320, 365]
    assert (statement["used_minutes"], statement["overrun_minutes"]) == (365, 65)


def test_other_customer_sees_only_its_own(read_model: psycopg.Connection) -> None:
    customer, other = f"C-{uuid4().hex[:8]}", f"C-{uuid4().hex[:8]}"
    apply(read_model, one_after_another(topics(customer, other)))
    statement = quota_statement(read_model, other, date(2026, 4, 1))
    assert (
        statement["annual_fee"],
        statement["total_minutes"],
        statement["used_minutes"],
    ) == (70_000, 60, 15)
    assert statement["overrun_invoices"] == []


def test_no_support_year_is_none(read_model: psycopg.Connection) -> None:
    customer, other = f"C-{uuid4().hex[:8]}", f"C-{uuid4().hex[:8]}"
    apply(read_model, one_after_another(topics(customer, other)))
    assert quota_statement(read_model, customer, date(2027, 3, 1)) is None
    assert quota_statement(read_model, f"C-{uuid4().hex[:8]}", date(2026, 9, 30)) is None


def test_republished_price_list_replaces_the_earlier(
    read_model: psycopg.Connection,
) -> None:
    customer = f"C-{uuid4().hex[:8]}"
    apply(
        read_model,
        [
            invoice(customer, "A1", "annual_support_fee", 100_000, YEAR),
            price_list(date(2026, 1, 1), [(0, 60)]),
            price_list(date(2026, 1, 1), [(0, 90)]),
        ],
    )
    assert quota_statement(read_model, customer, date(2026, 3, 1))["total_minutes"] == 90
