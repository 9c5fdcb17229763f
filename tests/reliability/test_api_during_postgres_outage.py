"""The public API while PostgreSQL is down: every query is a 503 problem (the services cannot read their read
models), a login is a 503 (the gateway cannot count failures), nothing is a 500 or HTML; and once PostgreSQL is
back, every query answers 200 again without restarting anything."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support import faults
from tests.support.customers import rich_customer
from tests.support.fixtures import login
from tests.support.procs import wait_for
from tests.support.system import INTERNAL_TOKEN

pytestmark = pytest.mark.usefixtures("local_stack")
QUERIES = ("balance", "support-calls", "quota", "contract-annex", "expected-fee")


@pytest.fixture(scope="module")
def customer(publish) -> dict:
    return rich_customer(publish, name="Adatbázis Kft.")


def answers(gateway: str, auth: dict) -> dict[str, requests.Response]:
    return {q: requests.get(f"{gateway}/api/v1/{q}", headers=auth, timeout=15) for q in QUERIES}


def test_queries_are_503_problems_while_postgres_is_down_then_answer_again(
    system, gateway, customer, database_url, record
):
    auth = login(gateway, customer["code"], customer["serials"][0])
    before = answers(gateway, auth)
    assert {q: r.status_code for q, r in before.items()} == dict.fromkeys(QUERIES, 200)
    with faults.postgres_stopped(database_url) as postgres:
        during = answers(gateway, auth)
        session = requests.post(
            f"{gateway}/api/v1/sessions",
            timeout=15,
            json={"customer_code": customer["code"], "serial_number": customer["serials"][0]},
        )
        direct = requests.get(
            f"{system.url('ledger')}/internal/v1/customers/{customer['code']}/balance",
            params={"as_of": "2026-11-01", "serial_number": customer["serials"][0]},
            headers={"X-Internal-Token": INTERNAL_TOKEN},
            timeout=15,
        )
    for query, response in [*during.items(), ("login", session), ("ledger service itself", direct)]:
        assert response.status_code == 503, (query, response.status_code, response.text[:300])
        assert response.headers["Content-Type"].startswith("application/problem+json"), query
        assert response.json()["status"] == 503, query
    # Back: the pools replace their dead connections; no process was restarted.
    back = time.monotonic()
    wait_for(lambda: all(r.status_code == 200 for r in answers(gateway, auth).values()), timeout=60, interval=0.5)
    recovered_s = round(time.monotonic() - back, 1)
    after = answers(gateway, auth)
    assert {q: r.json() for q, r in after.items()} == {q: r.json() for q, r in before.items()}
    assert login(gateway, customer["code"], customer["serials"][0])
    record(
        queries=len(QUERIES),
        during={q: r.status_code for q, r in during.items()},
        login=session.status_code,
        postgres_restart_s=postgres["restart_s"],
        outage_s=round(back - postgres["stopped_at"], 1),
        recovered_s=recovered_s,
    )
