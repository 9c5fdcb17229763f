"""Tickets read model against real PostgreSQL: handlers fold calls, `support_calls` answers query 2."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from services.tickets import queries
from services.tickets.projection import HANDLERS, TOPICS
from services.tickets.rules import CATEGORIES, STATUSES
from shared import db
from shared.event import Event
from shared.timeutil import budapest_date

DSN = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5433/postgres")
SCHEMA_SQL = Path(__file__).resolve().parents[2] / "services" / "tickets" / "schema.sql"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def conn() -> Iterator[psycopg.Connection]:
    schema = f"t_{uuid4().hex[:8]}"
    with db.connect(DSN, schema=schema) as setup:
        db.ensure_schema(setup, SCHEMA_SQL, schema=schema)
        db.ensure_schema(setup, SCHEMA_SQL, schema=schema)  # idempotent
    connection = db.connect(DSN, schema=schema, autocommit=True)
    yield connection
    connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    connection.close()


@pytest.fixture
def customer() -> str:
    return f"C-{uuid4().hex[:8]}"


def at(minutes: int) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def apply(conn: psycopg.Connection, customer: str, type_: str, **data: Any) -> None:
    """Run the handler of one event as the projector would, in its own transaction."""
    event = Event(
        id=str(uuid4()),
        type=f"support_call.{type_}",
        source="helpdesk",
        time=datetime.now(UTC),
        subject=customer,
        data={"customer_code": customer, **data},
        topic="support-calls",
    )
    with conn.transaction(), conn.cursor() as cur:
        HANDLERS[event.type](cur, event)


def open_call(
    conn: psycopg.Connection,
    customer: str,
    call_id: str,
    opened_at: datetime,
    subject: str = "Printing fails",
    category: str = "bug_report",
    **extra: Any,
) -> None:
    """A support_call.opened event (serial_number/description only when given, as marshmallow loads them)."""
    apply(
        conn,
        customer,
        "opened",
        call_id=call_id,
        opened_at=opened_at,
        category=category,
        channel="phone",
        subject=subject,
        **extra,
    )


def log_work(
    conn: psycopg.Connection,
    customer: str,
    call_id: str,
    work_id: str,
    minute: int,
    minutes: int,
    chargeable: bool = True,
) -> None:
    apply(
        conn,
        customer,
        "work_logged",
        call_id=call_id,
        work_id=work_id,
        performed_at=at(minute),
        staff="Anna",
        minutes=minutes,
        description="work",
        chargeable=chargeable,
    )


def listed(conn: psycopg.Connection, customer: str, **filters: Any) -> dict[str, Any]:
    return queries.support_calls(conn, customer, **filters)


def ids(result: dict[str, Any]) -> list[str]:
    return [call["call_id"] for call in result["calls"]]


def test_topics_and_handlers_cover_the_contract() -> None:
    assert TOPICS == ["support-calls"]
    assert sorted(HANDLERS) == sorted(
        f"support_call.{name}" for name in ("opened", "assigned", "status_changed", "work_logged", "closed", "reopened")
    )


def test_full_life_of_a_call(conn, customer) -> None:
    open_call(conn, customer, "S-1", at(0), serial_number="SN-1", description="It jams")
    apply(conn, customer, "assigned", call_id="S-1", assignee="Anna", assigned_at=at(5))
    apply(conn, customer, "status_changed", call_id="S-1", status="in_progress", changed_at=at(10))
    log_work(conn, customer, "S-1", f"W-{uuid4()}", 15, 30)
    log_work(conn, customer, "S-1", f"W-{uuid4()}", 18, 20, chargeable=False)
    apply(conn, customer, "closed", call_id="S-1", closed_at=at(20), resolution="Driver updated")
    result = listed(conn, customer)
    assert result["calls"] == [
        {
            "call_id": "S-1",
            "opened_at": at(0).isoformat(),
            "category": "bug_report",
            "channel": "phone",
            "subject": "Printing fails",
            "serial_number": "SN-1",
            "status": "closed",
            "assignee": "Anna",
            "last_update_at": at(20).isoformat(),
            "closed_at": at(20).isoformat(),
            "resolution": "Driver updated",
            "minutes_logged": 50,
        }
    ]
    assert (result["customer_code"], result["total"], result["page"], result["per_page"]) == (customer, 1, 1, 50)
    apply(conn, customer, "reopened", call_id="S-1", reopened_at=at(30), reason="Jams again")
    call = listed(conn, customer)["calls"][0]
    assert (call["status"], call["closed_at"], call["resolution"]) == ("in_progress", None, None)
    assert call["last_update_at"] == at(30).isoformat()
    apply(conn, customer, "closed", call_id="S-1", closed_at=at(40), resolution="Roller replaced")
    call = listed(conn, customer)["calls"][0]
    assert (call["status"], call["closed_at"], call["resolution"]) == ("closed", at(40).isoformat(), "Roller replaced")


def test_optional_fields_absent_are_null_and_registered_is_the_start(conn, customer) -> None:
    open_call(conn, customer, "S-1", at(0))
    call = listed(conn, customer)["calls"][0]
    assert (call["serial_number"], call["assignee"], call["status"], call["minutes_logged"]) == (
        None,
        None,
        "registered",
        0,
    )
    assert call["last_update_at"] == at(0).isoformat()


def test_events_before_the_opening_are_kept_and_the_call_is_listed_once_whole(conn, customer) -> None:
    apply(conn, customer, "assigned", call_id="S-1", assignee="Béla", assigned_at=at(5))
    apply(conn, customer, "closed", call_id="S-1", closed_at=at(20), resolution="Fixed")
    log_work(conn, customer, "S-1", f"W-{uuid4()}", 25, 45)
    assert (listed(conn, customer)["total"], listed(conn, customer)["calls"]) == (0, [])
    assert list(queries.iter_support_calls(conn, customer)) == []
    open_call(conn, customer, "S-1", at(0))
    call = listed(conn, customer)["calls"][0]
    assert (call["status"], call["assignee"], call["closed_at"], call["resolution"]) == (
        "closed",
        "Béla",
        at(20).isoformat(),
        "Fixed",
    )
    assert (call["minutes_logged"], call["last_update_at"], call["opened_at"]) == (
        45,
        at(25).isoformat(),
        at(0).isoformat(),
    )


def test_late_older_events_do_not_overwrite_newer_ones(conn, customer) -> None:
    open_call(conn, customer, "S-1", at(0))
    apply(conn, customer, "assigned", call_id="S-1", assignee="Cecília", assigned_at=at(30))
    apply(conn, customer, "status_changed", call_id="S-1", status="waiting_for_customer", changed_at=at(30))
    apply(conn, customer, "assigned", call_id="S-1", assignee="Anna", assigned_at=at(5))
    apply(conn, customer, "closed", call_id="S-1", closed_at=at(20), resolution="Too early")
    apply(conn, customer, "status_changed", call_id="S-1", status="in_progress", changed_at=at(10))
    call = listed(conn, customer)["calls"][0]
    assert (call["status"], call["assignee"], call["closed_at"], call["resolution"]) == (
        "waiting_for_customer",
        "Cecília",
        None,
        None,
    )
    assert call["last_update_at"] == at(30).isoformat()


def test_a_repeated_work_id_adds_nothing(conn, customer) -> None:
    open_call(conn, customer, "S-1", at(0))
    work_id = f"W-{uuid4()}"
    log_work(conn, customer, "S-1", work_id, 10, 30)
    log_work(conn, customer, "S-1", work_id, 10, 30)  # same work, re-sent under a new event id
    log_work(conn, customer, "S-1", f"W-{uuid4()}", 12, 5, chargeable=False)
    assert listed(conn, customer)["calls"][0]["minutes_logged"] == 35


def test_newest_opening_first_ties_by_call_id_and_paging_edges(conn, customer) -> None:
    for call_id, minute in [("S-2", 10), ("S-1", 10), ("S-3", 0), ("S-4", 20), ("S-0", 5)]:
        open_call(conn, customer, call_id, at(minute))
    assert ids(listed(conn, customer)) == ["S-4", "S-1", "S-2", "S-0", "S-3"]
    assert ids(listed(conn, customer, page=1, per_page=2)) == ["S-4", "S-1"]
    assert ids(listed(conn, customer, page=3, per_page=2)) == ["S-3"]
    past = listed(conn, customer, page=4, per_page=2)
    assert (past["calls"], past["total"], past["page"], past["per_page"]) == ([], 5, 4, 2)
    assert listed(conn, customer, page=10**30, per_page=200)["calls"] == []


def test_from_to_use_the_budapest_date_of_the_opening_inclusive(conn, customer) -> None:
    open_call(conn, customer, "winter-late", datetime(2026, 1, 15, 23, 30, tzinfo=UTC))  # Budapest 16th
    open_call(conn, customer, "winter-edge", datetime(2026, 1, 15, 22, 59, 59, 999999, tzinfo=UTC))  # 15th
    open_call(conn, customer, "summer-late", datetime(2026, 7, 15, 22, 0, tzinfo=UTC))  # Budapest 16th
    open_call(conn, customer, "summer-edge", datetime(2026, 7, 15, 21, 59, 59, tzinfo=UTC))  # 15th
    assert ids(listed(conn, customer, date_from=date(2026, 1, 16), date_to=date(2026, 1, 16))) == ["winter-late"]
    assert ids(listed(conn, customer, date_to=date(2026, 1, 15))) == ["winter-edge"]
    assert ids(listed(conn, customer, date_from=date(2026, 7, 16))) == ["summer-late"]
    assert ids(listed(conn, customer, date_from=date(2026, 7, 15), date_to=date(2026, 7, 15))) == ["summer-edge"]
    assert listed(conn, customer, date_from=date(2026, 1, 16), date_to=date(2026, 7, 15))["total"] == 2


def test_status_and_category_filters_and_summary_over_all_pages(conn, customer) -> None:
    open_call(conn, customer, "S-1", at(0), category="bug_report")
    open_call(conn, customer, "S-2", at(1), category="help_request")
    open_call(conn, customer, "S-3", at(2), category="help_request")
    open_call(conn, customer, "S-4", at(3), category="other")
    apply(conn, customer, "status_changed", call_id="S-2", status="waiting_for_customer", changed_at=at(5))
    apply(conn, customer, "closed", call_id="S-3", closed_at=at(6), resolution="Answered")
    apply(conn, customer, "closed", call_id="S-4", closed_at=at(7), resolution="Done")
    open_ones = listed(conn, customer, status="open", per_page=1)
    assert (open_ones["total"], ids(open_ones)) == (2, ["S-2"])
    assert open_ones["summary"]["by_status"] == {
        "registered": 1,
        "in_progress": 0,
        "waiting_for_customer": 1,
        "closed": 0,
    }
    assert open_ones["summary"]["by_category"] == {
        "bug_report": 1,
        "help_request": 1,
        "development_request": 0,
        "consultation": 0,
        "other": 0,
    }
    closed = listed(conn, customer, status="closed", category="help_request")
    assert (closed["total"], ids(closed)) == (1, ["S-3"])
    assert closed["summary"]["by_status"]["closed"] == 1
    everything = listed(conn, customer, status="all")
    assert sum(everything["summary"]["by_category"].values()) == everything["total"] == 4


def test_q_is_a_case_insensitive_literal_substring_with_accents_as_typed(conn, customer) -> None:
    open_call(conn, customer, "pct", at(0), subject="Disk 100% full")
    open_call(conn, customer, "num", at(1), subject="Disk 1000 full")
    open_call(conn, customer, "und", at(2), subject="file_name wrong")
    open_call(conn, customer, "spc", at(2), subject="Online note")  # "e n" would match an unescaped e_n
    open_call(conn, customer, "acc", at(3), subject="ÁRVÍZTŰRŐ tükörfúrógép")
    open_call(conn, customer, "bsl", at(4), subject=r"Path C:\temp missing")
    assert ids(listed(conn, customer, q="0%")) == ["pct"]
    assert ids(listed(conn, customer, q="e_n")) == ["und"]
    assert ids(listed(conn, customer, q="árvíztűrő")) == ["acc"]
    assert ids(listed(conn, customer, q="TÜKÖR")) == ["acc"]
    assert ids(listed(conn, customer, q="arvizturo")) == []
    assert ids(listed(conn, customer, q="c:\\TEMP")) == ["bsl"]
    assert listed(conn, customer, q="")["total"] == 6
    found = listed(conn, customer, q="disk")
    assert (found["total"], found["summary"]["by_category"]["bug_report"]) == (2, 2)


def test_calls_of_other_customers_never_show(conn, customer) -> None:
    other = f"C-{uuid4().hex[:8]}"
    open_call(conn, customer, "S-1", at(0))
    open_call(conn, other, "S-1", at(0), subject="Other customer's")
    apply(conn, other, "closed", call_id="S-1", closed_at=at(1), resolution="Theirs")
    result = listed(conn, customer)
    assert (result["total"], result["calls"][0]["subject"], result["calls"][0]["status"]) == (
        1,
        "Printing fails",
        "registered",
    )


def test_streamed_list_is_the_filtered_list_unpaged(conn, customer) -> None:
    for minute in range(7):
        open_call(conn, customer, f"S-{minute}", at(minute), category=CATEGORIES[minute % 2])
    streamed = list(queries.iter_support_calls(conn, customer, category="bug_report"))
    paged = listed(conn, customer, category="bug_report", per_page=200)["calls"]
    assert streamed == paged
    assert [call["call_id"] for call in streamed] == ["S-6", "S-4", "S-2", "S-0"]


def bulk_calls(customer: str, count: int) -> list[tuple[Any, ...]]:
    """Rows of `count` whole calls, one every 37 minutes, cycling categories and statuses."""
    rows = []
    for number in range(count):
        opened_at = T0 + timedelta(minutes=37 * number)
        status = STATUSES[number % 4]
        closed_at = opened_at + timedelta(hours=1) if status == "closed" else None
        subject = "Nyomtató hiba" if number % 1000 == 0 else f"Call {number:05d}"
        rows.append(
            (
                customer,
                f"B-{number:05d}",
                opened_at,
                CATEGORIES[number % 5],
                "email",
                subject,
                status,
                opened_at,
                closed_at,
                "Done" if closed_at else None,
                closed_at or opened_at,
                number % 60,
            )
        )
    return rows


BULK_COLUMNS = (
    "customer_code",
    "call_id",
    "opened_at",
    "category",
    "channel",
    "subject",
    "status",
    "status_at",
    "closed_at",
    "resolution",
    "last_update_at",
    "minutes_logged",
)


def test_ten_thousand_calls_page_and_filter_through_the_index(conn, customer) -> None:
    rows = bulk_calls(customer, 10_000)
    copy = sql.SQL("COPY support_call ({}) FROM STDIN").format(sql.SQL(", ").join(map(sql.Identifier, BULK_COLUMNS)))
    with conn.cursor() as cur, cur.copy(copy) as load:
        for row in rows:
            load.write_row(row)
    conn.execute("ANALYZE support_call")
    first = listed(conn, customer, per_page=50)
    assert (first["total"], ids(first)[0], ids(first)[-1]) == (10_000, "B-09999", "B-09950")
    last = listed(conn, customer, page=200, per_page=50)
    assert (ids(last)[0], ids(last)[-1]) == ("B-00049", "B-00000")
    assert first["summary"]["by_status"] == dict.fromkeys(STATUSES, 2500)
    assert first["summary"]["by_category"] == dict.fromkeys(CATEGORIES, 2000)
    day = budapest_date(rows[5000][2])
    expected = sorted(
        (r for r in rows if budapest_date(r[2]) == day and r[6] == "closed"), key=lambda r: r[2], reverse=True
    )
    one_day = listed(conn, customer, status="closed", date_from=day, date_to=day)
    assert (one_day["total"], ids(one_day)) == (len(expected), [r[1] for r in expected])
    assert ids(listed(conn, customer, q="nyomtató")) == [f"B-{n:05d}" for n in range(9000, -1, -1000)]
    plan = explain(conn, customer, date_from=day, date_to=day)
    print("\n" + plan)
    assert "support_call_customer_opened_idx" in plan


def explain(conn: psycopg.Connection, customer: str, **filters: Any) -> str:
    """EXPLAIN ANALYZE of the list query's first page under the filters."""
    where, params = queries._where(customer, "all", None, filters.get("date_from"), filters.get("date_to"), None)
    statement = sql.SQL("EXPLAIN ANALYZE ") + queries._list_sql(where) + sql.SQL(" LIMIT 50")
    return "\n".join(row["QUERY PLAN"] for row in conn.execute(statement, params))
