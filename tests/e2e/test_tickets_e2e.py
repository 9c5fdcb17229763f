"""The support event list through Kafka, the tickets service and the gateway."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import requests

from shared.timeutil import today_budapest
from tests.e2e.conftest import login
from tests.support import domain
from tests.support.events import customer_code

TODAY = today_budapest()


@pytest.fixture(scope="module")
def customer(publish):
    """A customer with three calls: one closed, one reopened, one waiting, opened on different days."""
    code = customer_code()
    publish(
        "contracts",
        [
            domain.contract_signed(
                code, TODAY - timedelta(days=300), TODAY - timedelta(days=300), [domain.item(f"{code}-1")]
            )
        ],
    )
    c = domain.call_event
    publish(
        "support-calls",
        [
            c(
                "opened",
                code,
                f"{code}-H1",
                "2026-01-10T09:00:00Z",
                category="bug_report",
                channel="phone",
                subject="Nem nyomtat a számlázó",
            ),
            c("assigned", code, f"{code}-H1", "2026-01-10T09:05:00Z", assignee="Kiss Anna"),
            c(
                "work_logged",
                code,
                f"{code}-H1",
                "2026-01-10T10:00:00Z",
                work_id=f"{code}-W1",
                staff="Kiss Anna",
                minutes=30,
                description="javítás",
                chargeable=True,
            ),
            c("closed", code, f"{code}-H1", "2026-01-10T11:00:00Z", resolution="Illesztőprogram frissítve"),
            c(
                "opened",
                code,
                f"{code}-H2",
                "2026-02-01T23:30:00Z",
                category="help_request",
                channel="email",
                subject="Éves zárás kérdés",
            ),
            c("closed", code, f"{code}-H2", "2026-02-02T10:00:00Z", resolution="megválaszolva"),
            c("reopened", code, f"{code}-H2", "2026-02-03T10:00:00Z", reason="további kérdés"),
            c("assigned", code, f"{code}-H3", "2026-03-01T08:10:00Z", assignee="Nagy Béla"),
            c(
                "opened",
                code,
                f"{code}-H3",
                "2026-03-01T08:00:00Z",
                category="development_request",
                channel="portal",
                subject="Új riport igény",
            ),
            c("status_changed", code, f"{code}-H3", "2026-03-02T08:00:00Z", status="waiting_for_customer"),
        ],
    )
    return code


def calls(gateway: str, auth: dict, **params: str) -> dict:
    response = requests.get(f"{gateway}/api/v1/support-calls", params=params, headers=auth, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_call_newest_first_with_status_and_handler(gateway, customer):
    auth = login(gateway, customer, f"{customer}-1")
    body = calls(gateway, auth)
    assert body["total"] == 3
    listed = [(x["call_id"], x["status"], x["assignee"]) for x in body["calls"]]
    assert listed == [
        (f"{customer}-H3", "waiting_for_customer", "Nagy Béla"),
        (f"{customer}-H2", "in_progress", None),
        (f"{customer}-H1", "closed", "Kiss Anna"),
    ]
    closed = body["calls"][2]
    assert (closed["resolution"], closed["minutes_logged"]) == ("Illesztőprogram frissítve", 30)
    assert body["summary"]["by_status"]["closed"] == 1
    assert body["summary"]["by_category"]["help_request"] == 1


def test_filters_and_paging(gateway, customer):
    auth = login(gateway, customer, f"{customer}-1")
    assert [x["call_id"] for x in calls(gateway, auth, status="open")["calls"]] == [f"{customer}-H3", f"{customer}-H2"]
    assert calls(gateway, auth, status="closed")["total"] == 1
    assert calls(gateway, auth, category="bug_report")["calls"][0]["call_id"] == f"{customer}-H1"
    feb2 = calls(gateway, auth, **{"from": "2026-02-02", "to": "2026-02-02"})
    assert [x["call_id"] for x in feb2["calls"]] == [f"{customer}-H2"]
    assert calls(gateway, auth, q="SZÁMLÁZÓ")["total"] == 1
    page2 = calls(gateway, auth, per_page="2", page="2")
    assert (page2["total"], [x["call_id"] for x in page2["calls"]]) == (3, [f"{customer}-H1"])


def test_per_page_above_200_is_a_400(gateway, customer):
    auth = login(gateway, customer, f"{customer}-1")
    response = requests.get(f"{gateway}/api/v1/support-calls", params={"per_page": "201"}, headers=auth, timeout=10)
    assert response.status_code == 400
    assert "per_page" in response.json()["errors"]


def test_csv_download_of_the_filtered_list(gateway, customer):
    auth = login(gateway, customer, f"{customer}-1")
    response = requests.get(
        f"{gateway}/api/v1/support-calls", params={"status": "open", "format": "csv"}, headers=auth, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["call_id"] for row in table] == [f"{customer}-H3", f"{customer}-H2"]
    assert table[0]["subject"] == "Új riport igény"
