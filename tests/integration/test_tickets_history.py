"""One call's story (portal query 9): every event kept, in time order (ties as applied), folded both ways."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from services.tickets import detail
from services.tickets.projection import PROJECTION
from shared.events.envelope import Event
from tests.support.readmodel import scratch_schema

SCHEMA_SQL = Path(__file__).resolve().parents[2] / "services" / "tickets" / "schema.sql"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def conn() -> Iterator[psycopg.Connection]:
    with scratch_schema(SCHEMA_SQL) as connection:
        yield connection


def event(customer: str, kind: str, event_id: str | None = None, **data: Any) -> Event:
    data = {"customer_code": customer, "call_id": "S-1", **data}
    return Event(
        event_id or str(uuid4()), f"support_call.{kind}", "helpdesk", datetime.now(UTC), customer, data, "support-calls"
    )


def story(customer: str) -> list[Event]:
    """A call's whole life, in arrival order (the assignment arrives before the opening; a tie at minute 30)."""
    return [
        event(customer, "assigned", assignee="Anna", assigned_at=at(5)),
        event(
            customer,
            "opened",
            opened_at=at(0),
            category="bug_report",
            channel="portal",
            subject="Nem nyomtat",
            description="A számla nyomtatása leáll.",
        ),
        event(customer, "status_changed", status="waiting_for_customer", changed_at=at(10), note="Melyik nyomtató?"),
        event(customer, "customer_replied", replied_at=at(20), message="HP LaserJet"),
        event(
            customer,
            "work_logged",
            work_id=f"{customer}-W1",
            performed_at=at(30),
            staff="Anna",
            minutes=25,
            description="illesztőprogram",
            chargeable=True,
        ),
        event(customer, "closed", closed_at=at(30), resolution="Frissítve"),
        event(customer, "reopened", reopened_at=at(40), reason="Megint leállt"),
    ]


def apply_one_by_one(conn: psycopg.Connection, events: list[Event]) -> None:
    for one in events:
        with conn.transaction(), conn.cursor() as cur:
            PROJECTION.apply_batch(cur, [one])


def apply_batched(conn: psycopg.Connection, events: list[Event]) -> None:
    with conn.transaction(), conn.cursor() as cur:
        PROJECTION.apply_batch(cur, events)


@pytest.mark.parametrize("apply", [apply_one_by_one, apply_batched])
def test_detail_has_description_and_the_history_in_time_order(conn, apply) -> None:
    customer = f"C-{uuid4().hex[:8]}"
    apply(conn, story(customer))
    call = detail.support_call(conn, customer, "S-1")
    assert call["description"] == "A számla nyomtatása leáll."
    assert (call["status"], call["assignee"], call["minutes_logged"]) == ("in_progress", "Anna", 25)
    assert call["last_update_at"] == at(40).isoformat()
    kinds = [(entry["kind"], entry["at"]) for entry in call["history"]]
    assert kinds == [
        ("opened", at(0).isoformat()),
        ("assigned", at(5).isoformat()),
        ("status_changed", at(10).isoformat()),
        ("customer_replied", at(20).isoformat()),
        ("work_logged", at(30).isoformat()),
        ("closed", at(30).isoformat()),
        ("reopened", at(40).isoformat()),
    ]
    history = call["history"]
    assert history[1]["assignee"] == "Anna"
    assert (history[2]["status"], history[2]["note"]) == ("waiting_for_customer", "Melyik nyomtató?")
    assert history[3]["message"] == "HP LaserJet"
    assert {k: history[4][k] for k in ("staff", "minutes", "chargeable", "description")} == {
        "staff": "Anna",
        "minutes": 25,
        "chargeable": True,
        "description": "illesztőprogram",
    }
    assert history[5]["resolution"] == "Frissítve"
    assert history[6]["reason"] == "Megint leállt"


def test_reply_to_a_waiting_call_puts_it_in_progress(conn) -> None:
    customer = f"C-{uuid4().hex[:8]}"
    events = story(customer)[:3]
    apply_batched(conn, events)
    assert detail.support_call(conn, customer, "S-1")["status"] == "waiting_for_customer"
    apply_one_by_one(conn, [event(customer, "customer_replied", replied_at=at(15), message="Itt van")])
    call = detail.support_call(conn, customer, "S-1")
    assert (call["status"], call["last_update_at"]) == ("in_progress", at(15).isoformat())


def test_the_same_event_id_again_adds_no_history(conn) -> None:
    customer = f"C-{uuid4().hex[:8]}"
    apply_one_by_one(conn, story(customer)[:2])
    reply = event(customer, "customer_replied", event_id=f"{customer}-R", replied_at=at(15), message="Egyszer")
    apply_one_by_one(conn, [reply])
    apply_batched(conn, [reply])
    replies = [h for h in detail.support_call(conn, customer, "S-1")["history"] if h["kind"] == "customer_replied"]
    assert replies == [{"at": at(15).isoformat(), "kind": "customer_replied", "message": "Egyszer"}]


def test_another_customers_call_and_an_unknown_call_are_none(conn) -> None:
    customer = f"C-{uuid4().hex[:8]}"
    apply_one_by_one(conn, story(customer)[:2])
    assert detail.support_call(conn, f"C-{uuid4().hex[:8]}", "S-1") is None
    assert detail.support_call(conn, customer, "S-404") is None
