"""Tickets read model against real PostgreSQL: handlers fold calls, `support_calls` answers query 2."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql

from services.tickets import queries
from services.tickets.projection import PROJECTION
from services.tickets.rules import CATEGORIES, STATUSES
from shared.timeutil import budapest_date
from tests.support.events import handed_over
from tests.support.readmodel import scratch_schema

DSN = os.environ["DATABASE_URL"]  # set by tests/conftest.py (real PostgreSQL)
SCHEMA_SQL = Path(__file__).resolve().parents[2] / "services" / "tickets" / "schema.sql"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TOKEN = {"X-Internal-Token": "test-token"}
# kafka-python (imported by the app's health checks) calls importlib.resources.read_text/open_text,
# whose warning is attributed to importlib, not kafka, so the pyproject filter misses it.
KAFKA_IMPORT_WARNING = "ignore:.* is deprecated. Use files\\(\\) instead:DeprecationWarning"


@pytest.fixture(scope="module")
def conn() -> Iterator[psycopg.Connection]:
    with scratch_schema(SCHEMA_SQL) as connection:
        yield connection


@pytest.fixture
def customer() -> str:
    return f"C-{uuid4().hex[:8]}"


def at(minutes: int) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def iso(minutes: int) -> str:
    """T0 plus some minutes, as the query renders it."""
    return at(minutes).isoformat()


def apply(conn: psycopg.Connection, customer: str, type_: str, **data: Any) -> None:
    """Run the handler of one event as the projector would, in its own transaction."""
    data = {"customer_code": customer, **data}
    event = handed_over(f"support_call.{type_}", data)
    with conn.transaction(), conn.cursor() as cur:
        PROJECTION.apply_batch(cur, [event])


def open_call(conn: psycopg.Connection, customer: str, call_id: str, opened_at: datetime, **extra: Any) -> None:
    """A support_call.opened event; serial_number/description absent unless given, as marshmallow loads them."""
    data = {"category": "bug_report", "channel": "phone", "subject": "Printing fails", **extra}
    apply(conn, customer, "opened", call_id=call_id, opened_at=opened_at, **data)


def log_work(conn: psycopg.Connection, customer: str, work_id: str, minute: int, minutes: int, **extra: Any) -> None:
    """A support_call.work_logged event of call S-1."""
    data = {"staff": "Anna", "description": "work", "chargeable": True, **extra}
    apply(
        conn, customer, "work_logged", call_id="S-1", work_id=work_id, performed_at=at(minute), minutes=minutes, **data
    )


def listed(conn: psycopg.Connection, customer: str, **filters: Any) -> dict[str, Any]:
    return queries.support_calls(conn, customer, **filters)


def first_call(conn: psycopg.Connection, customer: str, *names: str) -> tuple[Any, ...]:
    """The named fields of the first listed call."""
    call = listed(conn, customer)["calls"][0]
    return tuple(call[name] for name in names)


def ids(result: dict[str, Any]) -> list[str]:
    return [call["call_id"] for call in result["calls"]]


def test_topics_and_handlers_cover_the_contract() -> None:
    names = ("opened", "assigned", "status_changed", "work_logged", "closed", "reopened", "customer_replied")
    assert PROJECTION.topics == ("support-calls",)
    assert sorted(PROJECTION.handlers) == sorted(f"support_call.{name}" for name in names)


def test_full_life_of_a_call(conn, customer) -> None:
    open_call(conn, customer, "S-1", at(0), serial_number="SN-1", description="It jams")
    apply(conn, customer, "assigned", call_id="S-1", assignee="Anna", assigned_at=at(5))
    apply(conn, customer, "status_changed", call_id="S-1", status="in_progress", changed_at=at(10))
    log_work(conn, customer, f"W-{uuid4()}", 15, 30)
    log_work(conn, customer, f"W-{uuid4()}", 18, 20, chargeable=False)
    apply(conn, customer, "closed", call_id="S-1", closed_at=at(20), resolution="Driver updated")
    result = listed(conn, customer)
    expected = {"call_id": "S-1", "opened_at": iso(0), "category": "bug_report", "channel": "phone"}
    expected |= {"subject": "Printing fails", "serial_number": "SN-1", "status": "closed", "assignee": "Anna"}
    expected |= {"last_update_at": iso(20), "closed_at": iso(20), "resolution": "Driver updated", "minutes_logged": 50}
    assert result["calls"] == [expected]
    assert (result["customer_code"], result["total"], result["page"], result["per_page"]) == (customer, 1, 1, 50)
    apply(conn, customer, "reopened", call_id="S-1", reopened_at=at(30), reason="Jams again")
    closure = ("status", "closed_at", "resolution", "last_update_at")
    assert first_call(conn, customer, *closure) == ("in_progress", None, None, iso(30))
    apply(conn, customer, "closed", call_id="S-1", closed_at=at(40), resolution="Roller replaced")
    assert first_call(conn, customer, *closure) == ("closed", iso(40), "Roller replaced", iso(40))


def test_optional_fields_absent_are_null_and_registered_is_the_start(conn, customer) -> None:
    open_call(conn, customer, "S-1", at(0))
    names = ("serial_number", "assignee", "status", "minutes_logged", "last_update_at")
    assert first_call(conn, customer, *names) == (None, None, "registered", 0, iso(0))


def test_events_before_the_opening_are_kept_and_the_call_is_listed_once_whole(conn, customer) -> None:
    apply(conn, customer, "assigned", call_id="S-1", assignee="Béla", assigned_at=at(5))
    apply(conn, customer, "closed", call_id="S-1", closed_at=at(20), resolution="Fixed")
    log_work(conn, customer, f"W-{uuid4()}", 25, 45)
    partial = listed(conn, customer)
    assert (partial["total"], partial["calls"], partial["summary"]["by_status"]["closed"]) == (0, [], 0)
    assert list(queries.iter_support_calls(conn, customer)) == []
    open_call(conn, customer, "S-1", at(0))
    names = ("status", "assignee", "closed_at", "resolution", "minutes_logged", "last_update_at", "opened_at")
    assert first_call(conn, customer, *names) == ("closed", "Béla", iso(20), "Fixed", 45, iso(25), iso(0))


def test_late_older_events_do_not_overwrite_newer_ones(conn, customer) -> None:
    open_call(conn, customer, "S-1", at(0))
    apply(conn, customer, "assigned", call_id="S-1", assignee="Cecília", assigned_at=at(30))
    apply(conn, customer, "status_changed", call_id="S-1", status="waiting_for_customer", changed_at=at(30))
    apply(conn, customer, "assigned", call_id="S-1", assignee="Anna", assigned_at=at(5))
    apply(conn, customer, "closed", call_id="S-1", closed_at=at(20), resolution="Too early")
    apply(conn, customer, "status_changed", call_id="S-1", status="in_progress", changed_at=at(10))
    names = ("status", "assignee", "closed_at", "resolution", "last_update_at")
    assert first_call(conn, customer, *names) == ("waiting_for_customer", "Cecília", None, None, iso(30))


def test_a_repeated_work_id_adds_nothing(conn, customer) -> None:
    open_call(conn, customer, "S-1", at(0))
    work_id = f"W-{uuid4()}"
    log_work(conn, customer, work_id, 10, 30)
    log_work(conn, customer, work_id, 10, 30)  # the same work, re-sent under a new event id
    log_work(conn, customer, f"W-{uuid4()}", 12, 5, chargeable=False)
    assert first_call(conn, customer, "minutes_logged", "last_update_at") == (35, iso(12))


def test_keys_with_quotes_backslashes_and_accents_find_their_call_and_work_again(conn, customer) -> None:
    call_id, work_id = 'S "1" \\ é {a,b}', "W 'ő' \\ \"x\""
    open_call(conn, customer, call_id, at(0))  # later batches must find this row by its key to fold into it
    apply(conn, customer, "assigned", call_id=call_id, assignee="Béla", assigned_at=at(5))
    work = {"call_id": call_id, "work_id": work_id, "staff": "Anna", "description": "work", "chargeable": True}
    apply(conn, customer, "work_logged", performed_at=at(10), minutes=30, **work)
    apply(conn, customer, "work_logged", performed_at=at(10), minutes=30, **work)  # a repeated work id adds nothing
    names = ("call_id", "status", "assignee", "minutes_logged", "last_update_at")
    assert first_call(conn, customer, *names) == (call_id, "registered", "Béla", 30, iso(10))
    assert listed(conn, customer)["total"] == 1


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
    open_call(conn, customer, "summer-late", datetime(2026, 7, 15, 22, 0, tzinfo=UTC))  # Budapest 16th, 00:00
    open_call(conn, customer, "summer-edge", datetime(2026, 7, 15, 21, 59, 59, tzinfo=UTC))  # 15th
    jan15, jan16, jul15, jul16 = date(2026, 1, 15), date(2026, 1, 16), date(2026, 7, 15), date(2026, 7, 16)
    assert ids(listed(conn, customer, date_from=jan16, date_to=jan16)) == ["winter-late"]
    assert ids(listed(conn, customer, date_to=jan15)) == ["winter-edge"]
    assert ids(listed(conn, customer, date_from=jul16)) == ["summer-late"]
    assert ids(listed(conn, customer, date_from=jul15, date_to=jul15)) == ["summer-edge"]
    assert ids(listed(conn, customer, date_from=jan16, date_to=jul15)) == ["summer-edge", "winter-late"]


def test_status_and_category_filters_and_summary_over_all_pages(conn, customer) -> None:
    for number, category in enumerate(["bug_report", "help_request", "help_request", "other"], start=1):
        open_call(conn, customer, f"S-{number}", at(number), category=category)
    apply(conn, customer, "status_changed", call_id="S-2", status="waiting_for_customer", changed_at=at(5))
    apply(conn, customer, "closed", call_id="S-3", closed_at=at(6), resolution="Answered")
    apply(conn, customer, "closed", call_id="S-4", closed_at=at(7), resolution="Done")
    open_ones = listed(conn, customer, status="open", per_page=1)
    assert (open_ones["total"], ids(open_ones)) == (2, ["S-2"])
    by_status = {"registered": 1, "in_progress": 0, "waiting_for_customer": 1, "closed": 0}
    by_category = {"bug_report": 1, "help_request": 1, "development_request": 0, "consultation": 0, "other": 0}
    assert open_ones["summary"] == {"by_status": by_status, "by_category": by_category}
    closed = listed(conn, customer, status="closed", category="help_request")
    assert (closed["total"], ids(closed), closed["summary"]["by_status"]["closed"]) == (1, ["S-3"], 1)
    everything = listed(conn, customer, status="all")
    assert sum(everything["summary"]["by_category"].values()) == everything["total"] == 4


def test_q_is_a_case_insensitive_literal_substring_with_accents_as_typed(conn, customer) -> None:
    subjects = {"pct": "Disk 100% full", "num": "Disk 1000 full", "und": "file_name wrong"}
    subjects |= {"spc": "Online note", "acc": "ÁRVÍZTŰRŐ tükörfúrógép", "bsl": r"Path C:\temp missing"}
    for minute, (call_id, subject) in enumerate(subjects.items()):
        open_call(conn, customer, call_id, at(minute), subject=subject)
    assert ids(listed(conn, customer, q="0%")) == ["pct"]  # unescaped, % would match "1000" too
    assert ids(listed(conn, customer, q="e_n")) == ["und"]  # unescaped, _ would match "e n" too
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
    assert (result["total"], ids(result)) == (1, ["S-1"])
    assert first_call(conn, customer, "subject", "status") == ("Printing fails", "registered")


def test_streamed_list_is_the_filtered_list_unpaged(conn, customer) -> None:
    for minute in range(7):
        open_call(conn, customer, f"S-{minute}", at(minute), category=CATEGORIES[minute % 2])
    streamed = list(queries.iter_support_calls(conn, customer, category="bug_report"))
    assert streamed == listed(conn, customer, category="bug_report", per_page=200)["calls"]
    assert [call["call_id"] for call in streamed] == ["S-6", "S-4", "S-2", "S-0"]


BULK_COLUMNS = ("customer_code", "call_id", "opened_at", "category", "channel", "subject", "status", "status_at")


def bulk_calls(customer: str, count: int) -> list[tuple[Any, ...]]:
    """Whole calls (BULK_COLUMNS), one every 37 minutes, cycling categories and statuses."""
    rows = []
    for number in range(count):
        opened_at = T0 + timedelta(minutes=37 * number)
        subject = "Nyomtató hiba" if number % 1000 == 0 else f"Call {number:05d}"
        category, status = CATEGORIES[number % 5], STATUSES[number % 4]
        rows.append((customer, f"B-{number:05d}", opened_at, category, "email", subject, status, opened_at))
    return rows


def test_ten_thousand_calls_page_and_filter_through_the_index(conn, customer) -> None:
    rows = bulk_calls(customer, 10_000)
    columns = sql.SQL(", ").join(map(sql.Identifier, BULK_COLUMNS))
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY support_call ({}) FROM STDIN").format(columns)) as copy:
        for row in rows:
            copy.write_row(row)
    conn.execute("ANALYZE support_call")
    first = listed(conn, customer, per_page=50)
    assert (first["total"], ids(first)[0], ids(first)[-1]) == (10_000, "B-09999", "B-09950")
    last = listed(conn, customer, page=200, per_page=50)
    assert (ids(last)[0], ids(last)[-1]) == ("B-00049", "B-00000")
    assert first["summary"] == {
        "by_status": dict.fromkeys(STATUSES, 2500),
        "by_category": dict.fromkeys(CATEGORIES, 2000),
    }
    day = budapest_date(rows[5000][2])
    expected = [row[1] for row in reversed(rows) if budapest_date(row[2]) == day and row[6] == "closed"]
    one_day = listed(conn, customer, status="closed", date_from=day, date_to=day)
    assert (one_day["total"], ids(one_day)) == (len(expected), expected)
    assert ids(listed(conn, customer, q="nyomtató")) == [f"B-{n:05d}" for n in range(9000, -1, -1000)]
    plan = explain(conn, customer, date_from=day, date_to=day)
    print("\n" + plan)
    assert "support_call_customer_opened_idx" in plan


def explain(conn: psycopg.Connection, customer: str, **filters: Any) -> str:
    """EXPLAIN ANALYZE of the first page of the filtered list."""
    query, params = queries.list_query(customer, **filters)
    statement = sql.SQL("EXPLAIN ANALYZE ") + query + sql.SQL(" LIMIT 50")
    return "\n".join(row["QUERY PLAN"] for row in conn.execute(statement, params))


@pytest.fixture(scope="module")
def client(conn) -> Iterator[Any]:
    from services.tickets.app import create_app  # here, so the KAFKA_IMPORT_WARNING mark covers the import

    schema = conn.execute("SELECT current_schema() AS name").fetchone()["name"]
    app = create_app({"DATABASE_URL": DSN, "INTERNAL_TOKEN": TOKEN["X-Internal-Token"], "READ_MODEL_SCHEMA": schema})
    yield app.test_client()
    app.extensions["db_pool"].close()


@pytest.mark.filterwarnings(KAFKA_IMPORT_WARNING)
@pytest.mark.parametrize(
    ("query", "field"),
    [("per_page=0", "per_page"), ("per_page=201", "per_page"), ("page=0", "page"), ("page=x", "page")]
    + [("status=opened", "status"), ("category=bug", "category"), ("from=2026-02-30", "from"), ("q=" + "x" * 201, "q")]
    + [("from=2026-01-02&to=2026-01-01", "to"), ("format=xml", "format")],
)
def test_route_rejects_bad_filters_naming_the_field(client, customer, query: str, field: str) -> None:
    response = client.get(f"/internal/v1/customers/{customer}/support-calls?{query}", headers=TOKEN)
    assert (response.status_code, response.content_type) == (400, "application/problem+json")
    assert list(response.json["errors"]) == [field]


@pytest.mark.filterwarnings(KAFKA_IMPORT_WARNING)
def test_route_answers_json_or_streamed_csv(conn, client, customer) -> None:
    open_call(conn, customer, "S-1", at(0), subject='Árvíz, "quoted"', serial_number="SN-1")
    open_call(conn, customer, "S-2", at(1), category="other")
    url = f"/internal/v1/customers/{customer}/support-calls"
    page = client.get(f"{url}?status=all&page=2&per_page=1&ignored=1", headers=TOKEN)
    assert (page.status_code, page.json) == (200, listed(conn, customer, page=2, per_page=1))
    for asked, headers in [("?format=csv", TOKEN), ("", {**TOKEN, "Accept": "text/csv"})]:
        response = client.get(url + asked, headers=headers)  # read before the next request: it is streamed
        assert (response.status_code, response.content_type) == (200, "text/csv; charset=utf-8")
        header, *rows = csv.reader(io.StringIO(response.get_data().decode("utf-8")))
        assert header == list(queries.CALL_COLUMNS)
        assert [row[:5] for row in rows] == [
            ["S-2", iso(1), "other", "phone", "Printing fails"],
            ["S-1", iso(0), "bug_report", "phone", 'Árvíz, "quoted"'],
        ]
        assert rows[1][5:] == ["SN-1", "registered", "", iso(0), "", "", "0"]
    only_closed = client.get(f"{url}?format=csv&status=closed", headers=TOKEN)
    assert only_closed.get_data().decode("utf-8").splitlines() == [",".join(queries.CALL_COLUMNS)]


@pytest.mark.filterwarnings(KAFKA_IMPORT_WARNING)
@pytest.mark.parametrize("lang", ["hu", "en"])
def test_csv_for_excel_reads_back_in_the_excel_dialect(conn, client, customer, lang) -> None:
    open_call(conn, customer, "X-1", at(0), subject='Árvíz; "idézet", vessző', serial_number="SN-1")
    url = f"/internal/v1/customers/{customer}/support-calls?format=csv&lang={lang}"
    body = client.get(url, headers=TOKEN).get_data()
    assert body.startswith("\ufeff".encode()) and b"\r\n" in body
    header, *rows = csv.reader(io.StringIO(body.decode("utf-8-sig")), dialect="excel", delimiter=";")
    opened = datetime.fromisoformat(iso(0)).astimezone(ZoneInfo("Europe/Budapest"))
    if lang == "hu":
        assert header == [
            "Azonosító",
            "Megnyitva",
            "Kategória",
            "Csatorna",
            "Tárgy",
            "Sorozatszám",
            "Állapot",
            "Ügyintéző",
            "Utolsó változás",
            "Lezárva",
            "Megoldás",
            "Perc",
        ]
        expected = [
            "X-1",
            opened.strftime("%Y.%m.%d %H:%M"),
            "Hibabejelentés",
            "Telefon",
            'Árvíz; "idézet", vessző',
            "SN-1",
            "Rögzítve",
            "",
            opened.strftime("%Y.%m.%d %H:%M"),
            "",
            "",
            "0",
        ]
    else:
        assert header[:3] == ["Reference", "Opened", "Category"]
        expected = [
            "X-1",
            opened.strftime("%Y-%m-%d %H:%M"),
            "Bug report",
            "Phone",
            'Árvíz; "idézet", vessző',
            "SN-1",
            "Registered",
            "",
            opened.strftime("%Y-%m-%d %H:%M"),
            "",
            "",
            "0",
        ]
    assert rows == [expected]
